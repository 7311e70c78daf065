"""TFLite shape ops → IR shape ops: RESHAPE, SQUEEZE, EXPAND_DIMS, CONCATENATION, PAD, PADV2, TRANSPOSE,
PACK, UNPACK, SPLIT, SPLIT_V, TILE, BROADCAST_TO, MIRROR_PAD, REVERSE_V2, SPACE_TO_DEPTH,
DEPTH_TO_SPACE, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND. They move values without computing new ones.

SPACE_TO_DEPTH / DEPTH_TO_SPACE work on NHWC images, the channel index being
(row in the block · block + column in the block) · channels + channel: the IR's blocks_first, in
NCHW between Transposes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import (
    as_i64,
    check_rank,
    checked_axis,
    constant_ints,
    fused_activation,
    i64,
    known_rank,
    nchw,
    nhwc,
)
from converter.frontends.tflite.tensors import Unsupported
from converter.ir.graph import Value
from converter.ops import shape as ops
from converter.ops.core import const
from converter.ops.indexing import Gather, Slice
from converter.ops.spec import const_ints


def RESHAPE(ctx: TFLiteContext, x: Value, shape: Value | None = None, *, new_shape: Sequence[int] | None = None) -> Value:
    """The target is the shape input when it is a vector, else the new_shape option ([0] in old
    files means a scalar). -1 is inferred; 0 is a zero-sized dimension."""
    if shape is not None and shape.shape.rank == 1:
        return ops.Reshape(x, as_i64(shape), special_zero=False)
    if new_shape is None:
        raise Unsupported("RESHAPE without a shape vector or a new_shape option")
    target = [] if list(new_shape) == [0] else [int(d) for d in new_shape]
    return ops.Reshape(x, i64(target), special_zero=False)


def SQUEEZE(ctx: TFLiteContext, x: Value, *, squeeze_dims: Sequence[int] | None = None) -> Value:
    """The listed axes (each of size 1), or every axis known to be 1."""
    dims = x.shape.dims
    if squeeze_dims:
        if dims is not None:
            for axis in squeeze_dims:
                size = dims[checked_axis(axis, len(dims), "SQUEEZE")]
                if size not in (1, None):
                    raise Unsupported(f"SQUEEZE: dimension {axis} has size {size}, not 1")
        return ops.Squeeze(x, i64(list(squeeze_dims)))
    if dims is None:
        return ops.Squeeze(x)
    return ops.Squeeze(x, i64([i for i, d in enumerate(dims) if d == 1]))


def EXPAND_DIMS(ctx: TFLiteContext, x: Value, axis: Value) -> Value:
    """A negative axis counts from the end of the result, as the IR's Unsqueeze does."""
    return ops.Unsqueeze(x, as_i64(axis))


def CONCATENATION(ctx: TFLiteContext, *values: Value, axis: int = 0, fused_activation_function: str = "NONE") -> Value:
    if not values:
        raise Unsupported("CONCATENATION needs at least one input")
    rank = values[0].shape.rank
    if rank is not None:
        axis = checked_axis(axis, rank, "CONCATENATION")
    y = values[0] if len(values) == 1 else ops.Concat(*values, axis=axis)
    return fused_activation(y, fused_activation_function)


def _pads(paddings: Value) -> tuple[Value, Value]:
    """paddings [rank, 2] → (pads_begin, pads_end)."""
    if paddings.const is not None:
        array = np.asarray(paddings.const).astype(np.int64)
        if array.ndim != 2 or array.shape[1] != 2:
            raise Unsupported(f"paddings of shape {list(array.shape)}, expected [rank, 2]")
        return i64(array[:, 0].tolist()), i64(array[:, 1].tolist())
    pads = as_i64(paddings)
    return Gather(pads, i64(0), i64(1)), Gather(pads, i64(1), i64(1))


def PAD(ctx: TFLiteContext, x: Value, paddings: Value) -> Value:
    """Pads with zeros (for a quantized tensor: its zero point, the real 0)."""
    begin, end = _pads(paddings)
    return ops.Pad(x, begin, end, const(np.zeros((), dtype=x.element_type.numpy)), pad_mode="constant")


def PADV2(ctx: TFLiteContext, x: Value, paddings: Value, constant_values: Value | None = None) -> Value:
    if constant_values is None:
        return PAD(ctx, x, paddings)
    begin, end = _pads(paddings)
    fill = constant_values if constant_values.shape.rank == 0 else ops.Reshape(constant_values, i64([]), special_zero=False)
    return ops.Pad(x, begin, end, fill, pad_mode="constant")


