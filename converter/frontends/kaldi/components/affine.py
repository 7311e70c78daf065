"""Affine and linear components: y = x · Wᵀ + b per frame; TdnnComponent over time offsets."""

from __future__ import annotations

import numpy as np

from converter.frontends.kaldi.components.common import affine, integers, matrix, vector
from converter.frontends.kaldi.graph import Handler, KaldiContext, Unsupported
from converter.ir.graph import Value

# ---------------------------------------------------------------- nnet3


def AffineComponent(ctx: KaldiContext, x: Value, *, linear_params: np.ndarray, bias_params: np.ndarray) -> Value:
    weights = matrix(linear_params, "<LinearParams>")
    return affine(ctx, x, weights, vector(bias_params, "<BiasParams>", weights.shape[0]))


def NaturalGradientAffineComponent(ctx: KaldiContext, x: Value, *, linear_params: np.ndarray, bias_params: np.ndarray) -> Value:
    """An AffineComponent trained with natural gradient: the same function."""
    return AffineComponent(ctx, x, linear_params=linear_params, bias_params=bias_params)


def FixedAffineComponent(ctx: KaldiContext, x: Value, *, linear_params: np.ndarray, bias_params: np.ndarray) -> Value:
    """An AffineComponent training leaves alone (LDA transforms): the same function."""
    return AffineComponent(ctx, x, linear_params=linear_params, bias_params=bias_params)


def LinearComponent(ctx: KaldiContext, x: Value, *, params: np.ndarray) -> Value:
    return affine(ctx, x, matrix(params, "<Params>"), None)


def TdnnComponent(
    ctx: KaldiContext, x: Value, *, time_offsets: np.ndarray, linear_params: np.ndarray, bias_params: np.ndarray
) -> Value:
    """y(t) = Σᵢ Wᵢ · x(t + oᵢ) + b: W's columns hold one block of input dims per time offset, in
    the offsets' order (an empty bias is none). The orthonormal constraint only shapes training."""
    offsets = integers(time_offsets, "<TimeOffsets>")
    if not offsets:
        raise Unsupported("<TimeOffsets> is empty")
    weights = matrix(linear_params, "<LinearParams>")
    bias = vector(bias_params, "<BiasParams>")
    spliced = ctx.splice(x, offsets)
    return affine(ctx, spliced, weights, bias)


# ---------------------------------------------------------------- nnet1


def AffineTransform(ctx: KaldiContext, x: Value, linearity: np.ndarray, bias: np.ndarray) -> Value:
    weights = matrix(linearity, "the linearity")
    return affine(ctx, x, weights, vector(bias, "the bias", weights.shape[0]))


def LinearTransform(ctx: KaldiContext, x: Value, linearity: np.ndarray) -> Value:
    return affine(ctx, x, matrix(linearity, "the linearity"), None)


NNET3: dict[str, Handler] = {
    f.__name__: f for f in (AffineComponent, NaturalGradientAffineComponent, FixedAffineComponent, LinearComponent, TdnnComponent)
}
NNET1: dict[str, Handler] = {f.__name__: f for f in (AffineTransform, LinearTransform)}
