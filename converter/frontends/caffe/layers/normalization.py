"""BatchNorm (the scale-factor blob), LRN (across and within channels), MVN and SSD's Normalize."""

from __future__ import annotations

import numpy as np

from converter.frontends.caffe.layers.common import along, dims_of, f32, i64
from converter.frontends.caffe.net import CaffeContext, Handler, Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.normalization import LRN as IrLRN
from converter.ops.normalization import MVN as IrMVN
from converter.ops.normalization import NormalizeL2


def BatchNorm(
    ctx: CaffeContext, x: Value, *, use_global_stats: bool = True, moving_average_fraction: float = 0.999, eps: float = 1e-5
) -> Value:
    """(x − mean / s) / sqrt(var / s + eps) per channel, s the third blob (the moving-average
    normalizer; 0 gives zero statistics), as one multiply and one add."""
    if not use_global_stats:
        raise Unsupported("use_global_stats false (statistics of the batch: a training-time layer)")
    dims = dims_of(x, "BatchNorm")
    channels = dims[1] if len(dims) > 1 else 1
    mean, variance, factor = ctx.weights([channels], [channels], [1])
    normalizer = 0.0 if float(factor[0]) == 0.0 else 1.0 / float(factor[0])
    mean64, variance64 = mean.astype(np.float64) * normalizer, variance.astype(np.float64) * normalizer
    multiplier = 1.0 / np.sqrt(variance64 + np.float64(np.float32(eps)))
    rank = max(len(dims), 2)
    return ew.Add(ew.Multiply(x, along(multiplier.astype(np.float32), rank, 1)), along((-mean64 * multiplier).astype(np.float32), rank, 1))


def LRN(
    ctx: CaffeContext,
    x: Value,
    *,
    local_size: int = 5,
    alpha: float = 1.0,
    beta: float = 0.75,
    norm_region: str = "ACROSS_CHANNELS",
    k: float = 1.0,
) -> Value:
    """ACROSS_CHANNELS: x / (k + α/n · Σ x² over n channels)^β. WITHIN_CHANNEL: x / (1 + α · mean of x²
    over an n×n window, zero-padded)^β (Caffe ignores k there)."""
    if local_size % 2 == 0:
        raise Unsupported(f"an even local_size {local_size}")
    if len(dims_of(x, "LRN")) != 4:
        raise Unsupported("LRN of a blob that is not 4-D")
    if norm_region == "ACROSS_CHANNELS":
        return IrLRN(x, i64([1]), alpha=alpha, beta=beta, bias=k, size=local_size)
    return IrLRN(x, i64([2, 3]), alpha=alpha, beta=beta, bias=1.0, size=local_size)


def MVN(ctx: CaffeContext, x: Value, *, normalize_variance: bool = True, across_channels: bool = False, eps: float = 1e-9) -> Value:
    """Mean (and variance) over H, W (and C when across_channels): (x − mean) / (std + eps)."""
    rank = len(dims_of(x, "MVN"))
    axes = list(range(1 if across_channels else 2, rank))
    if not axes:
        raise Unsupported(f"MVN of a {rank}-D blob")
    return IrMVN(x, i64(axes), normalize_variance=normalize_variance, eps=eps, eps_mode="outside_sqrt")


def Normalize(ctx: CaffeContext, x: Value, *, across_spatial: bool = True, channel_shared: bool = True, eps: float = 1e-10) -> Value:
    """SSD's L2 normalization, over C, H, W per image (across_spatial) or over C per position,
    sqrt(Σ x² + eps), then a learned scale per channel (or one)."""
    dims = dims_of(x, "Normalize")
    if len(dims) < 2:
        raise Unsupported(f"Normalize of a {len(dims)}-D blob")
    axes = list(range(1, len(dims))) if across_spatial else [1]
    y = NormalizeL2(x, i64(axes), eps=eps, eps_mode="add")
    (scale,) = ctx.weights([1 if channel_shared else dims[1]])
    return ew.Multiply(y, f32(scale[0]) if channel_shared else along(scale, len(dims), 1))


HANDLERS: dict[str, Handler] = {"BatchNorm": BatchNorm, "LRN": LRN, "MVN": MVN, "Normalize": Normalize}
