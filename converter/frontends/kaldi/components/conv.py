"""Convolutions: nnet3's TimeHeightConvolutionComponent (time × height), nnet1's
ConvolutionalComponent (over the dims of each frame)."""

from __future__ import annotations

import numpy as np

from converter.frontends.kaldi.components.common import check_dim, input_dim, integers, matrix, vector
from converter.frontends.kaldi.frames import i64
from converter.frontends.kaldi.graph import Handler, KaldiContext, Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.indexing import Gather
from converter.ops.matmul import MatMul
from converter.ops.shape import Concat, Pad, Reshape
from converter.ops.core import const


def TimeHeightConvolutionComponent(
    ctx: KaldiContext,
    x: Value,
    *,
    num_filters_in: int,
    num_filters_out: int,
    height_in: int,
    height_out: int,
    height_subsample_out: int,
    offsets: np.ndarray,
    required_time_offsets: np.ndarray,
    linear_params: np.ndarray,
    bias_params: np.ndarray,
) -> Value:
    """Each frame is an image column of `height_in` × `num_filters_in` (filter index fastest).
    Output (t, h) sums, over the (time, height) offsets in order, W_k · x(t + dt)[h·subsample + dh]
    (zero outside the heights; zero at time offsets not required where their frame does not
    exist), plus the bias; W is [filters out, offsets × filters in]."""
    check_dim(x, height_in * num_filters_in, "height-in × num-filters-in")
    pairs = np.asarray(offsets).reshape(-1, 2)
    if len(pairs) == 0:
        raise Unsupported("no offsets")
    weights = matrix(linear_params, "<LinearParams>", rows=num_filters_out, cols=len(pairs) * num_filters_in)
    bias = vector(bias_params, "<BiasParams>", num_filters_out)
    times = sorted({int(dt) for dt in pairs[:, 0]})
    frames = dict(zip(times, ctx.frames_at(x, times, integers(required_time_offsets, "<RequiredTimeOffsets>"))))
    heights = [[h * height_subsample_out + int(dh) for h in range(height_out)] for dh in pairs[:, 1]]
    low = max(0, -min(min(row) for row in heights))
    high = max(0, max(max(row) for row in heights) - (height_in - 1))
    images: dict[int, Value] = {}
    for dt, value in frames.items():
        image = Reshape(value, i64([-1, height_in, num_filters_in]), special_zero=False)
        if low or high:
            image = Pad(image, i64([0, low, 0]), i64([0, high, 0]), const(np.zeros((), np.float32)), pad_mode="constant")
        images[dt] = image
    patches = [Gather(images[int(dt)], i64([h + low for h in row]), i64(1)) for (dt, _), row in zip(pairs, heights)]
    stacked = patches[0] if len(patches) == 1 else Concat(*patches, axis=2)  # [n, height out, offsets × filters in]
    y = ew.Add(MatMul(stacked, ctx.floats(weights), transpose_b=True), ctx.floats(bias))
    return Reshape(y, i64([-1, height_out * num_filters_out]), special_zero=False)


def ConvolutionalComponent(
    ctx: KaldiContext, x: Value, *, patch_dim: int, patch_step: int, patch_stride: int, filters: np.ndarray, bias: np.ndarray
) -> Value:
    """The input is `num_splice` spliced frames of `patch_stride` dims each; patch p takes dims
    p·step … p·step+patch_dim−1 of every spliced frame (splice-major), each filter one output per
    patch; the output is patch-major: [patch 0's filters, patch 1's, …]."""
    dim = input_dim(x)
    if patch_stride <= 0 or dim % patch_stride != 0 or patch_step <= 0 or (patch_stride - patch_dim) % patch_step != 0:
        raise Unsupported(f"patches of {patch_dim} dims every {patch_step} within {patch_stride} do not tile {dim} dims")
    splices, patches = dim // patch_stride, 1 + (patch_stride - patch_dim) // patch_step
    weights = matrix(filters, "<Filters>", cols=splices * patch_dim)
    offsets = vector(bias, "<Bias>", weights.shape[0])
    columns = [p * patch_step + s * patch_stride + d for p in range(patches) for s in range(splices) for d in range(patch_dim)]
    gathered = Gather(x, i64(columns), i64(1))
    per_patch = Reshape(gathered, i64([-1, patches, splices * patch_dim]), special_zero=False)
    y = ew.Add(MatMul(per_patch, ctx.floats(weights), transpose_b=True), ctx.floats(offsets))
    return Reshape(y, i64([-1, patches * weights.shape[0]]), special_zero=False)


NNET3: dict[str, Handler] = {f.__name__: f for f in (TimeHeightConvolutionComponent,)}
NNET1: dict[str, Handler] = {f.__name__: f for f in (ConvolutionalComponent,)}
