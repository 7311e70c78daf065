"""Element-wise math: unary functions, binary arithmetic, comparisons, logic, bitwise ops, Select."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import ElementType, TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, broadcast_all, elementwise_binary, same_as_input

AUTO_BROADCAST = Attr("auto_broadcast", AttrKind.STR, "numpy")

Kernel = Callable[[list[np.ndarray], dict[str, Any]], list[np.ndarray]]


def _quiet(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a numpy function without warnings for 0-division, overflow or domain errors."""

    def wrapped(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            return function(*args)

    return wrapped


def _binary(
    type_: str,
    function: Callable[[np.ndarray, np.ndarray], Any],
    version: str = "opset1",
    output_type: ElementType | None = None,
) -> OpSpec:
    """A binary op with numpy broadcasting; the result keeps input 0's dtype unless `output_type`."""
    quiet = _quiet(function)

    def kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
        a, b = inputs
        dtype = output_type.numpy if output_type else a.dtype
        return [np.asarray(quiet(a, b)).astype(dtype, copy=False)]

    return OpSpec(type_, version, (AUTO_BROADCAST,), elementwise_binary(output_type), kernel)


def _unary(
    type_: str,
    function: Callable[[np.ndarray], Any],
    version: str = "opset1",
    output_type: ElementType | None = None,
    attrs: tuple[Attr, ...] = (),
) -> OpSpec:
    quiet = _quiet(function)

    def kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
        dtype = output_type.numpy if output_type else inputs[0].dtype
        return [np.asarray(quiet(inputs[0])).astype(dtype, copy=False)]

    def infer(node: Node) -> list[TensorType]:
        x = node.inputs[0]
        return [TensorType(output_type or x.element_type, x.shape)]

    return OpSpec(type_, version, attrs, infer if output_type else same_as_input(), kernel)


# ------------------------------------------------------------------ arithmetic


def _divide_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    a, b = inputs
    with np.errstate(all="ignore"):
        if a.dtype.kind in "fc":
            return [np.asarray(a / b).astype(a.dtype, copy=False)]
        return [integer_divide(a, b, floor=attrs["m_pythondiv"]).astype(a.dtype, copy=False)]


def integer_divide(a: np.ndarray, b: np.ndarray, floor: bool) -> np.ndarray:
    """Integer division rounding down (`floor`, Python's //) or toward zero (C's /)."""
    with np.errstate(all="ignore"):
        quotient = np.floor_divide(a, b)
        if floor or a.dtype.kind == "u":
            return quotient
        inexact = np.remainder(a, b) != 0
        signs_differ = (a < 0) != (b < 0)
        return np.where(inexact & signs_differ, quotient + 1, quotient)


def _power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "iu":
        # numpy refuses negative integer exponents; compute in float64 and truncate
        return np.trunc(np.power(a.astype(np.float64), b.astype(np.float64)))
    return np.power(a, b)


def _truncated_mod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.fmod(a, b)


Add = _binary("Add", np.add)
Subtract = _binary("Subtract", np.subtract)
Multiply = _binary("Multiply", np.multiply)
Divide = OpSpec(
    "Divide",
    "opset1",
    (AUTO_BROADCAST, Attr("m_pythondiv", AttrKind.BOOL, True)),
    elementwise_binary(),
    _divide_kernel,
    doc="m_pythondiv=true rounds integer quotients down (floor), false toward zero.",
)
Power = _binary("Power", _power)
Maximum = _binary("Maximum", np.maximum)
Minimum = _binary("Minimum", np.minimum)
SquaredDifference = _binary("SquaredDifference", lambda a, b: np.square(a - b))
Mod = _binary("Mod", _truncated_mod)
"""Remainder with the sign of the dividend (C fmod)."""
FloorMod = _binary("FloorMod", np.mod)
"""Remainder with the sign of the divisor (Python %)."""

# ------------------------------------------------------------------ comparisons and logic

BOOL = ElementType.boolean

Equal = _binary("Equal", np.equal, output_type=BOOL)
NotEqual = _binary("NotEqual", np.not_equal, output_type=BOOL)
Greater = _binary("Greater", np.greater, output_type=BOOL)
GreaterEqual = _binary("GreaterEqual", np.greater_equal, output_type=BOOL)
Less = _binary("Less", np.less, output_type=BOOL)
LessEqual = _binary("LessEqual", np.less_equal, output_type=BOOL)
LogicalAnd = _binary("LogicalAnd", np.logical_and, output_type=BOOL)
LogicalOr = _binary("LogicalOr", np.logical_or, output_type=BOOL)
LogicalXor = _binary("LogicalXor", np.logical_xor, "opset2", output_type=BOOL)
LogicalNot = _unary("LogicalNot", np.logical_not, output_type=BOOL)


def _infer_select(node: Node) -> list[TensorType]:
    condition, then, otherwise = node.inputs
    return [TensorType(then.element_type, broadcast_all([condition.shape, then.shape, otherwise.shape]))]


def _select_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    condition, then, otherwise = inputs
    return [np.where(condition.astype(bool), then, otherwise).astype(then.dtype, copy=False)]


Select = OpSpec("Select", "opset1", (AUTO_BROADCAST,), _infer_select, _select_kernel)

# ------------------------------------------------------------------ bitwise


def _shift_left(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.left_shift(a, b.astype(a.dtype))


def _shift_right(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.right_shift(a, b.astype(a.dtype))


BitwiseAnd = _binary("BitwiseAnd", np.bitwise_and, "opset13")
BitwiseOr = _binary("BitwiseOr", np.bitwise_or, "opset13")
BitwiseXor = _binary("BitwiseXor", np.bitwise_xor, "opset13")
BitwiseNot = _unary("BitwiseNot", np.invert, "opset13")
BitwiseLeftShift = _binary("BitwiseLeftShift", _shift_left, "opset15")
BitwiseRightShift = _binary("BitwiseRightShift", _shift_right, "opset15")

# ------------------------------------------------------------------ unary math


def _round_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x = inputs[0]
    if x.dtype.kind not in "fc":
        return [x.copy()]
    if attrs["mode"] == "half_to_even":
        return [np.round(x)]
    return [(np.sign(x) * np.floor(np.abs(x) + x.dtype.type(0.5))).astype(x.dtype)]


def _is_inf_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x = inputs[0]
    negative = np.isneginf(x) if attrs["detect_negative"] else np.zeros(x.shape, bool)
    positive = np.isposinf(x) if attrs["detect_positive"] else np.zeros(x.shape, bool)
    return [negative | positive]


def _infer_boolean_like_input(node: Node) -> list[TensorType]:
    return [TensorType(BOOL, node.inputs[0].shape)]


_ERF = np.vectorize(math.erf, otypes=[np.float64])


def erf(x: np.ndarray) -> np.ndarray:
    """Gauss error function in float64 (numpy has none; math.erf is exact, if slow)."""
    return _ERF(np.asarray(x, dtype=np.float64))


Abs = _unary("Abs", np.abs)
Negative = _unary("Negative", np.negative)
Floor = _unary("Floor", np.floor)
Ceiling = _unary("Ceiling", np.ceil)
Sign = _unary("Sign", np.sign)
Sqrt = _unary("Sqrt", np.sqrt)
Exp = _unary("Exp", np.exp)
Log = _unary("Log", np.log)
Sin = _unary("Sin", np.sin)
Cos = _unary("Cos", np.cos)
Tan = _unary("Tan", np.tan)
Asin = _unary("Asin", np.arcsin)
Acos = _unary("Acos", np.arccos)
Atan = _unary("Atan", np.arctan)
Sinh = _unary("Sinh", np.sinh)
Cosh = _unary("Cosh", np.cosh)
Asinh = _unary("Asinh", np.arcsinh, "opset4")
Acosh = _unary("Acosh", np.arccosh, "opset4")
Atanh = _unary("Atanh", np.arctanh, "opset4")
Erf = _unary("Erf", erf)
Round = OpSpec(
    "Round",
    "opset5",
    (Attr("mode", AttrKind.STR, "half_to_even"),),
    same_as_input(),
    _round_kernel,
    doc="mode: half_to_even | half_away_from_zero",
)
IsNaN = _unary("IsNaN", np.isnan, "opset10", output_type=BOOL)
IsFinite = _unary("IsFinite", np.isfinite, "opset10", output_type=BOOL)
IsInf = OpSpec(
    "IsInf",
    "opset10",
    (Attr("detect_negative", AttrKind.BOOL, True), Attr("detect_positive", AttrKind.BOOL, True)),
    _infer_boolean_like_input,
    _is_inf_kernel,
)

OPS: tuple[OpSpec, ...] = (
    Add,
    Subtract,
    Multiply,
    Divide,
    Power,
    Maximum,
    Minimum,
    SquaredDifference,
    Mod,
    FloorMod,
    Equal,
    NotEqual,
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
    LogicalAnd,
    LogicalOr,
    LogicalXor,
    LogicalNot,
    Select,
    BitwiseAnd,
    BitwiseOr,
    BitwiseXor,
    BitwiseNot,
    BitwiseLeftShift,
    BitwiseRightShift,
    Abs,
    Negative,
    Floor,
    Ceiling,
    Sign,
    Sqrt,
    Exp,
    Log,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Asinh,
    Acosh,
    Atanh,
    Erf,
    Round,
    IsNaN,
    IsFinite,
    IsInf,
)