def TRANSPOSE(ctx: TFLiteContext, x: Value, perm: Value) -> Value:
    order = const_ints(perm)
    if order is not None and x.shape.rank is not None and sorted(order) != list(range(x.shape.rank)):
        raise Unsupported(f"TRANSPOSE: {order} is not a permutation of {x.shape.rank} axes")
    return ops.Transpose(x, as_i64(perm))


def PACK(ctx: TFLiteContext, *values: Value, values_count: int = 0, axis: int = 0) -> Value:
    """The inputs stacked along a new axis `axis` of the result."""
    if not values:
        raise Unsupported("PACK needs at least one input")
    if values_count and values_count != len(values):
        raise Unsupported(f"PACK: values_count {values_count} for {len(values)} inputs")
    rank = values[0].shape.rank
    if rank is not None:
        axis = checked_axis(axis, rank + 1, "PACK")
    elif axis < 0:
        raise Unsupported("PACK: a negative axis needs the inputs' rank")
    items = [ops.Unsqueeze(v, i64([axis])) for v in values]
    return items[0] if len(items) == 1 else ops.Concat(*items, axis=axis)


def UNPACK(ctx: TFLiteContext, x: Value, *, num: int = 0, axis: int = 0) -> list[Value]:
    """x cut along `axis` into its slices, the axis removed."""
    axis = checked_axis(axis, known_rank(x, "UNPACK"), "UNPACK")
    count = num or len(ctx.output_tensors)
    size = x.shape[axis]
    if size is not None and size != count:
        raise Unsupported(f"UNPACK: {count} outputs from an axis of {size}")
    if count == 1:
        return [ops.Squeeze(x, i64([axis]))]
    parts = ops.Split.node(x, i64(axis), num_splits=count).outputs
    return [ops.Squeeze(part, i64([axis])) for part in parts]


def SPLIT(ctx: TFLiteContext, axis: Value, x: Value, *, num_splits: int = 0) -> list[Value]:
    count = num_splits or len(ctx.output_tensors)
    if count == 1:
        return [x]
    return list(ops.Split.node(x, as_i64(axis), num_splits=count).outputs)


def SPLIT_V(ctx: TFLiteContext, x: Value, size_splits: Value, axis: Value, *, num_splits: int = 0) -> list[Value]:
    """Parts of the given sizes along the axis (one size may be -1: the rest)."""
    if len(ctx.output_tensors) == 1:
        return [x]
    return list(ops.VariadicSplit.node(x, as_i64(axis), as_i64(size_splits)).outputs)


def TILE(ctx: TFLiteContext, x: Value, multiples: Value) -> Value:
    return ops.Tile(x, as_i64(multiples))


def BROADCAST_TO(ctx: TFLiteContext, x: Value, shape: Value) -> Value:
    return ops.Broadcast(x, as_i64(shape), mode="numpy")


MIRROR_MODES = {"REFLECT": "reflect", "SYMMETRIC": "symmetric"}


def MIRROR_PAD(ctx: TFLiteContext, x: Value, paddings: Value, *, mode: str = "REFLECT") -> Value:
    """REFLECT mirrors around the edge element, SYMMETRIC repeats it."""
    begin, end = _pads(paddings)
    return ops.Pad(x, begin, end, pad_mode=MIRROR_MODES[mode])


def REVERSE_V2(ctx: TFLiteContext, x: Value, axis: Value) -> Value:
    rank = known_rank(x, "REVERSE_V2")
    axes = sorted({checked_axis(a, rank, "REVERSE_V2") for a in constant_ints(axis, "the axes")})
    if not axes:
        return x
    count = len(axes)
    return Slice(x, i64([-1] * count), i64([np.iinfo(np.int64).min] * count), i64([-1] * count), i64(axes))


def SPACE_TO_DEPTH(ctx: TFLiteContext, x: Value, *, block_size: int = 0) -> Value:
    check_rank(x, 4, "SPACE_TO_DEPTH")
    if block_size < 1:
        raise Unsupported(f"block_size {block_size}")
    return nhwc(ops.SpaceToDepth(nchw(x), block_size=block_size, mode="blocks_first"))


def DEPTH_TO_SPACE(ctx: TFLiteContext, x: Value, *, block_size: int = 0) -> Value:
    check_rank(x, 4, "DEPTH_TO_SPACE")
    if block_size < 1:
        raise Unsupported(f"block_size {block_size}")
    return nhwc(ops.DepthToSpace(nchw(x), block_size=block_size, mode="blocks_first"))


