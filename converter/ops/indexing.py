"""Indexing: Gather, Slice, scatter and friends."""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, const_ints, normalize_axis, tensor


def _infer_gather(node: Node) -> list[TensorType]:
    data, indices, axis_value = node.inputs
    axis = const_ints(axis_value)
    batch_dims = node.attrs["batch_dims"]
    if axis is None or data.shape.dims is None or indices.shape.dims is None:
        return [tensor(data.element_type, None)]
    axis_ = normalize_axis(axis[0], data.shape.rank)
    batch = normalize_axis(batch_dims, indices.shape.rank)
    dims = list(data.shape.dims[:axis_]) + list(indices.shape.dims[batch:]) + list(data.shape.dims[axis_ + 1 :])
    return [tensor(data.element_type, dims)]


def _gather_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, indices, axis_array = inputs
    axis = normalize_axis(int(axis_array.reshape(-1)[0]), data.ndim)
    batch_dims = normalize_axis(attrs["batch_dims"], indices.ndim)
    indices = np.where(indices < 0, indices + data.shape[axis], indices)
    if batch_dims == 0:
        return [np.take(data, indices, axis=axis)]
    outer = data.shape[:batch_dims]
    results = [
        np.take(data[index], indices[index], axis=axis - batch_dims) for index in np.ndindex(*outer)
    ]
    stacked = np.stack(results) if results else np.empty((0,))
    out_shape = tuple(outer) + stacked.shape[1:]
    return [stacked.reshape(out_shape)]


Gather = OpSpec("Gather", "opset8", (Attr("batch_dims", AttrKind.INT, 0),), _infer_gather, _gather_kernel)

OPS: tuple[OpSpec, ...] = (Gather,)
