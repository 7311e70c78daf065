"""Indexing: Gather, GatherElements, GatherND, Slice, scatter updates, ReverseSequence, NonZero."""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import Dim, TensorType
from converter.ops.spec import REQUIRED, Attr, AttrKind, OpSpec, const_ints, normalize_axis, tensor


def _positive_indices(indices: np.ndarray, length: int) -> np.ndarray:
    indices = indices.astype(np.int64)
    return np.where(indices < 0, indices + length, indices)


# ---------------------------------------------------------------- Gather-8


def _infer_gather(node: Node) -> list[TensorType]:
    data, indices, axis_value = node.inputs
    axis = const_ints(axis_value)
    if axis is None or data.shape.dims is None or indices.shape.dims is None:
        return [tensor(data.element_type, None)]
    axis_ = normalize_axis(axis[0], data.shape.rank)
    batch = normalize_axis(node.attrs["batch_dims"], indices.shape.rank)
    if not 0 <= batch <= axis_ < data.shape.rank:  # type: ignore[operator]
        raise ValueError(f"Gather: axis {axis[0]} / batch_dims {node.attrs['batch_dims']} out of range")
    dims = list(data.shape.dims[:axis_]) + list(indices.shape.dims[batch:]) + list(data.shape.dims[axis_ + 1 :])
    for i in range(batch):
        if dims[i] is None:
            dims[i] = indices.shape.dims[i]
    return [tensor(data.element_type, dims)]


def _gather_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, indices, axis_array = inputs
    axis = normalize_axis(int(axis_array.reshape(-1)[0]), data.ndim)
    batch_dims = normalize_axis(attrs["batch_dims"], indices.ndim)
    indices = _positive_indices(indices, data.shape[axis])
    if batch_dims == 0:
        return [np.take(data, indices, axis=axis)]
    outer = data.shape[:batch_dims]
    out_shape = data.shape[:axis] + indices.shape[batch_dims:] + data.shape[axis + 1 :]
    result = np.empty(out_shape, dtype=data.dtype)
    for index in np.ndindex(*outer):
        result[index] = np.take(data[index], indices[index], axis=axis - batch_dims)
    return [result]


Gather = OpSpec("Gather", "opset8", (Attr("batch_dims", AttrKind.INT, 0),), _infer_gather, _gather_kernel)


# ---------------------------------------------------------------- GatherElements-6


def _infer_gather_elements(node: Node) -> list[TensorType]:
    data, indices = node.inputs
    rank = data.shape.rank if data.shape.rank is not None else indices.shape.rank
    if rank is not None and not -rank <= node.attrs["axis"] < rank:
        raise ValueError(f"GatherElements: axis {node.attrs['axis']} out of range for rank {rank}")
    return [TensorType(data.element_type, indices.shape)]


def _gather_elements_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, indices = inputs
    axis = normalize_axis(attrs["axis"], data.ndim)
    positions = list(np.indices(indices.shape, sparse=True))
    positions[axis] = _positive_indices(indices, data.shape[axis])
    return [data[tuple(positions)]]


GatherElements = OpSpec(
    "GatherElements", "opset6", (Attr("axis", AttrKind.INT, 0),), _infer_gather_elements, _gather_elements_kernel
)


# ---------------------------------------------------------------- GatherND-8


def _infer_gather_nd(node: Node) -> list[TensorType]:
    data, indices = node.inputs
    batch = node.attrs["batch_dims"]
    if data.shape.dims is None or indices.shape.dims is None or indices.shape.dims[-1] is None:
        return [tensor(data.element_type, None)]
    depth = indices.shape.dims[-1]
    if batch + depth > len(data.shape.dims):
        raise ValueError(f"GatherND: batch_dims {batch} + index depth {depth} exceed the data rank")
    dims = list(indices.shape.dims[:-1]) + list(data.shape.dims[batch + depth :])
    for i in range(batch):
        if dims[i] is None:
            dims[i] = data.shape.dims[i]
    return [tensor(data.element_type, dims)]


