"""Activation functions and softmax-family ops."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from converter.ops.elementwise import erf
from converter.ops.spec import Attr, AttrKind, OpSpec, normalize_axis, same_as_input


def _activation(
    type_: str,
    function: Callable[..., np.ndarray],
    version: str = "opset1",
    attrs: tuple[Attr, ...] = (),
) -> OpSpec:
    """An op whose output has input 0's type; `function(*inputs, **attrs)` computes it."""

    def kernel(inputs: list[np.ndarray], attr_values: dict[str, Any]) -> list[np.ndarray]:
        x = inputs[0]
        with np.errstate(all="ignore"):
            result = function(*inputs, **attr_values)
        return [np.asarray(result).astype(x.dtype, copy=False)]

    return OpSpec(type_, version, attrs, same_as_input(), kernel)


def prelu_channel_slope(slope_shape: tuple[int | None, ...], data_shape: tuple[int | None, ...] | None) -> bool:
    """Whether PReLU-1 applies its per-channel rule (slope along dim 1) instead of numpy broadcasting.

    OpenVINO: a 1D slope whose length equals the data's second dimension is per channel.
    """
    if len(slope_shape) != 1 or data_shape is None or len(data_shape) < 2:
        return False
    return slope_shape[0] == data_shape[1] and data_shape[1] is not None


def _prelu(x: np.ndarray, slope: np.ndarray) -> np.ndarray:
    if prelu_channel_slope(slope.shape, x.shape):
        slope = slope.reshape((-1,) + (1,) * (x.ndim - 2))
    return np.where(x < 0, x * slope, x)


def integer_clamp_bounds(dtype: np.dtype, low: float, high: float) -> tuple[int, int]:
    """Clamp-1 on integers: `min` rounds up, `max` rounds down, both saturate to the type's range."""
    info = np.iinfo(dtype)

    def saturate(value: float) -> int:
        return int(info.min) if value <= info.min else int(info.max) if value >= info.max else int(value)

    return (
        saturate(math.ceil(low) if math.isfinite(low) else low),
        saturate(math.floor(high) if math.isfinite(high) else high),
    )


def _clamp(x: np.ndarray, min: float, max: float) -> np.ndarray:
    if x.dtype.kind in "iu":
        low, high = integer_clamp_bounds(x.dtype, min, max)
        return np.minimum(np.maximum(x, x.dtype.type(low)), x.dtype.type(high))
    return np.minimum(np.maximum(x, x.dtype.type(min)), x.dtype.type(max))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _hsigmoid(x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x + 3, 0), 6) / 6


def _hard_sigmoid(x: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    return np.maximum(0, np.minimum(1, alpha * x + beta))


def _gelu(x: np.ndarray, approximation_mode: str) -> np.ndarray:
    if approximation_mode == "TANH":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(np.zeros_like(x), x)


def _swish(x: np.ndarray, beta: np.ndarray | None = None) -> np.ndarray:
    beta_value = 1.0 if beta is None else beta
    return x * _sigmoid(beta_value * x)


def _selu(x: np.ndarray, alpha: np.ndarray, lambda_: np.ndarray) -> np.ndarray:
    return lambda_ * np.where(x > 0, x, alpha * (np.exp(x) - 1))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    axis = normalize_axis(axis, x.ndim)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    exponent = np.exp(shifted)
    return exponent / np.sum(exponent, axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    axis = normalize_axis(axis, x.ndim)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


Relu = _activation("ReLU", lambda x: np.maximum(x, 0))
PRelu = _activation("PReLU", _prelu)
"""A 1D slope as long as data dim 1 is per channel; any other slope broadcasts like numpy."""
Elu = _activation("Elu", lambda x, alpha: np.where(x > 0, x, alpha * (np.exp(x) - 1)), attrs=(Attr("alpha", AttrKind.FLOAT),))
Clamp = _activation("Clamp", _clamp, attrs=(Attr("min", AttrKind.FLOAT), Attr("max", AttrKind.FLOAT)))
Sigmoid = _activation("Sigmoid", _sigmoid)
Tanh = _activation("Tanh", np.tanh)
HSigmoid = _activation("HSigmoid", _hsigmoid, "opset5")
HSwish = _activation("HSwish", lambda x: x * _hsigmoid(x), "opset4")
HardSigmoid = _activation("HardSigmoid", _hard_sigmoid)
"""Inputs: data, alpha (scalar), beta (scalar)."""
Gelu = _activation("Gelu", _gelu, "opset7", (Attr("approximation_mode", AttrKind.STR, "ERF"),))
"""approximation_mode: ERF | TANH."""
SoftPlus = _activation("SoftPlus", _softplus, "opset4")
SoftSign = _activation("SoftSign", lambda x: x / (1 + np.abs(x)), "opset9")
Mish = _activation("Mish", lambda x: x * np.tanh(_softplus(x)), "opset4")
Swish = _activation("Swish", _swish, "opset4")
"""Inputs: data, optional beta (scalar, default 1)."""
Selu = _activation("Selu", _selu)
"""Inputs: data, alpha (scalar), lambda (scalar)."""
Softmax = _activation("SoftMax", _softmax, "opset8", (Attr("axis", AttrKind.INT, 1),))
LogSoftmax = _activation("LogSoftmax", _log_softmax, "opset5", (Attr("axis", AttrKind.INT, 1),))

OPS: tuple[OpSpec, ...] = (
    Relu,
    PRelu,
    Elu,
    Clamp,
    Sigmoid,
    Tanh,
    HSigmoid,
    HSwish,
    HardSigmoid,
    Gelu,
    SoftPlus,
    SoftSign,
    Mish,
    Swish,
    Selu,
    Softmax,
    LogSoftmax,
)
