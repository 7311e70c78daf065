"""Layers that move values: Concat, Slice, Crop, Flatten, Reshape, Permute, Tile, ShuffleChannel, ArgMax."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.caffe.layers.common import axis_of, dims_of, i64, reshaped
from converter.frontends.caffe.net import CaffeContext, Handler, Unsupported
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops.core import Convert
from converter.ops.indexing import Slice as IrSlice
from converter.ops.misc import TopK
from converter.ops.shape import Concat as IrConcat
from converter.ops.shape import Tile as IrTile
from converter.ops.shape import Transpose, VariadicSplit


def Concat(ctx: CaffeContext, *xs: Value, axis: int = 1, concat_dim: int | None = None) -> Value:
    if concat_dim is not None:
        axis = concat_dim  # the deprecated alias, when a file gives it
    rank = len(dims_of(xs[0], "Concat"))
    return xs[0] if len(xs) == 1 else IrConcat(*xs, axis=axis_of(axis, rank))


def Slice(ctx: CaffeContext, x: Value, *, axis: int = 1, slice_point: Sequence[int] = (), slice_dim: int | None = None) -> list[Value]:
    """Cut at the slice points, or into as many equal parts as there are tops."""
    if slice_dim is not None:
        axis = slice_dim
    dims = dims_of(x, "Slice")
    axis = axis_of(axis, len(dims))
    tops = len(ctx.layer.top) if ctx.layer is not None else 1
    size = dims[axis]
    if slice_point:
        if len(slice_point) != tops - 1:
            raise Unsupported(f"{len(slice_point)} slice points for {tops} tops")
        bounds = [0, *slice_point, size]
        if any(b <= a for a, b in zip(bounds, bounds[1:])):
            raise Unsupported(f"slice points {list(slice_point)} are not increasing inside 0..{size}")
        lengths = [b - a for a, b in zip(bounds, bounds[1:])]
    else:
        if size % tops:
            raise Unsupported(f"{size} does not split into {tops} equal parts")
        lengths = [size // tops] * tops
    if len(lengths) == 1:
        return [x]
    return list(VariadicSplit.node(x, i64(axis), i64(lengths)).outputs)


def Crop(ctx: CaffeContext, x: Value, reference: Value, *, axis: int = 2, offset: Sequence[int] = ()) -> Value:
    """x cut to the reference's dims from `axis` on, starting at the offsets (one for all axes, or one each)."""
    dims, target = dims_of(x, "Crop"), dims_of(reference, "Crop's reference")
    if len(dims) != len(target):
        raise Unsupported(f"a {len(target)}-D reference for a {len(dims)}-D input")
    axis = axis_of(axis, len(dims))
    count = len(dims) - axis
    if len(offset) not in (0, 1, count):
        raise Unsupported(f"{len(offset)} offsets for {count} cropped axes")
    offsets = [0] * count if not offset else list(offset) * count if len(offset) == 1 else list(offset)
    for o, size, want in zip(offsets, dims[axis:], target[axis:]):
        if o + want > size:
            raise Unsupported(f"crop of {want} at offset {o} from {size}")
    starts = offsets
    stops = [o + want for o, want in zip(offsets, target[axis:])]
    return IrSlice(x, i64(starts), i64(stops), i64([1] * count), i64(list(range(axis, len(dims)))))


def Flatten(ctx: CaffeContext, x: Value, *, axis: int = 1, end_axis: int = -1) -> Value:
    dims = dims_of(x, "Flatten")
    start, end = axis_of(axis, len(dims)), axis_of(end_axis, len(dims), "end_axis")
    merged = int(np.prod(dims[start : end + 1]))
    return reshaped(x, dims[:start] + [merged] + dims[end + 1 :])


