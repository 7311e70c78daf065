"""MXNet normalizations → IR BatchNormInference, MVN, NormalizeL2.

BatchNorm at inference uses the moving statistics (whatever use_global_stats says: it only
matters in training); fix_gamma (the default!) makes gamma 1. InstanceNorm normalizes each
(sample, channel) over the spatial axes, LayerNorm along `axis`; both with the biased variance
and eps inside the square root. L2Normalization divides by √(Σx² + eps) over everything but the
batch (instance), the channel axis (channel) or the spatial axes (spatial).
"""

from __future__ import annotations

import numpy as np

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.frontends.mxnet.ops.common import channel_vector, checked_axis, i64, known_rank, same_type, scalar_like
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.core import const
from converter.ops.normalization import MVN, BatchNormInference, NormalizeL2


def _ones_like(vector: Value, like: Value) -> Value:
    if vector.shape.is_static:
        return const(np.ones(vector.shape.static, dtype=like.element_type.numpy))
    return ew.Add(ew.Multiply(same_type(vector, like), scalar_like(like, 0.0)), scalar_like(like, 1.0))


def BatchNorm(
    ctx: MXNetContext,
    data: Value,
    gamma: Value,
    beta: Value,
    moving_mean: Value | None = None,
    moving_var: Value | None = None,
    *,
    eps: float = 1e-3,
    momentum: float = 0.9,
    fix_gamma: bool = True,
    use_global_stats: bool = False,
    output_mean_var: bool = False,
    axis: int = 1,
    cudnn_off: bool = False,
    min_calib_range: float | None = None,
    max_calib_range: float | None = None,
) -> Value:
    if moving_mean is None or moving_var is None:
        raise Unsupported("no moving_mean / moving_var (neither inputs nor in the params)")
    rank = known_rank(data, "BatchNorm")
    axis = checked_axis(axis, rank)
    scale = _ones_like(gamma, data) if fix_gamma else same_type(gamma, data)
    shift, mean, variance = (same_type(v, data) for v in (beta, moving_mean, moving_var))
    if axis == 1 and rank >= 2:
        y = BatchNormInference(data, scale, shift, mean, variance, epsilon=float(eps))
    else:
        vectors = [channel_vector(v, rank, axis) for v in (scale, shift, mean, variance)]
        spread = ew.Sqrt(ew.Add(vectors[3], scalar_like(data, eps)))
        y = ew.Add(ew.Multiply(ew.Divide(ew.Subtract(data, vectors[2]), spread), vectors[0]), vectors[1])
    return y  # with output_mean_var, the batch statistics are training outputs: not produced


def InstanceNorm(ctx: MXNetContext, data: Value, gamma: Value, beta: Value, *, eps: float = 1e-3) -> Value:
    rank = known_rank(data, "InstanceNorm")
    if rank < 3:
        raise Unsupported(f"a rank-{rank} input (InstanceNorm needs spatial axes)")
    normalized = MVN(data, i64(list(range(2, rank))), normalize_variance=True, eps=float(eps), eps_mode="inside_sqrt")
    return ew.Add(ew.Multiply(normalized, channel_vector(same_type(gamma, data), rank)), channel_vector(same_type(beta, data), rank))


def LayerNorm(ctx: MXNetContext, data: Value, gamma: Value, beta: Value, *, axis: int = -1, eps: float = 1e-5, output_mean_var: bool = False) -> Value:
    if output_mean_var:
        raise Unsupported("output_mean_var")
    rank = known_rank(data, "LayerNorm")
    axis = checked_axis(axis, rank)
    normalized = MVN(data, i64([axis]), normalize_variance=True, eps=float(eps), eps_mode="inside_sqrt")
    return ew.Add(ew.Multiply(normalized, channel_vector(same_type(gamma, data), rank, axis)), channel_vector(same_type(beta, data), rank, axis))


def L2Normalization(ctx: MXNetContext, data: Value, *, eps: float = 1e-10, mode: str = "instance") -> Value:
    rank = known_rank(data, "L2Normalization")
    if mode == "instance":
        axes = list(range(1, rank))
    elif mode == "channel":
        axes = [1]
    elif mode == "spatial":
        axes = list(range(2, rank))
    else:
        raise Unsupported(f"mode {mode!r}")
    if mode != "instance" and rank < 3:
        raise Unsupported(f"mode {mode!r} on a rank-{rank} input (MXNet needs rank 3 or more)")
    return NormalizeL2(data, i64(axes), eps=float(eps), eps_mode="add")


HANDLERS: dict[str, Handler] = {
    "BatchNorm": BatchNorm,
    "InstanceNorm": InstanceNorm,
    "LayerNorm": LayerNorm,
    "L2Normalization": L2Normalization,
}
