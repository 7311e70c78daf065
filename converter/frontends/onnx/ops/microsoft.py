"""onnxruntime contrib ops (as in onnxruntime-optimized and HF Optimum exports) → existing IR ops.

`MICROSOFT_HANDLERS` holds the `com.microsoft` domain ops, keyed by op type; ops/__init__.py
registers them as "com.microsoft.<op>". `HANDLERS` holds the ops onnxruntime adds to the default
ONNX domain (SimplifiedLayerNormalization). Semantics follow onnxruntime's ContribOperators spec
and its CPU kernels, which the tests use as the reference.
"""

from __future__ import annotations

import math

import numpy as np

from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported, element_type
from converter.frontends.onnx.ops import activation, conv
from converter.frontends.onnx.ops.elementwise import scalar_like
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import activation as act
from converter.ops import elementwise as ew
from converter.ops import matmul as mm
from converter.ops import normalization as norm
from converter.ops import reduction
from converter.ops.attention import ScaledDotProductAttention
from converter.ops.core import Convert, const
from converter.ops.shape import Reshape, Transpose, Unsqueeze, VariadicSplit


def _ints(values: list[int]) -> Value:
    return const(np.array(values, dtype=np.int64))


def _named_outputs(ctx: OnnxContext) -> list[bool]:
    """Which of the node's outputs are wanted (named)."""
    return [bool(name) for name in ctx.node.output]


def _wants(ctx: OnnxContext, index: int) -> bool:
    wanted = _named_outputs(ctx)
    return index < len(wanted) and wanted[index]


def _converted(value: Value, target: ElementType) -> Value:
    return value if value.element_type is target else Convert(value, destination_type=target)


# ------------------------------------------------------------------ activations


def Gelu(ctx: OnnxContext, x: Value) -> Value:
    return act.Gelu(x, approximation_mode="ERF")


def FastGelu(ctx: OnnxContext, x: Value, bias: Value | None = None) -> Value:
    """Gelu with the tanh approximation, of x + bias."""
    return act.Gelu(x if bias is None else ew.Add(x, bias), approximation_mode="TANH")


def BiasGelu(ctx: OnnxContext, a: Value, bias: Value) -> Value:
    return act.Gelu(ew.Add(a, bias), approximation_mode="ERF")


def QuickGelu(ctx: OnnxContext, x: Value, *, alpha: float = 1.702) -> Value:
    """x * sigmoid(alpha * x), which is Swish with beta = alpha."""
    return act.Swish(x, scalar_like(x, alpha))


def BiasAdd(ctx: OnnxContext, x: Value, bias: Value, skip: Value) -> Value:
    return ew.Add(ew.Add(x, bias), skip)


# ------------------------------------------------------------------ matmul


def FusedMatMul(
    ctx: OnnxContext,
    a: Value,
    b: Value,
    *,
    alpha: float = 1.0,
    transA: int = 0,
    transB: int = 0,
    transBatchA: int = 0,
    transBatchB: int = 0,
) -> Value:
    a = _batch_transposed(a, bool(transBatchA), "A")
    b = _batch_transposed(b, bool(transBatchB), "B")
    y = mm.MatMul(a, b, transpose_a=bool(transA), transpose_b=bool(transB))
    return y if alpha == 1.0 else ew.Multiply(y, scalar_like(y, alpha))


def _batch_transposed(x: Value, transposed: bool, name: str) -> Value:
    """transBatch: x is [d0, d1, ..., d(r-2), d(r-1)] with d0 the matrix row dim, read as [d1, ..., d(r-2), d0, d(r-1)]."""
    if not transposed:
        return x
    rank = x.shape.rank
    if rank is None:
        raise Unsupported(f"transBatch{name} needs a known rank of {name}")
    if rank < 3:
        return x
    return Transpose(x, _ints([*range(1, rank - 1), 0, rank - 1]))


# ------------------------------------------------------------------ normalizations


def _layer_norm(x: Value, gamma: Value, beta: Value | None, epsilon: float, want_stats: bool) -> tuple[Value, Value | None, Value | None]:
    """Layer normalization over the last axis; mean and 1/sqrt(var + eps) (f32, keep_dims) when asked."""
    axes = _ints([-1])
    y = ew.Multiply(norm.MVN(x, axes, normalize_variance=True, eps=epsilon, eps_mode="inside_sqrt"), gamma)
    if beta is not None:
        y = ew.Add(y, beta)
    if not want_stats:
        return y, None, None
    wide = _converted(x, ElementType.f32)
    mean = reduction.ReduceMean(wide, axes, keep_dims=True)
    centered = ew.Subtract(wide, mean)
    variance = reduction.ReduceMean(ew.Multiply(centered, centered), axes, keep_dims=True)
    return y, mean, _inverse_root(variance, epsilon)


def _inverse_root(mean_square: Value, epsilon: float) -> Value:
    return ew.Divide(scalar_like(mean_square, 1.0), ew.Sqrt(ew.Add(mean_square, scalar_like(mean_square, epsilon))))


