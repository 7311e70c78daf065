"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot."""

from __future__ import annotations

import string
from collections.abc import Callable
from functools import reduce

from converter.frontends.keras.context import Layer, Unsupported
from converter.frontends.keras.layers.common import int64s, keras_axis, rank_of, scalar
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.matmul import Einsum
from converter.ops.normalization import NormalizeL2
from converter.ops.shape import Concat, Unsqueeze

DOT_NORMALIZE_EPSILON = 1e-7  # backend.epsilon(): x * min(rsqrt(sum x²), 1 / eps)


def _fold(function: Callable[[Value, Value], Value], inputs: tuple[Value, ...], minimum: int = 2) -> Value:
    if len(inputs) < minimum:
        raise Unsupported(f"needs at least {minimum} inputs, got {len(inputs)}")
    return reduce(function, inputs)


def Add(layer: Layer, *inputs: Value) -> Value:
    return _fold(ew.Add, inputs)


def Multiply(layer: Layer, *inputs: Value) -> Value:
    return _fold(ew.Multiply, inputs)


def Maximum(layer: Layer, *inputs: Value) -> Value:
    return _fold(ew.Maximum, inputs)


def Minimum(layer: Layer, *inputs: Value) -> Value:
    return _fold(ew.Minimum, inputs)


def Subtract(layer: Layer, *inputs: Value) -> Value:
    if len(inputs) != 2:
        raise Unsupported(f"Subtract takes exactly 2 inputs, got {len(inputs)}")
    return ew.Subtract(*inputs)


def Average(layer: Layer, *inputs: Value) -> Value:
    total = _fold(ew.Add, inputs)
    return ew.Divide(total, scalar(total, float(len(inputs))))


def Concatenate(layer: Layer, *inputs: Value, axis: int = -1) -> Value:
    if len(inputs) < 1:
        raise Unsupported("Concatenate needs inputs")
    return Concat(*inputs, axis=keras_axis(axis, rank_of(inputs[0])))


def Dot(layer: Layer, *inputs: Value, axes: int | list[int], normalize: bool = False) -> Value:
    """keras batch_dot: contract one axis of each input, batch axis shared; rank 1 results become [batch, 1]."""
    if len(inputs) != 2:
        raise Unsupported(f"Dot takes exactly 2 inputs, got {len(inputs)}")
    x, y = inputs
    ranks = rank_of(x), rank_of(y)
    pair = [axes, axes] if isinstance(axes, int) else list(axes)
    if len(pair) != 2 or not all(isinstance(a, int) for a in pair):
        raise Unsupported(f"axes={axes!r} is not one axis per input")
    pair = [a % r for a, r in zip(pair, ranks)]
    if 0 in pair:
        raise Unsupported("the batch axis cannot be contracted")
    if normalize:
        eps = DOT_NORMALIZE_EPSILON**2
        x = NormalizeL2(x, int64s([pair[0]]), eps=eps, eps_mode="max")
        y = NormalizeL2(y, int64s([pair[1]]), eps=eps, eps_mode="max")
    letters = iter(string.ascii_lowercase[2:])
    x_labels = ["a"] + [next(letters) for _ in range(ranks[0] - 1)]
    y_labels = ["a"] + [next(letters) for _ in range(ranks[1] - 1)]
    x_labels[pair[0]] = y_labels[pair[1]] = "b"
    kept = [l for l in x_labels[1:] if l != "b"] + [l for l in y_labels[1:] if l != "b"]
    result = Einsum(x, y, equation=f"{''.join(x_labels)},{''.join(y_labels)}->a{''.join(kept)}")
    return Unsqueeze(result, int64s(1)) if not kept else result


LAYERS = {
    "Add": Add,
    "Subtract": Subtract,
    "Multiply": Multiply,
    "Average": Average,
    "Maximum": Maximum,
    "Minimum": Minimum,
    "Concatenate": Concatenate,
    "Dot": Dot,
}