def _gather_nd_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, indices = inputs
    batch = attrs["batch_dims"]
    depth = indices.shape[-1]
    out_shape = indices.shape[:-1] + data.shape[batch + depth :]
    result = np.empty(out_shape, dtype=data.dtype)
    for batch_index in np.ndindex(*indices.shape[:batch]):
        block, block_indices = data[batch_index], indices[batch_index]
        for position in np.ndindex(*block_indices.shape[:-1]):
            where = tuple(int(v) + (block.shape[i] if v < 0 else 0) for i, v in enumerate(block_indices[position]))
            result[batch_index + position] = block[where]
    return [result]


GatherND = OpSpec("GatherND", "opset8", (Attr("batch_dims", AttrKind.INT, 0),), _infer_gather_nd, _gather_nd_kernel)


# ---------------------------------------------------------------- ScatterElementsUpdate-12

SCATTER_ELEMENTS_REDUCTIONS = ("none", "sum", "prod", "min", "max", "mean")


def _infer_scatter_elements(node: Node) -> list[TensorType]:
    if node.attrs["reduction"] not in SCATTER_ELEMENTS_REDUCTIONS:
        raise ValueError(f"ScatterElementsUpdate: unknown reduction {node.attrs['reduction']!r}")
    return [node.inputs[0].type]


_UFUNCS = {"sum": np.add, "prod": np.multiply, "min": np.minimum, "max": np.maximum, "mean": np.add}


def _scatter_elements_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, indices, updates, axis_array = inputs
    axis = normalize_axis(int(axis_array.reshape(-1)[0]), data.ndim)
    positions = list(np.indices(indices.shape, sparse=False))
    positions[axis] = _positive_indices(indices, data.shape[axis])
    where = tuple(p.reshape(-1) for p in positions)
    values = updates.reshape(-1)
    reduction = attrs["reduction"]
    result = data.copy()
    if reduction == "none":
        result[where] = values
        return [result]
    touched = np.zeros(data.shape, dtype=bool)
    touched[where] = True
    if not attrs["use_init_val"]:
        identity = {"sum": 0, "mean": 0, "prod": 1}.get(reduction)
        if identity is None:
            info = np.finfo(data.dtype) if data.dtype.kind == "f" else np.iinfo(data.dtype)
            identity = info.max if reduction == "min" else info.min
        result[touched] = identity
    _UFUNCS[reduction].at(result, where, values)
    if reduction == "mean":
        counts = np.zeros(data.shape, dtype=np.int64)
        np.add.at(counts, where, 1)
        if attrs["use_init_val"]:
            counts += 1
        divided = result[touched] / counts[touched]
        result[touched] = np.trunc(divided) if data.dtype.kind in "iu" else divided
    return [result]


ScatterElementsUpdate = OpSpec(
    "ScatterElementsUpdate",
    "opset12",
    (Attr("reduction", AttrKind.STR, "none"), Attr("use_init_val", AttrKind.BOOL, True)),
    _infer_scatter_elements,
    _scatter_elements_kernel,
)


# ---------------------------------------------------------------- ScatterNDUpdate-15

SCATTER_ND_REDUCTIONS = ("none", "sum", "sub", "prod", "min", "max")


def _infer_scatter_nd(node: Node) -> list[TensorType]:
    if node.attrs["reduction"] not in SCATTER_ND_REDUCTIONS:
        raise ValueError(f"ScatterNDUpdate: unknown reduction {node.attrs['reduction']!r}")
    return [node.inputs[0].type]


def _scatter_nd_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, indices, updates = inputs
    depth = indices.shape[-1]
    flat_indices = indices.reshape(-1, depth)
    flat_updates = updates.reshape((flat_indices.shape[0],) + data.shape[depth:])
    result = data.copy()
    reduction = attrs["reduction"]
    for row, update in zip(flat_indices, flat_updates):
        where = tuple(int(v) + (data.shape[i] if v < 0 else 0) for i, v in enumerate(row))
        if reduction == "none":
            result[where] = update
        elif reduction == "sum":
            result[where] = result[where] + update
        elif reduction == "sub":
            result[where] = result[where] - update
        elif reduction == "prod":
            result[where] = result[where] * update
        elif reduction == "min":
            result[where] = np.minimum(result[where], update)
        else:
            result[where] = np.maximum(result[where], update)
    return [result]


ScatterNDUpdate = OpSpec(
    "ScatterNDUpdate", "opset15", (Attr("reduction", AttrKind.STR, "none"),), _infer_scatter_nd, _scatter_nd_kernel
)


# ---------------------------------------------------------------- Slice-8


