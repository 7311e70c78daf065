"""Helpers the MXNet handlers share: integer constants, ranks and axes, dims read at run time,
channels-last layouts and per-channel vectors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.mxnet.attributes import Unsupported
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops.core import Convert, ShapeOf, const
from converter.ops.indexing import Gather, Slice
from converter.ops.shape import Concat, Reshape, Transpose
from converter.ops.spec import normalize_axis

CHANNELS_LAST = {"NWC": 3, "NHWC": 4, "NDHWC": 5}
CHANNELS_FIRST = {"NCW": 3, "NCHW": 4, "NCDHW": 5}


def i64(values: int | Sequence[int]) -> Value:
    return const(np.array(values, dtype=np.int64))


def scalar_like(x: Value, number: float) -> Value:
    return const(np.array(number, dtype=x.element_type.numpy))


def known_rank(x: Value, what: str) -> int:
    if x.shape.rank is None:
        raise Unsupported(f"{what} needs the input's rank (give the input a __shape__)")
    return x.shape.rank


def checked_axis(axis: int, rank: int, what: str = "axis") -> int:
    normalized = normalize_axis(int(axis), rank)
    if not 0 <= normalized < rank:
        raise Unsupported(f"{what} {axis} is out of range for rank {rank}")
    return normalized


def dim(x: Value, axis: int) -> Value:
    """Dim `axis` of x as an i64 vector [1]: a constant when static, else read at run time."""
    known = x.shape.dims[axis] if x.shape.dims is not None else None
    if known is not None:
        return i64([known])
    return Gather(ShapeOf(x, output_type=ElementType.i64), i64([axis]), i64(0), batch_dims=0)


def dims(x: Value, start: int, stop: int) -> Value:
    """Dims start..stop of x as an i64 vector: a constant when they are static."""
    known = x.shape.dims[start:stop] if x.shape.dims is not None else None
    if known is not None and None not in known:
        return i64(list(known))  # type: ignore[arg-type]
    return Slice(ShapeOf(x, output_type=ElementType.i64), i64([start]), i64([stop]), i64([1]))


def shape_vector(pieces: Sequence[Value | int]) -> Value:
    """An i64 shape vector from ints and [1]-vectors: a constant when every piece is."""
    arrays = [np.array([p], np.int64) if isinstance(p, int) else p.const for p in pieces]
    if not pieces:
        return i64([])
    if all(a is not None for a in arrays):
        return i64([int(v) for a in arrays for v in np.asarray(a).reshape(-1)])  # type: ignore[union-attr]
    return Concat(*[i64([p]) if isinstance(p, int) else p for p in pieces], axis=0)


def to_channels_first(x: Value, layout: str | None, rank: int) -> tuple[Value, bool]:
    """x in N, C, spatial... order; True when it came channels-last (the result must go back)."""
    if layout is None or layout in CHANNELS_FIRST:
        if layout is not None and CHANNELS_FIRST[layout] != rank:
            raise Unsupported(f"layout {layout} for a rank-{rank} input")
        return x, False
    if CHANNELS_LAST.get(layout) != rank:
        raise Unsupported(f"layout {layout!r} for a rank-{rank} input")
    return Transpose(x, i64([0, rank - 1, *range(1, rank - 1)])), True


def to_channels_last(y: Value, rank: int) -> Value:
    return Transpose(y, i64([0, *range(2, rank), 1]))


def channel_vector(value: Value, rank: int, axis: int = 1) -> Value:
    """A per-channel vector [C] shaped to broadcast along `axis` of a rank-`rank` tensor."""
    shape = [1] * rank
    shape[axis] = -1
    if value.const is not None:
        return const(np.asarray(value.const).reshape(shape))
    return Reshape(value, i64(shape), special_zero=False)


def same_type(value: Value, like: Value) -> Value:
    """`value` in `like`'s element type (constants converted in place)."""
    if value.element_type is like.element_type:
        return value
    if value.const is not None:
        return const(np.asarray(value.const).astype(like.element_type.numpy))
    return Convert(value, destination_type=like.element_type)


def as_type(value: Value, element_type: ElementType) -> Value:
    if value.element_type is element_type:
        return value
    if value.const is not None:
        return const(np.asarray(value.const).astype(element_type.numpy))
    return Convert(value, destination_type=element_type)


def as_indices(value: Value) -> Value:
    """MXNet indices come as floats: truncated toward zero to i64, as MXNet's casts do."""
    if value.element_type is ElementType.i64:
        return value
    return as_type(value, ElementType.i64)


def bias_add(y: Value, bias: Value | None, rank: int) -> Value:
    if bias is None:
        return y
    return ew.Add(y, same_type(channel_vector(bias, rank), y))


def ints(values: Sequence[int], count: int, default: int, name: str) -> list[int]:
    """A per-spatial-axis parameter: `default` everywhere when not given."""
    if not values:
        return [default] * count
    if len(values) != count:
        raise Unsupported(f"{name} {tuple(values)} has {len(values)} values for {count} spatial axes")
    return [int(v) for v in values]
