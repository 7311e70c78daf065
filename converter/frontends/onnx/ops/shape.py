"""ONNX shape-manipulation ops → IR shape ops.

Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Split, Expand, Tile,
Pad, DepthToSpace, SpaceToDepth, Shape, Size.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.onnx.converter import OnnxContext, Unsupported
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops import indexing, misc
from converter.ops import shape as ops
from converter.ops.core import Convert, ShapeOf, const
from converter.ops.spec import const_ints, normalize_axis

INT64_MAX = np.iinfo(np.int64).max


def i64(values: list[int] | tuple[int, ...] | int) -> Value:
    return const(np.array(values, dtype=np.int64))


def as_i64(value: Value) -> Value:
    return value if value.element_type is ElementType.i64 else Convert(value, destination_type=ElementType.i64)


def known_rank(value: Value, op: str) -> int:
    rank = value.shape.rank
    if rank is None:
        raise Unsupported(f"{op} needs the input rank to be known")
    return rank


def checked_axis(axis: int, rank: int, op: str) -> int:
    normalized = normalize_axis(axis, rank)
    if not 0 <= normalized < rank:
        raise Unsupported(f"{op}: axis {axis} is out of range for rank {rank}")
    return normalized


def dim_of(data: Value, axis: int) -> Value:
    """The size of one axis as a 1-element i64 tensor (a constant when static)."""
    size = data.shape[axis]
    if size is not None:
        return i64([size])
    return indexing.Gather(ShapeOf(data), i64([axis]), i64(0))


# ---------------------------------------------------------------- Reshape / Flatten


def Reshape(ctx: OnnxContext, data: Value, shape: Value, *, allowzero: int = 0) -> Value:
    return ops.Reshape(data, as_i64(shape), special_zero=not allowzero)


def Flatten(ctx: OnnxContext, x: Value, *, axis: int = 1) -> Value:
    rank = x.shape.rank
    if rank is None:
        if axis < 0:
            raise Unsupported("Flatten with a negative axis needs the input rank")
        return _flatten_dynamic(x, axis)
    if not -rank <= axis <= rank:
        raise Unsupported(f"Flatten: axis {axis} is out of range for rank {rank}")
    axis = axis + rank if axis < 0 else axis
    dims = x.shape.dims
    assert dims is not None
    leading, trailing = dims[:axis], dims[axis:]
    if axis == 0:
        return ops.Reshape(x, i64([1, -1]), special_zero=False)
    if None not in leading and None not in trailing:
        return ops.Reshape(x, i64([int(np.prod(leading)), int(np.prod(trailing))]), special_zero=False)
    if None not in leading and np.prod(leading) != 0:
        return ops.Reshape(x, i64([int(np.prod(leading)), -1]), special_zero=False)
    if None not in trailing and np.prod(trailing) != 0:
        return ops.Reshape(x, i64([-1, int(np.prod(trailing))]), special_zero=False)
    return _flatten_dynamic(x, axis)


def _flatten_dynamic(x: Value, axis: int) -> Value:
    """Two reshapes: merge the trailing dims first, then the leading ones next to that size."""
    if axis == 0:
        return ops.Reshape(x, i64([1, -1]), special_zero=False)
    merged_tail = ops.Reshape(x, i64([0] * axis + [-1]), special_zero=True)
    tail_size = indexing.Gather(ShapeOf(merged_tail), i64([axis]), i64(0))
    return ops.Reshape(merged_tail, ops.Concat(i64([-1]), tail_size, axis=0), special_zero=False)


# ---------------------------------------------------------------- Transpose / Squeeze / Unsqueeze / Concat


def Transpose(ctx: OnnxContext, data: Value, *, perm: list[int] | None = None) -> Value:
    rank = data.shape.rank
    if perm is None:
        order = list(range(rank))[::-1] if rank is not None else []
    else:
        order = list(perm)
        if rank is not None and sorted(order) != list(range(rank)):
            raise Unsupported(f"Transpose: perm {perm} is not a permutation of {rank} axes")
    return ops.Transpose(data, i64(order))


def Squeeze(ctx: OnnxContext, data: Value, axes_input: Value | None = None, *, axes: list[int] | None = None) -> Value:
    axes_value = axes_input if ctx.opset >= 13 else (None if axes is None else i64(axes))
    if axes_value is None:
        if not data.shape.is_static:
            raise Unsupported("Squeeze without axes on an input with dynamic dimensions has an output rank only known at run time")
        return ops.Squeeze(data)
    listed = const_ints(axes_value)
    if listed is not None and data.shape.dims is not None:
        for axis in listed:
            size = data.shape[checked_axis(axis, len(data.shape.dims), "Squeeze")]
            if size not in (1, None):
                raise Unsupported(f"Squeeze: axis {axis} has size {size}, not 1")
    return ops.Squeeze(data, as_i64(axes_value))


def Unsqueeze(ctx: OnnxContext, data: Value, axes_input: Value | None = None, *, axes: list[int] | None = None) -> Value:
    axes_value = axes_input if ctx.opset >= 13 else (None if axes is None else i64(axes))
    if axes_value is None:
        raise Unsupported("Unsqueeze needs axes")
    if axes_value.const is None and data.shape.rank is not None:
        return _unsqueeze_runtime_axes(data, as_i64(axes_value))
    return ops.Unsqueeze(data, as_i64(axes_value))


def _unsqueeze_runtime_axes(data: Value, axes: Value) -> Value:
    """Unsqueeze with run-time axes is a Reshape: OpenVINO's CPU plugin cannot run an
    Unsqueeze whose output rank it cannot infer. The target shape has 1 at the new axes
    and the input dims, in order, everywhere else."""
    count = {0: 1, 1: axes.shape[0]}.get(axes.shape.rank)  # type: ignore[arg-type]
    rank = data.shape.rank
    if count is None or rank is None:
        raise Unsupported("Unsqueeze with run-time axes needs their number and the input rank")
    out_rank = rank + count
    axes = ops.Reshape(axes, i64([-1]), special_zero=False)
    is_new = indexing.ScatterElementsUpdate(i64([0] * out_rank), axes, i64([1] * count), i64(0))
    kept_positions = ops.Reshape(misc.NonZero(ew.Equal(is_new, i64(0)), output_type=ElementType.i64), i64([-1]), special_zero=False)
    target = indexing.ScatterElementsUpdate(i64([1] * out_rank), kept_positions, ShapeOf(data, output_type=ElementType.i64), i64(0))
    return ops.Reshape(data, target, special_zero=False)


def Concat(ctx: OnnxContext, *inputs: Value, axis: int) -> Value:
    if not inputs:
        raise Unsupported("Concat needs at least one input")
    return ops.Concat(*inputs, axis=axis)


# ---------------------------------------------------------------- Split


def Split(
    ctx: OnnxContext,
    x: Value,
    split_input: Value | None = None,
    *,
    axis: int = 0,
    split: list[int] | None = None,
    num_outputs: int | None = None,
) -> list[Value]:
    count = len(ctx.node.output)
    rank = known_rank(x, "Split")
    axis = checked_axis(axis, rank, "Split")
    lengths_value = split_input if ctx.opset >= 13 else (None if split is None else i64(split))
    if lengths_value is not None:
        lengths = const_ints(lengths_value)
        if lengths is not None and len(lengths) != count:
            raise Unsupported(f"Split: {len(lengths)} split lengths for {count} outputs")
        if lengths is not None and len(set(lengths)) == 1 and lengths[0] > 0:
            return ops.Split.node(x, i64(axis), num_splits=count).outputs
        return ops.VariadicSplit.node(x, i64(axis), as_i64(lengths_value)).outputs
    if num_outputs is not None and num_outputs != count:
        raise Unsupported(f"Split: num_outputs={num_outputs} but the node has {count} outputs")
    size = x.shape[axis]
    if size is not None:
        if size % count == 0:
            return ops.Split.node(x, i64(axis), num_splits=count).outputs
        if num_outputs is None:
            raise Unsupported(f"Split: dimension {size} does not divide into {count} equal parts")
        chunk = -(-size // count)
        lengths = [min(chunk, max(size - chunk * i, 0)) for i in range(count)]
        return ops.VariadicSplit.node(x, i64(axis), i64(lengths)).outputs
    if num_outputs is None or count == 1:
        return ops.Split.node(x, i64(axis), num_splits=count).outputs
    # Dynamic size, num_outputs (opset 18): chunks of ceil(size / count), the last takes the rest.
    chunk = ew.Divide(ew.Add(dim_of(x, axis), i64([count - 1])), i64([count]))
    lengths_runtime = ops.Concat(*([chunk] * (count - 1)), i64([-1]), axis=0)
    return ops.VariadicSplit.node(x, i64(axis), lengths_runtime).outputs


# ---------------------------------------------------------------- Expand / Tile


def Expand(ctx: OnnxContext, x: Value, shape: Value) -> Value:
    return ops.Broadcast(x, as_i64(shape), mode="bidirectional")


def Tile(ctx: OnnxContext, x: Value, repeats: Value) -> Value:
    if repeats.const is not None or x.shape.rank is None:
        return ops.Tile(x, as_i64(repeats))
    # OpenVINO's CPU Tile computes garbage for runtime repeats over three or more axes
    # (2026.4); a broadcast over interleaved [repeat, dim] axes is the same tile.
    repeats = as_i64(repeats)
    shape = ShapeOf(x, output_type=ElementType.i64)
    ones = i64([1] * x.shape.rank)
    spread = ops.Reshape(x, _interleave(ones, shape), special_zero=False)
    tiled = ops.Broadcast(spread, _interleave(repeats, shape), mode="numpy")
    return ops.Reshape(tiled, ew.Multiply(repeats, shape), special_zero=False)


def _interleave(first: Value, second: Value) -> Value:
    """[a0, b0, a1, b1, ...] from two 1D tensors of equal length."""
    pairs = ops.Concat(ops.Unsqueeze(first, i64([1])), ops.Unsqueeze(second, i64([1])), axis=1)
    return ops.Reshape(pairs, i64([-1]), special_zero=False)


# ---------------------------------------------------------------- Pad

ONNX_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "edge"}


def Pad(
    ctx: OnnxContext,
    data: Value,
    pads_input: Value | None = None,
    constant_value: Value | None = None,
    axes: Value | None = None,
    *,
    mode: str = "constant",
    pads: list[int] | None = None,
    value: float = 0.0,
) -> Value:
    if ctx.opset < 11:
        if pads is None:
            raise Unsupported("Pad needs pads")
        pads_value = i64(pads)
        fill = const(np.array(value, dtype=data.element_type.numpy)) if mode == "constant" else None
    else:
        if pads_input is None:
            raise Unsupported("Pad needs pads")
        pads_value = as_i64(pads_input)
        fill = _scalar(constant_value) if constant_value is not None and mode == "constant" else None
    begin, end = _pads_begin_end(data, pads_value, axes)
    if mode == "wrap":
        return _wrap_pad(data, begin, end)
    if mode not in ONNX_PAD_MODES:
        raise Unsupported(f"Pad: mode {mode!r} is not supported")
    if fill is not None:
        return ops.Pad(data, begin, end, fill, pad_mode="constant")
    return ops.Pad(data, begin, end, pad_mode=ONNX_PAD_MODES[mode])


def _scalar(value: Value) -> Value:
    if value.shape.rank == 0:
        return value
    return ops.Reshape(value, i64([]), special_zero=False)


def _pads_begin_end(data: Value, pads: Value, axes: Value | None) -> tuple[Value, Value]:
    """ONNX pads [b1..bn, e1..en] (over `axes` when given) → full-rank begin and end."""
    listed = const_ints(pads)
    if axes is None:
        if listed is not None:
            half = len(listed) // 2
            if len(listed) % 2 or (data.shape.rank is not None and half != data.shape.rank):
                raise Unsupported(f"Pad: {len(listed)} pads do not match rank {data.shape.rank}")
            return i64(listed[:half]), i64(listed[half:])
        begin, end = ops.Split.node(pads, i64(0), num_splits=2).outputs
        return begin, end
    rank = known_rank(data, "Pad with axes")
    axis_list = const_ints(axes)
    if listed is not None and axis_list is not None:
        if len(listed) != 2 * len(axis_list):
            raise Unsupported(f"Pad: {len(listed)} pads for {len(axis_list)} axes")
        begin_list, end_list = [0] * rank, [0] * rank
        for i, axis in enumerate(axis_list):
            position = checked_axis(axis, rank, "Pad")
            begin_list[position] = listed[i]
            end_list[position] = listed[i + len(axis_list)]
        return i64(begin_list), i64(end_list)
    begin_part, end_part = ops.Split.node(pads, i64(0), num_splits=2).outputs
    zeros, axes_i64 = i64([0] * rank), as_i64(axes)
    scatter = indexing.ScatterElementsUpdate
    return scatter(zeros, axes_i64, begin_part, i64(0)), scatter(zeros, axes_i64, end_part, i64(0))


def _wrap_pad(data: Value, begin_value: Value, end_value: Value) -> Value:
    """OpenVINO's Pad has no wrap mode: crop negative pads, then concatenate wrapped slices."""
    begin, end = const_ints(begin_value), const_ints(end_value)
    if begin is None or end is None:
        return _wrap_pad_runtime(data, begin_value, end_value)
    result = data
    for axis, (before, after) in enumerate(zip(begin, end)):
        result = _wrap_pad_axis(result, axis, before, after)
    return result


