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
) -> list[Value]:
    total = _skip_sum(x, skip, bias)
    y, mean, inverse = _layer_norm(total, gamma, beta, epsilon, _wants(ctx, 1) or _wants(ctx, 2))
    return [y, mean, inverse, total]  # type: ignore[list-item]


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
}
