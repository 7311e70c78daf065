"""TFLite STRIDED_SLICE and SLICE → IR StridedSlice and Slice; GATHER and GATHER_ND → IR Gather-8
and GatherND-8 (they select values: on the input's grid)."""

from __future__ import annotations

import numpy as np

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import as_i64, checked_axis, i64
from converter.frontends.tflite.tensors import Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops import indexing as ops
from converter.ops.core import const

INT64_MAX = np.iinfo(np.int64).max


def _bits(mask: int, count: int) -> list[int]:
    """A bit mask → the IR's per-entry list (bit i is entry i)."""
    if mask < 0 or mask >> count:
        raise Unsupported(f"mask {mask:#b} has bits beyond the {count} slice entries")
    return [(mask >> i) & 1 for i in range(count)]


def _entries(begin: Value) -> int:
    if begin.shape.rank != 1 or begin.shape[0] is None:
        raise Unsupported("begin must be a vector of known length")
    return begin.shape[0]


def STRIDED_SLICE(
    ctx: TFLiteContext,
    x: Value,
    begin: Value,
    end: Value,
    strides: Value,
    *,
    begin_mask: int = 0,
    end_mask: int = 0,
    ellipsis_mask: int = 0,
    new_axis_mask: int = 0,
    shrink_axis_mask: int = 0,
    offset: bool = False,
) -> Value:
    """TF's strided slice; with `offset`, end is counted from begin."""
    count = _entries(begin)
    if ellipsis_mask & (ellipsis_mask - 1):
        raise Unsupported("more than one ellipsis")
    start, stop = as_i64(begin), as_i64(end)
    if offset:
        if start.const is not None and stop.const is not None:
            stop = const(np.asarray(start.const) + np.asarray(stop.const))
        else:
            stop = ew.Add(start, stop)
    return ops.StridedSlice(
        x,
        start,
        stop,
        as_i64(strides),
        begin_mask=_bits(begin_mask, count),
        end_mask=_bits(end_mask, count),
        ellipsis_mask=_bits(ellipsis_mask, count),
        new_axis_mask=_bits(new_axis_mask, count),
        shrink_axis_mask=_bits(shrink_axis_mask, count),
    )


def SLICE(ctx: TFLiteContext, x: Value, begin: Value, size: Value) -> Value:
    """size -1 means "to the end" of that dimension."""
    count = _entries(begin)
    start = as_i64(begin)
    if begin.const is not None and size.const is not None:
        starts = np.asarray(begin.const).astype(np.int64).reshape(-1)
        sizes = np.asarray(size.const).astype(np.int64).reshape(-1)
        stop = i64(np.where(sizes == -1, INT64_MAX, starts + sizes).tolist())
    else:
        sizes = as_i64(size)
        stop = ew.Select(ew.Equal(sizes, i64(-1)), i64(INT64_MAX), ew.Add(start, sizes))
    return ops.Slice(x, start, stop, i64([1] * count))


def GATHER(ctx: TFLiteContext, params: Value, indices: Value, *, axis: int = 0, batch_dims: int = 0) -> Value:
    """params' slices along `axis` at `indices`; the first batch_dims axes of both are batch axes
    (negative axis counts from params' rank, negative batch_dims from indices')."""
    rank, index_rank = params.shape.rank, indices.shape.rank
    if rank is not None:
        axis = checked_axis(axis, rank, "GATHER")
    if batch_dims < 0:
        if index_rank is None:
            raise Unsupported("a negative batch_dims needs the rank of the indices")
        batch_dims += index_rank
    if axis < batch_dims:
        raise Unsupported(f"GATHER: axis {axis} is before the batch dimensions ({batch_dims})")
    return ops.Gather(params, indices, i64(axis), batch_dims=batch_dims)


def GATHER_ND(ctx: TFLiteContext, params: Value, indices: Value) -> Value:
    """indices[..., :k] index params' first k axes."""
    return ops.GatherND(params, indices, batch_dims=0)


HANDLERS: dict[str, Handler] = {"STRIDED_SLICE": STRIDED_SLICE, "SLICE": SLICE, "GATHER": GATHER, "GATHER_ND": GATHER_ND}
GRID_PRESERVING: frozenset[str] = frozenset({"STRIDED_SLICE", "SLICE", "GATHER", "GATHER_ND"})
