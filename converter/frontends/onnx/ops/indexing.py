"""ONNX indexing ops → IR indexing ops.

Slice, Gather, GatherElements, GatherND, ScatterElements (and its deprecated
alias Scatter), ScatterND, ReverseSequence, Compress, Trilu.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.onnx.converter import OnnxContext, Unsupported
from converter.frontends.onnx.ops.shape import INT64_MAX, checked_axis, i64
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops import indexing as ops
from converter.ops import misc
from converter.ops import shape as shape_ops
from converter.ops.core import Convert, ShapeOf, const
from converter.ops.spec import const_ints


def _same_int_type(value: Value, like: Value) -> Value:
    return value if value.element_type is like.element_type else Convert(value, destination_type=like.element_type)


def Slice(
    ctx: OnnxContext,
    data: Value,
    starts_input: Value | None = None,
    ends_input: Value | None = None,
    axes_input: Value | None = None,
    steps_input: Value | None = None,
    *,
    starts: list[int] | None = None,
    ends: list[int] | None = None,
    axes: list[int] | None = None,
) -> Value:
    if ctx.opset < 10:
        if starts is None or ends is None:
            raise Unsupported("Slice needs starts and ends")
        begin, stop = i64(starts), i64(ends)
        axes_value = None if axes is None else i64(axes)
        steps_value = None
    else:
        if starts_input is None or ends_input is None:
            raise Unsupported("Slice needs starts and ends")
        begin, stop = starts_input, _same_int_type(ends_input, starts_input)
        axes_value, steps_value = axes_input, steps_input
    if steps_value is None:
        steps_value = _ones_like(begin)
    else:
        steps_value = _same_int_type(steps_value, begin)
        if 0 in (const_ints(steps_value) or []):
            raise Unsupported("Slice: a step is 0")
    if axes_value is None:
        return ops.Slice(data, begin, stop, steps_value)
    return ops.Slice(data, begin, stop, steps_value, axes_value)


def _ones_like(starts: Value) -> Value:
    count = starts.shape[0] if starts.shape.rank == 1 else None
    if count is not None:
        return const(np.ones(count, dtype=starts.element_type.numpy))
    one = const(np.array(1, dtype=starts.element_type.numpy))
    return shape_ops.Broadcast(one, ShapeOf(starts), mode="numpy")


def Gather(ctx: OnnxContext, data: Value, indices: Value, *, axis: int = 0) -> Value:
    rank = data.shape.rank
    if rank is not None:
        checked_axis(axis, rank, "Gather")
    return ops.Gather(data, indices, i64(axis))


def GatherElements(ctx: OnnxContext, data: Value, indices: Value, *, axis: int = 0) -> Value:
    rank = data.shape.rank
    if rank is not None:
        axis = checked_axis(axis, rank, "GatherElements")
    else:
        raise Unsupported("GatherElements needs the input rank")
    return ops.GatherElements(_crop_to_indices(data, indices, axis), indices, axis=axis)


def _crop_to_indices(data: Value, indices: Value, axis: int) -> Value:
    """ONNX lets indices be smaller than data off the axis; OpenVINO wants those dims equal.

    The crop is a VariadicSplit: OpenVINO's CPU plugin (2026.4) drops a Slice that feeds
    GatherElements and then rejects the shapes.
    """
    data_dims, index_dims = data.shape.dims, indices.shape.dims
    assert data_dims is not None
    index_shape = None
    for i, size in enumerate(data_dims):
        wanted = None if index_dims is None else index_dims[i]
        if i == axis or (wanted is not None and wanted == size):
            continue
        if wanted is not None:
            length = i64([wanted])
        else:
            if index_shape is None:
                index_shape = ShapeOf(indices, output_type=ElementType.i64)
            length = ops.Gather(index_shape, i64([i]), i64(0))
        lengths = shape_ops.Concat(length, i64([-1]), axis=0)
        data = shape_ops.VariadicSplit.node(data, i64(i), lengths).outputs[0]
    return data


def GatherND(ctx: OnnxContext, data: Value, indices: Value, *, batch_dims: int = 0) -> Value:
    return ops.GatherND(data, indices, batch_dims=batch_dims)


SCATTER_ELEMENTS_REDUCTIONS = {"none": "none", "add": "sum", "mul": "prod", "max": "max", "min": "min"}


def ScatterElements(
    ctx: OnnxContext, data: Value, indices: Value, updates: Value, *, axis: int = 0, reduction: str = "none"
) -> Value:
    if reduction not in SCATTER_ELEMENTS_REDUCTIONS:
        raise Unsupported(f"ScatterElements: reduction {reduction!r} is not supported")
    if data.shape.rank is not None:
        checked_axis(axis, data.shape.rank, "ScatterElements")
    return ops.ScatterElementsUpdate(
        data, indices, updates, i64(axis), reduction=SCATTER_ELEMENTS_REDUCTIONS[reduction], use_init_val=True
    )


def Scatter(ctx: OnnxContext, data: Value, indices: Value, updates: Value, *, axis: int = 0) -> Value:
    return ScatterElements(ctx, data, indices, updates, axis=axis)


SCATTER_ND_REDUCTIONS = {"none": "none", "add": "sum", "mul": "prod", "max": "max", "min": "min"}


def ScatterND(ctx: OnnxContext, data: Value, indices: Value, updates: Value, *, reduction: str = "none") -> Value:
    if reduction not in SCATTER_ND_REDUCTIONS:
        raise Unsupported(f"ScatterND: reduction {reduction!r} is not supported")
    return ops.ScatterNDUpdate(data, indices, updates, reduction=SCATTER_ND_REDUCTIONS[reduction])


def TensorScatter(
    ctx: OnnxContext, past_cache: Value, update: Value, write_indices: Value | None = None, *, mode: str = "linear", axis: int = -2
) -> Value:
    """The KV-cache write of ONNX TensorScatter-24: present = past with update[..., s, ...] written at
    sequence position write_indices[batch] + s along `axis` (mod the cache length when circular), as
    one ScatterElementsUpdate whose indices are that position broadcast over the update's shape."""
    if mode not in ("linear", "circular"):
        raise Unsupported(f"TensorScatter mode {mode!r} is not supported")
    rank = past_cache.shape.rank
    if rank is None:
        raise Unsupported("TensorScatter needs a cache of known rank")
    axis = checked_axis(axis, rank, "TensorScatter")
    if axis == 0:
        raise Unsupported("TensorScatter along the batch axis (axis 0) is not defined")
    length = ops.Gather(ShapeOf(update, output_type=ElementType.i64), i64(axis), i64(0))
    positions = misc.Range(i64(0), length, i64(1), output_type=ElementType.i64)
    along_axis = [1] * rank
    along_axis[axis] = -1
    indices = shape_ops.Reshape(positions, const(np.array(along_axis, dtype=np.int64)), special_zero=False)
    if write_indices is not None:
        starts = write_indices if write_indices.element_type is ElementType.i64 else Convert(write_indices, destination_type=ElementType.i64)
        per_batch = [-1] + [1] * (rank - 1)
        indices = ew.Add(shape_ops.Reshape(starts, const(np.array(per_batch, dtype=np.int64)), special_zero=False), indices)
    if mode == "circular":
        capacity = ops.Gather(ShapeOf(past_cache, output_type=ElementType.i64), i64(axis), i64(0))
        indices = ew.FloorMod(indices, capacity)
    indices = shape_ops.Broadcast(indices, ShapeOf(update, output_type=ElementType.i64))
    return ops.ScatterElementsUpdate(past_cache, indices, update, i64(axis), reduction="none", use_init_val=True)

