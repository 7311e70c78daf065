"""Miscellaneous ops: TopK, Range, OneHot, NonZero, CumSum, Eye, NonMaxSuppression."""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import ElementType, TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, REQUIRED, const_ints, normalize_axis, tensor

# ---------------------------------------------------------------- TopK-11


def _infer_topk(node: Node) -> list[TensorType]:
    data, k_value = node.inputs
    index_type = node.attrs["index_element_type"]
    if data.shape.dims is None:
        return [tensor(data.element_type, None), tensor(index_type, None)]
    axis = normalize_axis(node.attrs["axis"], data.shape.rank)
    k = const_ints(k_value)
    dims = list(data.shape.dims)
    if k is None:
        dims[axis] = None
    elif dims[axis] is not None:
        dims[axis] = min(k[0], dims[axis])
    else:
        dims[axis] = k[0]
    return [tensor(data.element_type, dims), tensor(index_type, dims)]


def _topk_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, k_array = inputs
    axis = normalize_axis(attrs["axis"], data.ndim)
    k = min(int(k_array.reshape(-1)[0]), data.shape[axis])
    # A stable sort keeps equal elements in index order (what `stable` asks for). For "max",
    # sort the reversed data ascending and read it backwards: ties stay in index order.
    if attrs["mode"] == "max":
        length = data.shape[axis]
        order = length - 1 - np.flip(np.argsort(np.flip(data, axis), axis=axis, kind="stable"), axis)
    else:
        order = np.argsort(data, axis=axis, kind="stable")
    indices = np.take(order, np.arange(k), axis=axis)
    if attrs["sort"] == "index":
        indices = np.sort(indices, axis=axis)
    values = np.take_along_axis(data, indices, axis=axis)
    return [values, indices.astype(attrs["index_element_type"].numpy)]


TopK = OpSpec(
    "TopK",
    "opset11",
    (
        Attr("axis", AttrKind.INT, REQUIRED),
        Attr("mode", AttrKind.STR, REQUIRED),
        Attr("sort", AttrKind.STR, REQUIRED),
        Attr("index_element_type", AttrKind.ELEMENT_TYPE, ElementType.i32),
        Attr("stable", AttrKind.BOOL, False),
    ),
    _infer_topk,
    _topk_kernel,
    doc="k largest/smallest along axis; outputs values and indices. k is a 0-D integer tensor.",
)

# ---------------------------------------------------------------- Range-4


def _range_length(start: float, stop: float, step: float) -> int:
    if step == 0:
        raise ValueError("Range step must not be zero")
    return max(int(np.ceil((stop - start) / step)), 0)


def _infer_range(node: Node) -> list[TensorType]:
    output_type = node.attrs["output_type"]
    arrays = [value.const for value in node.inputs]
    if any(array is None for array in arrays):
        return [tensor(output_type, [None])]
    start, stop, step = (np.asarray(a).reshape(-1)[0].item() for a in arrays)  # type: ignore[union-attr]
    return [tensor(output_type, [_range_length(start, stop, step)])]


def _range_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    dtype = attrs["output_type"].numpy
    start, stop, step = (x.reshape(-1)[0].item() for x in inputs)
    length = _range_length(start, stop, step)
    return [(np.asarray(start, dtype=dtype) + np.arange(length, dtype=dtype) * np.asarray(step, dtype=dtype)).astype(dtype)]


Range = OpSpec(
    "Range",
    "opset4",
    (Attr("output_type", AttrKind.ELEMENT_TYPE, REQUIRED),),
    _infer_range,
    _range_kernel,
    doc="start + i*step for i in [0, ceil((stop-start)/step)); scalar inputs.",
)

# ---------------------------------------------------------------- OneHot-16


def _infer_one_hot(node: Node) -> list[TensorType]:
    indices, depth_value, on_value, _ = node.inputs
    element_type = on_value.element_type
    if indices.shape.dims is None:
        return [tensor(element_type, None)]
    rank = indices.shape.rank + 1
    axis = normalize_axis(node.attrs["axis"], rank)
    depth = const_ints(depth_value)
    dims = list(indices.shape.dims)
    dims.insert(axis, None if depth is None else depth[0])
    return [tensor(element_type, dims)]


def _one_hot_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    indices, depth_array, on_value, off_value = inputs
    depth = int(depth_array.reshape(-1)[0])
    indices = indices.astype(np.int64)
    if attrs["negative_indices_mode"] == "normalize":
        indices = np.where(indices < 0, indices + depth, indices)
    axis = normalize_axis(attrs["axis"], indices.ndim + 1)
    positions = np.arange(depth).reshape([depth if i == axis else 1 for i in range(indices.ndim + 1)])
    hot = np.expand_dims(indices, axis) == positions
    return [np.where(hot, on_value.reshape(()), off_value.reshape(())).astype(on_value.dtype)]


