"""Activations and the softmax family: ONNX → IR → OpenVINO/onnxruntime, and IR kernels."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter import convert_model
from converter.errors import NodeConversionError
from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops import activation as act
from converter.ops.core import const, parameter
from converter.runtime import execute
from converter.validate import compare

F, I32, I64, I8 = TensorProto.FLOAT, TensorProto.INT32, TensorProto.INT64, TensorProto.INT8
RNG = np.random.default_rng(11)


def make_model(op_type, inputs, *, opset=17, initializers=(), **attrs) -> onnx.ModelProto:
    """One-node model; `inputs` are (name, elem_type, shape); '' names an omitted optional input."""
    initializer_names = {t.name for t in initializers}
    node = helper.make_node(op_type, [name for name, _, _ in inputs], ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        op_type.lower(),
        [helper.make_tensor_value_info(n, e, s) for n, e, s in inputs if n and n not in initializer_names],
        [helper.make_empty_tensor_value_info("y")],
        list(initializers),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)


def floats(*shape, low=-4.0, high=4.0) -> np.ndarray:
    return RNG.uniform(low, high, shape).astype(np.float32)


def op_types(model_or_graph) -> dict[str, int]:
    graph = model_or_graph if isinstance(model_or_graph, Graph) else convert_model(model_or_graph, passes=[])
    return graph.op_histogram()


# ------------------------------------------------------------------ simple activations

SIMPLE = [
    ("Relu", 14, {}),
    ("LeakyRelu", 16, {}),
    ("LeakyRelu", 6, {"alpha": 0.3}),
    ("Elu", 6, {}),
    ("Elu", 22, {"alpha": 0.4}),
    ("Selu", 6, {}),
    ("Selu", 6, {"alpha": 1.2, "gamma": 2.5}),
    ("Celu", 12, {}),
    ("Celu", 12, {"alpha": 2.0}),
    ("Sigmoid", 13, {}),
    ("HardSigmoid", 6, {}),
    ("HardSigmoid", 6, {"alpha": 0.3, "beta": 0.4}),
    ("HardSwish", 14, {}),
    ("Tanh", 13, {}),
    ("Gelu", 20, {}),
    ("Gelu", 20, {"approximate": "tanh"}),
    ("Softplus", 1, {}),
    ("Softsign", 1, {}),
    ("Mish", 18, {}),
    ("ThresholdedRelu", 10, {}),
    ("ThresholdedRelu", 10, {"alpha": -0.5}),
    ("Shrink", 9, {}),
    ("Shrink", 9, {"bias": 1.5, "lambd": 1.0}),
    ("Swish", 24, {"alpha": 1.7}),
]


@pytest.mark.parametrize("op_type,opset,attrs", SIMPLE, ids=[f"{t}-{o}-{len(a)}" for t, o, a in SIMPLE])
def test_activation(check_onnx, op_type, opset, attrs) -> None:
    model = make_model(op_type, [("x", F, ["N", 3, 5])], opset=opset, **attrs)
    check_onnx(model, inputs=[floats(2, 3, 5)])


def test_relu_integer(check_onnx) -> None:
    check_onnx(make_model("Relu", [("x", I32, [6])], opset=14), inputs=[np.array([-3, -1, 0, 1, 5, -7], np.int32)])


def test_shrink_integer(check_onnx) -> None:
    x = np.array([-5, -2, -1, 0, 1, 2, 5], np.int32)
    check_onnx(make_model("Shrink", [("x", I32, [7])], opset=9, bias=1.0, lambd=1.5), inputs=[x])


def test_gelu_rejects_unknown_approximation() -> None:
    with pytest.raises(NodeConversionError, match="approximate"):
        convert_model(make_model("Gelu", [("x", F, [3])], opset=20, approximate="fast"))


# ------------------------------------------------------------------ PRelu: ONNX numpy broadcasting vs PReLU's channel rule

PRELU_SLOPES = [
    ([2, 3, 4, 4], [3, 1, 1]),  # per channel, the usual exporter shape
    ([2, 4, 4, 4], [4]),  # 1D slope as long as dim 1 AND the last dim: ONNX means the last dim
    ([2, 3, 5], [5]),  # 1D slope along the last dim
    ([2, 3, 4, 4], [1]),
    ([3, 4], [4]),
    ([5], [5]),
    ([2, 3, 4], [3, 4]),
    ([2, 3, 4, 4], [1, 4, 1]),
    ([2, 3, 4, 4], [2, 3, 4, 4]),
]


@pytest.mark.parametrize("x_shape,slope_shape", PRELU_SLOPES, ids=[f"{x}-{s}" for x, s in PRELU_SLOPES])
@pytest.mark.parametrize("constant", [True, False], ids=["const", "input"])
def test_prelu_slope_shapes(check_onnx, x_shape, slope_shape, constant) -> None:
    slope = floats(*slope_shape, low=0.1, high=0.9)
    initializers = [numpy_helper.from_array(slope, "slope")] if constant else []
    model = make_model("PRelu", [("x", F, x_shape), ("slope", F, slope_shape)], opset=16, initializers=initializers)
    x = floats(*x_shape)
    check_onnx(model, inputs=[x] if constant else [x, slope])


def test_prelu_dynamic_channel_dim_and_unknown_rank(check_onnx) -> None:
    slope = numpy_helper.from_array(floats(4, low=0.1, high=0.9), "slope")
    model = make_model("PRelu", [("x", F, ["N", "C", 4]), ("slope", F, [4])], opset=9, initializers=[slope])
    check_onnx(model, inputs=[floats(2, 4, 4)])
    unknown_rank = make_model("PRelu", [("x", F, None), ("slope", F, [4])], opset=9, initializers=[slope])
    assert "Select" in op_types(unknown_rank)
    # OpenVINO's CPU plugin cannot run dynamic-rank inputs at all
    check_onnx(unknown_rank, inputs=[floats(2, 4, 4)], backends=("onnxruntime",))


def test_prelu_integer(check_onnx) -> None:
    slope = numpy_helper.from_array(np.array([2, 3], np.int32), "slope")
    model = make_model("PRelu", [("x", I32, [3, 2]), ("slope", I32, [2])], opset=16, initializers=[slope])
    check_onnx(model, inputs=[np.array([[-3, 4], [5, -6], [0, -1]], np.int32)])


# ------------------------------------------------------------------ Clip across opsets and types


def _clip_inputs(low, high, dtype):
    names, initializers = [], []
    for name, bound in (("lo", low), ("hi", high)):
        if bound is None:
            names.append("")
        else:
            names.append(name)
            initializers.append(numpy_helper.from_array(np.array(bound, dtype), name))
    return names, initializers


@pytest.mark.parametrize(
    "low,high",
    [(-1.0, 1.0), (None, 0.5), (-0.5, None), (None, None), (1.0, -1.0), (0.0, 6.0)],
    ids=["both", "max_only", "min_only", "none", "min_gt_max", "relu6"],
)
def test_clip_constant_bounds(check_onnx, low, high) -> None:
    names, initializers = _clip_inputs(low, high, np.float32)
    model = make_model("Clip", [("x", F, ["N", 4]), (names[0], F, []), (names[1], F, [])], opset=13, initializers=initializers)
    check_onnx(model, inputs=[floats(3, 4)])


def test_clip_uses_clamp_for_ordered_constant_bounds() -> None:
    names, initializers = _clip_inputs(0.0, 6.0, np.float32)
    model = make_model("Clip", [("x", F, [4]), (names[0], F, []), (names[1], F, [])], opset=13, initializers=initializers)
    assert op_types(model) == {"Clamp": 1, "Parameter": 1}


def test_clip_runtime_bounds(check_onnx) -> None:
    model = make_model("Clip", [("x", F, [2, 5]), ("lo", F, []), ("hi", F, [])], opset=12)
    check_onnx(model, inputs=[floats(2, 5), np.array(-1.5, np.float32), np.array(2.0, np.float32)])


@pytest.mark.parametrize("opset", [6, 7])
@pytest.mark.parametrize("attrs", [{}, {"min": -0.5}, {"max": 0.25}, {"min": -1.0, "max": 1.0}])
def test_clip_attributes_before_opset_11(check_onnx, opset, attrs) -> None:
    check_onnx(make_model("Clip", [("x", F, [3, 4])], opset=opset, **attrs), inputs=[floats(3, 4)])


@pytest.mark.parametrize("elem,dtype", [(I8, np.int8), (I32, np.int32), (I64, np.int64), (TensorProto.UINT8, np.uint8)])
@pytest.mark.parametrize("low,high", [(-3, 4), (None, 2), (1, None), (5, -5)], ids=["both", "max_only", "min_only", "min_gt_max"])
def test_clip_integer(check_onnx, elem, dtype, low, high) -> None:
    if np.dtype(dtype).kind == "u":
        low, high = (None if v is None else abs(v) for v in (low, high))
    names, initializers = _clip_inputs(low, high, dtype)
    model = make_model("Clip", [("x", elem, [8]), (names[0], elem, []), (names[1], elem, [])], opset=13, initializers=initializers)
    x = np.array([-10, -4, -3, 0, 1, 3, 4, 100], np.int64)
    check_onnx(model, inputs=[np.clip(x, np.iinfo(dtype).min, np.iinfo(dtype).max).astype(dtype)])


# ------------------------------------------------------------------ softmax family


@pytest.mark.parametrize("op_type", ["Softmax", "LogSoftmax", "Hardmax"])
@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, -2])
def test_softmax_family_axes_per_opset(check_onnx, op_type, opset, axis) -> None:
    """Before opset 13 the input is flattened to 2D at `axis` (default 1); since 13 one axis (default -1)."""
    attrs = {} if axis is None else {"axis": axis}
    model = make_model(op_type, [("x", F, [2, 3, 4])], opset=opset, **attrs)
    x = floats(2, 3, 4)
    if op_type == "Hardmax":
        x = np.round(x)  # ties: the first maximum wins
    check_onnx(model, inputs=[x])


@pytest.mark.parametrize("op_type", ["Softmax", "LogSoftmax"])
def test_softmax_dynamic_dims_and_large_values(check_onnx, op_type) -> None:
    model = make_model(op_type, [("x", F, ["B", "T", 6])], opset=13)
    check_onnx(model, inputs=[floats(2, 3, 6) * 100])
    old = make_model(op_type, [("x", F, ["B", "T", 6])], opset=11, axis=1)
    check_onnx(old, inputs=[floats(2, 3, 6) * 100])


def test_hardmax_needs_static_axis_size() -> None:
    with pytest.raises(NodeConversionError, match="static"):
        convert_model(make_model("Hardmax", [("x", F, [2, "N"])], opset=13))


def test_softmax_opset13_on_unknown_rank(check_onnx) -> None:
    model = make_model("Softmax", [("x", F, None)], opset=13)
    check_onnx(model, inputs=[floats(2, 3, 4)], backends=("onnxruntime",))


def test_softmax_before_13_rejects_unknown_rank_at_inner_axis() -> None:
    with pytest.raises(NodeConversionError, match="rank"):
        convert_model(make_model("Softmax", [("x", F, None)], opset=11))


# ------------------------------------------------------------------ IR kernels against OpenVINO


def _scalar(value: float) -> np.ndarray:
    return np.array(value, np.float32)


KERNEL_CASES = [
    (act.Relu, [floats(2, 5)], {}),
    (act.PRelu, [floats(2, 3, 4), floats(3, low=0, high=1)], {}),  # per channel
    (act.PRelu, [floats(2, 3, 4), floats(4, low=0, high=1)], {}),  # numpy
    (act.PRelu, [floats(2, 3, 4), floats(3, 1, low=0, high=1)], {}),
    (act.Elu, [floats(7)], {"alpha": 0.7}),
    (act.Clamp, [floats(7)], {"min": -1.5, "max": 2.0}),
    (act.Clamp, [np.arange(-5, 6, dtype=np.int32)], {"min": -2.5, "max": 3.5}),
    (act.Sigmoid, [floats(7)], {}),
    (act.Tanh, [floats(7)], {}),
    (act.HSigmoid, [floats(9)], {}),
    (act.HSwish, [floats(9)], {}),
    (act.HardSigmoid, [floats(9), _scalar(0.3), _scalar(0.6)], {}),
    (act.Gelu, [floats(9)], {"approximation_mode": "ERF"}),
    (act.Gelu, [floats(9)], {"approximation_mode": "TANH"}),
    (act.SoftPlus, [floats(9)], {}),
    (act.SoftSign, [floats(9)], {}),
    (act.Mish, [floats(9)], {}),
    (act.Swish, [floats(9)], {}),
    (act.Swish, [floats(9), _scalar(1.8)], {}),
    (act.Selu, [floats(9), np.array([1.5], np.float32), np.array([1.1], np.float32)], {}),
    (act.Softmax, [floats(2, 3, 4)], {"axis": 1}),
    (act.Softmax, [floats(2, 3, 4)], {"axis": -1}),
    (act.LogSoftmax, [floats(2, 3, 4)], {"axis": 0}),
]


@pytest.mark.parametrize("spec,arrays,attrs", KERNEL_CASES, ids=[f"{c[0].type}-{i}" for i, c in enumerate(KERNEL_CASES)])
def test_kernel_matches_openvino_and_lowering(spec, arrays, attrs) -> None:
    """Extra scalar parameters become constants (the IR ops want them so)."""
    data = parameter("x", ElementType.from_numpy(arrays[0].dtype), Shape(arrays[0].shape))
    if spec is act.PRelu:
        slope = parameter("slope", ElementType.f32, Shape(arrays[1].shape))
        params, extra = [data, slope], [slope.outputs[0]]
    else:
        params, extra = [data], [const(a) for a in arrays[1:]]
    node = spec.node(data.outputs[0], *extra, **attrs)
    graph = Graph(params, node.outputs)
    expected = spec.kernel(arrays, node.attrs)
    run_inputs = arrays[: len(params)]
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, execute(graph, run_inputs, backend=backend), rtol=1e-5, atol=1e-6)
        assert result.ok, f"{backend}: {result.detail}"


def test_prelu_channel_rule() -> None:
    assert act.prelu_channel_slope((3,), (2, 3, 4))
    assert not act.prelu_channel_slope((4,), (2, 3, 4))
    assert not act.prelu_channel_slope((3, 1), (2, 3, 4))
    assert not act.prelu_channel_slope((3,), (3,))
    assert act.integer_clamp_bounds(np.dtype(np.int8), -1e9, 2.5) == (-128, 2)
