"""Lowerings for shape-manipulation ops (IR semantics, spelled in ONNX opset 21)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from converter.ir.graph import Node, Value
from converter.ir.types import ElementType
from converter.ops import shape as ops
from converter.ops.spec import OpSpec, const_ints, normalize_axis
from converter.runtime.lowering.context import LoweringContext, LoweringFn

INT64 = onnx.TensorProto.INT64
INT64_MAX = int(np.iinfo(np.int64).max)
INT64_MIN = int(np.iinfo(np.int64).min)


# ---------------------------------------------------------------- helpers shared with lowering/indexing.py


def as_int64(ctx: LoweringContext, value: Value, name: str) -> str:
    """`name` as int64 (the IR allows i32 and other integer types where ONNX wants int64)."""
    if value.element_type is ElementType.i64:
        return name
    return ctx.emit1("Cast", [name], to=INT64)


def as_int64_vector(ctx: LoweringContext, value: Value, name: str) -> str:
    """An int64 1D tensor (the IR often allows scalars where ONNX wants a 1D tensor)."""
    name = as_int64(ctx, value, name)
    if value.shape.rank == 1:
        return name
    return ctx.emit1("Reshape", [name, ctx.int64s([-1])])


def constant_axis(node: Node, index: int, rank: int | None) -> int:
    """A constant scalar axis input, normalized when the rank is known."""
    axis = const_ints(node.inputs[index])
    if axis is None or len(axis) != 1:
        raise NotImplementedError(f"{node.op.type} with a non-constant axis cannot be lowered to ONNX")
    return normalize_axis(axis[0], rank)


def known_rank(node: Node, index: int = 0) -> int:
    rank = node.inputs[index].shape.rank
    if rank is None:
        raise NotImplementedError(f"{node.op.type} on an input of unknown rank cannot be lowered to ONNX")
    return rank


def runtime_dim(ctx: LoweringContext, data: str, axis: int) -> str:
    """One dimension of `data` as an int64 tensor of shape [1]."""
    return ctx.emit1("Shape", [data], start=axis, end=axis + 1)


def scalar(ctx: LoweringContext, vector: str) -> str:
    return ctx.emit1("Reshape", [vector, ctx.int64s([])])


def axis_slice(ctx: LoweringContext, data: str, axis: int, start: int, stop: int, step: int = 1) -> str:
    return ctx.emit1("Slice", [data, ctx.int64s([start]), ctx.int64s([stop]), ctx.int64s([axis]), ctx.int64s([step])])


# ---------------------------------------------------------------- Reshape / Transpose


def reshape(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data, pattern = inputs
    pattern = as_int64_vector(ctx, node.inputs[1], pattern)
    # IR special_zero=true copies a 0 from the input, which is ONNX allowzero=0.
    return [ctx.emit1("Reshape", [data, pattern], allowzero=0 if node.attrs["special_zero"] else 1)]


def transpose(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    permutation = const_ints(node.inputs[1])
    if permutation is not None:
        return [ctx.emit1("Transpose", [inputs[0]], perm=permutation or None)]
    rank = known_rank(node)
    order_length = node.inputs[1].shape[0] if node.inputs[1].shape.rank == 1 else None
    if order_length == 0:
        return [ctx.emit1("Transpose", [inputs[0]])]
    if order_length != rank:
        raise NotImplementedError("Transpose with a non-constant order of unknown length cannot be lowered")
    return [_transpose_by_gather(ctx, inputs[0], as_int64_vector(ctx, node.inputs[1], inputs[1]), rank)]


def _transpose_by_gather(ctx: LoweringContext, data: str, order: str, rank: int) -> str:
    """A runtime permutation: gather the flat input at each output element's source offset."""
    if rank == 0:
        return ctx.emit1("Identity", [data])
    shape = ctx.emit1("Shape", [data])
    strides = ctx.emit1(
        "Concat",
        [ctx.emit1("ReduceProd", [axis_slice(ctx, shape, 0, k + 1, rank)], keepdims=1) for k in range(rank)],
        axis=0,
    )
    out_shape = ctx.emit1("Gather", [shape, order], axis=0)
    out_strides = ctx.emit1("Gather", [strides, order], axis=0)
    offsets = ""
    for i in range(rank):
        size = scalar(ctx, axis_slice(ctx, out_shape, 0, i, i + 1))
        positions = ctx.emit1("Range", [ctx.constant(np.int64(0)), size, ctx.constant(np.int64(1))])
        scaled = ctx.emit1("Mul", [positions, axis_slice(ctx, out_strides, 0, i, i + 1)])
        aligned = ctx.emit1("Reshape", [scaled, ctx.int64s([-1 if j == i else 1 for j in range(rank)])])
        offsets = aligned if not offsets else ctx.emit1("Add", [offsets, aligned])
    flat = ctx.emit1("Reshape", [data, ctx.int64s([-1])])
    return ctx.emit1("Gather", [flat, offsets], axis=0)