def _wrap_pad_runtime(data: Value, begin: Value, end: Value) -> Value:
    """Pads known only at run time, per axis: crop the negative pads, then gather the
    positions -before .. size+after modulo the cropped size."""
    rank = known_rank(data, "Pad (wrap mode, run-time pads)")
    shape = ShapeOf(data, output_type=ElementType.i64)
    zero = i64(0)
    result = data
    for axis in range(rank):
        before, after, size = (_element(v, axis) for v in (begin, end, shape))
        grow_before, grow_after = ew.Maximum(before, zero), ew.Maximum(after, zero)
        crop_before = ew.Subtract(grow_before, before)
        kept = ew.Subtract(ew.Add(size, ew.Subtract(after, grow_after)), crop_before)
        positions = misc.Range(ew.Subtract(zero, grow_before), ew.Add(kept, grow_after), i64(1), output_type=ElementType.i64)
        result = indexing.Gather(result, ew.Add(ew.FloorMod(positions, kept), crop_before), i64(axis))
    return result


def _element(vector: Value, index: int) -> Value:
    return indexing.Gather(vector, i64(index), i64(0))


def _wrap_pad_axis(data: Value, axis: int, before: int, after: int) -> Value:
    if before < 0 or after < 0:
        stop = after if after < 0 else INT64_MAX
        data = indexing.Slice(data, i64([max(-before, 0)]), i64([stop]), i64([1]), i64([axis]))
        before, after = max(before, 0), max(after, 0)
    parts = []
    if before:
        # The last `before` elements of enough copies along the axis (works whatever the size is).
        copies = _copies_needed(data, axis, before)
        parts.append(indexing.Slice(_tile_axis(data, axis, copies), i64([-before]), i64([INT64_MAX]), i64([1]), i64([axis])))
    parts.append(data)
    if after:
        copies = _copies_needed(data, axis, after)
        parts.append(indexing.Slice(_tile_axis(data, axis, copies), i64([0]), i64([after]), i64([1]), i64([axis])))
    return parts[0] if len(parts) == 1 else ops.Concat(*parts, axis=axis)


