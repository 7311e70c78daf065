"""End to end: the trained digits CNN quantized by onnxruntime's quantize_static (QDQ, per-channel,
U8S8) goes through `irforge convert`; the written FP32 IR holds FakeQuantize and int8 weights, runs
its convolutions and fully connected layer in u8 on OpenVINO's default CPU configuration, and
classifies the held-out digits as onnxruntime's run of the QDQ model does; `irforge validate` passes it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from cli_support import irforge
from converter import read_model
from converter.runtime.openvino_backend import compile_ir, compile_with_defaults
from digits_training import digits_split
from qdq_models import quantize_qdq
from sized_models import digits_cnn

pytest.importorskip("openvino")


def test_quantize_static_digits_cnn_converts_and_runs_in_int8(tmp_path: Path) -> None:
    model, heldout = digits_cnn()
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1  # quantize_static calibrates batch 1
    calibration = [image[None] for image in digits_split()[0][:100]]
    path = tmp_path / "digits_qdq.onnx"
    quantize_qdq(model, path, per_channel=True, activations="u8", samples=calibration, input_name="image")
    result = irforge("convert", path, "-o", tmp_path / "ir")
    assert result.returncode == 0, result.stderr
    xml = tmp_path / "ir" / "FP32" / "digits_qdq.xml"
    histogram = read_model(xml).op_histogram()
    assert histogram.get("FakeQuantize", 0) >= 3 and "Round" not in histogram, histogram

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    compiled = compile_ir(xml)
    images = heldout["image"]
    want = np.concatenate([session.run(None, {"image": image[None]})[0] for image in images])
    got = np.concatenate([compiled({"image": image[None]})[0] for image in images])
    assert np.mean(want.argmax(1) == got.argmax(1)) >= 0.99
    assert np.mean(got.argmax(1) == heldout["labels"]) >= 0.95

    runtime = compile_with_defaults(xml).get_runtime_model()
    precisions = [op.get_rt_info()["runtimePrecision"].astype(str) for op in runtime.get_ordered_ops()
                  if op.get_rt_info()["layerType"].astype(str) in ("Convolution", "FullyConnected")]
    assert len(precisions) == 3 and set(precisions) <= {"u8", "i8"}, precisions

    # validation judges the float IRs of a quantized source by the int8 tolerances (a step here and there)
    np.savez(tmp_path / "heldout.npz", image=images[:40], labels=heldout["labels"][:40])
    result = irforge("validate", path, tmp_path / "ir", "--data", tmp_path / "heldout.npz", "-o", tmp_path / "report")
    assert result.returncode == 0, result.stdout + result.stderr