def Reshape(ctx: CaffeContext, x: Value, *, shape: tuple[int, ...] = (), axis: int = 0, num_axes: int = -1) -> Value:
    """The input's dims [axis, axis + num_axes) replaced by `shape`: 0 copies the input's dim, −1 is inferred."""
    dims = dims_of(x, "Reshape")
    start = axis + len(dims) + 1 if axis < 0 else axis
    end = len(dims) if num_axes == -1 else start + num_axes
    if not 0 <= start <= end <= len(dims):
        raise Unsupported(f"axis {axis} with {num_axes} axes for a {len(dims)}-D blob")
    middle = []
    for i, d in enumerate(shape):
        if d == 0:
            if start + i >= len(dims):
                raise Unsupported(f"dim 0 at {i} copies a dim the input does not have")
            middle.append(dims[start + i])
        else:
            middle.append(int(d))
    if middle.count(-1) > 1 or any(d < -1 for d in middle):
        raise Unsupported(f"shape {list(shape)}")
    out = dims[:start] + middle + dims[end:]
    total = int(np.prod(dims))
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1]))
        if known == 0 or total % known:
            raise Unsupported(f"shape {list(shape)} does not fit {dims}")
        out[out.index(-1)] = total // known
    if int(np.prod(out)) != total:
        raise Unsupported(f"shape {out} holds another count of values than {dims}")
    return reshaped(x, out)


def Permute(ctx: CaffeContext, x: Value, *, order: Sequence[int] = ()) -> Value:
    """The axes in `order`, then the axes it leaves out in their order."""
    rank = len(dims_of(x, "Permute"))
    if len(set(order)) != len(order) or any(o >= rank for o in order):
        raise Unsupported(f"order {list(order)} for a {rank}-D blob")
    full = list(order) + [a for a in range(rank) if a not in order]
    return x if full == list(range(rank)) else Transpose(x, i64(full))


def Tile(ctx: CaffeContext, x: Value, *, axis: int = 1, tiles: int | None = None) -> Value:
    rank = len(dims_of(x, "Tile"))
    if tiles is None or tiles < 1:
        raise Unsupported(f"tiles {tiles}")
    repeats = [1] * rank
    repeats[axis_of(axis, rank)] = tiles
    return IrTile(x, i64(repeats))


def ShuffleChannel(ctx: CaffeContext, x: Value, *, group: int = 1) -> Value:
    """Channels [g, C/g] read as [C/g, g] (ShuffleNet)."""
    dims = dims_of(x, "ShuffleChannel")
    if len(dims) < 2 or group < 1 or dims[1] % group:
        raise Unsupported(f"group {group} for {dims}")
    grouped = reshaped(x, [dims[0], group, dims[1] // group, int(np.prod(dims[2:]))])
    return reshaped(Transpose(grouped, i64([0, 2, 1, 3])), dims)


def ArgMax(ctx: CaffeContext, x: Value, *, out_max_val: bool = False, top_k: int = 1, axis: int | None = None) -> Value:
    """The top_k indices (as floats) along `axis`, or over each image's flattened values as
    [N, 1, top_k] ([N, 2, top_k] with the values when out_max_val). Along an axis, out_max_val
    gives the values instead of the indices."""
    dims = dims_of(x, "ArgMax")
    if axis is not None:
        along_axis = axis_of(axis, len(dims))
        if top_k > dims[along_axis]:
            raise Unsupported(f"top_k {top_k} of {dims[along_axis]}")
        values, indices = TopK.node(x, i64(top_k), axis=along_axis, mode="max", sort="value").outputs
        return values if out_max_val else Convert(indices, destination_type=ElementType.f32)
    flat = reshaped(x, [dims[0], 1, int(np.prod(dims[1:]))])
    if top_k > int(np.prod(dims[1:])):
        raise Unsupported(f"top_k {top_k} of {int(np.prod(dims[1:]))}")
    values, indices = TopK.node(flat, i64(top_k), axis=2, mode="max", sort="value").outputs
    found = Convert(indices, destination_type=ElementType.f32)
    return IrConcat(found, values, axis=1) if out_max_val else found


HANDLERS: dict[str, Handler] = {
    "Concat": Concat, "Slice": Slice, "Crop": Crop, "Flatten": Flatten, "Reshape": Reshape, "Permute": Permute,
    "Tile": Tile, "ShuffleChannel": ShuffleChannel, "ArgMax": ArgMax,
}  # fmt: skip