def _copies_needed(data: Value, axis: int, count: int) -> int:
    size = data.shape[axis]
    if size is None or size == 0:
        return count  # every size is at least 1, so `count` copies always suffice
    return -(-count // size)


def _tile_axis(data: Value, axis: int, copies: int) -> Value:
    if copies == 1:
        return data
    rank = data.shape.rank
    assert rank is not None
    repeats = [1] * rank
    repeats[axis] = copies
    return ops.Tile(data, i64(repeats))


# ---------------------------------------------------------------- DepthToSpace / SpaceToDepth

BLOCK_MODES = {"DCR": "blocks_first", "CRD": "depth_first"}


def DepthToSpace(ctx: OnnxContext, x: Value, *, blocksize: int, mode: str = "DCR") -> Value:
    if mode not in BLOCK_MODES:
        raise Unsupported(f"DepthToSpace: mode {mode!r} is not supported")
    return ops.DepthToSpace(x, block_size=blocksize, mode=BLOCK_MODES[mode])


def SpaceToDepth(ctx: OnnxContext, x: Value, *, blocksize: int, mode: str = "DCR") -> Value:
    if mode not in BLOCK_MODES:
        raise Unsupported(f"SpaceToDepth: mode {mode!r} is not supported")
    return ops.SpaceToDepth(x, block_size=blocksize, mode=BLOCK_MODES[mode])


# ---------------------------------------------------------------- Shape / Size


def Shape(ctx: OnnxContext, data: Value, *, start: int = 0, end: int | None = None) -> Value:
    shape = ShapeOf(data, output_type=ElementType.i64)
    if start == 0 and end is None:
        return shape
    return indexing.Slice(shape, i64([start]), i64([INT64_MAX if end is None else end]), i64([1]), i64([0]))


def Size(ctx: OnnxContext, data: Value) -> Value:
    if data.shape.is_static:
        return i64(int(np.prod(data.shape.static, dtype=np.int64)))
    flat = ops.Reshape(data, i64([-1]), special_zero=False)
    return ops.Reshape(ShapeOf(flat, output_type=ElementType.i64), i64([]), special_zero=False)


HANDLERS = {
    "Reshape": Reshape,
    "Flatten": Flatten,
    "Transpose": Transpose,
    "Squeeze": Squeeze,
    "Unsqueeze": Unsqueeze,
    "Concat": Concat,
    "Split": Split,
    "Expand": Expand,
    "Tile": Tile,
    "Pad": Pad,
    "DepthToSpace": DepthToSpace,
    "SpaceToDepth": SpaceToDepth,
    "Shape": Shape,
    "Size": Size,
}
