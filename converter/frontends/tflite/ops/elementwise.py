"""TFLite binary arithmetic (numpy broadcasting) → IR element-wise ops; ADD, SUB, MUL and DIV
apply their fused activation."""

from __future__ import annotations

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import fused_activation
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


HANDLERS: dict[str, Handler] = {"ADD": ADD, "SUB": SUB, "MUL": MUL, "DIV": DIV, "MAXIMUM": MAXIMUM, "MINIMUM": MINIMUM}
# The larger or smaller of two values on the output's grid is on it.
GRID_PRESERVING: frozenset[str] = frozenset({"MAXIMUM", "MINIMUM"})
