"""TimeDistributed: the wrapped layer applied to every time step, as one call on [batch × time, ...]."""

from __future__ import annotations

from typing import Any

from converter.frontends.keras.context import Layer, Unsupported
from converter.frontends.keras.layers.common import dims_of, int64s, rank_of
from converter.ir.graph import Value
from converter.ops.core import ShapeOf
from converter.ops.indexing import Slice
from converter.ops.shape import Concat, Reshape

INT64_MAX = 2**63 - 1


def _shape_from(x: Value, start: int) -> Value:
    return Slice(ShapeOf(x, output_type="i64"), int64s([start]), int64s([INT64_MAX]), int64s([1]), int64s([0]))


def TimeDistributed(layer: Layer, x: Value, *, layer_: dict[str, Any]) -> Value:
    """`layer_` is the config's `layer`."""
    if rank_of(x) < 3:
        raise Unsupported(f"expects [batch, time, ...], got rank {rank_of(x)}")
    if layer.call_option("mask") is not None:
        raise Unsupported("masks are not supported")
    steps = Reshape(x, Concat(int64s([-1]), _shape_from(x, 2), axis=0), special_zero=False)
    outputs = layer.inner(layer_, [steps])
    if len(outputs) != 1:
        raise Unsupported("the wrapped layer must give one output")
    y = outputs[0]
    return Reshape(y, Concat(dims_of(x, [0, 1]), _shape_from(y, 1), axis=0), special_zero=False)


LAYERS = {"TimeDistributed": TimeDistributed}
