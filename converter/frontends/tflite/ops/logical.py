"""TFLite comparisons, logical ops, SELECT / SELECT_V2 and WHERE → IR element-wise ops and NonZero.

Comparisons broadcast numpy-style and give bool; quantized inputs compare their real values
(TFLite rescales both to a common grid first, which orders them the same). SELECT (v1) takes a
condition of x's shape, or a vector that picks whole rows; SELECT_V2 broadcasts all three.
"""

from __future__ import annotations

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import i64
from converter.frontends.tflite.tensors import Unsupported
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops.misc import NonZero
from converter.ops.shape import Transpose, Unsqueeze


def EQUAL(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.Equal(a, b)


def NOT_EQUAL(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.NotEqual(a, b)


def LESS(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.Less(a, b)


def LESS_EQUAL(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.LessEqual(a, b)


def GREATER(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.Greater(a, b)


def GREATER_EQUAL(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.GreaterEqual(a, b)


def LOGICAL_AND(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.LogicalAnd(a, b)


def LOGICAL_OR(ctx: TFLiteContext, a: Value, b: Value) -> Value:
    return ew.LogicalOr(a, b)


def LOGICAL_NOT(ctx: TFLiteContext, x: Value) -> Value:
    return ew.LogicalNot(x)


def SELECT(ctx: TFLiteContext, condition: Value, x: Value, y: Value) -> Value:
    """A vector condition with higher-rank x and y picks rows (TFLite's rank-one select)."""
    rank, condition_rank = x.shape.rank, condition.shape.rank
    if condition_rank is None or rank is None:
        raise Unsupported("SELECT needs the ranks of its inputs")
    if condition_rank == 1 and rank > 1:
        condition = Unsqueeze(condition, i64(list(range(1, rank))))
    return ew.Select(condition, x, y)


def SELECT_V2(ctx: TFLiteContext, condition: Value, x: Value, y: Value) -> Value:
    return ew.Select(condition, x, y)


def WHERE(ctx: TFLiteContext, condition: Value) -> Value:
    """The coordinates of the true (non-zero) elements, [count, rank], in row-major order."""
    output = ctx.output_tensors[0]
    target = ElementType.i32 if output.type_name == "INT32" else ElementType.i64
    return Transpose(NonZero(condition, output_type=target), i64([1, 0]))


HANDLERS: dict[str, Handler] = {
    "EQUAL": EQUAL,
    "NOT_EQUAL": NOT_EQUAL,
    "LESS": LESS,
    "LESS_EQUAL": LESS_EQUAL,
    "GREATER": GREATER,
    "GREATER_EQUAL": GREATER_EQUAL,
    "LOGICAL_AND": LOGICAL_AND,
    "LOGICAL_OR": LOGICAL_OR,
    "LOGICAL_NOT": LOGICAL_NOT,
    "SELECT": SELECT,
    "SELECT_V2": SELECT_V2,
    "WHERE": WHERE,
}
# A selected value is one of the inputs' (on the output's grid when they share it).
GRID_PRESERVING: frozenset[str] = frozenset({"SELECT", "SELECT_V2"})