def _blocks(x: Value, block_shape: Value, what: str) -> tuple[list[int], list[int]]:
    """The block sizes and x's dims after the batch (static: the reshapes need them)."""
    blocks = constant_ints(block_shape, "block_shape")
    dims = x.shape.dims
    if dims is None or any(d is None for d in dims[1:]):
        raise Unsupported(f"{what} needs the dimensions after the batch to be known, has {x.shape}")
    if len(blocks) > len(dims) - 1 or any(b < 1 for b in blocks):
        raise Unsupported(f"{what}: block_shape {blocks} for an input of shape {list(dims)}")
    return blocks, list(dims[1:])  # type: ignore[arg-type]


def _pairs(value: Value, count: int, what: str) -> np.ndarray:
    array = np.array(constant_ints(value, what), dtype=np.int64)
    if array.size != 2 * count:
        raise Unsupported(f"{what} has {array.size} entries, expected [{count}, 2]")
    return array.reshape(count, 2)


def SPACE_TO_BATCH_ND(ctx: TFLiteContext, x: Value, block_shape: Value, paddings: Value) -> Value:
    """Pad the block dims (with zeros: a quantized tensor's zero point), split each into
    (size / block, block) and move the blocks in front of the batch, block-major."""
    blocks, rest = _blocks(x, block_shape, "SPACE_TO_BATCH_ND")
    count = len(blocks)
    pads = _pairs(paddings, count, "paddings")
    zeros = [0] * (len(rest) - count)
    padded = ops.Pad(
        x, i64([0, *pads[:, 0].tolist(), *zeros]), i64([0, *pads[:, 1].tolist(), *zeros]), const(np.zeros((), x.element_type.numpy))
    )
    sizes = [rest[i] + int(pads[i].sum()) for i in range(count)]
    if any(size % block for size, block in zip(sizes, blocks)):
        raise Unsupported(f"padded sizes {sizes} are not multiples of the blocks {blocks}")
    split = [0] + [d for size, block in zip(sizes, blocks) for d in (size // block, block)] + rest[count:]
    grid = ops.Reshape(padded, i64(split), special_zero=True)  # 0 keeps the (maybe dynamic) batch
    order = [2 + 2 * i for i in range(count)] + [0] + [1 + 2 * i for i in range(count)] + list(range(1 + 2 * count, len(split)))
    moved = ops.Transpose(grid, i64(order))
    return ops.Reshape(moved, i64([-1] + [size // block for size, block in zip(sizes, blocks)] + rest[count:]), special_zero=False)


def BATCH_TO_SPACE_ND(ctx: TFLiteContext, x: Value, block_shape: Value, crops: Value) -> Value:
    """The inverse of SPACE_TO_BATCH_ND: the blocks out of the batch into the block dims, then cropped."""
    blocks, rest = _blocks(x, block_shape, "BATCH_TO_SPACE_ND")
    count = len(blocks)
    cut = _pairs(crops, count, "crops")
    grid = ops.Reshape(x, i64(blocks + [-1] + rest), special_zero=False)
    order = [count] + [a for i in range(count) for a in (count + 1 + i, i)] + list(range(2 * count + 1, count + 1 + len(rest)))
    moved = ops.Transpose(grid, i64(order))
    sizes = [rest[i] * blocks[i] for i in range(count)]
    merged = ops.Reshape(moved, i64([-1] + sizes + rest[count:]), special_zero=False)
    if not cut.any():
        return merged
    stops = [size - int(end) for size, end in zip(sizes, cut[:, 1])]
    return Slice(merged, i64(cut[:, 0].tolist()), i64(stops), i64([1] * count), i64(list(range(1, count + 1))))


HANDLERS: dict[str, Handler] = {
    "RESHAPE": RESHAPE,
    "SQUEEZE": SQUEEZE,
    "EXPAND_DIMS": EXPAND_DIMS,
    "CONCATENATION": CONCATENATION,
    "PAD": PAD,
    "PADV2": PADV2,
    "TRANSPOSE": TRANSPOSE,
    "PACK": PACK,
    "UNPACK": UNPACK,
    "SPLIT": SPLIT,
    "SPLIT_V": SPLIT_V,
    "TILE": TILE,
    "BROADCAST_TO": BROADCAST_TO,
    "MIRROR_PAD": MIRROR_PAD,
    "REVERSE_V2": REVERSE_V2,
    "SPACE_TO_DEPTH": SPACE_TO_DEPTH,
    "DEPTH_TO_SPACE": DEPTH_TO_SPACE,
    "SPACE_TO_BATCH_ND": SPACE_TO_BATCH_ND,
    "BATCH_TO_SPACE_ND": BATCH_TO_SPACE_ND,
}
# Ops that move values without computing new ones: on the input's grid, the output needs no rounding.
GRID_PRESERVING: frozenset[str] = frozenset(HANDLERS)
