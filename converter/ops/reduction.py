"""Reductions over axes given by a second input: ReduceSum, ReduceMean, ReduceMax, ...

Every op takes (data, axes) and a `keep_dims` attribute. Empty axes reduce each element
alone (the data itself; |x| for ReduceL1/L2); OpenVINO's CPU plugin cannot run that, so
the frontend never emits it. A reduction over zero elements gives the op's identity
(OpenVINO uses the type's lowest/highest finite value for ReduceMax/ReduceMin).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, const_ints, normalize_axis, tensor

KEEP_DIMS = Attr("keep_dims", AttrKind.BOOL, False)

Reducer = Callable[[np.ndarray, tuple[int, ...]], np.ndarray]


def reduced_dims(
    dims: tuple[int | None, ...], axes: list[int], keep_dims: bool
) -> list[int | None]:
    rank = len(dims)
    normalized = {normalize_axis(a, rank) for a in axes}
    if any(not 0 <= a < rank for a in normalized):
        raise ValueError(f"axes {list(axes)} out of range for rank {rank}")
    if keep_dims:
        return [1 if i in normalized else d for i, d in enumerate(dims)]
    return [d for i, d in enumerate(dims) if i not in normalized]


def _infer_reduce(node: Node) -> list[TensorType]:
    data, axes_value = node.inputs
    keep_dims = node.attrs["keep_dims"]
    dims = data.shape.dims
    axes = const_ints(axes_value)
    if dims is None:
        return [tensor(data.element_type, None)]
    if axes is not None:
        return [tensor(data.element_type, reduced_dims(dims, axes, keep_dims))]
    if keep_dims:
        return [tensor(data.element_type, [None] * len(dims))]
    count = 1 if axes_value.shape.rank == 0 else axes_value.shape[0] if axes_value.shape.rank == 1 else None
    if count is None:
        return [tensor(data.element_type, None)]
    return [tensor(data.element_type, [None] * (len(dims) - count))]


def _reduction(type_: str, reducer: Reducer, version: str = "opset1") -> OpSpec:
    def kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
        data, axes_array = inputs
        axes = tuple(sorted({normalize_axis(int(a), data.ndim) for a in axes_array.reshape(-1)}))
        with np.errstate(all="ignore"):
            result = np.asarray(reducer(data, axes))
        if attrs["keep_dims"]:
            result = np.expand_dims(result, axes)
        return [result.astype(data.dtype, copy=False)]

    return OpSpec(type_, version, (KEEP_DIMS,), _infer_reduce, kernel)


def _count(data: np.ndarray, axes: tuple[int, ...]) -> int:
    return int(np.prod([data.shape[a] for a in axes], dtype=np.int64))


def _lowest(dtype: np.dtype) -> Any:
    return np.finfo(dtype).min if dtype.kind == "f" else np.iinfo(dtype).min if dtype.kind in "iu" else False


def _highest(dtype: np.dtype) -> Any:
    return np.finfo(dtype).max if dtype.kind == "f" else np.iinfo(dtype).max if dtype.kind in "iu" else True


def _max(data: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    if _count(data, axes) == 0:
        return np.max(data, axis=axes, initial=_lowest(data.dtype))
    return np.max(data, axis=axes)


def _min(data: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    if _count(data, axes) == 0:
        return np.min(data, axis=axes, initial=_highest(data.dtype))
    return np.min(data, axis=axes)


def _mean(data: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    count = _count(data, axes)
    total = np.sum(data, axis=axes, dtype=np.float64 if data.dtype.kind == "f" else None)
    if count == 0:
        return np.zeros_like(total)
    if data.dtype.kind in "iu":
        return np.sign(total) * (np.abs(total) // count)  # C-style division, toward zero
    return total / count


def _l2(data: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    return np.sqrt(np.sum(np.square(data.astype(np.float64)), axis=axes))


ReduceSum = _reduction("ReduceSum", lambda data, axes: np.sum(data, axis=axes))
ReduceMean = _reduction("ReduceMean", _mean)
ReduceMax = _reduction("ReduceMax", _max)
ReduceMin = _reduction("ReduceMin", _min)
ReduceProd = _reduction("ReduceProd", lambda data, axes: np.prod(data, axis=axes))
ReduceL1 = _reduction("ReduceL1", lambda data, axes: np.sum(np.abs(data), axis=axes), "opset4")
ReduceL2 = _reduction("ReduceL2", _l2, "opset4")
ReduceLogicalAnd = _reduction("ReduceLogicalAnd", lambda data, axes: np.all(data, axis=axes))
ReduceLogicalOr = _reduction("ReduceLogicalOr", lambda data, axes: np.any(data, axis=axes))

OPS: tuple[OpSpec, ...] = (
    ReduceSum,
    ReduceMean,
    ReduceMax,
    ReduceMin,
    ReduceProd,
    ReduceL1,
    ReduceL2,
    ReduceLogicalAnd,
    ReduceLogicalOr,
)