def _rms_norm(x: Value, gamma: Value, axes: Value, epsilon: float, stash: ElementType) -> tuple[Value, Value]:
    """x / sqrt(mean(x²) + eps) * gamma, computed in `stash`; also 1/sqrt(mean(x²) + eps) in `stash`."""
    wide = _converted(x, stash)
    inverse = _inverse_root(reduction.ReduceMean(ew.Multiply(wide, wide), axes, keep_dims=True), epsilon)
    normalized = _converted(ew.Multiply(wide, inverse), x.element_type)
    return ew.Multiply(normalized, gamma), inverse


def _skip_sum(x: Value, skip: Value, bias: Value | None) -> Value:
    total = ew.Add(x, skip)
    return total if bias is None else ew.Add(total, bias)


def SkipLayerNormalization(
    ctx: OnnxContext,
    x: Value,
    skip: Value,
    gamma: Value,
    beta: Value | None = None,
    bias: Value | None = None,
    *,
    epsilon: float = 1e-12,
) -> list[Value | None]:
    total = _skip_sum(x, skip, bias)
    y, mean, inverse = _layer_norm(total, gamma, beta, epsilon, _wants(ctx, 1) or _wants(ctx, 2))
    return [y, mean, inverse, total]


def SkipSimplifiedLayerNormalization(
    ctx: OnnxContext,
    x: Value,
    skip: Value,
    gamma: Value,
    bias: Value | None = None,
    *,
    epsilon: float = 1e-12,
) -> list[Value | None]:
    if _wants(ctx, 1):
        raise Unsupported("output 1 (mean) is not defined for an RMS normalization")
    total = _skip_sum(x, skip, bias)
    y, inverse = _rms_norm(total, gamma, _ints([-1]), epsilon, ElementType.f32)
    return [y, None, inverse, total]


def SimplifiedLayerNormalization(
    ctx: OnnxContext,
    x: Value,
    scale: Value,
    *,
    axis: int = -1,
    epsilon: float = 1e-5,
    stash_type: int = 1,
) -> list[Value]:
    """onnxruntime's RMSNorm (default ONNX domain): Y and inv_std_var."""
    rank = x.shape.rank
    if rank is None and axis >= 0:
        raise Unsupported("a non-negative axis needs a known input rank")
    if rank is not None and not -rank <= axis < rank:
        raise Unsupported(f"axis {axis} is out of range for rank {rank}")
    axes = list(range(axis, 0)) if rank is None else list(range(axis % rank, rank))
    stash = element_type(stash_type)
    if not stash.is_float:
        raise Unsupported(f"stash_type {stash.value} is not a float type")
    y, inverse = _rms_norm(x, scale, _ints(axes), epsilon, stash)
    return [y, inverse]


# ------------------------------------------------------------------ convolution


