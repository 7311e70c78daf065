"""Convolution over the dims of each frame: nnet1's ConvolutionalComponent."""

from __future__ import annotations

import numpy as np

from converter.frontends.kaldi.components.common import input_dim, matrix, vector
from converter.frontends.kaldi.frames import i64
from converter.frontends.kaldi.graph import Handler, KaldiContext, Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.indexing import Gather
from converter.ops.matmul import MatMul
from converter.ops.shape import Reshape


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


NNET1: dict[str, Handler] = {f.__name__: f for f in (ConvolutionalComponent,)}
