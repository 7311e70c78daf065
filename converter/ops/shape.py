"""Shape manipulation: Reshape, Transpose, Squeeze, Unsqueeze, Concat, Split, Broadcast, Tile, Pad, ..."""

from __future__ import annotations

import math

from collections.abc import Sequence
from typing import Any

import numpy as np

from converter.ir.graph import Node, Value
from converter.ir.types import Dim, Shape, TensorType
from converter.ops.spec import (
    Attr,
    AttrKind,
    OpSpec,
    REQUIRED,
    broadcast_dims,
    const_ints,
    normalize_axis,
    tensor,
)


def _product(dims: Sequence[int]) -> int:
    return math.prod(int(d) for d in dims)  # exact: an int64 product wraps on hostile shapes


def _scalar_int(value: Value) -> int | None:
    ints = const_ints(value)
    return None if ints is None or len(ints) != 1 else ints[0]


# ---------------------------------------------------------------- Reshape-1


def _infer_reshape(node: Node) -> list[TensorType]:
    data, target = node.inputs
    element_type = data.element_type
    pattern = const_ints(target)
    if pattern is None:
        length = target.shape[0] if target.shape.rank == 1 else (0 if target.shape.rank == 0 else None)
        return [tensor(element_type, None if length is None else [None] * length)]
    dims: list[Dim] = []
    for index, value in enumerate(pattern):
        if value == 0 and node.attrs["special_zero"]:
            if data.shape.rank is not None and index >= data.shape.rank:
                raise ValueError(f"Reshape: special zero at {index} is beyond the input rank {data.shape.rank}")
            dims.append(data.shape[index])
        elif value < -1:
            raise ValueError(f"Reshape: invalid target dimension {value}")
        else:
            dims.append(value)
    if dims.count(-1) > 1:
        raise ValueError("Reshape: more than one -1 in the target shape")
    if -1 in dims:
        position = dims.index(-1)
        # Dims copied by special zero are the same on both sides: leave them out of the
        # product, so [B, S, 384] → [0, 0, -1, 32] still gives 12 with B and S dynamic.
        copied = {i for i, v in enumerate(pattern) if v == 0 and node.attrs["special_zero"]}
        known = [d for i, d in enumerate(dims) if i != position and i not in copied]
        source = [d for i, d in enumerate(data.shape.dims or ()) if i not in copied]
        if data.shape.dims is not None and all(d is not None for d in known + source):
            total = _product(source)  # type: ignore[arg-type]
            rest = _product(known)  # type: ignore[arg-type]
            if rest == 0 or total % rest:
                raise ValueError(f"Reshape: cannot reshape {data.shape} to {pattern}")
            dims[position] = total // rest
        else:
            dims[position] = None
    elif data.shape.is_static and all(d is not None for d in dims):
        if _product(data.shape.static) != _product(dims):  # type: ignore[arg-type]
            raise ValueError(f"Reshape: cannot reshape {data.shape} to {pattern}")
    return [tensor(element_type, dims)]


def _reshape_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, pattern = inputs
    dims = [int(v) for v in pattern.reshape(-1)]
    if attrs["special_zero"]:
        dims = [data.shape[i] if v == 0 else v for i, v in enumerate(dims)]
    return [data.reshape(dims)]


Reshape = OpSpec("Reshape", "opset1", (Attr("special_zero", AttrKind.BOOL, REQUIRED),), _infer_reshape, _reshape_kernel)


# ---------------------------------------------------------------- Transpose-1


def _infer_transpose(node: Node) -> list[TensorType]:
    data, order = node.inputs
    permutation = const_ints(order)
    rank = data.shape.rank
    if rank is None:
        length = None if permutation is None else len(permutation) or None
        return [tensor(data.element_type, None if length is None else [None] * length)]
    if permutation is None:
        return [tensor(data.element_type, [None] * rank)]
    if not permutation:
        permutation = list(range(rank))[::-1]
    if sorted(normalize_axis(p, rank) for p in permutation) != list(range(rank)):
        raise ValueError(f"Transpose: {permutation} is not a permutation of {rank} axes")
    return [tensor(data.element_type, [data.shape[p] for p in permutation])]


