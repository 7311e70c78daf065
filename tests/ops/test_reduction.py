"""Reductions: ONNX Reduce* (axes attribute or input, keepdims, noop_with_empty_axes) and IR kernels."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter import convert_model
from converter.errors import NodeConversionError
from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops import reduction as rd
from converter.ops.core import const, parameter
from converter.runtime import execute
from converter.validate import compare

F, I32, I64, BOOL = TensorProto.FLOAT, TensorProto.INT32, TensorProto.INT64, TensorProto.BOOL
RNG = np.random.default_rng(5)

ALL = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]
AXES_INPUT_SINCE = {op: (13 if op == "ReduceSum" else 18) for op in ALL}


def make_model(op_type, x_shape, *, opset, axes=None, axes_as="auto", elem=F, **attrs) -> onnx.ModelProto:
    """`axes` goes into the attribute or an int64 initializer, by opset; axes_as="input" makes it a graph input."""
    inputs = [helper.make_tensor_value_info("x", elem, x_shape)]
    initializers = []
    node_inputs = ["x"]
    if axes is not None and opset >= AXES_INPUT_SINCE[op_type]:
        node_inputs.append("axes")
        if axes_as == "input":
            inputs.append(helper.make_tensor_value_info("axes", I64, [len(axes)]))
        else:
            initializers.append(numpy_helper.from_array(np.array(axes, np.int64), "axes"))
    elif axes is not None:
        attrs["axes"] = axes
    node = helper.make_node(op_type, node_inputs, ["y"], **attrs)
    graph = helper.make_graph([node], "g", inputs, [helper.make_empty_tensor_value_info("y")], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)


def positive(*shape) -> np.ndarray:
    return RNG.uniform(0.5, 2.0, shape).astype(np.float32)


@pytest.mark.parametrize("op_type", ALL)
@pytest.mark.parametrize("opset", [11, 18])
@pytest.mark.parametrize("axes,keepdims", [([1], 1), ([0, 2], 0), ([-1], 0), (None, 1), (None, 0)], ids=["one", "two_nokeep", "neg_nokeep", "all_keep", "all_nokeep"])
def test_reductions_axes_attribute_and_input(check_onnx, op_type, opset, axes, keepdims) -> None:
    model = make_model(op_type, ["N", 3, 4], opset=opset, axes=axes, keepdims=keepdims)
    check_onnx(model, inputs=[positive(2, 3, 4)])


@pytest.mark.parametrize("op_type", ALL)
def test_noop_with_empty_axes_reduces_each_element_alone(check_onnx, op_type) -> None:
    """x itself for most, |x| for L1/L2, x*x for SumSquare, log(x) for LogSum."""
    model = make_model(op_type, [2, 3], opset=18, noop_with_empty_axes=1)
    assert not any(t.startswith("Reduce") for t in convert_model(model, passes=[]).op_histogram())
    check_onnx(model, inputs=[positive(2, 3)])


@pytest.mark.parametrize("op_type", ["ReduceSum", "ReduceMax"])
def test_empty_axes_input_reduces_everything(check_onnx, op_type) -> None:
    model = make_model(op_type, [2, 3, 4], opset=18, axes=[], keepdims=0)
    check_onnx(model, inputs=[positive(2, 3, 4)])
    noop = make_model(op_type, [2, 3, 4], opset=18, axes=[], noop_with_empty_axes=1)
    check_onnx(noop, inputs=[positive(2, 3, 4)])


@pytest.mark.parametrize("keepdims", [1, 0])
def test_runtime_axes_input(check_onnx, keepdims) -> None:
    model = make_model("ReduceMean", [2, 3, 4], opset=18, axes=[1], axes_as="input", keepdims=keepdims)
    check_onnx(model, inputs=[positive(2, 3, 4), np.array([-1], np.int64)])


@pytest.mark.parametrize("op_type", ["ReduceSum", "ReduceMax", "ReduceLogSum"])
@pytest.mark.parametrize("axes", [[0, 2], [2, 0], [-1, 1], [0, 1, 2]], ids=["asc", "desc", "negative", "all"])
def test_runtime_axes_without_keepdims(check_onnx, op_type, axes) -> None:
    """Several run-time axes with keepdims=0: reduced with keep_dims, the reduced dims dropped by a
    Reshape to the kept dims found at run time; the output rank is static (rank − len(axes))."""
    model = make_model(op_type, ["N", 3, 4], opset=18, axes=axes, axes_as="input", keepdims=0)
    graph = convert_model(model)
    assert graph.outputs[0].shape.rank == 3 - len(axes)
    check_onnx(model, inputs=[positive(2, 3, 4), np.array(axes, np.int64)])


def test_runtime_axes_that_may_be_empty_are_rejected() -> None:
    x = helper.make_tensor_value_info("x", F, [2, 3])
    axes = helper.make_tensor_value_info("axes", I64, ["K"])
    node = helper.make_node("ReduceSum", ["x", "axes"], ["y"])
    graph = helper.make_graph([node], "g", [x, axes], [helper.make_tensor_value_info("y", F, None)])
    with pytest.raises(NodeConversionError, match="empty"):
        convert_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))


@pytest.mark.parametrize("op_type,fill", [("ReduceMax", -np.inf), ("ReduceMin", np.inf), ("ReduceSum", 0.0), ("ReduceProd", 1.0)])
def test_empty_set_gives_onnx_identity(check_onnx, op_type, fill) -> None:
    model = make_model(op_type, [2, 0, 4], opset=18, axes=[1], keepdims=1)
    xml = check_onnx(model, inputs=[np.zeros((2, 0, 4), np.float32)])
    assert xml.exists()


@pytest.mark.parametrize("op_type", ["ReduceMax", "ReduceMin"])
@pytest.mark.parametrize("axes_as", ["auto", "input"])
def test_boolean_max_min(check_onnx, op_type, axes_as) -> None:
    model = make_model(op_type, [4, 3], opset=20, axes=[1], axes_as=axes_as, elem=BOOL, keepdims=1)
    x = np.array([[1, 1, 1], [1, 0, 1], [0, 0, 0], [0, 1, 0]], bool)
    check_onnx(model, inputs=[x] if axes_as == "auto" else [x, np.array([1], np.int64)])


@pytest.mark.parametrize("op_type", ["ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd"])
@pytest.mark.parametrize("elem,dtype", [(I32, np.int32), (I64, np.int64)])
def test_integer_reductions(check_onnx, op_type, elem, dtype) -> None:
    model = make_model(op_type, [3, 4], opset=18, axes=[1], keepdims=0, elem=elem)
    check_onnx(model, inputs=[RNG.integers(-4, 5, (3, 4)).astype(dtype)])


def test_log_sum_exp_of_large_values(check_onnx) -> None:
    model = make_model("ReduceLogSumExp", [2, 5], opset=18, axes=[1], keepdims=0)
    check_onnx(model, inputs=[(positive(2, 5) * 300).astype(np.float32)])


def test_all_axes_needs_known_rank() -> None:
    x = helper.make_tensor_value_info("x", F, None)
    graph = helper.make_graph([helper.make_node("ReduceMean", ["x"], ["y"])], "g", [x], [helper.make_tensor_value_info("y", F, None)])
    with pytest.raises(NodeConversionError, match="rank"):
        convert_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))


# ------------------------------------------------------------------ IR kernels against OpenVINO

SPECS = [rd.ReduceSum, rd.ReduceMean, rd.ReduceMax, rd.ReduceMin, rd.ReduceProd, rd.ReduceL1, rd.ReduceL2]


@pytest.mark.parametrize("spec", SPECS, ids=[s.type for s in SPECS])
@pytest.mark.parametrize("axes,keep_dims", [([1], True), ([0, -1], False), ([], False)], ids=["keep", "two", "empty_noop"])
def test_kernel_matches_openvino_and_lowering(spec, axes, keep_dims) -> None:
    x = RNG.uniform(-2, 2, (2, 3, 4)).astype(np.float32)
    data = parameter("x", ElementType.f32, Shape((2, 3, 4)))
    axes_array = np.array(axes, np.int64)
    node = spec.node(data.outputs[0], const(axes_array), keep_dims=keep_dims)
    expected = spec.kernel([x, axes_array], node.attrs)
    assert expected[0].shape == node.outputs[0].shape.static
    graph = Graph([data], node.outputs)
    # OpenVINO's CPU plugin refuses a reduction over no axes (the frontend never emits one);
    # the kernel and the lowering reduce each element alone there (|x| for L1/L2)
    backends = ("onnxruntime",) if not axes else ("openvino", "onnxruntime")
    for backend in backends:
        result = compare(expected, execute(graph, [x], backend=backend), rtol=1e-5, atol=1e-5)
        assert result.ok, f"{backend}: {result.detail}"


@pytest.mark.parametrize("spec", [rd.ReduceLogicalAnd, rd.ReduceLogicalOr], ids=["and", "or"])
@pytest.mark.parametrize("shape,axes", [((3, 4), [1]), ((3, 0), [1])], ids=["values", "empty"])
def test_logical_kernels(spec, shape, axes) -> None:
    x = RNG.integers(0, 2, shape).astype(bool)
    data = parameter("x", ElementType.boolean, Shape(shape))
    axes_array = np.array(axes, np.int64)
    node = spec.node(data.outputs[0], const(axes_array), keep_dims=False)
    expected = spec.kernel([x, axes_array], node.attrs)
    graph = Graph([data], node.outputs)
    for backend in ("openvino", "onnxruntime"):
        assert compare(expected, execute(graph, [x], backend=backend), rtol=0, atol=0).ok, backend


def test_kernel_integer_mean_truncates_and_empty_extremes() -> None:
    x = np.array([[-3, -4], [3, 4]], np.int32)
    mean = rd.ReduceMean.kernel([x, np.array([1])], {"keep_dims": False})[0]
    np.testing.assert_array_equal(mean, np.array([-3, 3], np.int32))
    empty = np.zeros((2, 0), np.float32)
    assert rd.ReduceMax.kernel([empty, np.array([1])], {"keep_dims": False})[0][0] == np.finfo(np.float32).min


def test_infer_with_runtime_axes() -> None:
    data = parameter("x", ElementType.f32, Shape((2, None, 4))).outputs[0]
    axes = parameter("a", ElementType.i64, Shape((1,))).outputs[0]
    assert rd.ReduceSum(data, axes, keep_dims=True).shape == Shape((None, None, None))
    assert rd.ReduceSum(data, axes, keep_dims=False).shape == Shape((None, None))
    assert rd.ReduceSum(data, const(np.array([-2])), keep_dims=False).shape == Shape((2, 4))
