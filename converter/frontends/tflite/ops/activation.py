"""TFLite activations → IR activation ops. SOFTMAX and LOG_SOFTMAX work on the last axis."""

from __future__ import annotations

import numpy as np

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import scalar_like
from converter.ir.graph import Value
from converter.ops import activation as act
from converter.ops import elementwise as ew
from converter.ops.core import const
from converter.ops.shape import Reshape


def RELU(ctx: TFLiteContext, x: Value) -> Value:
    return act.Relu(x)


def RELU6(ctx: TFLiteContext, x: Value) -> Value:
    return act.Clamp(x, min=0.0, max=6.0)


def RELU_N1_TO_1(ctx: TFLiteContext, x: Value) -> Value:
    return act.Clamp(x, min=-1.0, max=1.0)


def RELU_0_TO_1(ctx: TFLiteContext, x: Value) -> Value:
    return act.Clamp(x, min=0.0, max=1.0)


def LEAKY_RELU(ctx: TFLiteContext, x: Value, *, alpha: float = 0.0) -> Value:
    """x where x ≥ 0, else alpha·x."""
    return act.PRelu(x, const(np.array([alpha], dtype=x.element_type.numpy)))


def PRELU(ctx: TFLiteContext, x: Value, alpha: Value) -> Value:
    """x where x ≥ 0, else alpha·x, alpha broadcast numpy-style. Given at x's rank, so OpenVINO's
    rule for a 1-D slope (along axis 1) never applies to TFLite's channels-last slopes."""
    rank, slope_rank = x.shape.rank, alpha.shape.rank
    if rank is not None and slope_rank is not None and slope_rank < rank and rank >= 2:
        shape = [1] * (rank - slope_rank) + [d if d is not None else -1 for d in alpha.shape.dims]  # type: ignore[union-attr]
        if alpha.const is not None:
            alpha = const(np.asarray(alpha.const).reshape(shape))
        else:
            alpha = Reshape(alpha, const(np.array(shape, dtype=np.int64)), special_zero=False)
    return act.PRelu(x, alpha)


def ELU(ctx: TFLiteContext, x: Value) -> Value:
    return act.Elu(x, alpha=1.0)


def HARD_SWISH(ctx: TFLiteContext, x: Value) -> Value:
    return act.HSwish(x)


def LOGISTIC(ctx: TFLiteContext, x: Value) -> Value:
    return act.Sigmoid(x)


def TANH(ctx: TFLiteContext, x: Value) -> Value:
    return act.Tanh(x)


def GELU(ctx: TFLiteContext, x: Value, *, approximate: bool = False) -> Value:
    return act.Gelu(x, approximation_mode="TANH" if approximate else "ERF")


def SOFTMAX(ctx: TFLiteContext, logits: Value, *, beta: float = 0.0) -> Value:
    """softmax(beta · x) over the last axis."""
    if beta != 1.0:
        logits = ew.Multiply(logits, scalar_like(logits, beta))
    return act.Softmax(logits, axis=-1)


def LOG_SOFTMAX(ctx: TFLiteContext, logits: Value) -> Value:
    return act.LogSoftmax(logits, axis=-1)


HANDLERS: dict[str, Handler] = {
    "RELU": RELU,
    "RELU6": RELU6,
    "RELU_N1_TO_1": RELU_N1_TO_1,
    "RELU_0_TO_1": RELU_0_TO_1,
    "LEAKY_RELU": LEAKY_RELU,
    "PRELU": PRELU,
    "ELU": ELU,
    "HARD_SWISH": HARD_SWISH,
    "LOGISTIC": LOGISTIC,
    "TANH": TANH,
    "GELU": GELU,
    "SOFTMAX": SOFTMAX,
    "LOG_SOFTMAX": LOG_SOFTMAX,
}
GRID_PRESERVING: frozenset[str] = frozenset()
