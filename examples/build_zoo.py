"""Regenerate the bundled demo zoo: small ONNX models written the way exporters write them.

    python examples/build_zoo.py

The builders live in tests/models.py and tests/sized_models.py (the tests use the same models).
Weights are seeded, so the files are identical on every run on the same machine. Two models show
what validation does with real models: `digits/` is a CNN trained on scikit-learn's handwritten
digits, validated on its held-out split with labels (its manifest, digits_cnn.yaml, says so);
`detectors/yolo_head.onnx` takes images of any size but only multiples of 32 work, which the
validation finds by itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import models  # noqa: E402
import sized_models  # noqa: E402

ZOO = {
    "cnn_classifier": lambda: models.cnn(batch="N"),
    "resnet_small": models.resnet,
    "mobilenet_v3_small": models.mobilenet_v3,
    "bert_tiny": lambda: models.bert(layers=2, d=64, heads=4, ffn=128, vocab=200),
    "lstm_bidirectional": lambda: models.recurrent("LSTM"),
    "detectors/yolo_head": sized_models.yolo_head,
}

DIGITS_MANIFEST = """\
# Validation of digits_cnn.onnx: the held-out split of scikit-learn's handwritten digits.
data: heldout.npz      # image [360, 1, 8, 8] and labels [360]
metric: accuracy       # FP32 must match the source's accuracy; FP16 may lose 1% (configs/default.yaml)
"""


def write_digits(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    model, heldout = sized_models.digits_cnn()
    onnx.save(model, folder / "digits_cnn.onnx")
    np.savez(folder / "heldout.npz", **heldout)
    (folder / "digits_cnn.yaml").write_text(DIGITS_MANIFEST)
    return [folder / "digits_cnn.onnx", folder / "heldout.npz", folder / "digits_cnn.yaml"]


def main() -> None:
    written = []
    for name, build in ZOO.items():
        path = HERE / f"{name}.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(build(), path)
        written.append(path)
    written += write_digits(HERE / "digits")
    for path in written:
        print(f"{path.relative_to(HERE.parent)}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
