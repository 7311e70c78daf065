"""MultiHeadAttention → projections (MatMul), OpenVINO ScaledDotProductAttention-13, output projection.

Keras keeps the query/key/value kernels as [dim, heads, head_size] with biases [heads, head_size]
and the output kernel as [heads, head_size, out] (EinsumDense layers named query, key, value,
attention_output). Attention runs over axis 1 of rank-3 inputs (the default attention_axes).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from converter.frontends.keras.context import Layer, Unsupported
from converter.frontends.keras.layers.common import dims_of, int64s, rank_of
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops.activation import Softmax
from converter.ops.attention import ScaledDotProductAttention
from converter.ops.core import const
from converter.ops.matmul import MatMul
from converter.ops.misc import Range
from converter.ops.shape import Reshape, Transpose, Unsqueeze

MASKED_SCORE = -1e9  # keras' _large_negative_number for float32


def _projection(layer: Layer, name: str, x: Value, heads: int, size: int, use_bias: bool) -> Value:
    """x [batch, length, dim] → [batch, heads, length, size]."""
    arrays = layer.weights.child(name).flat()
    if len(arrays) != (2 if use_bias else 1):
        raise Unsupported(f"sub-layer {name!r} has {len(arrays)} variable(s)")
    kernel = np.asarray(arrays[0])
    if kernel.shape[1:] != (heads, size):
        raise Unsupported(f"{name} kernel shape {kernel.shape} is not [dim, {heads}, {size}]")
    y = MatMul(x, const(kernel.reshape(kernel.shape[0], heads * size)))
    if use_bias:
        y = ew.Add(y, const(np.asarray(arrays[1]).reshape(heads * size)))
    return Transpose(Reshape(y, int64s([0, 0, heads, size]), special_zero=True), int64s([0, 2, 1, 3]))


def _causal_mask(query: Value, value: Value) -> Value:
    """[T, S] booleans, row >= column (Keras' lower-triangular causal mask)."""
    rows = Range(const(np.array(0, np.int64)), Squeeze0(dims_of(query, [1])), const(np.array(1, np.int64)), output_type="i64")
    columns = Range(const(np.array(0, np.int64)), Squeeze0(dims_of(value, [1])), const(np.array(1, np.int64)), output_type="i64")
    return ew.GreaterEqual(Unsqueeze(rows, int64s(1)), Unsqueeze(columns, int64s(0)))


def Squeeze0(vector: Value) -> Value:
    return Reshape(vector, int64s([]), special_zero=False)


def MultiHeadAttention(
    layer: Layer,
    query: Value,
    value: Value | None = None,
    key: Value | None = None,
    *,
    num_heads: int,
    key_dim: int,
    value_dim: int | None = None,
    dropout: float = 0.0,
    use_bias: bool = True,
    output_shape: Any = None,
    attention_axes: Any = None,
    sliding_window: int | None = None,
    flash_attention: bool | None = None,
    use_gate: bool = False,
) -> Value | list[Value]:
    """dropout (training) and flash_attention (a kernel choice) leave inference alone."""
    value = value if value is not None else layer.call_option("value")
    key = key if key is not None else layer.call_option("key")
    if value is None:
        raise Unsupported("the value input is missing")
    key = value if key is None else key
    if use_gate:
        raise Unsupported("use_gate=True is not supported")
    if sliding_window is not None:
        raise Unsupported("sliding_window is not supported")
    if any(rank_of(t) != 3 for t in (query, value, key)):
        raise Unsupported("only rank-3 query, key and value are supported")
    if attention_axes not in (None, [1], (1,), 1, [-2], -2):
        raise Unsupported(f"attention_axes={attention_axes!r}: only the sequence axis (1) is supported")
    if output_shape is not None and not (isinstance(output_shape, int) or (isinstance(output_shape, list) and len(output_shape) == 1)):
        raise Unsupported(f"output_shape={output_shape!r}: only one output dimension is supported")
    for unsupported in ("query_mask", "value_mask", "key_mask"):
        if layer.call_option(unsupported) is not None:
            raise Unsupported(f"{unsupported} is not supported")
    mask = layer.call_option("attention_mask")
    causal = bool(layer.call_option("use_causal_mask", False))
    return_scores = bool(layer.call_option("return_attention_scores", False))
    value_dim = key_dim if value_dim is None else value_dim

    q = _projection(layer, "query", query, num_heads, key_dim, use_bias)
    k = _projection(layer, "key", key, num_heads, key_dim, use_bias)
    v = _projection(layer, "value", value, num_heads, value_dim, use_bias)
    keep = None
    if mask is not None:
        if not isinstance(mask, Value):
            raise Unsupported("attention_mask must be a tensor")
        keep = mask if mask.element_type is ElementType.boolean else ew.Greater(mask, const(np.asarray(0.5, mask.element_type.numpy)))
        keep = Unsqueeze(keep, int64s(1)) if rank_of(keep) == 3 else keep  # [B, T, S] → [B, 1, T, S]
    if causal:
        causal_keep = _causal_mask(query, value)
        keep = causal_keep if keep is None else ew.LogicalAnd(keep, causal_keep)
    scale = 1.0 / math.sqrt(float(key_dim))
    dtype = query.element_type.numpy
    scores = None
    if return_scores:
        logits = MatMul(ew.Multiply(q, const(np.asarray(scale, dtype))), k, transpose_b=True)
        if keep is not None:
            logits = ew.Select(keep, logits, const(np.asarray(MASKED_SCORE, dtype)))
        scores = Softmax(logits, axis=3)
        if keep is not None:
            scores = ew.Select(keep, scores, const(np.asarray(0, dtype)))
        attended = MatMul(scores, v)
    elif keep is not None:
        attended = ScaledDotProductAttention(q, k, v, keep, const(np.asarray(scale, dtype)))
    else:
        attended = ScaledDotProductAttention(q, k, v, const(np.asarray(0, dtype)), const(np.asarray(scale, dtype)))
    merged = Reshape(Transpose(attended, int64s([0, 2, 1, 3])), int64s([0, 0, num_heads * value_dim]), special_zero=True)
    arrays = layer.weights.child("attention_output").flat()
    kernel = np.asarray(arrays[0])
    out = MatMul(merged, const(kernel.reshape(num_heads * value_dim, -1)))
    if use_bias:
        out = ew.Add(out, const(np.asarray(arrays[1])))
    return [out, scores] if scores is not None else out


LAYERS = {"MultiHeadAttention": MultiHeadAttention}
