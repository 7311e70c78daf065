"""TF shape ops → IR shape ops: Reshape, Squeeze, ExpandDims, Concat(V2), Pack, Unpack,
Transpose, Pad(V2), MirrorPad, Tile, Split(V), BroadcastTo, SpaceToDepth, DepthToSpace,
SpaceToBatchND, BatchToSpaceND."""

from __future__ import annotations

import numpy as np

from converter.frontends.tensorflow.graph import Handler, TFContext, constant_input
from converter.frontends.tensorflow.ops.common import as_i64, channels_first, channels_last, checked_axis, i64, known_rank
from converter.frontends.tensorflow.tensors import Unsupported
from converter.ir.graph import Value
from converter.ops import shape as ops
from converter.ops.core import const
from converter.ops.indexing import Gather, Slice
from converter.ops.spec import const_ints


def Reshape(ctx: TFContext, x: Value, shape: Value) -> Value:
    return ops.Reshape(x, as_i64(shape), special_zero=False)  # a 0 in TF's shape is a zero-sized dimension


def Squeeze(ctx: TFContext, x: Value, *, squeeze_dims: list[int] | None = None) -> Value:
    if squeeze_dims:
        if x.shape.dims is not None:
            for axis in squeeze_dims:
                size = x.shape[checked_axis(axis, len(x.shape.dims), "Squeeze")]
                if size not in (1, None):
                    raise Unsupported(f"Squeeze: dimension {axis} has size {size}, not 1")
        return ops.Squeeze(x, i64(squeeze_dims))
    dims = x.shape.dims
    if dims is None:
        return ops.Squeeze(x)
    # Every dimension known to be 1; a dynamic one is kept (TF's static shape cannot say either).
    return ops.Squeeze(x, i64([i for i, d in enumerate(dims) if d == 1]))


def ExpandDims(ctx: TFContext, x: Value, axis: Value) -> Value:
    return ops.Unsqueeze(x, as_i64(axis))  # a negative axis counts from the end of the result, as in TF


def ConcatV2(ctx: TFContext, *values_and_axis: Value, N: int | None = None) -> Value:
    *values, axis = values_and_axis
    return _concat(values, axis)


def Concat(ctx: TFContext, axis: Value, *values: Value, N: int | None = None) -> Value:
    return _concat(list(values), axis)


def _concat(values: list[Value], axis_value: Value) -> Value:
    if not values:
        raise Unsupported("Concat needs at least one input")
    axis = int(constant_input(axis_value, "the concatenation axis").reshape(-1)[0])
    rank = values[0].shape.rank
    if rank is not None:
        axis = checked_axis(axis, rank, "Concat")
    return values[0] if len(values) == 1 else ops.Concat(*values, axis=axis)


def Pack(ctx: TFContext, *values: Value, axis: int = 0, N: int | None = None) -> Value:
    if not values:
        raise Unsupported("Pack needs at least one input")
    rank = values[0].shape.rank
    if rank is not None:
        axis = checked_axis(axis, rank + 1, "Pack")
    expanded = [ops.Unsqueeze(v, i64([axis])) for v in values]
    return expanded[0] if len(expanded) == 1 else ops.Concat(*expanded, axis=axis)


def Unpack(ctx: TFContext, x: Value, *, num: int, axis: int = 0) -> list[Value]:
    axis = checked_axis(axis, known_rank(x, "Unpack"), "Unpack")
    parts = ops.Split.node(x, i64(axis), num_splits=num).outputs if num > 1 else [x]
    return [ops.Squeeze(part, i64([axis])) for part in parts]


def Transpose(ctx: TFContext, x: Value, perm: Value) -> Value:
    order = const_ints(perm)
    if order is not None and x.shape.rank is not None and sorted(order) != list(range(x.shape.rank)):
        raise Unsupported(f"Transpose: {order} is not a permutation of {x.shape.rank} axes")
    return ops.Transpose(x, as_i64(perm))


def _pads(paddings: Value) -> tuple[Value, Value]:
    """paddings [rank, 2] → (pads_begin, pads_end)."""
    if paddings.const is not None:
        array = np.asarray(paddings.const).astype(np.int64)
        if array.ndim != 2 or array.shape[1] != 2:
            raise Unsupported(f"paddings of shape {list(array.shape)}, expected [rank, 2]")
        return i64(array[:, 0].tolist()), i64(array[:, 1].tolist())
    pads = as_i64(paddings)
    return Gather(pads, i64(0), i64(1)), Gather(pads, i64(1), i64(1))


def Pad(ctx: TFContext, x: Value, paddings: Value) -> Value:
    begin, end = _pads(paddings)
    return ops.Pad(x, begin, end, const(np.zeros((), dtype=x.element_type.numpy)), pad_mode="constant")


def PadV2(ctx: TFContext, x: Value, paddings: Value, constant_values: Value) -> Value:
    begin, end = _pads(paddings)
    fill = constant_values if constant_values.shape.rank == 0 else ops.Reshape(constant_values, i64([]), special_zero=False)
    return ops.Pad(x, begin, end, fill, pad_mode="constant")


MIRROR_MODES = {"REFLECT": "reflect", "SYMMETRIC": "symmetric"}


def MirrorPad(ctx: TFContext, x: Value, paddings: Value, *, mode: str) -> Value:
    if mode not in MIRROR_MODES:
        raise Unsupported(f"MirrorPad: mode {mode!r} is not REFLECT or SYMMETRIC")
    begin, end = _pads(paddings)
    return ops.Pad(x, begin, end, pad_mode=MIRROR_MODES[mode])


