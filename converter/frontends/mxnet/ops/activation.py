"""MXNet activations and softmaxes → IR activation ops.

Activation: relu, sigmoid, tanh, softrelu (log(1 + eˣ)), softsign (x / (1 + |x|)), log_sigmoid,
mish. LeakyReLU at inference: leaky (slope·x below 0), prelu (gamma per channel, axis 1, or one
shared), elu (slope·(eˣ − 1)), selu (MXNet's fixed α and λ), gelu (the erf form), rrelu (the
mean slope (lower_bound + upper_bound) / 2, as MXNet infers). softmax / log_softmax divide by
`temperature` first. SoftmaxOutput is its inference softmax: over axis 1 with multi_output, the
last axis with preserve_shape, else over everything but the batch (the output keeps the
input's shape); SoftmaxActivation: over axis 1 (mode channel) or, as its kernel flattens the
input to 2-D keeping the last axis, over the last axis (instance).
"""

from __future__ import annotations

import numpy as np

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.frontends.mxnet.ops.common import checked_axis, dims, i64, known_rank, same_type, scalar_like
from converter.ir.graph import Value
from converter.ops import activation as act
from converter.ops import elementwise as ew
from converter.ops.core import const
from converter.ops.shape import Reshape

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946


def _activation(x: Value, act_type: str) -> Value:
    if act_type == "relu":
        return act.Relu(x)
    if act_type == "sigmoid":
        return act.Sigmoid(x)
    if act_type == "tanh":
        return act.Tanh(x)
    if act_type == "softrelu":
        return act.SoftPlus(x)
    if act_type == "softsign":
        return act.SoftSign(x)
    if act_type == "log_sigmoid":
        return ew.Negative(act.SoftPlus(ew.Negative(x)))
    if act_type == "mish":
        return act.Mish(x)
    raise Unsupported(f"act_type {act_type!r}")


def Activation(ctx: MXNetContext, data: Value, *, act_type: str = "relu") -> Value:
    return _activation(data, act_type)


def relu(ctx: MXNetContext, data: Value) -> Value:
    return act.Relu(data)


def sigmoid(ctx: MXNetContext, data: Value) -> Value:
    return act.Sigmoid(data)


def tanh(ctx: MXNetContext, data: Value) -> Value:
    return act.Tanh(data)


def softsign(ctx: MXNetContext, data: Value) -> Value:
    return act.SoftSign(data)


def LeakyReLU(
    ctx: MXNetContext,
    data: Value,
    gamma: Value | None = None,
    *,
    act_type: str = "leaky",
    slope: float = 0.25,
    lower_bound: float = 0.125,
    upper_bound: float = 0.334,
) -> Value:
    if act_type == "leaky":
        return _leaky(data, slope)
    if act_type == "rrelu":
        return _leaky(data, (lower_bound + upper_bound) / 2.0)
    if act_type == "prelu":
        if gamma is None:
            raise Unsupported("prelu needs its gamma input")
        return _prelu(data, gamma)
    if act_type == "elu":
        # MXNet: x > 0 ? x : slope·(eˣ − 1); IR Elu takes alpha = slope
        return act.Elu(data, alpha=float(slope))
    if act_type == "selu":
        return act.Selu(data, scalar_like(data, SELU_ALPHA), scalar_like(data, SELU_LAMBDA))
    if act_type == "gelu":
        return act.Gelu(data, approximation_mode="ERF")
    raise Unsupported(f"act_type {act_type!r}")


def _leaky(x: Value, slope: float) -> Value:
    # max(x, 0) + slope·min(x, 0): exact for any slope, as MXNet's x > 0 ? x : slope·x
    return act.PRelu(x, const(np.array([slope], dtype=x.element_type.numpy)))


def _prelu(x: Value, gamma: Value) -> Value:
    """MXNet's gamma has one slope per channel (axis 1) or a single shared one."""
    rank = known_rank(x, "prelu")
    gamma = same_type(gamma, x)
    shared = gamma.shape.is_static and int(np.prod(gamma.shape.static)) == 1
    shape = [1] if shared or rank < 2 else [1, -1] + [1] * (rank - 2)
    if gamma.const is not None:
        return act.PRelu(x, const(np.asarray(gamma.const).reshape(shape)))
    return act.PRelu(x, Reshape(gamma, i64(shape), special_zero=False))


def _scaled(x: Value, temperature: float | None) -> Value:
    if temperature is None or temperature == 1.0:
        return x
    return ew.Divide(x, scalar_like(x, temperature))


def softmax(
    ctx: MXNetContext,
    data: Value,
    length: Value | None = None,
    *,
    axis: int = -1,
    temperature: float | None = None,
    dtype: str | None = None,
    use_length: bool = False,
) -> Value:
    if use_length:
        raise Unsupported("use_length")
    if dtype not in (None, "float32") and np.dtype(dtype) != data.element_type.numpy:
        raise Unsupported(f"dtype {dtype!r}")
    return act.Softmax(_scaled(data, temperature), axis=checked_axis(axis, known_rank(data, "softmax")))


def log_softmax(
    ctx: MXNetContext,
    data: Value,
    length: Value | None = None,
    *,
    axis: int = -1,
    temperature: float | None = None,
    dtype: str | None = None,
    use_length: bool = False,
) -> Value:
    if use_length:
        raise Unsupported("use_length")
    if dtype not in (None, "float32") and np.dtype(dtype) != data.element_type.numpy:
        raise Unsupported(f"dtype {dtype!r}")
    return act.LogSoftmax(_scaled(data, temperature), axis=checked_axis(axis, known_rank(data, "log_softmax")))


def _flat_softmax(x: Value) -> Value:
    """Softmax over everything but the first axis, in the input's shape."""
    rank = known_rank(x, "softmax over the instance")
    if rank == 2:
        return act.Softmax(x, axis=1)
    flat = Reshape(x, i64([0, -1]), special_zero=True)
    return Reshape(act.Softmax(flat, axis=1), dims(x, 0, rank), special_zero=False)


def SoftmaxOutput(
    ctx: MXNetContext,
    data: Value,
    label: Value | None = None,
    *,
    grad_scale: float = 1.0,
    ignore_label: float = -1.0,
    multi_output: bool = False,
    use_ignore: bool = False,
    preserve_shape: bool = False,
    normalization: str = "null",
    out_grad: bool = False,
    smooth_alpha: float = 0.0,
) -> Value:
    if multi_output:
        return act.Softmax(data, axis=1)
    if preserve_shape:
        return act.Softmax(data, axis=known_rank(data, "SoftmaxOutput") - 1)
    return _flat_softmax(data)


def SoftmaxActivation(ctx: MXNetContext, data: Value, *, mode: str = "instance") -> Value:
    if mode == "channel":
        return act.Softmax(data, axis=1)
    if mode == "instance":  # mshadow's FlatTo2D: every row of the last axis
        return act.Softmax(data, axis=known_rank(data, "SoftmaxActivation") - 1)
    raise Unsupported(f"mode {mode!r}")


HANDLERS: dict[str, Handler] = {
    "Activation": Activation,
    "LeakyReLU": LeakyReLU,
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softsign": softsign,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "SoftmaxOutput": SoftmaxOutput,
    "SoftmaxActivation": SoftmaxActivation,
}
