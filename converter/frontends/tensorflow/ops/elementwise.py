"""TF element-wise arithmetic, comparisons, logic and Select → IR element-wise ops.

TF broadcasts binary ops numpy-style, as the IR's default `auto_broadcast` does. Ops the IR
lacks (DivNoNan, Xlogy, Expm1, Log1p, Atan2, ...) become small exact subgraphs.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

from converter.frontends.tensorflow.graph import Handler, TFContext
from converter.frontends.tensorflow.ops.common import i64, scalar_like
from converter.frontends.tensorflow.tensors import Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.shape import Unsqueeze
from converter.ops.spec import OpSpec


def AddN(ctx: TFContext, *inputs: Value, N: int | None = None) -> Value:
    if not inputs:
        raise Unsupported("AddN needs at least one input")
    total = inputs[0]
    for value in inputs[1:]:
        total = ew.Add(total, value)
    return total


def RealDiv(ctx: TFContext, x: Value, y: Value) -> Value:
    return ew.Divide(x, y, m_pythondiv=False)


def FloorDiv(ctx: TFContext, x: Value, y: Value) -> Value:
    quotient = ew.Divide(x, y, m_pythondiv=False)
    if x.element_type.is_float:
        return ew.Floor(quotient)
    # OpenVINO's CPU plugin truncates even with m_pythondiv=true (2026.4): step down where
    # the division is inexact and the signs differ.
    remainder = ew.Mod(x, y)
    zero = scalar_like(x, 0)
    inexact = ew.NotEqual(remainder, zero)
    signs_differ = ew.NotEqual(ew.Less(remainder, zero), ew.Less(y, zero))
    return ew.Select(ew.LogicalAnd(inexact, signs_differ), ew.Subtract(quotient, scalar_like(x, 1)), quotient)


def Rsqrt(ctx: TFContext, x: Value) -> Value:
    return ew.Divide(scalar_like(x, 1), ew.Sqrt(x), m_pythondiv=False)


def Reciprocal(ctx: TFContext, x: Value) -> Value:
    return ew.Divide(scalar_like(x, 1), x, m_pythondiv=False)


def Erfc(ctx: TFContext, x: Value) -> Value:
    return ew.Subtract(scalar_like(x, 1), ew.Erf(x))


def Square(ctx: TFContext, x: Value) -> Value:
    return ew.Multiply(x, x)


def Round(ctx: TFContext, x: Value) -> Value:
    return ew.Round(x, mode="half_to_even")


def Equal(ctx: TFContext, x: Value, y: Value, *, incompatible_shape_error: bool = True) -> Value:
    return ew.Equal(x, y)


def NotEqual(ctx: TFContext, x: Value, y: Value, *, incompatible_shape_error: bool = True) -> Value:
    return ew.NotEqual(x, y)


def Select(ctx: TFContext, condition: Value, x: Value, y: Value) -> Value:
    """Select (V1): a vector condition picks whole rows of higher-rank x and y."""
    rank, condition_rank = x.shape.rank, condition.shape.rank
    if condition_rank == 1 and rank is not None and rank > 1:
        condition = Unsqueeze(condition, i64(list(range(1, rank))))
    elif condition_rank is None or rank is None:
        raise Unsupported("Select needs the ranks of its inputs")
    return ew.Select(condition, x, y)


def SelectV2(ctx: TFContext, condition: Value, x: Value, y: Value) -> Value:
    return ew.Select(condition, x, y)


# ---------------------------------------------------------------- special-case arithmetic


def _zero_where(condition: Value, value: Value) -> Value:
    return ew.Select(condition, scalar_like(value, 0), value)


def DivNoNan(ctx: TFContext, x: Value, y: Value) -> Value:
    """x / y, and 0 where y == 0 (whatever x is)."""
    return _zero_where(ew.Equal(y, scalar_like(y, 0)), ew.Divide(x, y, m_pythondiv=False))


def MulNoNan(ctx: TFContext, x: Value, y: Value) -> Value:
    """x * y, and 0 where y == 0 (even where x is inf or NaN)."""
    return _zero_where(ew.Equal(y, scalar_like(y, 0)), ew.Multiply(x, y))


def Xdivy(ctx: TFContext, x: Value, y: Value) -> Value:
    return _zero_where(ew.Equal(x, scalar_like(x, 0)), ew.Divide(x, y, m_pythondiv=False))


def Xlogy(ctx: TFContext, x: Value, y: Value) -> Value:
    return _zero_where(ew.Equal(x, scalar_like(x, 0)), ew.Multiply(x, ew.Log(y)))


def Xlog1py(ctx: TFContext, x: Value, y: Value) -> Value:
    return _zero_where(ew.Equal(x, scalar_like(x, 0)), ew.Multiply(x, _log1p(y)))


def TruncateDiv(ctx: TFContext, x: Value, y: Value) -> Value:
    quotient = ew.Divide(x, y, m_pythondiv=False)  # integers: rounded toward zero
    if not x.element_type.is_float:
        return quotient
    return ew.Select(ew.Less(quotient, scalar_like(x, 0)), ew.Ceiling(quotient), ew.Floor(quotient))


def TruncateMod(ctx: TFContext, x: Value, y: Value) -> Value:
    return ew.Mod(x, y)  # the remainder takes the dividend's sign, as C's fmod


def _log1p(x: Value) -> Value:
    """log(1 + x) without the cancellation of 1 + x near 0 (Kahan: log(u) * x / (u - 1), u = 1 + x)."""
    u = ew.Add(x, scalar_like(x, 1))
    d = ew.Subtract(u, scalar_like(x, 1))
    # d == x once x is large or infinite (and at x = -1): the ratio is 1, and inf/inf must not be NaN.
    ratio = ew.Select(ew.Equal(d, x), scalar_like(x, 1), ew.Divide(x, d, m_pythondiv=False))
    return ew.Select(ew.Equal(d, scalar_like(x, 0)), x, ew.Multiply(ew.Log(u), ratio))


def Log1p(ctx: TFContext, x: Value) -> Value:
    return _log1p(x)


def Expm1(ctx: TFContext, x: Value) -> Value:
    """exp(x) - 1 without the cancellation near 0 (Kahan: (u - 1) * x / log(u), u = exp(x))."""
    u = ew.Exp(x)
    d = ew.Subtract(u, scalar_like(x, 1))
    # For large x the ratio x / log(u) is 1 to within rounding, and where u overflows it would be x / inf.
    large = ew.Greater(x, scalar_like(x, np.log(float(ml_dtypes.finfo(x.element_type.numpy).max)) / 2))
    ratio = ew.Select(large, scalar_like(x, 1), ew.Divide(x, ew.Log(u), m_pythondiv=False))
    kahan = ew.Select(ew.Equal(d, scalar_like(x, -1)), d, ew.Multiply(d, ratio))
    # x itself where exp(x) rounds to 1, and for NaN (OpenVINO's Exp(NaN) is inf)
    return ew.Select(ew.LogicalOr(ew.Equal(u, scalar_like(x, 1)), ew.IsNaN(x)), x, kahan)


def _sign_bit(x: Value) -> Value:
    """True for negative numbers, -0 and -inf (1 / -0 = -inf tells -0 from +0)."""
    return ew.LogicalOr(ew.Less(x, scalar_like(x, 0)), ew.Less(ew.Divide(scalar_like(x, 1), x, m_pythondiv=False), scalar_like(x, 0)))


def Atan2(ctx: TFContext, y: Value, x: Value) -> Value:
    """atan(y / x) moved to x's half-plane, as C's atan2, signed zeros and infinities included."""
    zero = scalar_like(x, 0)
    both_zero = ew.LogicalAnd(ew.Equal(x, zero), ew.Equal(y, zero))
    both_infinite = ew.LogicalAnd(ew.IsInf(x), ew.IsInf(y))
    # 0/0 and inf/inf: the limits atan(±0) and atan(±1) give C's answers after the shift.
    ratio = ew.Select(both_zero, y, ew.Select(both_infinite, ew.Multiply(ew.Sign(y), ew.Sign(x)), ew.Divide(y, x, m_pythondiv=False)))
    angle = ew.Atan(ratio)
    half_turn = ew.Select(_sign_bit(y), scalar_like(x, -np.pi), scalar_like(x, np.pi))
    return ew.Select(_sign_bit(x), ew.Add(angle, half_turn), angle)


def IsInf(ctx: TFContext, x: Value) -> Value:
    return ew.IsInf(x, detect_negative=True, detect_positive=True)


def _binary(op: OpSpec) -> Handler:
    def handler(ctx: TFContext, x: Value, y: Value) -> Value:
        return op(x, y)

    handler.__name__ = op.type
    return handler


def _unary(op: OpSpec) -> Handler:
    def handler(ctx: TFContext, x: Value) -> Value:
        return op(x)

    handler.__name__ = op.type
    return handler


BINARY: dict[str, OpSpec] = {
    "Add": ew.Add,
    "AddV2": ew.Add,
    "Sub": ew.Subtract,
    "Mul": ew.Multiply,
    "Maximum": ew.Maximum,
    "Minimum": ew.Minimum,
    "SquaredDifference": ew.SquaredDifference,
    "Pow": ew.Power,
    "FloorMod": ew.FloorMod,
    "Less": ew.Less,
    "LessEqual": ew.LessEqual,
    "Greater": ew.Greater,
    "GreaterEqual": ew.GreaterEqual,
    "LogicalAnd": ew.LogicalAnd,
    "LogicalOr": ew.LogicalOr,
}

UNARY: dict[str, OpSpec] = {
    "Sqrt": ew.Sqrt,
    "Exp": ew.Exp,
    "Log": ew.Log,
    "Neg": ew.Negative,
    "Abs": ew.Abs,
    "Erf": ew.Erf,
    "Floor": ew.Floor,
    "Ceil": ew.Ceiling,
    "Sign": ew.Sign,
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
    "LogicalNot": ew.LogicalNot,
    "IsNan": ew.IsNaN,
    "IsFinite": ew.IsFinite,
}

HANDLERS: dict[str, Handler] = (
    {
        "AddN": AddN,
        "RealDiv": RealDiv,
        "Div": RealDiv,  # integer Div truncates like C, as RealDiv does
        "FloorDiv": FloorDiv,
        "Rsqrt": Rsqrt,
        "Reciprocal": Reciprocal,
        "Inv": Reciprocal,
        "Square": Square,
        "Erfc": Erfc,
        "Round": Round,
        "Equal": Equal,
        "NotEqual": NotEqual,
        "Select": Select,
        "SelectV2": SelectV2,
        "DivNoNan": DivNoNan,
        "MulNoNan": MulNoNan,
        "Xdivy": Xdivy,
        "Xlogy": Xlogy,
        "Xlog1py": Xlog1py,
        "TruncateDiv": TruncateDiv,
        "TruncateMod": TruncateMod,
        "Log1p": Log1p,
        "Expm1": Expm1,
        "Atan2": Atan2,
        "IsInf": IsInf,
    }
    | {name: _binary(op) for name, op in BINARY.items()}
    | {name: _unary(op) for name, op in UNARY.items()}
)