def Tile(ctx: TFContext, x: Value, multiples: Value) -> Value:
    return ops.Tile(x, as_i64(multiples))


def Split(ctx: TFContext, axis: Value, x: Value, *, num_split: int) -> list[Value]:
    if num_split == 1:
        return [x]
    return list(ops.Split.node(x, as_i64(axis), num_splits=num_split).outputs)


def SplitV(ctx: TFContext, x: Value, size_splits: Value, axis: Value, *, num_split: int) -> list[Value]:
    if num_split == 1:
        return [x]
    return list(ops.VariadicSplit.node(x, as_i64(axis), as_i64(size_splits)).outputs)


def BroadcastTo(ctx: TFContext, x: Value, shape: Value) -> Value:
    return ops.Broadcast(x, as_i64(shape), mode="numpy")


# ---------------------------------------------------------------- blocks ↔ depth and batch
# TF arranges a block's pixels as (block row, block column, channel): OpenVINO's blocks_first.


def SpaceToDepth(ctx: TFContext, x: Value, *, block_size: int, data_format: str = "NHWC") -> Value:
    y = ops.SpaceToDepth(channels_first(x, data_format, 4), block_size=block_size, mode="blocks_first")
    return channels_last(y, data_format, 4)


def DepthToSpace(ctx: TFContext, x: Value, *, block_size: int, data_format: str = "NHWC") -> Value:
    y = ops.DepthToSpace(channels_first(x, data_format, 4), block_size=block_size, mode="blocks_first")
    return channels_last(y, data_format, 4)


def _static_blocks(x: Value, block_shape: Value, what: str) -> tuple[list[int], list[int]]:
    """The block sizes and x's dims after the batch (static: the reshapes need them)."""
    blocks = [int(b) for b in constant_input(block_shape, "block_shape").reshape(-1)]
    dims = x.shape.dims
    if dims is None or any(d is None for d in dims[1:]):
        raise Unsupported(f"{what} needs the dimensions after the batch to be known, has {x.shape}")
    return blocks, list(dims[1:])  # type: ignore[arg-type]


def SpaceToBatchND(ctx: TFContext, x: Value, block_shape: Value, paddings: Value) -> Value:
    """Pad the block dims, split each into (size / block, block), move the blocks in front of the batch."""
    blocks, rest = _static_blocks(x, block_shape, "SpaceToBatchND")
    count = len(blocks)
    pads = constant_input(paddings, "paddings").astype(np.int64).reshape(count, 2)
    zeros = [0] * (len(rest) - count)
    padded = ops.Pad(x, i64([0, *pads[:, 0].tolist(), *zeros]), i64([0, *pads[:, 1].tolist(), *zeros]), pad_mode="constant")
    sizes = [rest[i] + int(pads[i].sum()) for i in range(count)]
    if any(size % block for size, block in zip(sizes, blocks)):
        raise Unsupported(f"padded sizes {sizes} are not multiples of the blocks {blocks}")
    split = [0] + [d for size, block in zip(sizes, blocks) for d in (size // block, block)] + rest[count:]
    grid = ops.Reshape(padded, i64(split), special_zero=True)  # 0 keeps the (maybe dynamic) batch
    block_axes = [2 + 2 * i for i in range(count)]
    order = block_axes + [0] + [1 + 2 * i for i in range(count)] + list(range(1 + 2 * count, len(split)))
    moved = ops.Transpose(grid, i64(order))
    return ops.Reshape(moved, i64([-1] + [size // block for size, block in zip(sizes, blocks)] + rest[count:]), special_zero=False)


def BatchToSpaceND(ctx: TFContext, x: Value, block_shape: Value, crops: Value) -> Value:
    """The inverse of SpaceToBatchND: blocks out of the batch into the block dims, then crop."""
    blocks, rest = _static_blocks(x, block_shape, "BatchToSpaceND")
    count = len(blocks)
    cut = constant_input(crops, "crops").astype(np.int64).reshape(count, 2)
    grid = ops.Reshape(x, i64(blocks + [-1] + rest), special_zero=False)
    order = [count] + [a for i in range(count) for a in (count + 1 + i, i)] + list(range(2 * count + 1, count + 1 + len(rest)))
    moved = ops.Transpose(grid, i64(order))
    sizes = [rest[i] * blocks[i] for i in range(count)]
    merged = ops.Reshape(moved, i64([-1] + sizes + rest[count:]), special_zero=False)
    if not cut.any():
        return merged
    starts = cut[:, 0].tolist()
    stops = [size - int(end) for size, end in zip(sizes, cut[:, 1])]
    return Slice(merged, i64(starts), i64(stops), i64([1] * count), i64(list(range(1, count + 1))))


HANDLERS: dict[str, Handler] = {
    "Reshape": Reshape,
    "Squeeze": Squeeze,
    "ExpandDims": ExpandDims,
    "ConcatV2": ConcatV2,
    "Concat": Concat,
    "Pack": Pack,
    "Unpack": Unpack,
    "Transpose": Transpose,
    "Pad": Pad,
    "PadV2": PadV2,
    "MirrorPad": MirrorPad,
    "Tile": Tile,
    "Split": Split,
    "SplitV": SplitV,
    "BroadcastTo": BroadcastTo,
    "SpaceToDepth": SpaceToDepth,
    "DepthToSpace": DepthToSpace,
    "SpaceToBatchND": SpaceToBatchND,
    "BatchToSpaceND": BatchToSpaceND,
}
