"""Attention ops: ScaledDotProductAttention-13.

Inputs: query [N, ..., L, E], key [N, ..., S, E], value [N, ..., S, Ev] (rank >= 3, one
float type T), an optional attention_mask (T or boolean, rank >= 2, broadcastable to
[N, ..., L, S]; a scalar 0 of type T means "no mask") and an optional scalar scale
(default 1/sqrt(E)). With `causal` the mask input is ignored and a top-left aligned
upper-triangular -inf mask is used. The output is [N, ..., L, Ev] of type T; the batch
dims of query, key and value broadcast like numpy's (as MatMul's do).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import ElementType, Shape, TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, broadcast_all


def _infer_sdpa(node: Node) -> list[TensorType]:
    query, key, value = node.inputs[:3]
    if len(node.inputs) > 5:
        raise ValueError("ScaledDotProductAttention takes at most 5 inputs")
    for tensor in (key, value):
        if tensor.element_type is not query.element_type:
            raise ValueError(f"ScaledDotProductAttention: query, key and value must share a type, got {query.type}, {tensor.type}")
    if not query.element_type.is_float:
        raise ValueError(f"ScaledDotProductAttention: query must be floating-point, got {query.element_type.value}")
    if len(node.inputs) > 3:
        mask = node.inputs[3]
        if mask.element_type not in (query.element_type, ElementType.boolean):
            raise ValueError(f"ScaledDotProductAttention: attention_mask must be {query.element_type.value} or boolean")
        if mask.shape.rank == 1:
            raise ValueError("ScaledDotProductAttention: attention_mask must be a scalar 0 or have rank >= 2")
    if len(node.inputs) > 4:
        scale = node.inputs[4]
        if scale.element_type is not query.element_type or scale.shape.dims not in ((), (1,), None):
            raise ValueError(f"ScaledDotProductAttention: scale must be a scalar of type {query.element_type.value}")
    ranks = [v.shape.rank for v in (query, key, value)]
    if any(rank is not None and rank < 3 for rank in ranks):
        raise ValueError(f"ScaledDotProductAttention: query, key and value need rank >= 3, got {ranks}")
    if any(rank is None for rank in ranks):
        return [TensorType(query.element_type, Shape(None))]
    batch = broadcast_all([Shape(v.shape.dims[:-2]) for v in (query, key, value)])  # type: ignore[index]
    if batch.dims is None:
        return [TensorType(query.element_type, Shape(None))]
    dims = batch.dims + (query.shape.dims[-2], value.shape.dims[-1])  # type: ignore[index]
    return [TensorType(query.element_type, Shape(dims))]


def causal_bias(target_length: int, source_length: int, dtype: np.dtype) -> np.ndarray:
    """-inf above the main diagonal (top-left aligned), 0 elsewhere: numpy.triu(-inf, k=1)."""
    above = np.triu(np.ones((target_length, source_length), dtype=bool), k=1)
    return np.where(above, -np.inf, 0.0).astype(dtype)


def _sdpa_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    query, key, value = inputs[:3]
    mask = inputs[3] if len(inputs) > 3 else None
    dtype = query.dtype
    scale = float(inputs[4].reshape(-1)[0]) if len(inputs) > 4 else 1.0 / math.sqrt(query.shape[-1])
    target_length, source_length = query.shape[-2], key.shape[-2]
    with np.errstate(all="ignore"):
        bias: np.ndarray = np.zeros((target_length, source_length), np.float64)
        if attrs["causal"]:
            bias = causal_bias(target_length, source_length, np.float64)
        elif mask is not None and mask.dtype == np.bool_:
            bias = np.where(mask, 0.0, -np.inf)
        elif mask is not None:
            bias = bias + mask.astype(np.float64)
        scores = np.matmul(query.astype(np.float64), np.swapaxes(key.astype(np.float64), -1, -2))
        scores = scores * np.float64(dtype.type(scale)) + bias
        scores = scores - np.max(scores, axis=-1, keepdims=True)
        weights = np.exp(scores)
        weights = weights / np.sum(weights, axis=-1, keepdims=True)
        result = np.matmul(weights, value.astype(np.float64))
    return [result.astype(dtype)]


ScaledDotProductAttention = OpSpec(
    "ScaledDotProductAttention",
    "opset13",
    (Attr("causal", AttrKind.BOOL, False),),
    _infer_sdpa,
    _sdpa_kernel,
    doc="Inputs: query, key, value, optional attention_mask, optional scale (scalar).",
)

OPS: tuple[OpSpec, ...] = (ScaledDotProductAttention,)
