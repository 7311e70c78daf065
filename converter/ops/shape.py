"""Shape manipulation: Reshape, Transpose, Squeeze, Unsqueeze, Concat, ..."""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import Shape, TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, REQUIRED, const_ints, normalize_axis, tensor


def _infer_reshape(node: Node) -> list[TensorType]:
    data, target = node.inputs
    element_type = data.element_type
    pattern = const_ints(target)
    if pattern is None:
        length = target.shape[0] if target.shape.rank == 1 else None
        return [tensor(element_type, None if length is None else [None] * length)]
    dims: list[int | None] = []
    for index, value in enumerate(pattern):
        if value == 0 and node.attrs["special_zero"]:
            dims.append(data.shape[index] if data.shape.dims is not None else None)
        elif value == -1:
            dims.append(-1)
        else:
            dims.append(value)
    if -1 in dims:
        position = dims.index(-1)
        known = [d for i, d in enumerate(dims) if i != position]
        if data.shape.is_static and all(d is not None for d in known):
            total = int(np.prod(data.shape.static, dtype=np.int64))
            rest = int(np.prod(known, dtype=np.int64))
            dims[position] = total // rest if rest else 0
        else:
            dims[position] = None
    return [tensor(element_type, dims)]


def _reshape_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, pattern = inputs
    dims = [int(v) for v in pattern.reshape(-1)]
    if attrs["special_zero"]:
        dims = [data.shape[i] if v == 0 else v for i, v in enumerate(dims)]
    return [data.reshape(dims)]


Reshape = OpSpec("Reshape", "opset1", (Attr("special_zero", AttrKind.BOOL, REQUIRED),), _infer_reshape, _reshape_kernel)


def _infer_transpose(node: Node) -> list[TensorType]:
    data, order = node.inputs
    permutation = const_ints(order)
    rank = data.shape.rank
    if rank is None:
        return [tensor(data.element_type, None if permutation is None else [None] * len(permutation))]
    if permutation is None:
        return [tensor(data.element_type, [None] * rank)]
    if not permutation:
        permutation = list(range(rank))[::-1]
    return [tensor(data.element_type, [data.shape[p] for p in permutation])]


def _transpose_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, order = inputs
    axes = [int(v) for v in order.reshape(-1)] or None
    return [np.transpose(data, axes)]


Transpose = OpSpec("Transpose", "opset1", (), _infer_transpose, _transpose_kernel)


def _squeeze_axes(node: Node) -> list[int] | None:
    data = node.inputs[0]
    if len(node.inputs) == 1:
        if data.shape.dims is None or None in data.shape.dims:
            return None
        return [i for i, d in enumerate(data.shape.dims) if d == 1]
    axes = const_ints(node.inputs[1])
    if axes is None or data.shape.rank is None:
        return None
    return sorted({normalize_axis(a, data.shape.rank) for a in axes})


def _infer_squeeze(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    axes = _squeeze_axes(node)
    if axes is None or data.shape.dims is None:
        return [tensor(data.element_type, None)]
    return [tensor(data.element_type, [d for i, d in enumerate(data.shape.dims) if i not in axes])]


def _squeeze_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    if len(inputs) == 1:
        return [np.squeeze(inputs[0])]
    axes = tuple(int(a) for a in inputs[1].reshape(-1))
    return [np.squeeze(inputs[0], axis=axes) if axes else np.squeeze(inputs[0])]


Squeeze = OpSpec("Squeeze", "opset1", (), _infer_squeeze, _squeeze_kernel)


def _infer_unsqueeze(node: Node) -> list[TensorType]:
    data, axes_value = node.inputs
    axes = const_ints(axes_value)
    if axes is None or data.shape.dims is None:
        return [tensor(data.element_type, None)]
    rank = data.shape.rank + len(axes)
    positions = sorted(normalize_axis(a, rank) for a in axes)
    dims = list(data.shape.dims)
    for position in positions:
        dims.insert(position, 1)
    return [tensor(data.element_type, dims)]


def _unsqueeze_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, axes = inputs
    rank = data.ndim + axes.size
    return [np.expand_dims(data, tuple(sorted(normalize_axis(int(a), rank) for a in axes.reshape(-1))))]


Unsqueeze = OpSpec("Unsqueeze", "opset1", (), _infer_unsqueeze, _unsqueeze_kernel)


def _infer_concat(node: Node) -> list[TensorType]:
    ranks = [v.shape.rank for v in node.inputs if v.shape.rank is not None]
    if not ranks:
        return [tensor(node.inputs[0].element_type, None)]
    rank = ranks[0]
    axis = normalize_axis(node.attrs["axis"], rank)
    dims: list[int | None] = [None] * rank
    total: int | None = 0
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

OPS: tuple[OpSpec, ...] = (Reshape, Transpose, Squeeze, Unsqueeze, Concat)