def _transpose_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, order = inputs
    axes = [int(v) for v in order.reshape(-1)] or None
    return [np.transpose(data, axes)]


Transpose = OpSpec("Transpose", "opset1", (), _infer_transpose, _transpose_kernel)


# ---------------------------------------------------------------- Squeeze-1 / Unsqueeze-1


def _infer_squeeze(node: Node) -> list[TensorType]:
    """Squeeze-1: a listed axis whose dimension is not 1 is kept; a dynamic one is squeezed."""
    data = node.inputs[0]
    dims = data.shape.dims
    if dims is None:
        return [tensor(data.element_type, None)]
    if len(node.inputs) == 1:
        if None in dims:
            return [tensor(data.element_type, None)]
        return [tensor(data.element_type, [d for d in dims if d != 1])]
    axes = const_ints(node.inputs[1])
    if axes is None:
        return [tensor(data.element_type, None)]
    if not axes:
        # An empty axes list squeezes every 1, like no axes at all.
        if None in dims:
            return [tensor(data.element_type, None)]
        return [tensor(data.element_type, [d for d in dims if d != 1])]
    listed = {normalize_axis(a, len(dims)) for a in axes}
    if any(not 0 <= a < len(dims) for a in listed):
        raise ValueError(f"Squeeze: axes {axes} out of range for rank {len(dims)}")
    return [tensor(data.element_type, [d for i, d in enumerate(dims) if not (i in listed and d in (1, None))])]


def _squeeze_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data = inputs[0]
    if len(inputs) == 1 or inputs[1].size == 0:
        return [np.squeeze(data)]
    listed = {normalize_axis(int(a), data.ndim) for a in inputs[1].reshape(-1)}
    return [np.squeeze(data, axis=tuple(sorted(a for a in listed if data.shape[a] == 1)))]


Squeeze = OpSpec("Squeeze", "opset1", (), _infer_squeeze, _squeeze_kernel)


def _infer_unsqueeze(node: Node) -> list[TensorType]:
    data, axes_value = node.inputs
    axes = const_ints(axes_value)
    if data.shape.dims is None:
        return [tensor(data.element_type, None)]
    if axes is None:
        count = {0: 1, 1: axes_value.shape[0]}.get(axes_value.shape.rank)  # type: ignore[arg-type]
        return [tensor(data.element_type, None if count is None else [None] * (data.shape.rank + count))]
    rank = data.shape.rank + len(axes)
    positions = sorted(normalize_axis(a, rank) for a in axes)
    if len(set(positions)) != len(positions) or any(not 0 <= p < rank for p in positions):
        raise ValueError(f"Unsqueeze: invalid axes {axes} for output rank {rank}")
    dims = list(data.shape.dims)
    for position in positions:
        dims.insert(position, 1)
    return [tensor(data.element_type, dims)]


def _unsqueeze_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, axes = inputs
    rank = data.ndim + axes.size
    return [np.expand_dims(data, tuple(sorted(normalize_axis(int(a), rank) for a in axes.reshape(-1))))]


Unsqueeze = OpSpec("Unsqueeze", "opset1", (), _infer_unsqueeze, _unsqueeze_kernel)


# ---------------------------------------------------------------- Concat-1


def _infer_concat(node: Node) -> list[TensorType]:
    ranks = [v.shape.rank for v in node.inputs if v.shape.rank is not None]
    if not ranks:
        return [tensor(node.inputs[0].element_type, None)]
    rank = ranks[0]
    axis = normalize_axis(node.attrs["axis"], rank)
    if not 0 <= axis < rank:
        raise ValueError(f"Concat: axis {node.attrs['axis']} out of range for rank {rank}")
    dims: list[Dim] = [None] * rank
    total: Dim = 0
    for value in node.inputs:
        if value.shape.dims is None:
            total = None
            continue
        for i, d in enumerate(value.shape.dims):
            if i == axis:
                total = None if total is None or d is None else total + d
            elif dims[i] is None:
                dims[i] = d
    dims[axis] = total
    return [tensor(node.inputs[0].element_type, dims)]


