"""MXNet element-wise math → IR element-wise ops.

elemwise_* take equal shapes, broadcast_* broadcast NumPy-style, _*_scalar take the scalar
`scalar` (in the data's type; `_r*` ones put it first). Comparisons and logical ops answer 1 or 0
in the data's type, not booleans. Integer division truncates, as C does. add_n sums its inputs,
clip clamps, where picks x where the condition is non-zero (a 1-D condition picks whole rows).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.frontends.mxnet.ops.common import as_type, i64, known_rank, scalar_like, same_type
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import activation as act
from converter.ops import elementwise as ew
from converter.ops.core import ShapeOf, const
from converter.ops.shape import Broadcast, Reshape
from converter.ops.spec import OpSpec

Binary = Callable[[Value, Value], Value]


def _divide(a: Value, b: Value) -> Value:
    return ew.Divide(a, b, m_pythondiv=False)


def _logic(spec: OpSpec) -> Binary:
    """A comparison answering 1 or 0 in the operands' type."""
    return lambda a, b: as_type(spec(a, b), a.element_type)


def _logical(spec: OpSpec) -> Binary:
    def apply(a: Value, b: Value) -> Value:
        zero = scalar_like(a, 0)
        return as_type(spec(ew.NotEqual(a, zero), ew.NotEqual(b, same_type(zero, b))), a.element_type)

    return apply


BINARY: dict[str, Binary] = {
    "add": ew.Add,
    "sub": ew.Subtract,
    "mul": ew.Multiply,
    "div": _divide,
    "power": ew.Power,
    "maximum": ew.Maximum,
    "minimum": ew.Minimum,
    "equal": _logic(ew.Equal),
    "not_equal": _logic(ew.NotEqual),
    "greater": _logic(ew.Greater),
    "greater_equal": _logic(ew.GreaterEqual),
    "lesser": _logic(ew.Less),
    "lesser_equal": _logic(ew.LessEqual),
    "logical_and": _logical(ew.LogicalAnd),
    "logical_or": _logical(ew.LogicalOr),
    "logical_xor": _logical(ew.LogicalXor),
}


def _binary_handler(function: Binary) -> Handler:
    def handler(ctx: MXNetContext, lhs: Value, rhs: Value) -> Value:
        return function(lhs, same_type(rhs, lhs))

    return handler


def _scalar_handler(function: Binary, reverse: bool) -> Handler:
    def handler(ctx: MXNetContext, data: Value, *, scalar: float = 1.0, is_int: bool = True) -> Value:
        number = scalar_like(data, scalar)
        return function(number, data) if reverse else function(data, number)

    return handler


def _table() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for name in ("add", "sub", "mul", "div"):
        table[f"elemwise_{name}"] = _binary_handler(BINARY[name])
    for name, function in BINARY.items():
        table[f"broadcast_{name}"] = _binary_handler(function)
        if name not in ("add", "sub", "mul", "div"):
            table[f"_{name}"] = _binary_handler(function)
    scalar_names = {"add": "plus", "sub": "minus", "mul": "mul", "div": "div"}
    for name, function in BINARY.items():
        spelled = scalar_names.get(name, name)
        table[f"_{spelled}_scalar"] = _scalar_handler(function, reverse=False)
    for name in ("minus", "div", "power"):
        function = BINARY[{"minus": "sub"}.get(name, name)]
        table[f"_r{name}_scalar"] = _scalar_handler(function, reverse=True)
    return table


# ---------------------------------------------------------------- unary math


def _unary(function: Callable[[Value], Value]) -> Handler:
    def handler(ctx: MXNetContext, data: Value) -> Value:
        return function(data)

    return handler


def _rsqrt(x: Value) -> Value:
    return ew.Divide(scalar_like(x, 1.0), ew.Sqrt(x), m_pythondiv=False)


def _reciprocal(x: Value) -> Value:
    return ew.Divide(scalar_like(x, 1.0), x, m_pythondiv=False)


def _trunc(x: Value) -> Value:
    return ew.Multiply(ew.Sign(x), ew.Floor(ew.Abs(x)))


