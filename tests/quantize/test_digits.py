"""The digits CNN trained on scikit-learn's handwritten digits, quantized to INT8 (issue 11, done-when 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from converter.api import load_model, optimize
from converter.quantize import QuantizeOptions, Validation, load_calibration, quantize
from converter.runtime import execute
from converter.serialize.writer import write_ir
from converter.validate.runners import graph_specs
from digits_training import digits_split
from sized_models import digits_cnn


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory):
    model, heldout = digits_cnn()
    graph = optimize(load_model(model))[0]
    folder = tmp_path_factory.mktemp("digits")
    np.savez(folder / "calibration.npz", image=digits_split()[0][:300])  # training images: never the held-out split
    calibration = load_calibration(folder / "calibration.npz", graph_specs(graph.inputs))
    return graph, heldout, calibration, folder


def accuracy(graph, heldout, backend: str = "onnxruntime") -> float:
    return float((execute(graph, [heldout["image"]], backend)[0].argmax(axis=1) == heldout["labels"]).mean())


def test_int8_accuracy_within_one_point_size_and_openvino(digits, tmp_path: Path) -> None:
    graph, heldout, calibration, _ = digits
    quantized, report = quantize(graph, calibration)
    assert report.layers == 3 and len(report.quantized) == 3
    fp32 = accuracy(graph, heldout)
    for backend in ("onnxruntime", "openvino"):
        assert accuracy(quantized, heldout, backend) >= fp32 - 0.01, backend
    _, fp32_bin = write_ir(graph, tmp_path / "FP32" / "m.xml")
    int8_xml, int8_bin = write_ir(quantized, tmp_path / "INT8" / "m.xml")
    assert int8_bin.stat().st_size <= 0.3 * fp32_bin.stat().st_size


def test_openvino_runs_int8_kernels(digits, tmp_path: Path) -> None:
    import openvino

    graph, _, calibration, _ = digits
    xml, _ = write_ir(quantize(graph, calibration)[0], tmp_path / "m.xml")
    compiled = openvino.Core().compile_model(str(xml), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    precisions = {
        op.get_rt_info()["runtimePrecision"].astype(str)
        for op in compiled.get_runtime_model().get_ordered_ops()
        if op.get_rt_info()["layerType"].astype(str) in ("Convolution", "FullyConnected")
    }
    assert precisions <= {"u8", "i8"}, precisions


def test_the_int8_ir_compiles_and_keeps_its_accuracy_with_the_default_config(digits, tmp_path: Path) -> None:
    """As an application that sets nothing compiles it: the CPU plugin's defaults (bf16 inference
    where the CPU has it), not the f32 the other tests ask for; every layer still in u8/i8."""
    from converter.runtime.openvino_backend import compile_with_defaults
    from converter.validate.runners import IrRunner

    graph, heldout, calibration, _ = digits
    quantized = quantize(graph, calibration)[0]
    xml, _ = write_ir(quantized, tmp_path / "m.xml")
    runtime = compile_with_defaults(xml).get_runtime_model()
    precisions = {
        op.get_rt_info()["runtimePrecision"].astype(str)
        for op in runtime.get_ordered_ops()
        if op.get_rt_info()["layerType"].astype(str) in ("Convolution", "FullyConnected")
    }
    assert precisions <= {"u8", "i8"}, precisions
    (scores,) = IrRunner(xml, "openvino", defaults=True).run({"image": heldout["image"]})
    assert float((scores.argmax(axis=1) == heldout["labels"]).mean()) >= accuracy(quantized, heldout, "openvino") - 0.01


@pytest.mark.parametrize("method", ["minmax", "percentile", "entropy"])
def test_the_same_model_and_data_give_byte_identical_ir(digits, method: str, tmp_path: Path) -> None:
    graph, _, calibration, folder = digits
    again = load_calibration(folder / "calibration.npz", graph_specs(graph.inputs))  # read anew, quantized anew
    first = write_ir(quantize(graph, calibration, QuantizeOptions(method=method))[0], tmp_path / "a" / "m.xml")
    second = write_ir(quantize(graph, again, QuantizeOptions(method=method))[0], tmp_path / "b" / "m.xml")
    for one, other in zip(first, second):
        assert one.read_bytes() == other.read_bytes()


def test_max_accuracy_drop_reverts_layers_until_within(digits) -> None:
    graph, heldout, calibration, _ = digits
    validation = Validation([{"image": heldout["image"]}], "accuracy", 0, heldout["labels"])
    strict, report = quantize(graph, calibration, QuantizeOptions(method="entropy", policy=False, max_drop=0.0, validation=validation))
    search = report.search
    assert search is not None and search.fp32 - search.final <= 0.0
    assert accuracy(strict, heldout) >= accuracy(graph, heldout) - 1e-9
    assert len(report.quantized) + len(search.reverted) == 3
