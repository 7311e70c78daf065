"""ONNX element-wise ops → IR element-wise ops."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported
from converter.frontends.onnx.ops.control import constant_value
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops import reduction as rd
from converter.ops.core import Convert, const
from converter.ops.spec import OpSpec, const_ints


def scalar_like(x: Value, number: float) -> Value:
    """A scalar constant with x's element type."""
    return const(np.array(number, dtype=x.element_type.numpy))


# ------------------------------------------------------------------ arithmetic


def Div(ctx: OnnxContext, a: Value, b: Value) -> Value:
    # ONNX integer division truncates toward zero (C semantics), not Python's floor
    return ew.Divide(a, b, m_pythondiv=False)


def Pow(ctx: OnnxContext, x: Value, y: Value) -> Value:
    """Since opset 12 base and exponent types may differ; the result has the base's type."""
    if x.element_type is y.element_type:
        return ew.Power(x, y)
    if x.element_type.is_float or not y.element_type.is_float:
        return ew.Power(x, Convert(y, destination_type=x.element_type))
    # integer base, float exponent: compute in float, truncate back like a C cast
    power = ew.Power(Convert(x, destination_type=y.element_type), y)
    return Convert(power, destination_type=x.element_type)


def Reciprocal(ctx: OnnxContext, x: Value) -> Value:
    return ew.Divide(scalar_like(x, 1), x, m_pythondiv=False)


def Mod(ctx: OnnxContext, a: Value, b: Value, *, fmod: int = 0) -> Value:
    if fmod not in (0, 1):
        raise Unsupported(f"fmod={fmod} (must be 0 or 1)")
    if not a.element_type.is_float:
        return ew.Mod(a, b) if fmod else ew.FloorMod(a, b)
    remainder = _float_remainder(a, b)
    return remainder if fmod else _onto_divisor_sign(remainder, b)


def _float_remainder(a: Value, b: Value) -> Value:
    """C fmod. OpenVINO's Mod computes a - trunc(a / b) * b, NaN for an infinite b."""
    finite_by_infinite = ew.LogicalAnd(ew.IsInf(b), ew.IsFinite(a))
    return ew.Select(finite_by_infinite, a, ew.Mod(a, b))


def _onto_divisor_sign(remainder: Value, b: Value) -> Value:
    """Floor modulo from the C remainder: add b where a nonzero remainder's sign differs from b's."""
    zero = scalar_like(remainder, 0)
    signs_differ = ew.NotEqual(ew.Less(remainder, zero), ew.Less(b, zero))
    adjust = ew.LogicalAnd(ew.NotEqual(remainder, zero), signs_differ)
    return ew.Select(adjust, ew.Add(remainder, b), remainder)


def _fold(op: OpSpec, inputs: tuple[Value, ...]) -> Value:
    if not inputs:
        raise Unsupported("needs at least one input")
    result = inputs[0]
    for value in inputs[1:]:
        result = op(result, value)
    return result


def Sum(ctx: OnnxContext, *inputs: Value) -> Value:
    return _fold(ew.Add, inputs)


def Mean(ctx: OnnxContext, *inputs: Value) -> Value:
    total = _fold(ew.Add, inputs)
    if len(inputs) == 1:
        return total
    return ew.Divide(total, scalar_like(total, len(inputs)), m_pythondiv=False)


def Max(ctx: OnnxContext, *inputs: Value) -> Value:
    return _fold(ew.Maximum, inputs)


def Min(ctx: OnnxContext, *inputs: Value) -> Value:
    return _fold(ew.Minimum, inputs)


# ------------------------------------------------------------------ comparisons and logic


def Where(ctx: OnnxContext, condition: Value, x: Value, y: Value) -> Value:
    return ew.Select(condition, x, y)


# ------------------------------------------------------------------ bitwise


def BitShift(ctx: OnnxContext, x: Value, y: Value, *, direction: str = "") -> Value:
    """Shifts by a negative amount or by at least the bit width give 0 (-1 for a negative x shifted right)."""
    if direction not in ("LEFT", "RIGHT"):
        raise Unsupported(f"direction={direction!r} (must be LEFT or RIGHT)")
    op = ew.BitwiseLeftShift if direction == "LEFT" else ew.BitwiseRightShift
    shifted = op(x, y)
    bits = x.element_type.itemsize * 8
    amounts = const_ints(y)
    if amounts is not None and all(0 <= amount < bits for amount in amounts):
        return shifted
    out_of_range = ew.GreaterEqual(y, scalar_like(y, bits))
    if _is_signed(y.element_type):
        out_of_range = ew.LogicalOr(out_of_range, ew.Less(y, scalar_like(y, 0)))
    if direction == "RIGHT" and _is_signed(x.element_type):
        fill = ew.BitwiseRightShift(x, scalar_like(x, bits - 1))  # the sign bit everywhere: -1 or 0
    else:
        fill = scalar_like(x, 0)
    return ew.Select(out_of_range, fill, shifted)


