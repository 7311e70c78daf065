"""Issue 2, criterion 1: what `irforge convert` writes runs in OpenVINO and matches onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import openvino
import pytest
from typer.testing import CliRunner

import models
from converter.cli import app
from converter.validate import compare, random_inputs, run_ir, run_onnxruntime

MODELS = {
    "cnn": lambda: models.cnn(),
    "depthwise_hardswish_clip": lambda: models.depthwise_net(),
    "transformer_encoder": lambda: models.transformer(),
    "lstm": lambda: models.recurrent("LSTM"),
    "gru_reverse": lambda: models.recurrent("GRU", "reverse"),
    "cnn_dynamic_batch": lambda: models.cnn(batch="N"),
}


def _inputs(name: str, model: onnx.ModelProto) -> list[np.ndarray]:
    if name.startswith("transformer"):
        return models.transformer_inputs()
    return random_inputs(model, seed=1, dynamic_dim=3)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_irforge_convert_output_runs_in_openvino(name: str, tmp_path: Path) -> None:
    model = MODELS[name]()
    source = tmp_path / f"{name}.onnx"
    onnx.save(model, source)
    result = CliRunner().invoke(app, ["convert", str(source), "-o", str(tmp_path / "ir"), "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    xml_path = tmp_path / "ir" / "FP32" / f"{name}.xml"

    inputs = _inputs(name, model)
    expected = run_onnxruntime(model, inputs)

    core = openvino.Core()
    compiled = core.compile_model(core.read_model(str(xml_path)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    request.infer({i: x for i, x in enumerate(inputs)})
    actual = [np.array(request.get_output_tensor(i).data) for i in range(len(compiled.outputs))]
    verdict = compare(expected, actual, rtol=1e-4, atol=1e-5)
    assert verdict.ok, f"OpenVINO: {verdict.detail}"
    for port, output in zip(compiled.outputs, model.graph.output):
        assert output.name in port.get_names()

    lowered = compare(expected, run_ir(xml_path, inputs, "onnxruntime"), rtol=1e-4, atol=1e-5)
    assert lowered.ok, f"onnxruntime (lowered IR): {lowered.detail}"


def test_dynamic_batch_stays_dynamic(tmp_path: Path) -> None:
    source = tmp_path / "dyn.onnx"
    onnx.save(models.cnn(batch="N"), source)
    assert CliRunner().invoke(app, ["convert", str(source), "-o", str(tmp_path), "--precision", "fp32"]).exit_code == 0
    model = openvino.Core().read_model(str(tmp_path / "FP32" / "dyn.xml"))
    assert model.inputs[0].get_partial_shape().to_string() == "[?,3,16,16]"
