"""Issue 3, criteria 2 and 3: optimized IR is lean (≤ OpenVINO's own converter), exact, and FP16 halves it.

OpenVINO's converter is called here only as the yardstick; irforge itself never calls it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import openvino
import pytest

import models
from converter import convert_model, save_model
from converter.passes.manager import op_count
from converter.validate import compare, random_inputs, run_ir, run_onnxruntime

MODELS = {
    "cnn": models.cnn,
    "depthwise": models.depthwise_net,
    "transformer": models.transformer,
    "lstm": lambda: models.recurrent("LSTM"),
    "gru_reverse": lambda: models.recurrent("GRU", "reverse"),
    "cnn_dynamic_batch": lambda: models.cnn(batch="N"),
    "resnet": models.resnet,
    "mobilenet_v3": models.mobilenet_v3,
    "bert": models.bert,
}
TRAINING_ONLY = {"Dropout", "Identity", "BatchNormInference"}


def _inputs(name: str, model: onnx.ModelProto) -> list[np.ndarray]:
    if name in ("transformer", "bert"):
        return models.transformer_inputs()
    return random_inputs(model, seed=3)


def openvino_op_count(model: onnx.ModelProto, tmp_path: Path) -> int:
    """Layers of OpenVINO's own conversion, counted like ours (no Const/Parameter/Result/decompression)."""
    source = tmp_path / "source.onnx"
    onnx.save(model, source)
    converted = openvino.convert_model(str(source))
    return sum(
        1
        for op in converted.get_ordered_ops()
        if op.get_type_name() not in ("Constant", "Parameter", "Result")
        and not (op.get_type_name() == "Convert" and "decompression" in op.get_rt_info())
    )


@pytest.mark.parametrize("name", sorted(MODELS))
def test_optimized_ir_is_lean_and_exact(name: str, tmp_path: Path) -> None:
    model = MODELS[name]()
    graph = convert_model(model)
    assert not TRAINING_ONLY & set(graph.op_histogram())
    ours, theirs = op_count(graph), openvino_op_count(model, tmp_path)
    assert ours <= theirs, f"irforge {ours} ops, OpenVINO's converter {theirs}: {graph.op_histogram()}"

    xml_path, _ = save_model(graph, tmp_path / "FP32" / "model.xml")
    inputs = _inputs(name, model)
    expected = run_onnxruntime(model, inputs)
    verdict = compare(expected, run_ir(xml_path, inputs, "openvino"), rtol=1e-4, atol=1e-5)
    assert verdict.ok, verdict.detail


@pytest.mark.parametrize("name", ["bert_1m", "resnet_1m"])
def test_fp16_halves_the_weights_and_stays_close(name: str, tmp_path: Path) -> None:
    if name == "bert_1m":
        model = models.bert(layers=3, d=256, heads=4, ffn=1024, vocab=2000)
        inputs = models.transformer_inputs(vocab=2000)
    else:
        model = models.resnet(width=128, blocks=3)
        inputs = random_inputs(model, seed=4)
    parameters = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    assert parameters > 1_000_000
    graph = convert_model(model)
    fp32_xml, fp32_bin = save_model(graph, tmp_path / "FP32" / "model.xml")
    fp16_xml, fp16_bin = save_model(graph, tmp_path / "FP16" / "model.xml", compress_to_fp16=True)
    assert fp16_bin.stat().st_size <= 0.51 * fp32_bin.stat().st_size

    full = run_ir(fp32_xml, inputs, "openvino")
    half = run_ir(fp16_xml, inputs, "openvino")
    for a, b in zip(full, half):
        scale = float(np.max(np.abs(a)))
        assert float(np.max(np.abs(a - b))) <= 1e-2 * scale
    # the FP16 IR stays well-typed: our own reader and the onnxruntime lowering run it too
    lowered = run_ir(fp16_xml, inputs, "onnxruntime")
    assert compare(half, lowered, rtol=1e-3, atol=1e-4).ok
