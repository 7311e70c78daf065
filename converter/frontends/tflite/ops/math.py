"""TFLite unary math → IR element-wise ops: EXP, LOG, SQRT, RSQRT, SQUARE, ABS, NEG, SIN, COS,
FLOOR, CEIL, ROUND, SIGN.

On a quantized tensor TFLite's kernels (lookup tables, or dequantize → compute → requantize)
compute the real function and round it onto the output's grid: the real op, then the walk's
FakeQuantize. ROUND rounds half to even, as TFLite's RoundToNearest does.
"""

from __future__ import annotations

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import scalar_like
from converter.ir.graph import Value
from converter.ops import elementwise as ew


def EXP(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Exp(x)


def LOG(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Log(x)


def SQRT(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Sqrt(x)


def RSQRT(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Divide(scalar_like(x, 1), ew.Sqrt(x), m_pythondiv=False)


def SQUARE(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Multiply(x, x)


def ABS(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Abs(x)


def NEG(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Negative(x)


def SIN(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Sin(x)


def COS(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Cos(x)


def FLOOR(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Floor(x)


def CEIL(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Ceiling(x)


def ROUND(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Round(x, mode="half_to_even")


def SIGN(ctx: TFLiteContext, x: Value) -> Value:
    return ew.Sign(x)


HANDLERS: dict[str, Handler] = {
    "EXP": EXP,
    "LOG": LOG,
    "SQRT": SQRT,
    "RSQRT": RSQRT,
    "SQUARE": SQUARE,
    "ABS": ABS,
    "NEG": NEG,
    "SIN": SIN,
    "COS": COS,
    "FLOOR": FLOOR,
    "CEIL": CEIL,
    "ROUND": ROUND,
    "SIGN": SIGN,
}
GRID_PRESERVING: frozenset[str] = frozenset()
