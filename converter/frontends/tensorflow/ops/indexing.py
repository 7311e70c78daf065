"""TF StridedSlice, Slice, Gather(V2) and GatherNd → IR StridedSlice, Slice, Gather and GatherND."""

from __future__ import annotations

import numpy as np

from converter.frontends.tensorflow.graph import Handler, TFContext
from converter.frontends.tensorflow.ops.common import INT64_MAX, as_i64, i64
from converter.frontends.tensorflow.tensors import Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops import indexing as ops

INT64_MIN = np.iinfo(np.int64).min


def _bits(mask: int, count: int) -> list[int]:
    """TF's bit mask → the IR's per-entry list (bit i is entry i)."""
    if mask >> count:
        raise Unsupported(f"mask {mask:#b} has bits beyond the {count} slice entries")
    return [(mask >> i) & 1 for i in range(count)]


def StridedSlice(
    ctx: TFContext,
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
) -> Value:
    count = begin.shape[0] if begin.shape.rank == 1 else None
    if count is None:
        raise Unsupported("StridedSlice needs begin of a known length")
    if ellipsis_mask & (ellipsis_mask - 1):
        raise Unsupported("StridedSlice: more than one ellipsis")
    vector_read = _vector_read(x, begin, end, strides, begin_mask, end_mask, ellipsis_mask | new_axis_mask, shrink_axis_mask)
    if vector_read is not None:
        return vector_read
    return ops.StridedSlice(
        x,
        as_i64(begin),
        as_i64(end),
        as_i64(strides),
        begin_mask=_bits(begin_mask, count),
        end_mask=_bits(end_mask, count),
        ellipsis_mask=_bits(ellipsis_mask, count),
        new_axis_mask=_bits(new_axis_mask, count),
        shrink_axis_mask=_bits(shrink_axis_mask, count),
    )


def _vector_read(
    x: Value, begin: Value, end: Value, strides: Value, begin_mask: int, end_mask: int, other_masks: int, shrink_axis_mask: int
) -> Value | None:
    """`v[i]` or `v[b:e:s]` of a 1-D tensor (what `tf.shape(x)[0]` writes) as the Gather or Slice
    the shape passes read; None for anything else."""
    bounds = [v.const for v in (begin, end, strides)]
    if x.shape.rank != 1 or other_masks or any(b is None or np.asarray(b).size != 1 for b in bounds):
        return None
    start, stop, step = (int(np.asarray(b).reshape(-1)[0]) for b in bounds)  # type: ignore[arg-type]
    if shrink_axis_mask & 1:
        return ops.Gather(x, i64(start), i64(0))
    if step == 0:
        return None
    if begin_mask & 1:
        start = 0 if step > 0 else INT64_MAX
    if end_mask & 1:
        stop = INT64_MAX if step > 0 else INT64_MIN
    return ops.Slice(x, i64([start]), i64([stop]), i64([step]))


def Slice(ctx: TFContext, x: Value, begin: Value, size: Value) -> Value:
    """size -1 means "to the end" of that dimension."""
    start = as_i64(begin)
    if begin.const is not None and size.const is not None:
        starts = np.asarray(begin.const).astype(np.int64).reshape(-1)
        sizes = np.asarray(size.const).astype(np.int64).reshape(-1)
        stop = i64(np.where(sizes == -1, INT64_MAX, starts + sizes).tolist())
    else:
        sizes = as_i64(size)
        stop = ew.Select(ew.Equal(sizes, i64(-1)), i64(INT64_MAX), ew.Add(start, sizes))
    count = begin.shape[0] if begin.shape.rank == 1 else None
    if count is None:
        raise Unsupported("Slice needs begin of a known length")
    return ops.Slice(x, start, stop, i64([1] * count))


def GatherV2(ctx: TFContext, params: Value, indices: Value, axis: Value, *, batch_dims: int = 0, bad_indices_policy: str = "") -> Value:
    return ops.Gather(params, indices, as_i64(axis), batch_dims=batch_dims)


def Gather(ctx: TFContext, params: Value, indices: Value, *, validate_indices: bool = True) -> Value:
    return ops.Gather(params, indices, i64(0))


def GatherNd(ctx: TFContext, params: Value, indices: Value, *, bad_indices_policy: str = "") -> Value:
    return ops.GatherND(params, indices, batch_dims=0)


HANDLERS: dict[str, Handler] = {"StridedSlice": StridedSlice, "Slice": Slice, "GatherV2": GatherV2, "Gather": Gather, "GatherNd": GatherNd}