def _is_signed(element_type: ElementType) -> bool:
    return element_type.is_integer and element_type.numpy.kind == "i"


def Equal(ctx: OnnxContext, a: Value, b: Value) -> Value:
    """Equal; `ReduceMax(x) == -inf` (is every element -inf: the fully masked rows of an attention
    bias, as Attention's function body tests them) becomes ReduceLogicalAnd(x == -inf): OpenVINO's
    CPU ReduceMax starts from the lowest finite value, so a row of -inf gives -FLT_MAX there, and the
    test would never hold. Exact, NaN included (neither form holds for a row with a NaN)."""
    for reduced, other in ((a, b), (b, a)):
        all_negative_infinity = _all_negative_infinity(reduced, other)
        if all_negative_infinity is not None:
            return all_negative_infinity
    return ew.Equal(a, b)


def _all_negative_infinity(reduced: Value, other: Value) -> Value | None:
    node = reduced.producer
    if node.op.type != "ReduceMax":
        return None
    array = constant_value(other)  # -inf may come through a Cast to the bias's type
    if array is None or np.asarray(array).size != 1 or not reduced.element_type.is_float:
        return None
    if not np.isneginf(np.asarray(array, dtype=np.float64)).all() or reduced.shape.rank is None:
        return None
    if np.ndim(array) > reduced.shape.rank:  # the comparison would broadcast to a higher rank
        return None
    data, axes = node.inputs
    return rd.ReduceLogicalAnd(ew.Equal(data, scalar_like(data, -np.inf)), axes, keep_dims=node.attrs["keep_dims"])


# ------------------------------------------------------------------ unary


def Round(ctx: OnnxContext, x: Value) -> Value:
    return ew.Round(x, mode="half_to_even")


def IsNaN(ctx: OnnxContext, x: Value) -> Value:
    return ew.IsNaN(x)


def IsInf(ctx: OnnxContext, x: Value, *, detect_negative: int = 1, detect_positive: int = 1) -> Value:
    return ew.IsInf(x, detect_negative=bool(detect_negative), detect_positive=bool(detect_positive))


def _unary(op: OpSpec) -> Handler:
    def handler(ctx: OnnxContext, x: Value) -> Value:
        return op(x)

    handler.__name__ = op.type
    return handler


def _binary(op: OpSpec) -> Handler:
    def handler(ctx: OnnxContext, a: Value, b: Value) -> Value:
        return op(a, b)

    handler.__name__ = op.type
    return handler


BINARY: dict[str, OpSpec] = {
    "Add": ew.Add,
    "Sub": ew.Subtract,
    "Mul": ew.Multiply,
    "Greater": ew.Greater,
    "GreaterOrEqual": ew.GreaterEqual,
    "Less": ew.Less,
    "LessOrEqual": ew.LessEqual,
    "And": ew.LogicalAnd,
    "Or": ew.LogicalOr,
    "Xor": ew.LogicalXor,
    "BitwiseAnd": ew.BitwiseAnd,
    "BitwiseOr": ew.BitwiseOr,
    "BitwiseXor": ew.BitwiseXor,
}

UNARY: dict[str, OpSpec] = {
    "Not": ew.LogicalNot,
    "BitwiseNot": ew.BitwiseNot,
    "Abs": ew.Abs,
    "Neg": ew.Negative,
    "Floor": ew.Floor,
    "Ceil": ew.Ceiling,
    "Sign": ew.Sign,
    "Sqrt": ew.Sqrt,
    "Exp": ew.Exp,
    "Log": ew.Log,
    "Sin": ew.Sin,
    "Cos": ew.Cos,
    "Tan": ew.Tan,
    "Asin": ew.Asin,
    "Acos": ew.Acos,
    "Atan": ew.Atan,
    "Sinh": ew.Sinh,
    "Cosh": ew.Cosh,
    "Asinh": ew.Asinh,
    "Acosh": ew.Acosh,
    "Atanh": ew.Atanh,
    "Erf": ew.Erf,
}

_NAMED: list[Callable[..., Value]] = [
    Div, Pow, Reciprocal, Mod, Sum, Mean, Max, Min, Where, BitShift, Round, IsNaN, IsInf, Equal,
]  # fmt: skip

HANDLERS: dict[str, Handler] = (
    {handler.__name__: handler for handler in _NAMED}
    | {name: _binary(op) for name, op in BINARY.items()}
    | {name: _unary(op) for name, op in UNARY.items()}
)