# ---------------------------------------------------------------- Squeeze / Unsqueeze / Concat


def squeeze(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    """Squeeze-1: listed axes (or all, without a list) are removed only where the size is 1."""
    data = node.inputs[0]
    dims = data.shape.dims
    listed: list[int] | None
    if len(inputs) == 1:
        listed = None
    else:
        listed = const_ints(node.inputs[1])
        if listed == []:
            listed = None
        elif listed is None and dims is not None:
            return [_squeeze_runtime(ctx, inputs[0], _runtime_listed_mask(ctx, node, inputs))]
        elif listed is None:
            raise NotImplementedError("Squeeze with non-constant axes on an input of unknown rank cannot be lowered")
    if dims is None:
        if listed is not None:
            raise NotImplementedError("Squeeze with axes on an input of unknown rank cannot be lowered")
        return [_squeeze_runtime(ctx, inputs[0], None)]
    candidates = range(len(dims)) if listed is None else sorted({normalize_axis(a, len(dims)) for a in listed})
    if all(dims[a] is not None for a in candidates):
        removed = [a for a in candidates if dims[a] == 1]
        if not removed:
            return [ctx.emit1("Identity", [inputs[0]])]
        return [ctx.emit1("Squeeze", [inputs[0], ctx.int64s(removed)])]
    mask = ctx.constant(np.array([i in candidates for i in range(len(dims))], dtype=bool))
    return [_squeeze_runtime(ctx, inputs[0], mask)]


def _squeeze_runtime(ctx: LoweringContext, data: str, listed_mask: str | None) -> str:
    shape = ctx.emit1("Shape", [data])
    removable = ctx.emit1("Equal", [shape, ctx.int64s([1])])
    if listed_mask is not None:
        removable = ctx.emit1("And", [removable, listed_mask])
    kept = ctx.emit1("Compress", [shape, ctx.emit1("Not", [removable])], axis=0)
    return ctx.emit1("Reshape", [data, kept], allowzero=1)


def _runtime_listed_mask(ctx: LoweringContext, node: Node, inputs: list[str]) -> str:
    rank = known_rank(node)
    axes = as_int64_vector(ctx, node.inputs[1], inputs[1])
    normalized = ctx.emit1("Mod", [ctx.emit1("Add", [axes, ctx.int64s([rank])]), ctx.int64s([rank])])
    positions = ctx.int64s([[i] for i in range(rank)])
    matches = ctx.emit1("Cast", [ctx.emit1("Equal", [positions, ctx.emit1("Unsqueeze", [normalized, ctx.int64s([0])])])], to=INT64)
    return ctx.emit1("Cast", [ctx.emit1("ReduceMax", [matches, ctx.int64s([1])], keepdims=0)], to=onnx.TensorProto.BOOL)


def unsqueeze(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [ctx.emit1("Unsqueeze", [inputs[0], as_int64_vector(ctx, node.inputs[1], inputs[1])])]


def concat(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [ctx.emit1("Concat", inputs, axis=node.attrs["axis"])]


# ---------------------------------------------------------------- Split / VariadicSplit


def split(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    axis = constant_axis(node, 1, node.inputs[0].shape.rank)
    count = node.attrs["num_splits"]
    if count == 1:
        return [ctx.emit1("Identity", [inputs[0]])]
    outputs = ctx.emit("Split", [inputs[0]], count, axis=axis)
    # `num_outputs` cannot be passed through emit(), whose own parameter has that name.
    ctx.nodes[-1].attribute.append(helper.make_attribute("num_outputs", count))
    return outputs


def variadic_split(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data = node.inputs[0]
    axis = constant_axis(node, 1, data.shape.rank)
    count = len(node.outputs)
    lengths = const_ints(node.inputs[2])
    if lengths is not None and -1 not in lengths:
        lengths_name = ctx.int64s(lengths)
    else:
        if axis < 0:
            axis = normalize_axis(axis, known_rank(node))
        lengths_name = _resolve_minus_one(ctx, as_int64_vector(ctx, node.inputs[2], inputs[2]), runtime_dim(ctx, inputs[0], axis))
    return ctx.emit("Split", [inputs[0], lengths_name], count, axis=axis)


def _resolve_minus_one(ctx: LoweringContext, lengths: str, total: str) -> str:
    """Replace a -1 in `lengths` by what the others leave of `total`."""
    zero = ctx.int64s([0])
    is_rest = ctx.emit1("Equal", [lengths, ctx.int64s([-1])])
    known = ctx.emit1("ReduceSum", [ctx.emit1("Where", [is_rest, zero, lengths])], keepdims=1)
    rest = ctx.emit1("Sub", [total, known])
    return ctx.emit1("Where", [is_rest, rest, lengths])


# ---------------------------------------------------------------- Broadcast / Tile


def broadcast(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    target = as_int64_vector(ctx, node.inputs[1], inputs[1])
    data = inputs[0]
    if node.attrs["mode"] == "explicit":
        length = node.inputs[1].shape[0] if node.inputs[1].shape.rank == 1 else None
        if length is None:
            raise NotImplementedError("Broadcast explicit with a target of unknown length cannot be lowered")
        mapping = as_int64_vector(ctx, node.inputs[2], inputs[2])
        aligned = ctx.emit1("ScatterElements", [ctx.int64s([1] * length), mapping, ctx.emit1("Shape", [data])], axis=0)
        data = ctx.emit1("Reshape", [data, aligned])
    # numpy mode is bidirectional broadcasting restricted to valid targets, so Expand covers both.
    return [ctx.emit1("Expand", [data, target])]


def tile(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    rank = known_rank(node)
    repeats_value = node.inputs[1]
    count = repeats_value.shape[0] if repeats_value.shape.rank == 1 else (1 if repeats_value.shape.rank == 0 else None)
    if count is None:
        raise NotImplementedError("Tile with repeats of unknown length cannot be lowered")
    data, repeats = inputs[0], as_int64_vector(ctx, repeats_value, inputs[1])
    if count < rank:
        repeats = ctx.emit1("Concat", [ctx.int64s([1] * (rank - count)), repeats], axis=0)
    elif count > rank:
        data = ctx.emit1("Unsqueeze", [data, ctx.int64s(list(range(count - rank)))])
    return [ctx.emit1("Tile", [data, repeats])]


# ---------------------------------------------------------------- Pad


def pad(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    mode = node.attrs["pad_mode"]
    if mode == "symmetric":
        return [_symmetric_pad(ctx, node, inputs[0])]
    begin = as_int64_vector(ctx, node.inputs[1], inputs[1])
    end = as_int64_vector(ctx, node.inputs[2], inputs[2])
    pads = ctx.emit1("Concat", [begin, end], axis=0)
    operands = [inputs[0], pads]
    if mode == "constant" and len(inputs) > 3:
        operands.append(scalar(ctx, inputs[3]) if node.inputs[3].shape.rank != 0 else inputs[3])
    return [ctx.emit1("Pad", operands, mode=mode)]


def _symmetric_pad(ctx: LoweringContext, node: Node, data: str) -> str:
    begin, end = const_ints(node.inputs[1]), const_ints(node.inputs[2])
    if begin is None or end is None:
        raise NotImplementedError("Pad symmetric with non-constant pads cannot be lowered to ONNX")
    for axis, (before, after) in enumerate(zip(begin, end)):
        if before < 0 or after < 0:
            stop = after if after < 0 else INT64_MAX
            data = axis_slice(ctx, data, axis, max(-before, 0), stop)
        parts = []
        if before > 0:
            parts.append(axis_slice(ctx, data, axis, before - 1, INT64_MIN, -1))
        parts.append(data)
        if after > 0:
            parts.append(axis_slice(ctx, data, axis, -1, -1 - after, -1))
        if len(parts) > 1:
            data = ctx.emit1("Concat", parts, axis=axis)
    return data


# ---------------------------------------------------------------- DepthToSpace / SpaceToDepth


def depth_to_space(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    rank = known_rank(node)
    block, mode = node.attrs["block_size"], node.attrs["mode"]
    if rank == 4:
        onnx_mode = "DCR" if mode == "blocks_first" else "CRD"
        return [ctx.emit1("DepthToSpace", inputs, blocksize=block, mode=onnx_mode)]
    k = rank - 2
    data = inputs[0]
    dims = [runtime_dim(ctx, data, i) for i in range(rank)]
    depth = ctx.emit1("Div", [dims[1], ctx.int64s([block**k])])
    blocks = [ctx.int64s([block])] * k
    if mode == "blocks_first":
        split_shape = [dims[0], *blocks, depth, *dims[2:]]
        order = [0, k + 1] + [axis for i in range(k) for axis in (k + 2 + i, 1 + i)]
    else:
        split_shape = [dims[0], depth, *blocks, *dims[2:]]
        order = [0, 1] + [axis for i in range(k) for axis in (k + 2 + i, 2 + i)]
    split_data = ctx.emit1("Reshape", [data, ctx.emit1("Concat", split_shape, axis=0)])
    moved = ctx.emit1("Transpose", [split_data], perm=order)
    out_shape = [dims[0], depth] + [ctx.emit1("Mul", [d, ctx.int64s([block])]) for d in dims[2:]]
    return [ctx.emit1("Reshape", [moved, ctx.emit1("Concat", out_shape, axis=0)])]


def space_to_depth(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    rank = known_rank(node)
    block, mode = node.attrs["block_size"], node.attrs["mode"]
    if rank == 4 and mode == "blocks_first":
        return [ctx.emit1("SpaceToDepth", inputs, blocksize=block)]
    k = rank - 2
    data = inputs[0]
    dims = [runtime_dim(ctx, data, i) for i in range(rank)]
    coarse_dims = [ctx.emit1("Div", [d, ctx.int64s([block])]) for d in dims[2:]]
    split_shape = [dims[0], dims[1]] + [v for c in coarse_dims for v in (c, ctx.int64s([block]))]
    split_data = ctx.emit1("Reshape", [data, ctx.emit1("Concat", split_shape, axis=0)])
    blocks = [3 + 2 * i for i in range(k)]
    coarse = [2 + 2 * i for i in range(k)]
    order = [0] + blocks + [1] + coarse if mode == "blocks_first" else [0, 1] + blocks + coarse
    moved = ctx.emit1("Transpose", [split_data], perm=order)
    depth = ctx.emit1("Mul", [dims[1], ctx.int64s([block**k])])
    return [ctx.emit1("Reshape", [moved, ctx.emit1("Concat", [dims[0], depth, *coarse_dims], axis=0)])]


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.Reshape: reshape,
    ops.Transpose: transpose,
    ops.Squeeze: squeeze,
    ops.Unsqueeze: unsqueeze,
    ops.Concat: concat,
    ops.Split: split,
    ops.VariadicSplit: variadic_split,
    ops.Broadcast: broadcast,
    ops.Tile: tile,
    ops.Pad: pad,
    ops.DepthToSpace: depth_to_space,
    ops.SpaceToDepth: space_to_depth,
}
