"""IR runners reloading a written IR on onnxruntime and OpenVINO; feeds and outputs in graph order."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

from converter import convert_model, save_model
from converter.api import load_model
from converter.frontends.onnx.reference import OnnxReference
from converter.serialize.reader import read_ir
from converter.validate.inputs import TensorSpec
from converter.validate.runners import (
    IR_BACKENDS,
    GraphRunner,
    IrRunner,
    align_outputs,
    find_graph_inputs,
    median_latency_ms,
    ordered_feeds,
)
from models import cnn, model_of
from sized_models import fpn_unet


def two_outputs():
    """zeta = −Relu(a) · b and alpha = Exp(a) + b: two inputs, two outputs, distinct values."""
    nodes = [
        helper.make_node("Relu", ["a"], ["r"]),
        helper.make_node("Neg", ["r"], ["n"]),
        helper.make_node("Mul", ["n", "b"], ["zeta"]),
        helper.make_node("Exp", ["a"], ["e"]),
        helper.make_node("Add", ["e", "b"], ["alpha"]),
    ]
    return model_of(nodes, [("a", TensorProto.FLOAT, [2, 3]), ("b", TensorProto.FLOAT, [2, 3])], ("zeta", "alpha"))


def feeds_of(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"a": rng.standard_normal((2, 3)).astype(np.float32), "b": rng.standard_normal((2, 3)).astype(np.float32)}


def write_ir(model, folder: Path) -> Path:
    xml = folder / "model.xml"
    save_model(convert_model(model), xml)
    return xml


@pytest.mark.parametrize("backend", IR_BACKENDS)
def test_ir_runner_matches_onnxruntime_on_the_source(tmp_path, backend):
    model = cnn()
    x = np.random.default_rng(1).standard_normal((1, 3, 16, 16)).astype(np.float32)
    expected = OnnxReference(model).run({"image": x})
    runner = IrRunner(write_ir(model, tmp_path), backend)
    assert runner.label == backend
    assert runner.input_specs() == [TensorSpec("image", np.dtype(np.float32), (1, 3, 16, 16))]
    assert [spec.dims for spec in runner.output_specs()] == [(1, 10)]
    assert "probabilities" in runner.output_names[0]
    (actual,) = runner.run({"image": x})
    assert actual.shape == (1, 10) and actual.dtype == np.float32
    np.testing.assert_allclose(actual, expected[0], rtol=0, atol=1e-5)


@pytest.mark.parametrize("backend", IR_BACKENDS)
def test_ir_runner_two_outputs_in_graph_order(tmp_path, backend):
    model = two_outputs()
    feeds = feeds_of()
    zeta, alpha = OnnxReference(model).run(feeds)
    runner = IrRunner(write_ir(model, tmp_path), backend)
    assert [("zeta" in names, "alpha" in names) for names in runner.output_names] == [(True, False), (False, True)]
    actual = runner.run({"b": feeds["b"], "a": feeds["a"]})  # feeds by name, in any order
    np.testing.assert_allclose(actual[0], zeta, rtol=0, atol=1e-5)
    np.testing.assert_allclose(actual[1], alpha, rtol=0, atol=1e-5)


def _swap_result_layers(xml: Path) -> Path:
    """The same IR with its two Result layers in the other text order (their ids unchanged).
    OpenVINO orders outputs as the layers appear; irforge's reader by layer id."""
    text = xml.read_text()
    results = re.findall(r'\t\t<layer [^>]*type="Result".*?</layer>\n', text, re.DOTALL)
    assert len(results) == 2 and text.count(results[0] + results[1]) == 1
    swapped = xml.with_name("swapped.xml")
    swapped.write_text(text.replace(results[0] + results[1], results[1] + results[0]))
    xml.with_suffix(".bin").replace(swapped.with_suffix(".bin"))
    return swapped


def test_openvino_runner_answers_in_graph_order_when_openvino_orders_differently(tmp_path):
    import openvino

    model = two_outputs()
    feeds = feeds_of(2)
    zeta, alpha = OnnxReference(model).run(feeds)
    swapped = _swap_result_layers(write_ir(model, tmp_path))
    assert [sorted(o.get_names()) for o in openvino.Core().read_model(swapped).outputs] == [["alpha"], ["zeta"]]
    assert [value.names for value in read_ir(swapped).outputs] == [["zeta"], ["alpha"]]
    for backend in IR_BACKENDS:
        actual = IrRunner(swapped, backend).run(feeds)
        np.testing.assert_allclose(actual[0], zeta, rtol=0, atol=1e-5, err_msg=backend)
        np.testing.assert_allclose(actual[1], alpha, rtol=0, atol=1e-5, err_msg=backend)


def test_ordered_feeds_in_parameter_order():
    graph = load_model(two_outputs())
    feeds = feeds_of()
    ordered = ordered_feeds(graph, {"b": feeds["b"], "a": feeds["a"], "unused": np.zeros(1)})
    assert len(ordered) == 2 and ordered[0] is feeds["a"] and ordered[1] is feeds["b"]
    as_list = ordered_feeds(graph, [feeds["a"], feeds["b"]])  # a list passes through
    np.testing.assert_array_equal(as_list[1], feeds["b"])


def test_ordered_feeds_names_the_missing_input():
    graph = load_model(two_outputs())
    with pytest.raises(KeyError) as error:
        ordered_feeds(graph, {"a": np.zeros((2, 3), np.float32), "c": np.zeros(1)})
    assert error.value.args[0] == "no input given for 'b' (given: a, c)"


def test_graph_runner_raises_the_missing_input():
    runner = GraphRunner(load_model(two_outputs()))
    with pytest.raises(KeyError, match="no input given for 'a'"):
        runner.run({"b": np.zeros((2, 3), np.float32)})


def test_graph_runner_unknown_backend():
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'; choose one of onnxruntime, openvino"):
        GraphRunner(load_model(two_outputs()), "tensorrt")


def test_align_outputs_by_name_then_by_position():
    assert align_outputs(["zeta", "alpha"], [{"alpha", "add_5"}, {"zeta"}]) == [1, 0]
    assert align_outputs(["zeta", "alpha"], [{"zeta"}, {"alpha"}]) == [0, 1]
    assert align_outputs(["a", "b", "c"], [{"x"}, {"b"}, {"y"}]) == [0, 1, 2]  # a, c unnamed: by position
    assert align_outputs([], []) == []


def test_median_latency_ms(tmp_path):
    runner = GraphRunner(load_model(two_outputs()))
    latency = median_latency_ms(runner, feeds_of(), repeats=3)
    assert isinstance(latency, float)
    assert 0.0 < latency < 1000.0


def test_find_graph_inputs_on_fpn_unet():
    graph = load_model(fpn_unet())
    feeds = find_graph_inputs(graph)
    assert list(feeds) == ["image"]
    assert feeds["image"].shape == (1, 3, 224, 224) and feeds["image"].dtype == np.float32
    fixed = find_graph_inputs(graph, {"image": (1, 3, 64, 96)})
    assert fixed["image"].shape == (1, 3, 64, 96)
