"""fuse_qdq: ONNX QDQ models (onnxruntime's quantize_static) convert to FakeQuantize on activations and
int8 weight constants, run in int8 on OpenVINO's default CPU configuration, and agree with
onnxruntime's run of the QDQ model within one quantization step of each output."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter.api import convert_model, save_model
from converter.config import load_config
from converter.ir.types import ElementType
from converter.runtime.openvino_backend import compile_ir, compile_with_defaults
from qdq_models import calibration, conv_model, matmul_model, quantize_qdq

pytest.importorskip("openvino")

MODELS = {"conv": conv_model, "matmul": matmul_model}


def _passes_without_qdq() -> list[str]:
    return [name for name in load_config().passes if name != "fuse_qdq"]


def _layer_precisions(xml) -> list[str]:
    runtime = compile_with_defaults(xml).get_runtime_model()
    return [
        op.get_rt_info()["runtimePrecision"].astype(str)
        for op in runtime.get_ordered_ops()
        if op.get_rt_info()["layerType"].astype(str) in ("Convolution", "FullyConnected")
    ]


def _output_step(model: onnx.ModelProto) -> float:
    """The scale of the DequantizeLinear that makes the model output."""
    (dq,) = [n for n in model.graph.node if n.output[0] == model.graph.output[0].name]
    scale = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}[dq.input[1]]
    return float(np.max(scale))


def _worst_steps(onnx_path, xml, feeds: list[dict[str, np.ndarray]], step: float) -> float:
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    compiled = compile_ir(xml)
    worst = 0.0
    for feed in feeds:
        want = session.run(None, feed)[0]
        got = compiled(feed)[0]
        worst = max(worst, float(np.max(np.abs(got.astype(np.float64) - want))) / step)
    return worst


@pytest.mark.parametrize("activations", ["u8", "s8"])
@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_quantize_static_models_run_in_int8(tmp_path, name, per_channel, activations) -> None:
    model = MODELS[name]()
    path = tmp_path / "qdq.onnx"
    qdq = quantize_qdq(model, path, per_channel, activations, calibration(model))
    graph = convert_model(str(path))
    histogram = graph.op_histogram()
    quantizers = sum(n.op_type == "QuantizeLinear" for n in qdq.graph.node)
    assert histogram.get("FakeQuantize") == quantizers and "Round" not in histogram and "Clamp" not in histogram, histogram
    weights = [n for n in graph.nodes() if n.op.type == "Convert" and n.inputs[0].producer.op.type == "Const"
               and n.inputs[0].element_type is ElementType.i8 and n.inputs[0].shape.rank >= 2]
    assert len(weights) == (3 if name == "conv" else 2), "int8 weights were folded back to f32"
    xml, _ = save_model(graph, tmp_path / "ir" / "model.xml")
    feeds = [{"x": x} for x in calibration(model, 4, seed=7)]
    assert _worst_steps(path, xml, feeds, _output_step(qdq)) <= 1.0 + 1e-3
    precisions = _layer_precisions(xml)
    assert precisions and all(p in ("u8", "i8") for p in precisions), precisions


def test_without_the_pass_the_layers_run_in_float(tmp_path) -> None:
    """What fuse_qdq is for: the exact lowering alone leaves every convolution in float (bf16 or f32)."""
    model = conv_model()
    path = tmp_path / "qdq.onnx"
    quantize_qdq(model, path, True, "u8", calibration(model))
    xml, _ = save_model(convert_model(str(path), passes=_passes_without_qdq()), tmp_path / "ir" / "model.xml")
    precisions = _layer_precisions(xml)
    assert precisions and not {"u8", "i8"} & set(precisions), precisions


def _qdq_pair_model(scale: np.ndarray, zero_point: np.ndarray, axis: int, shape: tuple[int, ...], pair: bool = True) -> onnx.ModelProto:
    inits = [numpy_helper.from_array(scale, "s"), numpy_helper.from_array(zero_point, "zp")]
    q_type = helper.np_dtype_to_tensor_dtype(zero_point.dtype)
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"], axis=axis)]
    output = helper.make_tensor_value_info("q", q_type, list(shape))
    if pair:
        nodes.append(helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"], axis=axis))
        output = helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))
    graph = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))], [output], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])


CASES = {
    "u8 per tensor": (np.array(0.05, np.float32), np.array(131, np.uint8), 1),
    "i8 per axis": (np.array([0.02, 0.05, 0.11], np.float32), np.array([-3, 0, 7], np.int8), 1),
    "u8 per axis 2": (np.array([0.01, 0.03, 0.02, 0.005], np.float32), np.array([30, 0, 255, 12], np.uint8), 2),
}
SIXTEEN_BIT = {
    "u16 per axis 2": (np.array([1e-4, 3e-4, 2e-4, 5e-5], np.float32), np.array([30000, 0, 65535, 12], np.uint16), 2),
    "i16 per tensor": (np.array(2e-4, np.float32), np.array(-100, np.int16), 1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_activation_pair_becomes_one_fake_quantize(tmp_path, case) -> None:
    scale, zero_point, axis = CASES[case]
    shape = (2, 3, 4, 5)
    path = tmp_path / "pair.onnx"
    onnx.save(_qdq_pair_model(scale, zero_point, axis, shape), path)
    graph = convert_model(str(path))
    (fq,) = [n for n in graph.nodes() if n.op.type == "FakeQuantize"]
    assert fq.attrs["levels"] == 256
    assert set(graph.op_histogram()) == {"Parameter", "Const", "FakeQuantize"}
    xml, _ = save_model(graph, tmp_path / "ir" / "model.xml")
    info = np.iinfo(zero_point.dtype)
    span = float(np.max(scale)) * (int(info.max) - int(info.min))
    rng = np.random.default_rng(3)
    feeds = [{"x": (rng.uniform(-0.7, 0.7, shape) * span).astype(np.float32)} for _ in range(3)]  # saturation too
    assert _worst_steps(path, xml, feeds, float(np.max(scale))) <= 1.0 + 1e-3


@pytest.mark.parametrize("case", sorted(SIXTEEN_BIT))
def test_sixteen_bit_pairs_stay_exact(tmp_path, case) -> None:
    """OpenVINO strips a 65536-level FakeQuantize (no saturation left), so 16-bit pairs keep the
    exact lowering: onnxruntime's values, saturation included."""
    scale, zero_point, axis = SIXTEEN_BIT[case]
    shape = (2, 3, 4, 5)
    path = tmp_path / "pair.onnx"
    onnx.save(_qdq_pair_model(scale, zero_point, axis, shape), path)
    graph = convert_model(str(path))
    assert "FakeQuantize" not in graph.op_histogram() and "Round" in graph.op_histogram()
    xml, _ = save_model(graph, tmp_path / "ir" / "model.xml")
    span = float(np.max(scale)) * 65535
    feed = {"x": (np.random.default_rng(3).uniform(-0.7, 0.7, shape) * span).astype(np.float32)}
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feed)[0]
    # float32 rounding of the dequantization only (the CPU plugin computes q·s − zp·s); a step is a whole scale
    np.testing.assert_allclose(compile_ir(xml)(feed)[0], want, rtol=1e-6, atol=float(np.min(scale)) * 1e-2)


