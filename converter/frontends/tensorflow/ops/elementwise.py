"""TF element-wise arithmetic, comparisons, logic and Select → IR element-wise ops.

TF broadcasts binary ops numpy-style, as the IR's default `auto_broadcast` does.
"""

from __future__ import annotations

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
    }
    | {name: _binary(op) for name, op in BINARY.items()}
    | {name: _unary(op) for name, op in UNARY.items()}
)