def ReverseSequence(
    ctx: OnnxContext, x: Value, sequence_lens: Value, *, batch_axis: int = 1, time_axis: int = 0
) -> Value:
    if {batch_axis, time_axis} != {0, 1}:
        raise Unsupported(f"ReverseSequence: batch_axis={batch_axis}, time_axis={time_axis} must be 0 and 1")
    return ops.ReverseSequence(x, sequence_lens, batch_axis=batch_axis, seq_axis=time_axis)


# ---------------------------------------------------------------- Compress / Trilu


def Compress(ctx: OnnxContext, x: Value, condition: Value, *, axis: int | None = None) -> Value:
    if axis is None:
        x, axis = shape_ops.Reshape(x, i64([-1]), special_zero=False), 0
    elif x.shape.rank is not None:
        axis = checked_axis(axis, x.shape.rank, "Compress")
    elif axis < 0:
        raise Unsupported("Compress with a negative axis needs the input rank")
    # NonZero gives [1, count]; the positions where the (1D) condition holds index the axis.
    positions = shape_ops.Reshape(misc.NonZero(condition, output_type=ElementType.i64), i64([-1]), special_zero=False)
    return ops.Gather(x, positions, i64(axis))


def Trilu(ctx: OnnxContext, x: Value, k: Value | None = None, *, upper: int = 1) -> Value:
    """Keep the upper (or lower) triangle of the last two dims from diagonal k: a Select on j - i."""
    rank = x.shape.rank
    if rank is not None and rank < 2:
        raise Unsupported("Trilu needs an input of rank 2 or more")
    offset = i64(0) if k is None else shape_ops.Reshape(_as_i64(k), i64([]), special_zero=False)
    column_minus_row = _column_minus_row(x)
    keep = ew.GreaterEqual(column_minus_row, offset) if upper else ew.LessEqual(column_minus_row, offset)
    zero = const(np.zeros((), dtype=x.element_type.numpy))
    return ew.Select(keep, x, zero)


def _column_minus_row(x: Value) -> Value:
    """An [N, M] i64 tensor j - i over the last two dims of x."""
    rows, columns = x.shape[-2] if x.shape.rank else None, x.shape[-1] if x.shape.rank else None
    if rows is not None and columns is not None:
        return i64(np.arange(columns)[None, :] - np.arange(rows)[:, None])
    shape = ShapeOf(x, output_type=ElementType.i64)

    def positions(axis: int) -> Value:
        size = shape_ops.Reshape(ops.Gather(shape, i64([axis]), i64(0)), i64([]), special_zero=False)
        return misc.Range(i64(0), size, i64(1), output_type=ElementType.i64)

    return ew.Subtract(shape_ops.Unsqueeze(positions(-1), i64([0])), shape_ops.Unsqueeze(positions(-2), i64([1])))


def _as_i64(value: Value) -> Value:
    return value if value.element_type is ElementType.i64 else Convert(value, destination_type=ElementType.i64)


HANDLERS = {
    "Slice": Slice,
    "Gather": Gather,
    "GatherElements": GatherElements,
    "GatherND": GatherND,
    "ScatterElements": ScatterElements,
    "Scatter": Scatter,
    "ScatterND": ScatterND,
    "TensorScatter": TensorScatter,
    "ReverseSequence": ReverseSequence,
    "Compress": Compress,
    "Trilu": Trilu,
}
