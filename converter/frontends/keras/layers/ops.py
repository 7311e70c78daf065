"""Keras 3 ops called on symbolic tensors in a Functional model (`keras.ops.gelu(x, approximate=True)`).

Saved as nodes of module `keras.src.ops.*`, keyed here as `ops.<Class>`: positional arguments are
tensors or numbers, the config holds the op's keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from converter.frontends.keras.context import Layer, Unsupported
from converter.frontends.keras.layers.common import int64s, keras_axis, rank_of
from converter.ir.graph import Value
from converter.ops import activation as act
from converter.ops import elementwise as ew
from converter.ops.core import const
from converter.ops.matmul import MatMul
from converter.ops.reduction import ReduceMax, ReduceMean, ReduceMin, ReduceSum
from converter.ops.shape import Concat, Reshape, Squeeze, Transpose, Unsqueeze


def _tensor(value: Any, like: Value | None) -> Value:
    if isinstance(value, Value):
        return value
    if isinstance(value, (int, float, bool, list)):
        dtype = like.element_type.numpy if like is not None else np.float32
        return const(np.asarray(value, dtype=dtype))
    raise Unsupported(f"argument {value!r} is neither a tensor nor a number")


def _operands(a: Any, b: Any) -> tuple[Value, Value]:
    like = a if isinstance(a, Value) else b if isinstance(b, Value) else None
    return _tensor(a, like), _tensor(b, like)


def _binary(op: Callable[[Value, Value], Value]):
    def handler(layer: Layer, a: Any, b: Any) -> Value:
        return op(*_operands(a, b))

    return handler


def _unary(op: Callable[[Value], Value]):
    def handler(layer: Layer, x: Value) -> Value:
        return op(_tensor(x, None))

    return handler


def _axes(axis: int | list[int] | None, x: Value) -> Value:
    rank = rank_of(x)
    items = list(range(rank)) if axis is None else [axis] if isinstance(axis, int) else list(axis)
    return int64s([keras_axis(a, rank) for a in items])


def _reduction(op):
    def handler(layer: Layer, x: Value, *, axis: int | list[int] | None = None, keepdims: bool = False) -> Value:
        return op(x, _axes(axis, x), keep_dims=bool(keepdims))

    return handler


def Gelu(layer: Layer, x: Value, *, approximate: bool = True) -> Value:
    """keras.ops.gelu defaults to the tanh approximation (keras.activations.gelu does not)."""
    return act.Gelu(x, approximation_mode="TANH" if approximate else "ERF")


def Softmax(layer: Layer, x: Value, *, axis: int | None = -1) -> Value:
    if axis is None:
        raise Unsupported("softmax over all axes (axis=None) is not supported")
    return act.Softmax(x, axis=keras_axis(axis, rank_of(x)))


def LogSoftmax(layer: Layer, x: Value, *, axis: int | None = -1) -> Value:
    if axis is None:
        raise Unsupported("log_softmax over all axes (axis=None) is not supported")
    return act.LogSoftmax(x, axis=keras_axis(axis, rank_of(x)))


def LeakyRelu(layer: Layer, x: Value, *, negative_slope: float = 0.2) -> Value:
    from converter.frontends.keras.layers.activation import leaky

    return leaky(x, negative_slope)


def Reshape_(layer: Layer, x: Value, *, newshape: list[int]) -> Value:
    return Reshape(x, int64s([-1 if d is None else int(d) for d in newshape]), special_zero=False)


def Transpose_(layer: Layer, x: Value, *, axes: list[int] | None = None) -> Value:
    rank = rank_of(x)
    order = list(reversed(range(rank))) if axes is None else [keras_axis(a, rank) for a in axes]
    return Transpose(x, int64s(order))


def ExpandDims(layer: Layer, x: Value, *, axis: int | list[int]) -> Value:
    items = [axis] if isinstance(axis, int) else list(axis)
    rank = rank_of(x) + len(items)
    return Unsqueeze(x, int64s([keras_axis(a, rank) for a in items]))


def Squeeze_(layer: Layer, x: Value, *, axis: int | list[int] | None = None) -> Value:
    if axis is None:
        dims = x.shape.dims
        if dims is None or None in dims:
            raise Unsupported("squeeze without axis needs a static shape")
        return Squeeze(x, int64s([i for i, d in enumerate(dims) if d == 1]))
    return Squeeze(x, _axes(axis, x))


def Concatenate_(layer: Layer, xs: list[Value], *, axis: int = 0) -> Value:
    if not isinstance(xs, list) or not all(isinstance(x, Value) for x in xs):
        raise Unsupported("concatenate takes a list of tensors")
    return Concat(*xs, axis=keras_axis(axis, rank_of(xs[0])))


def Matmul(layer: Layer, a: Any, b: Any) -> Value:
    return MatMul(*_operands(a, b))


def Clip(layer: Layer, x: Value, *, x_min: float, x_max: float) -> Value:
    return act.Clamp(x, min=float(x_min), max=float(x_max))


def Power(layer: Layer, a: Any, b: Any) -> Value:
    base, exponent = _operands(a, b)
    return ew.Power(base, exponent)


OPS = {
    "Gelu": Gelu,
    "Relu": _unary(act.Relu),
    "Relu6": _unary(lambda x: act.Clamp(x, min=0.0, max=6.0)),
    "Sigmoid": _unary(act.Sigmoid),
    "Silu": _unary(act.Swish),
    "Tanh": _unary(act.Tanh),
    "Softplus": _unary(act.SoftPlus),
    "Softmax": Softmax,
    "LogSoftmax": LogSoftmax,
    "LeakyRelu": LeakyRelu,
    "Exp": _unary(ew.Exp),
    "Log": _unary(ew.Log),
    "Sqrt": _unary(ew.Sqrt),
    "Square": _unary(lambda x: ew.Multiply(x, x)),
    "Absolute": _unary(ew.Abs),
    "Abs": _unary(ew.Abs),
    "Negative": _unary(ew.Negative),
    "Erf": _unary(ew.Erf),
    "Add": _binary(ew.Add),
    "Subtract": _binary(ew.Subtract),
    "Multiply": _binary(ew.Multiply),
    "Divide": _binary(ew.Divide),
    "TrueDivide": _binary(ew.Divide),
    "Maximum": _binary(ew.Maximum),
    "Minimum": _binary(ew.Minimum),
    "Power": Power,
    "Matmul": Matmul,
    "Clip": Clip,
    "Mean": _reduction(ReduceMean),
    "Sum": _reduction(ReduceSum),
    "Max": _reduction(ReduceMax),
    "Min": _reduction(ReduceMin),
    "Reshape": Reshape_,
    "Transpose": Transpose_,
    "ExpandDims": ExpandDims,
    "Squeeze": Squeeze_,
    "Concatenate": Concatenate_,
}

LAYERS = {f"ops.{name}": handler for name, handler in OPS.items()}