def FusedConv(
    ctx: OnnxContext,
    x: Value,
    w: Value,
    b: Value | None = None,
    z: Value | None = None,
    *,
    activation: str = "",
    activation_params: list[float] | None = None,
    auto_pad: str = "NOTSET",
    dilations: list[int] | None = None,
    group: int = 1,
    kernel_shape: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Value:
    """activation(Conv(x, w, b) + z)."""
    y = conv.Conv(ctx, x, w, b, auto_pad=auto_pad, dilations=dilations, group=group, kernel_shape=kernel_shape, pads=pads, strides=strides)
    if z is not None:
        y = ew.Add(y, z)
    return _fused_activation(ctx, y, activation, list(activation_params or []))


def _fused_activation(ctx: OnnxContext, y: Value, name: str, params: list[float]) -> Value:
    needed = {"": 0, "Relu": 0, "Tanh": 0, "Sigmoid": 0, "LeakyRelu": 1, "Clip": 2, "HardSigmoid": 2}
    if name not in needed:
        raise Unsupported(f"activation {name!r}")
    if len(params) < needed[name]:
        raise Unsupported(f"activation {name} needs {needed[name]} activation_params, got {len(params)}")
    if name == "Relu":
        return act.Relu(y)
    if name == "Tanh":
        return act.Tanh(y)
    if name == "Sigmoid":
        return act.Sigmoid(y)
    if name == "LeakyRelu":
        return activation.LeakyRelu(ctx, y, alpha=params[0])
    if name == "Clip":
        return act.Clamp(y, min=float(params[0]), max=float(params[1]))
    if name == "HardSigmoid":
        return activation.HardSigmoid(ctx, y, alpha=params[0], beta=params[1])
    return y


# ------------------------------------------------------------------ attention


def Attention(
    ctx: OnnxContext,
    x: Value,
    weights: Value,
    bias: Value | None = None,
    mask_index: Value | None = None,
    past: Value | None = None,
    attention_bias: Value | None = None,
    past_sequence_length: Value | None = None,
    *,
    num_heads: int,
    do_rotary: int = 0,
    mask_filter_value: float = -10000.0,
    past_present_share_buffer: int = 0,
    qkv_hidden_sizes: list[int] | None = None,
    rotary_embedding_dim: int = 0,
    scale: float = 0.0,
    unidirectional: int = 0,
) -> Value:
    """Packed-QKV self-attention: softmax(scale·QKᵀ + mask)·V per head, without a KV cache.

    Masked scores get `mask_filter_value` added (not -inf), exactly as onnxruntime does.
    """
    for name, value in (("past", past), ("attention_bias", attention_bias), ("past_sequence_length", past_sequence_length)):
        if value is not None:
            raise Unsupported(f"input {name!r} is not supported (only attention without a KV cache or extra bias)")
    if _wants(ctx, 1):
        raise Unsupported("output 'present' (KV cache) is not supported")
    if do_rotary or past_present_share_buffer:
        raise Unsupported("do_rotary and past_present_share_buffer are not supported")
    if x.shape.rank != 3:
        raise Unsupported("the input must have rank 3 [batch, sequence, hidden]")
    q_size, k_size, v_size = _qkv_sizes(weights, qkv_hidden_sizes)
    if q_size != k_size or q_size % num_heads or v_size % num_heads:
        raise Unsupported(f"hidden sizes {[q_size, k_size, v_size]} do not fit {num_heads} heads")
    packed = mm.MatMul(x, weights, transpose_a=False, transpose_b=False)
    if bias is not None:
        packed = ew.Add(packed, bias)
    q, k, v = VariadicSplit.node(packed, const(np.array(-1, dtype=np.int64)), _ints([q_size, k_size, v_size])).outputs
    q, k, v = (_heads(t, num_heads) for t in (q, k, v))
    head_size = q_size // num_heads
    factor = scale if scale != 0.0 else 1.0 / math.sqrt(head_size)
    inputs = [q, k, v]
    additive = _additive_mask(x, mask_index, bool(unidirectional), mask_filter_value)
    inputs.append(additive if additive is not None else scalar_like(x, 0.0))
    inputs.append(scalar_like(x, factor))
    y = ScaledDotProductAttention(*inputs, causal=False)
    return Reshape(Transpose(y, _ints([0, 2, 1, 3])), _ints([0, 0, v_size]), special_zero=True)


def _qkv_sizes(weights: Value, qkv_hidden_sizes: list[int] | None) -> tuple[int, int, int]:
    if qkv_hidden_sizes:
        if len(qkv_hidden_sizes) != 3:
            raise Unsupported("qkv_hidden_sizes must have 3 values")
        return qkv_hidden_sizes[0], qkv_hidden_sizes[1], qkv_hidden_sizes[2]
    total = weights.shape[1] if weights.shape.rank == 2 else None
    if total is None or total % 3:
        raise Unsupported("the weights need a static second dim divisible by 3 (or qkv_hidden_sizes)")
    return total // 3, total // 3, total // 3


def _heads(t: Value, num_heads: int) -> Value:
    """[B, S, N·H] → [B, N, S, H]."""
    return Transpose(Reshape(t, _ints([0, 0, num_heads, -1]), special_zero=True), _ints([0, 2, 1, 3]))


def _additive_mask(x: Value, mask_index: Value | None, causal: bool, filter_value: float) -> Value | None:
    """The bias onnxruntime adds to the scores, broadcastable to [B, N, S, S]: filter_value where masked."""
    bias = None
    if mask_index is not None:
        rank = mask_index.shape.rank
        if rank not in (2, 3):
            raise Unsupported(f"mask_index of rank {rank} is not supported (only [batch, seq] and [batch, seq, seq] 0/1 masks)")
        keep = ew.Greater(mask_index, const(np.array(0, dtype=mask_index.element_type.numpy)))
        masked = ew.Select(keep, scalar_like(x, 0.0), scalar_like(x, filter_value))
        bias = Unsqueeze(masked, _ints([1, 2] if rank == 2 else [1]))
    if causal:
        length = x.shape[1]
        if length is None:
            raise Unsupported("unidirectional attention needs a static sequence length")
        above = np.triu(np.ones((length, length), dtype=bool), k=1)
        causal_bias = const(np.where(above, filter_value, 0.0).astype(x.element_type.numpy))
        bias = causal_bias if bias is None else ew.Add(bias, causal_bias)
    return bias


HANDLERS: dict[str, Handler] = {"SimplifiedLayerNormalization": SimplifiedLayerNormalization}

MICROSOFT_HANDLERS: dict[str, Handler] = {
    "Gelu": Gelu,
    "FastGelu": FastGelu,
    "BiasGelu": BiasGelu,
    "QuickGelu": QuickGelu,
    "BiasAdd": BiasAdd,
    "FusedMatMul": FusedMatMul,
    "SkipLayerNormalization": SkipLayerNormalization,
    "SkipSimplifiedLayerNormalization": SkipSimplifiedLayerNormalization,
    "FusedConv": FusedConv,
    "Attention": Attention,
}