UNARY: dict[str, Callable[[Value], Value]] = {
    "exp": ew.Exp,
    "log": ew.Log,
    "sqrt": ew.Sqrt,
    "rsqrt": _rsqrt,
    "square": lambda x: ew.Multiply(x, x),
    "abs": ew.Abs,
    "negative": ew.Negative,
    "reciprocal": _reciprocal,
    "sign": ew.Sign,
    "floor": ew.Floor,
    "ceil": ew.Ceiling,
    "round": lambda x: ew.Round(x, mode="half_away_from_zero"),
    "rint": lambda x: ew.Round(x, mode="half_to_even"),
    "trunc": _trunc,
    "fix": _trunc,
    "sin": ew.Sin,
    "cos": ew.Cos,
    "tan": ew.Tan,
    "arcsin": ew.Asin,
    "arccos": ew.Acos,
    "arctan": ew.Atan,
    "sinh": ew.Sinh,
    "cosh": ew.Cosh,
    "erf": ew.Erf,
    "log2": lambda x: ew.Divide(ew.Log(x), scalar_like(x, np.log(2.0))),
    "log10": lambda x: ew.Divide(ew.Log(x), scalar_like(x, np.log(10.0))),
    "log1p": lambda x: ew.Log(ew.Add(x, scalar_like(x, 1.0))),
    "expm1": lambda x: ew.Subtract(ew.Exp(x), scalar_like(x, 1.0)),
}


# ---------------------------------------------------------------- others


def clip(ctx: MXNetContext, data: Value, *, a_min: float = 0.0, a_max: float = 0.0) -> Value:
    if a_min > a_max:
        raise Unsupported(f"a_min {a_min} > a_max {a_max}")
    return act.Clamp(data, min=float(a_min), max=float(a_max))


def add_n(ctx: MXNetContext, *args: Value, num_args: int = 0) -> Value:
    if not args:
        raise Unsupported("no inputs")
    total = args[0]
    for value in args[1:]:
        total = ew.Add(total, same_type(value, total))
    return total


def where(ctx: MXNetContext, condition: Value, x: Value, y: Value) -> Value:
    choose = ew.NotEqual(condition, scalar_like(condition, 0))
    rank = known_rank(x, "where")
    if condition.shape.rank == 1 and rank > 1:
        choose = Reshape(choose, i64([-1] + [1] * (rank - 1)), special_zero=False)
    return ew.Select(choose, x, same_type(y, x))


def _filled(x: Value, number: float) -> Value:
    return Broadcast(scalar_like(x, number), ShapeOf(x, output_type=ElementType.i64))


def zeros_like(ctx: MXNetContext, data: Value) -> Value:
    return _filled(data, 0)


def ones_like(ctx: MXNetContext, data: Value) -> Value:
    return _filled(data, 1)


MXNET_TYPES = {
    "float32": ElementType.f32,
    "float64": ElementType.f64,
    "float16": ElementType.f16,
    "uint8": ElementType.u8,
    "int8": ElementType.i8,
    "int32": ElementType.i32,
    "int64": ElementType.i64,
    "bool": ElementType.boolean,
}


def Cast(ctx: MXNetContext, data: Value, *, dtype: str = "float32") -> Value:
    if dtype not in MXNET_TYPES:
        raise Unsupported(f"dtype {dtype!r}")
    target = MXNET_TYPES[dtype]
    if data.element_type.is_float and target.is_integer:
        data = _trunc(data)  # C's float → int cast rounds toward zero
    if target is ElementType.boolean:
        return ew.NotEqual(data, scalar_like(data, 0))
    if data.const is not None:
        return const(np.asarray(data.const).astype(target.numpy))
    return as_type(data, target)


HANDLERS: dict[str, Handler] = {
    **_table(),
    **{name: _unary(function) for name, function in UNARY.items()},
    "clip": clip,
    "add_n": add_n,
    "where": where,
    "zeros_like": zeros_like,
    "ones_like": ones_like,
    "Cast": Cast,
}