def _concat_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    return [np.concatenate(inputs, axis=attrs["axis"])]


Concat = OpSpec("Concat", "opset1", (Attr("axis", AttrKind.INT, REQUIRED),), _infer_concat, _concat_kernel)


# ---------------------------------------------------------------- Split-1 / VariadicSplit-1


def _split_axis(node: Node) -> int | None:
    axis = _scalar_int(node.inputs[1])
    rank = node.inputs[0].shape.rank
    if axis is None or rank is None:
        return None
    axis = normalize_axis(axis, rank)
    if not 0 <= axis < rank:
        raise ValueError(f"{node.op.type}: axis out of range for rank {rank}")
    return axis


def _with_dim(dims: tuple[Dim, ...], axis: int, value: Dim) -> list[Dim]:
    result = list(dims)
    result[axis] = value
    return result


def _infer_split(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    count = node.attrs["num_splits"]
    if count < 1:
        raise ValueError("Split: num_splits must be positive")
    axis = _split_axis(node)
    if axis is None or data.shape.dims is None:
        dims = None if data.shape.dims is None else [None] * data.shape.rank  # type: ignore[operator]
        return [tensor(data.element_type, dims)] * count
    length = data.shape.dims[axis]
    if length is not None and length % count:
        raise ValueError(f"Split: dimension {length} does not divide into {count} parts")
    part = None if length is None else length // count
    return [tensor(data.element_type, _with_dim(data.shape.dims, axis, part))] * count


def _split_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, axis = inputs
    return list(np.split(data, attrs["num_splits"], axis=int(axis.reshape(-1)[0])))


Split = OpSpec("Split", "opset1", (Attr("num_splits", AttrKind.INT, REQUIRED),), _infer_split, _split_kernel)


def _infer_variadic_split(node: Node) -> list[TensorType]:
    data, _, lengths_value = node.inputs
    count = lengths_value.shape[0] if lengths_value.shape.rank == 1 else None
    if count is None:
        raise ValueError("VariadicSplit: the number of split lengths must be static")
    lengths = const_ints(lengths_value)
    axis = _split_axis(node)
    if data.shape.dims is None or axis is None:
        dims = None if data.shape.dims is None else [None] * len(data.shape.dims)
        return [tensor(data.element_type, dims)] * count
    if lengths is None:
        return [tensor(data.element_type, _with_dim(data.shape.dims, axis, None))] * count
    if lengths.count(-1) > 1:
        raise ValueError("VariadicSplit: more than one -1 in split_lengths")
    total = data.shape.dims[axis]
    resolved: list[Dim] = list(lengths)
    if -1 in lengths:
        known = sum(v for v in lengths if v != -1)
        resolved[lengths.index(-1)] = None if total is None else total - known
    elif total is not None and sum(lengths) != total:
        raise ValueError(f"VariadicSplit: lengths {lengths} do not add up to {total}")
    return [tensor(data.element_type, _with_dim(data.shape.dims, axis, d)) for d in resolved]


def _variadic_split_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, axis_array, lengths_array = inputs
    axis = normalize_axis(int(axis_array.reshape(-1)[0]), data.ndim)
    lengths = [int(v) for v in lengths_array.reshape(-1)]
    if -1 in lengths:
        lengths[lengths.index(-1)] = data.shape[axis] - (sum(lengths) + 1)
    offsets = np.cumsum(lengths)[:-1]
    return list(np.split(data, offsets, axis=axis))


VariadicSplit = OpSpec("VariadicSplit", "opset1", (), _infer_variadic_split, _variadic_split_kernel)


# ---------------------------------------------------------------- Broadcast-3


def _infer_broadcast(node: Node) -> list[TensorType]:
    data, target_value = node.inputs[:2]
    mode = node.attrs["mode"]
    target = const_ints(target_value)
    if target is None:
        length = target_value.shape[0] if target_value.shape.rank == 1 else None
        if length is None or mode == "bidirectional" and data.shape.rank is None:
            return [tensor(data.element_type, None)]
        rank = length if mode != "bidirectional" else max(length, data.shape.rank)  # type: ignore[type-var]
        return [tensor(data.element_type, [None] * rank)]
    target_shape = Shape(tuple(target))
    if mode == "bidirectional":
        return [TensorType(data.element_type, broadcast_dims(data.shape, target_shape))]
    if mode not in ("numpy", "explicit"):
        raise ValueError(f"Broadcast: unknown mode {mode!r}")
    return [TensorType(data.element_type, target_shape)]


def _broadcast_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, target_array = inputs[:2]
    target = tuple(int(v) for v in target_array.reshape(-1))
    mode = attrs["mode"]
    if mode == "bidirectional":
        return [np.asarray(np.broadcast_to(data, np.broadcast_shapes(data.shape, target)), order="C")]
    if mode == "explicit":
        mapping = [int(v) for v in inputs[2].reshape(-1)]
        aligned = [1] * len(target)
        for source, destination in enumerate(mapping):
            aligned[destination] = data.shape[source]
        data = data.reshape(aligned)
    return [np.asarray(np.broadcast_to(data, target), order="C")]


Broadcast = OpSpec("Broadcast", "opset3", (Attr("mode", AttrKind.STR, "numpy"),), _infer_broadcast, _broadcast_kernel)


# ---------------------------------------------------------------- Tile-1


def _infer_tile(node: Node) -> list[TensorType]:
    data, repeats_value = node.inputs
    repeats = const_ints(repeats_value)
    dims = data.shape.dims
    if repeats is None or dims is None:
        length = repeats_value.shape[0] if repeats_value.shape.rank == 1 else None
        if dims is None or length is None:
            return [tensor(data.element_type, None)]
        return [tensor(data.element_type, [None] * max(len(dims), length))]
    rank = max(len(dims), len(repeats))
    dims = (1,) * (rank - len(dims)) + dims
    repeats = [1] * (rank - len(repeats)) + repeats
    return [tensor(data.element_type, [None if d is None else d * r for d, r in zip(dims, repeats)])]


def _tile_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, repeats = inputs
    return [np.tile(data, [int(r) for r in repeats.reshape(-1)])]


Tile = OpSpec("Tile", "opset1", (), _infer_tile, _tile_kernel)


# ---------------------------------------------------------------- Pad-12

PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _infer_pad(node: Node) -> list[TensorType]:
    data, begin_value, end_value = node.inputs[:3]
    if node.attrs["pad_mode"] not in PAD_MODES:
        raise ValueError(f"Pad: unknown pad_mode {node.attrs['pad_mode']!r}")
    dims = data.shape.dims
    if dims is None:
        return [tensor(data.element_type, None)]
    begin, end = const_ints(begin_value), const_ints(end_value)
    if begin is None or end is None:
        return [tensor(data.element_type, [None] * len(dims))]
    if len(begin) != len(dims) or len(end) != len(dims):
        raise ValueError(f"Pad: pads {begin}, {end} do not match rank {len(dims)}")
    return [tensor(data.element_type, [None if d is None else d + b + e for d, b, e in zip(dims, begin, end)])]


_NUMPY_PAD_MODE = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def _pad_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data = inputs[0]
    begin = [int(v) for v in inputs[1].reshape(-1)]
    end = [int(v) for v in inputs[2].reshape(-1)]
    # Negative pads crop first, then the positive pads are added.
    crop = tuple(slice(max(-b, 0), d - max(-e, 0)) for d, b, e in zip(data.shape, begin, end))
    data = data[crop]
    widths = [(max(b, 0), max(e, 0)) for b, e in zip(begin, end)]
    mode = attrs["pad_mode"]
    if mode == "constant":
        value = inputs[3].reshape(()) if len(inputs) > 3 else 0
        return [np.pad(data, widths, mode="constant", constant_values=value)]
    return [np.pad(data, widths, mode=_NUMPY_PAD_MODE[mode])]


Pad = OpSpec("Pad", "opset12", (Attr("pad_mode", AttrKind.STR, "constant"),), _infer_pad, _pad_kernel)


# ---------------------------------------------------------------- DepthToSpace-1 / SpaceToDepth-1

BLOCK_MODES = ("blocks_first", "depth_first")


def _check_block_attrs(node: Node) -> tuple[int, str]:
    block, mode = node.attrs["block_size"], node.attrs["mode"]
    if block < 1 or mode not in BLOCK_MODES:
        raise ValueError(f"{node.op.type}: invalid block_size {block} or mode {mode!r}")
    return block, mode


def _infer_depth_to_space(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    block, _ = _check_block_attrs(node)
    dims = data.shape.dims
    if dims is None:
        return [tensor(data.element_type, None)]
    spatial = len(dims) - 2
    channels = dims[1]
    if channels is not None and channels % block**spatial:
        raise ValueError(f"DepthToSpace: {channels} channels do not divide by {block}^{spatial}")
    out = [dims[0], None if channels is None else channels // block**spatial]
    out += [None if d is None else d * block for d in dims[2:]]
    return [tensor(data.element_type, out)]


def _infer_space_to_depth(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    block, _ = _check_block_attrs(node)
    dims = data.shape.dims
    if dims is None:
        return [tensor(data.element_type, None)]
    spatial = len(dims) - 2
    if any(d is not None and d % block for d in dims[2:]):
        raise ValueError(f"SpaceToDepth: spatial dims {dims[2:]} do not divide by {block}")
    channels = dims[1]
    out = [dims[0], None if channels is None else channels * block**spatial]
    out += [None if d is None else d // block for d in dims[2:]]
    return [tensor(data.element_type, out)]


def depth_to_space_array(data: np.ndarray, block: int, mode: str) -> np.ndarray:
    batch, channels, *spatial = data.shape
    k = len(spatial)
    depth = channels // block**k
    if mode == "blocks_first":
        split = data.reshape([batch] + [block] * k + [depth] + spatial)
        order = [0, k + 1] + [axis for i in range(k) for axis in (k + 2 + i, 1 + i)]
    else:
        split = data.reshape([batch, depth] + [block] * k + spatial)
        order = [0, 1] + [axis for i in range(k) for axis in (k + 2 + i, 2 + i)]
    return split.transpose(order).reshape([batch, depth] + [d * block for d in spatial])


def space_to_depth_array(data: np.ndarray, block: int, mode: str) -> np.ndarray:
    batch, channels, *spatial = data.shape
    k = len(spatial)
    split_dims = [batch, channels] + [v for d in spatial for v in (d // block, block)]
    split = data.reshape(split_dims)
    blocks = [3 + 2 * i for i in range(k)]
    coarse = [2 + 2 * i for i in range(k)]
    order = [0] + blocks + [1] + coarse if mode == "blocks_first" else [0, 1] + blocks + coarse
    return split.transpose(order).reshape([batch, channels * block**k] + [d // block for d in spatial])


DepthToSpace = OpSpec(
    "DepthToSpace",
    "opset1",
    (Attr("block_size", AttrKind.INT, 1), Attr("mode", AttrKind.STR, REQUIRED)),
    _infer_depth_to_space,
    lambda inputs, attrs: [depth_to_space_array(inputs[0], attrs["block_size"], attrs["mode"])],
)

SpaceToDepth = OpSpec(
    "SpaceToDepth",
    "opset1",
    (Attr("block_size", AttrKind.INT, 1), Attr("mode", AttrKind.STR, REQUIRED)),
    _infer_space_to_depth,
    lambda inputs, attrs: [space_to_depth_array(inputs[0], attrs["block_size"], attrs["mode"])],
)

OPS: tuple[OpSpec, ...] = (
    Reshape,
    Transpose,
    Squeeze,
    Unsqueeze,
    Concat,
    Split,
    VariadicSplit,
    Broadcast,
    Tile,
    Pad,
    DepthToSpace,
    SpaceToDepth,
)
