"""TFLite binary arithmetic (numpy broadcasting) → IR element-wise ops; ADD, SUB, MUL and DIV
apply their fused activation. FLOOR_DIV and FLOOR_MOD round towards −∞ (the remainder takes the
divisor's sign)."""

from __future__ import annotations

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import fused_activation, scalar_like
from converter.ir.graph import Value
from converter.ops import elementwise as ew


def ADD(ctx: TFLiteContext, a: Value, b: Value, *, fused_activation_function: str = "NONE", pot_scale_int16: bool = True) -> Value:
    """(pot_scale_int16 only tells int16 kernels how the scales were chosen.)"""
    return fused_activation(ew.Add(a, b), fused_activation_function)


def SUB(ctx: TFLiteContext, a: Value, b: Value, *, fused_activation_function: str = "NONE", pot_scale_int16: bool = True) -> Value:
    return fused_activation(ew.Subtract(a, b), fused_activation_function)


def MUL(ctx: TFLiteContext, a: Value, b: Value, *, fused_activation_function: str = "NONE") -> Value:
    return fused_activation(ew.Multiply(a, b), fused_activation_function)


def DIV(ctx: TFLiteContext, a: Value, b: Value, *, fused_activation_function: str = "NONE") -> Value:
    """Integers divide as C does (truncating towards zero)."""
    return fused_activation(ew.Divide(a, b, m_pythondiv=False), fused_activation_function)


def MAXIMUM(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.Maximum(a, b)


def MINIMUM(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.Minimum(a, b)


def POW(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.Power(a, b)


def SQUARED_DIFFERENCE(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.SquaredDifference(a, b)


def FLOOR_DIV(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    quotient = ew.Divide(a, b, m_pythondiv=False)
    if a.element_type.is_float:
        return ew.Floor(quotient)
    # OpenVINO's CPU plugin truncates integer quotients even with m_pythondiv: one less where
    # the division is inexact and the signs differ.
    remainder = ew.Mod(a, b)
    zero = scalar_like(a, 0)
    inexact = ew.NotEqual(remainder, zero)
    signs_differ = ew.NotEqual(ew.Less(remainder, zero), ew.Less(b, zero))
    return ew.Select(ew.LogicalAnd(inexact, signs_differ), ew.Subtract(quotient, scalar_like(a, 1)), quotient)


def FLOOR_MOD(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.FloorMod(a, b)


HANDLERS: dict[str, Handler] = {
    "ADD": ADD,
    "SUB": SUB,
    "MUL": MUL,
    "DIV": DIV,
    "MAXIMUM": MAXIMUM,
    "MINIMUM": MINIMUM,
    "POW": POW,
    "SQUARED_DIFFERENCE": SQUARED_DIFFERENCE,
    "FLOOR_DIV": FLOOR_DIV,
    "FLOOR_MOD": FLOOR_MOD,
}
# The larger or smaller of two values on the output's grid is on it.
GRID_PRESERVING: frozenset[str] = frozenset({"MAXIMUM", "MINIMUM"})
