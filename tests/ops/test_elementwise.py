"""Element-wise ops: ONNX → IR → OpenVINO/onnxruntime, and the IR kernels against OpenVINO."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter import convert_model
from converter.errors import NodeConversionError
from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops import elementwise as ew
from converter.ops.core import const, parameter
from converter.runtime import execute
from converter.validate import compare

F, I32, I64, U8, BOOL = TensorProto.FLOAT, TensorProto.INT32, TensorProto.INT64, TensorProto.UINT8, TensorProto.BOOL
RNG = np.random.default_rng(7)


def make_model(op_type, inputs, *, opset=17, outputs=1, initializers=(), **attrs) -> onnx.ModelProto:
    """One-node model; `inputs` are (name, elem_type, shape) triples, shapes may hold dim_params."""
    node = helper.make_node(op_type, [name for name, _, _ in inputs], [f"y{i}" for i in range(outputs)], **attrs)
    graph = helper.make_graph(
        [node],
        op_type.lower(),
        [helper.make_tensor_value_info(name, elem, shape) for name, elem, shape in inputs if name not in {t.name for t in initializers}],
        [helper.make_empty_tensor_value_info(f"y{i}") for i in range(outputs)],
        list(initializers),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)  # fills in the output types


def floats(*shape, low=-3.0, high=3.0) -> np.ndarray:
    return RNG.uniform(low, high, shape).astype(np.float32)


# ------------------------------------------------------------------ binary arithmetic and broadcasting

BINARY = ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"]


@pytest.mark.parametrize("op_type", BINARY)
@pytest.mark.parametrize("shapes", [([2, 3, 4], [2, 3, 4]), (["N", 3, 1], [4]), ([3, 1], ["N", 1, 5])], ids=["same", "bcast_dyn", "bcast_rank"])
def test_binary_float(check_onnx, op_type, shapes) -> None:
    a_shape, b_shape = shapes
    model = make_model(op_type, [("a", F, a_shape), ("b", F, b_shape)])
    concrete = [[2 if isinstance(d, str) else d for d in s] for s in shapes]
    low = 0.5 if op_type == "Pow" else -3.0
    check_onnx(model, inputs=[floats(*concrete[0], low=low), floats(*concrete[1], low=0.5)])


@pytest.mark.parametrize("elem,dtype", [(I32, np.int32), (I64, np.int64), (TensorProto.INT8, np.int8)])
def test_integer_div_truncates_toward_zero(check_onnx, elem, dtype) -> None:
    a = np.array([-7, 7, -7, 7, -6, 5, 0, -1], dtype)
    b = np.array([2, 2, -2, -2, 3, -5, 3, 4], dtype)
    check_onnx(make_model("Div", [("a", elem, [8]), ("b", elem, [8])]), inputs=[a, b])


@pytest.mark.parametrize("op_type", ["Add", "Sub", "Mul", "Max", "Min"])
@pytest.mark.parametrize("elem,dtype", [(I32, np.int32), (I64, np.int64), (U8, np.uint8)])
def test_binary_integer(check_onnx, op_type, elem, dtype) -> None:
    # no wrap-around: OpenVINO's CPU plugin saturates small unsigned types, ONNX wraps
    a = RNG.integers(10, 20, (3, 4)).astype(dtype)
    b = RNG.integers(0, 10, (4,)).astype(dtype)
    check_onnx(make_model(op_type, [("a", elem, [3, 4]), ("b", elem, [4])]), inputs=[a, b])


@pytest.mark.parametrize(
    "x_elem,x,y_elem,y",
    [
        (F, np.array([1.5, 2.0, 3.0], np.float32), I64, np.array([2, 3, -1], np.int64)),
        (I32, np.array([1, 2, 3], np.int32), F, np.array([1.5, 2.5, 0.5], np.float32)),
        (I64, np.array([2, -3, 4], np.int64), I32, np.array([3, 2, 1], np.int32)),
        (I32, np.array([2, -3, 4], np.int32), I32, np.array([3, 2, 0], np.int32)),
    ],
    ids=["float_int", "int_float", "int64_int32", "int_int"],
)
def test_pow_mixed_types(check_onnx, x_elem, x, y_elem, y) -> None:
    check_onnx(make_model("Pow", [("x", x_elem, [3]), ("y", y_elem, [3])], opset=15), inputs=[x, y])


def test_pow_opset7_same_types(check_onnx) -> None:
    check_onnx(make_model("Pow", [("x", F, [2, 3]), ("y", F, [3])], opset=7), inputs=[floats(2, 3, low=0.1), floats(3)])


@pytest.mark.parametrize("fmod", [0, 1])
@pytest.mark.parametrize("elem,dtype", [(I32, np.int32), (I64, np.int64), (TensorProto.INT8, np.int8)])
def test_mod_integer_signs(check_onnx, fmod, elem, dtype) -> None:
    a = np.array([-7, 7, -7, 7, 6, -6, 0, 5], dtype)
    b = np.array([3, 3, -3, -3, 3, 4, 5, -2], dtype)
    check_onnx(make_model("Mod", [("a", elem, [8]), ("b", elem, [8])], opset=13, fmod=fmod), inputs=[a, b])


@pytest.mark.parametrize("fmod", [0, 1])
def test_mod_float_with_special_values(check_onnx, fmod) -> None:
    a = np.array([5.5, -5.5, 5.5, -5.5, -3.0, 3.0, 1.0, np.inf, 2.0, 0.0], np.float32)
    b = np.array([2.0, 2.0, -2.0, -2.0, np.inf, -np.inf, np.inf, 2.0, 0.0, -3.0], np.float32)
    opset = 28 if fmod == 0 else 13  # floor modulo of floats is defined since opset 28
    check_onnx(make_model("Mod", [("a", F, [10]), ("b", F, [10])], opset=opset, fmod=fmod), inputs=[a, b])


def test_mod_rejects_bad_fmod() -> None:
    with pytest.raises(NodeConversionError, match="fmod"):
        convert_model(make_model("Mod", [("a", I32, [2]), ("b", I32, [2])], fmod=2))


@pytest.mark.parametrize("op_type", ["Sum", "Mean", "Max", "Min"])
@pytest.mark.parametrize("count", [1, 2, 3])
def test_variadic_with_broadcasting(check_onnx, op_type, count) -> None:
    shapes = [["N", 3, 4], [4], [3, 1]][:count]
    model = make_model(op_type, [(f"x{i}", F, s) for i, s in enumerate(shapes)], opset=13)
    check_onnx(model)


def test_variadic_opset8(check_onnx) -> None:
    model = make_model("Max", [("a", F, [2, 3]), ("b", F, [3]), ("c", F, [1])], opset=8)
    check_onnx(model)


def test_reciprocal_neg_abs_sign(check_onnx) -> None:
    x = np.array([[-2.0, -0.5, 0.25, 4.0], [1.0, -1.0, 3.0, 0.0]], np.float32)
    for op_type in ("Neg", "Abs", "Sign"):
        check_onnx(make_model(op_type, [("x", F, [2, 4])], opset=13), inputs=[x])
    check_onnx(make_model("Reciprocal", [("x", F, [2, 4])]), inputs=[x + np.float32(5)])


@pytest.mark.parametrize("op_type", ["Neg", "Abs", "Sign"])
def test_unary_integer(check_onnx, op_type) -> None:
    x = np.array([-5, -1, 0, 3, 7], np.int64)
    check_onnx(make_model(op_type, [("x", I64, [5])], opset=13), inputs=[x])


# ------------------------------------------------------------------ unary math

UNARY_DOMAINS = {
    "Sqrt": (0.0, 4.0),
    "Exp": (-3.0, 3.0),
    "Log": (0.1, 4.0),
    "Floor": (-3.0, 3.0),
    "Ceil": (-3.0, 3.0),
    "Sin": (-3.0, 3.0),
    "Cos": (-3.0, 3.0),
    "Tan": (-1.2, 1.2),
    "Asin": (-0.99, 0.99),
    "Acos": (-0.99, 0.99),
    "Atan": (-3.0, 3.0),
    "Sinh": (-3.0, 3.0),
    "Cosh": (-3.0, 3.0),
    "Asinh": (-3.0, 3.0),
    "Acosh": (1.0, 4.0),
    "Atanh": (-0.95, 0.95),
    "Erf": (-3.0, 3.0),
}


@pytest.mark.parametrize("op_type", sorted(UNARY_DOMAINS))
def test_unary_float(check_onnx, op_type) -> None:
    low, high = UNARY_DOMAINS[op_type]
    model = make_model(op_type, [("x", F, ["N", 3, 4])], opset=13)
    check_onnx(model, inputs=[floats(2, 3, 4, low=low, high=high)])


def test_round_halves_to_even(check_onnx) -> None:
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4, -2.6, 0.0], np.float32)
    check_onnx(make_model("Round", [("x", F, [9])], opset=11), inputs=[x])


@pytest.mark.parametrize("detect_negative,detect_positive", [(1, 1), (0, 1), (1, 0)])
def test_is_inf_and_is_nan(check_onnx, detect_negative, detect_positive) -> None:
    x = np.array([np.inf, -np.inf, np.nan, 0.0, 1e30, -2.0], np.float32)
    model = make_model("IsInf", [("x", F, [6])], opset=10, detect_negative=detect_negative, detect_positive=detect_positive)
    check_onnx(model, inputs=[x])
    check_onnx(make_model("IsNaN", [("x", F, [6])], opset=13), inputs=[x])


# ------------------------------------------------------------------ comparisons and logic


@pytest.mark.parametrize("op_type,opset", [("Equal", 11), ("Greater", 9), ("GreaterOrEqual", 12), ("Less", 9), ("LessOrEqual", 12)])
@pytest.mark.parametrize("elem", [F, I32, I64])
def test_comparisons(check_onnx, op_type, opset, elem) -> None:
    dtype = {F: np.float32, I32: np.int32, I64: np.int64}[elem]
    a = RNG.integers(-2, 3, (2, 3, 4)).astype(dtype)
    b = RNG.integers(-2, 3, (3, 1)).astype(dtype)
    check_onnx(make_model(op_type, [("a", elem, [2, 3, 4]), ("b", elem, [3, 1])], opset=opset), inputs=[a, b])


def test_equal_on_booleans(check_onnx) -> None:
    check_onnx(make_model("Equal", [("a", BOOL, [2, 3]), ("b", BOOL, [3])], opset=11))


@pytest.mark.parametrize("reduced_first", [True, False])
@pytest.mark.parametrize("keepdims", [1, 0])
def test_equal_reduce_max_negative_infinity(check_onnx, reduced_first: bool, keepdims: int) -> None:
    """`ReduceMax(x) == -inf` (Attention's fully-masked-row test): OpenVINO's CPU ReduceMax gives
    -FLT_MAX for a row of -inf, so the IR tests every element instead; rows of -inf, -FLT_MAX,
    NaN beside -inf, -inf beside a finite value."""
    lowest = np.finfo(np.float32).min
    x = np.array([[-np.inf, -np.inf, -np.inf], [lowest, -np.inf, lowest], [np.nan, -np.inf, -np.inf], [-np.inf, 0.5, -np.inf]], np.float32)
    reduce = helper.make_node("ReduceMax", ["x", "axes"], ["m"], keepdims=keepdims)
    operands = ["m", "neg_inf"] if reduced_first else ["neg_inf", "m"]
    equal = helper.make_node("Equal", operands, ["y"])
    graph = helper.make_graph(
        [reduce, equal], "g", [helper.make_tensor_value_info("x", F, [4, 3])], [helper.make_tensor_value_info("y", BOOL, None)],
        [numpy_helper.from_array(np.array([-1], np.int64), "axes"), numpy_helper.from_array(np.array([-np.inf], np.float32), "neg_inf")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    ops = [n.op.type for n in convert_model(model).nodes()]
    assert "ReduceLogicalAnd" in ops and "ReduceMax" not in ops
    xml_path = check_onnx(model, inputs=[x])
    assert xml_path.exists()


@pytest.mark.parametrize("op_type", ["And", "Or", "Xor"])
def test_logical_binary(check_onnx, op_type) -> None:
    check_onnx(make_model(op_type, [("a", BOOL, ["N", 3, 4]), ("b", BOOL, [4])], opset=7))


def test_not(check_onnx) -> None:
    check_onnx(make_model("Not", [("a", BOOL, [2, 5])], opset=1))


@pytest.mark.parametrize("elem", [F, I64])
def test_where_broadcasts_all_three(check_onnx, elem) -> None:
    model = make_model("Where", [("c", BOOL, [2, 1, 4]), ("x", elem, [3, 1]), ("y", elem, ["N", 1, 1, 4])], opset=16)
    check_onnx(model)


# ------------------------------------------------------------------ bitwise


@pytest.mark.parametrize("op_type", ["BitwiseAnd", "BitwiseOr", "BitwiseXor"])
@pytest.mark.parametrize("elem,dtype", [(I32, np.int32), (U8, np.uint8), (TensorProto.INT16, np.int16)])
def test_bitwise_binary(check_onnx, op_type, elem, dtype) -> None:
    info = np.iinfo(dtype)
    a = RNG.integers(info.min, info.max, (3, 4), dtype=dtype)
    b = RNG.integers(info.min, info.max, (4,), dtype=dtype)
    check_onnx(make_model(op_type, [("a", elem, [3, 4]), ("b", elem, [4])], opset=18), inputs=[a, b])


def test_bitwise_not(check_onnx) -> None:
    a = np.array([0, -1, 5, 2**31 - 1, -(2**31)], np.int32)
    check_onnx(make_model("BitwiseNot", [("a", I32, [5])], opset=18), inputs=[a])


@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
@pytest.mark.parametrize("elem,dtype", [(U8, np.uint8), (TensorProto.UINT32, np.uint32), (TensorProto.UINT64, np.uint64)])
def test_bitshift_unsigned(check_onnx, direction, elem, dtype) -> None:
    x = np.array([16, 4, 1, 255], dtype)
    y = np.array([1, 2, 3, 7], dtype)
    check_onnx(make_model("BitShift", [("x", elem, [4]), ("y", elem, [4])], opset=11, direction=direction), inputs=[x, y])


@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
@pytest.mark.parametrize("elem,dtype", [(I32, np.int32), (TensorProto.INT8, np.int8), (I64, np.int64)])
def test_bitshift_signed_and_out_of_range(check_onnx, direction, elem, dtype) -> None:
    """Opset 28: signed right shifts are arithmetic; negative or too-wide shifts give 0 or -1."""
    bits = np.iinfo(dtype).bits
    # OpenVINO's CPU plugin computes i64 in i32: keep i64 results within i32
    widest = bits - 1 if bits <= 32 else 7
    x = np.array([-8, 4, -1, 3, -128, 100, -5, 7], dtype)
    y = np.array([1, 2, bits, bits + 3, -1, 0, widest, 3], dtype)
    check_onnx(make_model("BitShift", [("x", elem, [8]), ("y", elem, [8])], opset=28, direction=direction), inputs=[x, y])


def test_bitshift_constant_in_range_needs_no_select() -> None:
    shift = numpy_helper.from_array(np.array([1, 2], np.uint8), "y")
    graph = convert_model(make_model("BitShift", [("x", U8, [2]), ("y", U8, [2])], opset=11, initializers=[shift], direction="LEFT"), passes=[])
    assert "Select" not in graph.op_histogram()


def test_bitshift_rejects_bad_direction() -> None:
    with pytest.raises(NodeConversionError, match="direction"):
        convert_model(make_model("BitShift", [("x", U8, [2]), ("y", U8, [2])], opset=11, direction="UP"))


# ------------------------------------------------------------------ IR kernels against OpenVINO


def _kernel_case(spec, arrays, **attrs):
    params = [parameter(f"p{i}", ElementType.from_numpy(a.dtype), Shape(a.shape)) for i, a in enumerate(arrays)]
    node = spec.node(*[p.outputs[0] for p in params], **attrs)
    graph = Graph(params, node.outputs)
    expected = spec.kernel(arrays, node.attrs)
    return graph, expected


FLOAT_PAIR = [floats(2, 3, 4), floats(3, 1, low=0.5)]
INT_PAIR = [np.array([-7, 7, -7, 7, 9, -9], np.int32), np.array([2, 2, -2, -2, 4, 4], np.int32)]
BOOL_PAIR = [RNG.integers(0, 2, (3, 4)).astype(bool), RNG.integers(0, 2, (4,)).astype(bool)]
KERNEL_CASES = [
    (ew.Add, FLOAT_PAIR, {}),
    (ew.Subtract, INT_PAIR, {}),
    (ew.Multiply, FLOAT_PAIR, {}),
    (ew.Divide, FLOAT_PAIR, {}),
    (ew.Divide, INT_PAIR, {"m_pythondiv": False}),
    (ew.Power, [floats(3, 4, low=0.1), floats(4)], {}),
    (ew.Maximum, INT_PAIR, {}),
    (ew.Minimum, FLOAT_PAIR, {}),
    (ew.SquaredDifference, FLOAT_PAIR, {}),
    (ew.Mod, INT_PAIR, {}),
    (ew.FloorMod, INT_PAIR, {}),
    (ew.FloorMod, FLOAT_PAIR, {}),
    (ew.Equal, INT_PAIR, {}),
    (ew.NotEqual, INT_PAIR, {}),
    (ew.Greater, FLOAT_PAIR, {}),
    (ew.GreaterEqual, INT_PAIR, {}),
    (ew.Less, FLOAT_PAIR, {}),
    (ew.LessEqual, INT_PAIR, {}),
    (ew.LogicalAnd, BOOL_PAIR, {}),
    (ew.LogicalOr, BOOL_PAIR, {}),
    (ew.LogicalXor, BOOL_PAIR, {}),
    (ew.LogicalNot, BOOL_PAIR[:1], {}),
    (ew.Select, [BOOL_PAIR[0], floats(3, 4), floats(4)], {}),
    (ew.Select, [BOOL_PAIR[0], BOOL_PAIR[1], BOOL_PAIR[0]], {}),
    (ew.Select, [BOOL_PAIR[0], np.array([5, 7], np.uint64).reshape(2, 1, 1), np.uint64(3) * np.ones(4, np.uint64)], {}),
    (ew.BitwiseAnd, INT_PAIR, {}),
    (ew.BitwiseOr, INT_PAIR, {}),
    (ew.BitwiseXor, INT_PAIR, {}),
    (ew.BitwiseNot, INT_PAIR[:1], {}),
    (ew.BitwiseLeftShift, [INT_PAIR[0], np.array([1, 2, 3, 0, 4, 5], np.int32)], {}),
    (ew.BitwiseRightShift, [INT_PAIR[0], np.array([1, 2, 3, 0, 4, 5], np.int32)], {}),
    (ew.Abs, [floats(5)], {}),
    (ew.Negative, [INT_PAIR[0]], {}),
    (ew.Floor, [floats(5)], {}),
    (ew.Ceiling, [floats(5)], {}),
    (ew.Sign, [floats(5)], {}),
    (ew.Sqrt, [floats(5, low=0)], {}),
    (ew.Exp, [floats(5)], {}),
    (ew.Log, [floats(5, low=0.1)], {}),
    (ew.Sin, [floats(5)], {}),
    (ew.Cos, [floats(5)], {}),
    (ew.Tan, [floats(5, low=-1, high=1)], {}),
    (ew.Asin, [floats(5, low=-0.9, high=0.9)], {}),
    (ew.Acos, [floats(5, low=-0.9, high=0.9)], {}),
    (ew.Atan, [floats(5)], {}),
    (ew.Sinh, [floats(5)], {}),
    (ew.Cosh, [floats(5)], {}),
    (ew.Asinh, [floats(5)], {}),
    (ew.Acosh, [floats(5, low=1.1)], {}),
    (ew.Atanh, [floats(5, low=-0.9, high=0.9)], {}),
    (ew.Erf, [floats(5)], {}),
    (ew.Round, [np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4], np.float32)], {"mode": "half_to_even"}),
    (ew.Round, [np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4], np.float32)], {"mode": "half_away_from_zero"}),
    (ew.IsNaN, [np.array([np.nan, 1.0, np.inf], np.float32)], {}),
    (ew.IsFinite, [np.array([np.nan, 1.0, np.inf, -np.inf], np.float32)], {}),
    (ew.IsInf, [np.array([np.nan, 1.0, np.inf, -np.inf], np.float32)], {"detect_negative": False}),
]


@pytest.mark.parametrize("spec,arrays,attrs", KERNEL_CASES, ids=[f"{c[0].type}-{i}" for i, c in enumerate(KERNEL_CASES)])
def test_kernel_matches_openvino_and_lowering(spec, arrays, attrs) -> None:
    graph, expected = _kernel_case(spec, arrays, **attrs)
    assert expected[0].shape == tuple(graph.outputs[0].shape.dims)
    assert expected[0].dtype == graph.outputs[0].element_type.numpy
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, execute(graph, arrays, backend=backend), rtol=1e-5, atol=1e-6)
        assert result.ok, f"{backend}: {result.detail}"


def test_python_division_floors_like_openvino_constant_folding() -> None:
    """m_pythondiv=true: the spec and OpenVINO's constant folding floor integer quotients.

    (The CPU plugin truncates at run time whatever the attribute says, so the frontend
    only emits m_pythondiv=false for integers.)
    """
    a, b = INT_PAIR
    graph = Graph([], [ew.Divide(const(a), const(b), m_pythondiv=True)])
    expected = ew.Divide.kernel([a, b], {"m_pythondiv": True})
    for backend in ("openvino", "onnxruntime"):
        assert compare(expected, execute(graph, [], backend=backend), rtol=0, atol=0).ok, backend


def test_select_lowering_keeps_all_64_bits_of_u64() -> None:
    """(OpenVINO's CPU plugin itself computes u64 in 32 bits: lowering only.)"""
    arrays = [np.array([True, False]), np.array([2**64 - 1, 1], np.uint64), np.array([0, 2**63 + 3], np.uint64)]
    graph, expected = _kernel_case(ew.Select, arrays)
    np.testing.assert_array_equal(execute(graph, arrays, backend="onnxruntime")[0], expected[0])


def test_divide_kernel_integer_rounding() -> None:
    a, b = INT_PAIR
    floor = ew.Divide.kernel([a, b], {"m_pythondiv": True})[0]
    trunc = ew.Divide.kernel([a, b], {"m_pythondiv": False})[0]
    np.testing.assert_array_equal(floor, np.array([-4, 3, 3, -4, 2, -3], np.int32))
    np.testing.assert_array_equal(trunc, np.array([-3, 3, 3, -3, 2, -2], np.int32))


def test_infer_keeps_dynamic_dims_and_unknown_rank() -> None:
    a = parameter("a", ElementType.f32, Shape((None, 3, 1))).outputs[0]
    b = parameter("b", ElementType.f32, Shape((4,))).outputs[0]
    unknown = parameter("u", ElementType.f32, Shape(None)).outputs[0]
    assert ew.Add(a, b).shape == Shape((None, 3, 4))
    assert ew.Less(a, b).element_type is ElementType.boolean
    assert ew.Multiply(a, unknown).shape == Shape(None)
    condition = parameter("c", ElementType.boolean, Shape((2, 1, 1, 1))).outputs[0]
    assert ew.Select(condition, a, const(np.float32(0))).shape == Shape((2, None, 3, 1))
