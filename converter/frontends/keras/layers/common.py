"""Helpers every layer family shares: constants, layout transposes, axes, shapes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.keras.context import Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.core import ShapeOf, const
from converter.ops.indexing import Gather
from converter.ops.shape import Concat, Reshape, Transpose

DATA_FORMATS = ("channels_last", "channels_first")


def int64s(values: Sequence[int] | np.ndarray | int) -> Value:
    return const(np.asarray(values, dtype=np.int64))


def scalar(like: Value, number: float) -> Value:
    """A scalar constant of `like`'s element type."""
    return const(np.asarray(number, dtype=like.element_type.numpy))


def rank_of(x: Value) -> int:
    rank = x.shape.rank
    if rank is None:
        raise Unsupported("the input rank is unknown")
    return rank


def keras_axis(axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise Unsupported(f"axis {axis} is out of range for rank {rank}")
    return axis % rank


def channels_last(data_format: str | None) -> bool:
    """Keras' data_format: None means the default, channels_last."""
    if data_format is None:
        return True
    if data_format not in DATA_FORMATS:
        raise Unsupported(f"data_format={data_format!r} is not one of {', '.join(DATA_FORMATS)}")
    return data_format == "channels_last"


def to_channels_first(x: Value) -> Value:
    """NHWC → NCHW (any rank ≥ 3): the layout of the IR's window ops."""
    rank = rank_of(x)
    return Transpose(x, int64s([0, rank - 1, *range(1, rank - 1)]))


def to_channels_last(x: Value) -> Value:
    rank = rank_of(x)
    return Transpose(x, int64s([0, *range(2, rank), 1]))


def along_axis(vector: np.ndarray, axis: int, rank: int) -> np.ndarray:
    """A per-channel vector shaped to broadcast along `axis` of a rank-`rank` tensor."""
    shape = [1] * rank
    shape[axis] = -1
    return np.asarray(vector).reshape(shape)


def dims_of(x: Value, axes: Sequence[int]) -> Value:
    """The given dims of x's shape at run time, as an i64 vector."""
    return Gather(ShapeOf(x, output_type="i64"), int64s(list(axes)), int64s(0))


def reshape_keep_batch(x: Value, target: Sequence[int]) -> Value:
    """Reshape to [batch, *target] (target may hold one -1), keeping the dynamic batch."""
    if any(t == 0 for t in target):
        raise Unsupported(f"target shape {list(target)} holds a 0")
    return Reshape(x, int64s([0, *target]), special_zero=True)


def reshape_leading(x: Value, leading: Value, trailing: Sequence[int]) -> Value:
    """Reshape to [*leading (a run-time i64 vector), *trailing]."""
    return Reshape(x, Concat(leading, int64s(list(trailing)), axis=0), special_zero=False)


def add_bias(y: Value, bias: np.ndarray | None, axis: int = -1) -> Value:
    if bias is None:
        return y
    rank = rank_of(y)
    return ew.Add(y, const(along_axis(bias, keras_axis(axis, rank), rank) if axis != -1 else np.asarray(bias)))
