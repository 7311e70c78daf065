"""Nonlinearities, applied per frame. nnet3's NonlinearComponents store a dimension (and a block
dimension) beside training statistics; only the dimension is checked."""

from __future__ import annotations

import numpy as np

from converter.frontends.kaldi.components.common import check_dim, integers, split_columns
from converter.frontends.kaldi.graph import Handler, KaldiContext, Unsupported
from converter.ir.graph import Value
from converter.ops import activation as act
from converter.ops import elementwise as ew
from converter.ops.shape import Concat

SOFTMAX_FLOOR = 1.0e-20  # nnet3's SoftmaxComponent floors its outputs


def _softmax(x: Value) -> Value:
    return act.Softmax(x, axis=1)


# ---------------------------------------------------------------- nnet3


def SigmoidComponent(ctx: KaldiContext, x: Value, *, dim: int, block_dim: int | None = None) -> Value:
    check_dim(x, dim)
    return act.Sigmoid(x)


def TanhComponent(ctx: KaldiContext, x: Value, *, dim: int, block_dim: int | None = None) -> Value:
    check_dim(x, dim)
    return act.Tanh(x)


def RectifiedLinearComponent(ctx: KaldiContext, x: Value, *, dim: int, block_dim: int | None = None) -> Value:
    check_dim(x, dim)
    return act.Relu(x)


def SoftmaxComponent(ctx: KaldiContext, x: Value, *, dim: int, block_dim: int | None = None) -> Value:
    """Softmax over each frame's dims, floored at 1e-20 as Kaldi floors it."""
    check_dim(x, dim)
    return ew.Maximum(_softmax(x), ctx.floats(SOFTMAX_FLOOR))


def LogSoftmaxComponent(ctx: KaldiContext, x: Value, *, dim: int, block_dim: int | None = None) -> Value:
    check_dim(x, dim)
    return act.LogSoftmax(x, axis=1)


# ---------------------------------------------------------------- nnet1


def Sigmoid(ctx: KaldiContext, x: Value) -> Value:
    return act.Sigmoid(x)


def Tanh(ctx: KaldiContext, x: Value) -> Value:
    return act.Tanh(x)


def Softmax(ctx: KaldiContext, x: Value) -> Value:
    return _softmax(x)


def HiddenSoftmax(ctx: KaldiContext, x: Value) -> Value:
    """A softmax inside the network: forward, the same as Softmax."""
    return _softmax(x)


def BlockSoftmax(ctx: KaldiContext, x: Value, block_dims: np.ndarray) -> Value:
    """A softmax over each block of dims on its own."""
    sizes = integers(block_dims, "the block dims")
    if not sizes or any(s <= 0 for s in sizes):
        raise Unsupported(f"block dims {sizes}")
    parts = [_softmax(part) for part in split_columns(x, sizes)]
    return parts[0] if len(parts) == 1 else Concat(*parts, axis=1)


def ParametricRelu(ctx: KaldiContext, x: Value, alpha: np.ndarray, beta: np.ndarray) -> Value:
    """x · alpha where x ≥ 0, x · beta elsewhere (per dim)."""
    slope = ew.Select(ew.GreaterEqual(x, ctx.floats(0.0)), ctx.floats(alpha), ctx.floats(beta))
    return ew.Multiply(x, slope)


NNET3: dict[str, Handler] = {
    f.__name__: f for f in (SigmoidComponent, TanhComponent, RectifiedLinearComponent, SoftmaxComponent, LogSoftmaxComponent)
}
NNET1: dict[str, Handler] = {f.__name__: f for f in (Sigmoid, Tanh, Softmax, HiddenSoftmax, BlockSoftmax, ParametricRelu)}