OneHot = OpSpec(
    "OneHot",
    "opset16",
    (
        Attr("axis", AttrKind.INT, REQUIRED),
        Attr("negative_indices_mode", AttrKind.STR, "ignore_negative"),
    ),
    _infer_one_hot,
    _one_hot_kernel,
    doc="Inputs indices, depth, on_value, off_value (scalars); a new axis of size depth at `axis`.",
)

# ---------------------------------------------------------------- NonZero-3


def _infer_non_zero(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    return [tensor(node.attrs["output_type"], [data.shape.rank, None])]


def _non_zero_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data = inputs[0]
    indices = np.array(np.nonzero(data)) if data.ndim else np.zeros((0, int(data != 0)), dtype=np.int64)
    return [indices.reshape(data.ndim, -1).astype(attrs["output_type"].numpy)]


NonZero = OpSpec(
    "NonZero",
    "opset3",
    (Attr("output_type", AttrKind.ELEMENT_TYPE, ElementType.i64),),
    _infer_non_zero,
    _non_zero_kernel,
    doc="Indices of non-zero elements, shape [rank, count], in row-major order.",
)

# ---------------------------------------------------------------- CumSum-3


def _infer_cum_sum(node: Node) -> list[TensorType]:
    return [node.inputs[0].type]


def _cum_sum_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data = inputs[0]
    axis = normalize_axis(int(inputs[1].reshape(-1)[0]), data.ndim) if len(inputs) > 1 else 0
    values = np.flip(data, axis) if attrs["reverse"] else data
    summed = np.cumsum(values, axis=axis, dtype=data.dtype)
    if attrs["exclusive"]:
        summed = summed - values
    if attrs["reverse"]:
        summed = np.flip(summed, axis)
    return [np.asarray(summed, order="C").astype(data.dtype)]


CumSum = OpSpec(
    "CumSum",
    "opset3",
    (Attr("exclusive", AttrKind.BOOL, False), Attr("reverse", AttrKind.BOOL, False)),
    _infer_cum_sum,
    _cum_sum_kernel,
    doc="Cumulative sum along a scalar axis input (default 0).",
)

# ---------------------------------------------------------------- Eye-9


def _infer_eye(node: Node) -> list[TensorType]:
    output_type = node.attrs["output_type"]
    rows, columns = (const_ints(v) for v in node.inputs[:2])
    matrix = [rows[0] if rows else None, columns[0] if columns else None]
    if len(node.inputs) < 4:
        return [tensor(output_type, matrix)]
    batch_value = node.inputs[3]
    batch = const_ints(batch_value)
    if batch is not None:
        return [tensor(output_type, batch + matrix)]
    length = batch_value.shape[0] if batch_value.shape.rank == 1 else None
    return [tensor(output_type, None if length is None else [None] * length + matrix)]


def _eye_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    rows, columns, diagonal = (int(x.reshape(-1)[0]) for x in inputs[:3])
    matrix = np.eye(rows, columns, diagonal, dtype=attrs["output_type"].numpy)
    if len(inputs) < 4:
        return [matrix]
    batch = [int(v) for v in inputs[3].reshape(-1)]
    return [np.asarray(np.broadcast_to(matrix, batch + [rows, columns]), order="C")]


Eye = OpSpec(
    "Eye",
    "opset9",
    (Attr("output_type", AttrKind.ELEMENT_TYPE, REQUIRED),),
    _infer_eye,
    _eye_kernel,
    doc="Inputs num_rows, num_columns, diagonal_index, optional batch_shape; ones on the shifted diagonal.",
)

# ---------------------------------------------------------------- NonMaxSuppression-9


def _infer_nms(node: Node) -> list[TensorType]:
    output_type = node.attrs["output_type"]
    score_type = node.inputs[0].element_type
    return [tensor(output_type, [None, 3]), tensor(score_type, [None, 3]), tensor(output_type, [1])]


NonMaxSuppression = OpSpec(
    "NonMaxSuppression",
    "opset9",
    (
        Attr("box_encoding", AttrKind.STR, "corner"),
        Attr("sort_result_descending", AttrKind.BOOL, True),
        Attr("output_type", AttrKind.ELEMENT_TYPE, ElementType.i64),
    ),
    _infer_nms,
    doc=(
        "Inputs boxes, scores, max_output_boxes_per_class, iou_threshold, score_threshold, soft_nms_sigma"
        " (the last four optional scalars). Outputs selected_indices [n, 3], selected_scores [n, 3] and"
        " valid_outputs [1]; rows past valid_outputs are padding."
    ),
)

OPS: tuple[OpSpec, ...] = (TopK, Range, OneHot, NonZero, CumSum, Eye, NonMaxSuppression)