def slice_length(dim: int, start: int, stop: int, step: int) -> int:
    """Elements a numpy-style slice keeps (start/stop clamp, negatives count from the end)."""
    return len(range(*slice(start, stop, step).indices(dim)))


def _infer_slice(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    dims = data.shape.dims
    if dims is None:
        return [tensor(data.element_type, None)]
    rank = len(dims)
    starts, stops, steps = (const_ints(v) for v in node.inputs[1:4])
    if len(node.inputs) > 4:
        axes = const_ints(node.inputs[4])
        if axes is None:
            return [tensor(data.element_type, [None] * rank)]
    else:
        count = node.inputs[1].shape[0] if node.inputs[1].shape.rank == 1 else None
        if count is None:
            return [tensor(data.element_type, [None] * rank)]
        axes = list(range(count))
    axes = [normalize_axis(a, rank) for a in axes]
    if any(not 0 <= a < rank for a in axes) or len(set(axes)) != len(axes):
        raise ValueError(f"Slice: invalid axes {axes} for rank {rank}")
    if steps is not None and 0 in steps:
        raise ValueError("Slice: step must not be 0")
    out: list[Dim] = list(dims)
    for i, axis in enumerate(axes):
        known = starts is not None and stops is not None and steps is not None and dims[axis] is not None
        out[axis] = slice_length(dims[axis], starts[i], stops[i], steps[i]) if known else None  # type: ignore[arg-type,index]
    return [tensor(data.element_type, out)]


def _slice_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data = inputs[0]
    starts, stops, steps = ([int(v) for v in array.reshape(-1)] for array in inputs[1:4])
    axes = [int(v) for v in inputs[4].reshape(-1)] if len(inputs) > 4 else list(range(len(starts)))
    index = [slice(None)] * data.ndim
    for start, stop, step, axis in zip(starts, stops, steps, axes):
        index[normalize_axis(axis, data.ndim)] = slice(start, stop, step)
    return [np.asarray(data[tuple(index)], order="C")]


Slice = OpSpec("Slice", "opset8", (), _infer_slice, _slice_kernel)


# ---------------------------------------------------------------- StridedSlice-1


def _mask_bit(mask: tuple[int, ...], index: int) -> bool:
    return index < len(mask) and mask[index] != 0


def strided_slice_plan(attrs: dict[str, Any], entries: int, rank: int) -> list[tuple[str, int, int]]:
    """What each begin/end entry does: (kind, entry index, input axis), in output order.

    Kinds: "slice" and "shrink" read an input axis, "new" inserts a 1 (axis -1),
    "full" keeps an input axis whole (from an ellipsis or past the last entry; entry -1).
    """
    new, shrink, ellipsis = attrs["new_axis_mask"], attrs["shrink_axis_mask"], attrs["ellipsis_mask"]
    if sum(_mask_bit(ellipsis, i) for i in range(entries)) > 1:
        raise ValueError("StridedSlice: more than one ellipsis")
    consumed = sum(1 for i in range(entries) if not _mask_bit(new, i) and not _mask_bit(ellipsis, i))
    if consumed > rank:
        raise ValueError(f"StridedSlice: {consumed} sliced axes for an input of rank {rank}")
    plan: list[tuple[str, int, int]] = []
    axis = 0
    for i in range(entries):
        if _mask_bit(ellipsis, i):
            plan += [("full", -1, a) for a in range(axis, axis + rank - consumed)]
            axis += rank - consumed
        elif _mask_bit(new, i):
            plan.append(("new", i, -1))
        else:
            plan.append(("shrink" if _mask_bit(shrink, i) else "slice", i, axis))
            axis += 1
    plan += [("full", -1, a) for a in range(axis, rank)]
    return plan


def _strided_bounds(attrs: dict[str, Any], i: int, dim: int, begin: int, end: int, stride: int) -> int:
    start = None if _mask_bit(attrs["begin_mask"], i) else begin
    stop = None if _mask_bit(attrs["end_mask"], i) else end
    return len(range(*slice(start, stop, stride).indices(dim)))


MASKS = ("begin_mask", "end_mask", "new_axis_mask", "shrink_axis_mask", "ellipsis_mask")


def _infer_strided_slice(node: Node) -> list[TensorType]:
    if len({len(node.attrs[m]) for m in MASKS if node.attrs[m]}) > 1:
        raise ValueError("StridedSlice: all non-empty masks must have the same size (as OpenVINO checks)")
    data, begin_value = node.inputs[0], node.inputs[1]
    entries = begin_value.shape[0] if begin_value.shape.rank == 1 else None
    if data.shape.dims is None or entries is None:
        return [tensor(data.element_type, None)]
    begin, end = const_ints(node.inputs[1]), const_ints(node.inputs[2])
    stride = const_ints(node.inputs[3]) if len(node.inputs) > 3 else [1] * entries
    dims: list[Dim] = []
    for kind, i, axis in strided_slice_plan(node.attrs, entries, len(data.shape.dims)):
        size = data.shape.dims[axis] if axis >= 0 else None
        if kind == "new":
            dims.append(1)
        elif kind == "full":
            dims.append(size)
        elif kind == "slice":
            known = size is not None and begin is not None and end is not None and stride is not None
            dims.append(_strided_bounds(node.attrs, i, size, begin[i], end[i], stride[i]) if known else None)  # type: ignore[arg-type,index]
    return [tensor(data.element_type, dims)]


def _strided_slice_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data = inputs[0]
    begin, end = ([int(v) for v in a.reshape(-1)] for a in inputs[1:3])
    stride = [int(v) for v in inputs[3].reshape(-1)] if len(inputs) > 3 else [1] * len(begin)
    index: list[Any] = []
    for i in range(len(begin)):
        if _mask_bit(attrs["ellipsis_mask"], i):
            index.append(Ellipsis)
        elif _mask_bit(attrs["new_axis_mask"], i):
            index.append(None)
        elif _mask_bit(attrs["shrink_axis_mask"], i):
            index.append(begin[i])
        else:
            start = None if _mask_bit(attrs["begin_mask"], i) else begin[i]
            stop = None if _mask_bit(attrs["end_mask"], i) else end[i]
            index.append(slice(start, stop, stride[i]))
    result = np.asarray(data[tuple(index)])
    return [np.asarray(result, order="C").reshape(result.shape)]


StridedSlice = OpSpec(
    "StridedSlice",
    "opset1",
    (
        Attr("begin_mask", AttrKind.INTS, REQUIRED),
        Attr("end_mask", AttrKind.INTS, REQUIRED),
        Attr("new_axis_mask", AttrKind.INTS, ()),
        Attr("shrink_axis_mask", AttrKind.INTS, ()),
        Attr("ellipsis_mask", AttrKind.INTS, ()),
    ),
    _infer_strided_slice,
    _strided_slice_kernel,
)


# ---------------------------------------------------------------- ReverseSequence-1


def _reverse_sequence_axes(node: Node, rank: int) -> tuple[int, int]:
    batch = normalize_axis(node.attrs["batch_axis"], rank)
    sequence = normalize_axis(node.attrs["seq_axis"], rank)
    if not (0 <= batch < rank and 0 <= sequence < rank) or batch == sequence:
        raise ValueError(f"ReverseSequence: invalid batch_axis/seq_axis for rank {rank}")
    return batch, sequence


def _infer_reverse_sequence(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    if data.shape.rank is not None:
        _reverse_sequence_axes(node, data.shape.rank)
    return [data.type]


def _reverse_sequence_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, lengths = inputs
    batch = normalize_axis(attrs["batch_axis"], data.ndim)
    sequence = normalize_axis(attrs["seq_axis"], data.ndim)
    moved = np.moveaxis(data, (batch, sequence), (0, 1))
    result = moved.copy()
    for b, length in enumerate(lengths.reshape(-1).astype(np.int64)):
        result[b, :length] = moved[b, :length][::-1]
    return [np.asarray(np.moveaxis(result, (0, 1), (batch, sequence)), order="C")]


ReverseSequence = OpSpec(
    "ReverseSequence",
    "opset1",
    (Attr("batch_axis", AttrKind.INT, 0), Attr("seq_axis", AttrKind.INT, 1)),
    _infer_reverse_sequence,
    _reverse_sequence_kernel,
)

OPS: tuple[OpSpec, ...] = (
    Gather,
    GatherElements,
    GatherND,
    ScatterElementsUpdate,
    ScatterNDUpdate,
    Slice,
    StridedSlice,
    ReverseSequence,
)