def test_rounding_ties_differ_by_at_most_one_step(tmp_path) -> None:
    """QuantizeLinear rounds x / s half to even; FakeQuantize recomputes the quotient from its
    interval, so at exact ties (x = (k + 0.5)·s) some elements land one step away. Measured here."""
    scale, zero_point = np.array(0.1, np.float32), np.array(128, np.uint8)
    ties = ((np.arange(-128, 127, dtype=np.float64) + 0.5) * 0.1).astype(np.float32).reshape(1, 255, 1, 1)
    path = tmp_path / "pair.onnx"
    onnx.save(_qdq_pair_model(scale, zero_point, 1, ties.shape), path)
    xml, _ = save_model(convert_model(str(path)), tmp_path / "ir" / "model.xml")
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": ties})[0]
    got = compile_ir(xml)({"x": ties})[0]
    steps = np.abs(got.astype(np.float64) - want) / 0.1
    assert np.max(steps) <= 1.0 + 1e-3
    off = int(np.sum(steps > 0.5))
    assert off < ties.size, "every tie differs: the FakeQuantize limits are off by half a step"
    print(f"ties: {off} of {ties.size} one step off onnxruntime")


@pytest.mark.parametrize("lone", ["quantize", "dequantize"])
def test_a_lone_quantize_or_dequantize_stays_exact(tmp_path, lone) -> None:
    scale, zero_point = np.array([0.02, 0.05, 0.11], np.float32), np.array([-3, 0, 7], np.int8)
    shape = (2, 3, 4)
    if lone == "quantize":
        model = _qdq_pair_model(scale, zero_point, 1, shape, pair=False)
        feed = {"x": np.random.default_rng(0).uniform(-20, 20, shape).astype(np.float32)}
    else:
        inits = [numpy_helper.from_array(scale, "s"), numpy_helper.from_array(zero_point, "zp")]
        node = helper.make_node("DequantizeLinear", ["x", "s", "zp"], ["y"], axis=1)
        graph = helper.make_graph([node], "dq", [helper.make_tensor_value_info("x", TensorProto.INT8, list(shape))],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
        feed = {"x": np.random.default_rng(0).integers(-128, 128, shape).astype(np.int8)}
    path = tmp_path / "lone.onnx"
    onnx.save(model, path)
    graph = convert_model(str(path))
    assert "FakeQuantize" not in graph.op_histogram()
    xml, _ = save_model(graph, tmp_path / "ir" / "model.xml")
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feed)[0]
    got = compile_ir(xml)(feed)[0]
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_a_quantized_embedding_table_keeps_its_dequantization_before_the_gather(tmp_path) -> None:
    """quantize_static's uint8 embedding tables: fuse_linear must not move the scale past the Gather
    (it would for a float table), or OpenVINO gathers from a dequantized f32 copy of the table."""
    rng = np.random.default_rng(0)
    table = rng.integers(0, 256, (64, 16)).astype(np.uint8)
    inits = [numpy_helper.from_array(table, "table"), numpy_helper.from_array(np.array(0.02, np.float32), "s"),
             numpy_helper.from_array(np.array(131, np.uint8), "zp"), numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "b")]
    nodes = [helper.make_node("DequantizeLinear", ["table", "s", "zp"], ["weights"]),
             helper.make_node("Gather", ["weights", "ids"], ["rows"]), helper.make_node("Add", ["rows", "b"], ["y"])]
    graph = helper.make_graph(nodes, "embedding", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16])], inits)
    path = tmp_path / "embedding.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    converted = convert_model(str(path))
    (gather,) = [n for n in converted.nodes() if n.op.type == "Gather"]
    assert gather.inputs[0].producer.op.type == "Multiply"
    xml, _ = save_model(converted, tmp_path / "ir" / "model.xml")
    runtime = compile_ir(xml).get_runtime_model()
    assert [op.get_rt_info()["runtimePrecision"].astype(str) for op in runtime.get_ordered_ops()
            if op.get_rt_info()["layerType"].astype(str) == "Gather"] == ["u8"]
    feed = {"ids": rng.integers(0, 64, (1, 8)).astype(np.int64)}
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feed)[0]
    np.testing.assert_allclose(compile_ir(xml)(feed)[0], want, rtol=1e-6, atol=1e-6)
