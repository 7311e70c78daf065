"""Activation strings (the `activation=` of Dense, Conv*, Activation) and the activation layers.

Formulas are Keras 3's (keras/src/backend/tensorflow/nn.py); Keras 2 differs in hard_sigmoid
(clip(0.2 x + 0.5, 0, 1)), chosen by the file's Keras version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from converter.frontends.keras.context import Layer, Unsupported
from converter.frontends.keras.layers.common import int64s, keras_axis, rank_of, scalar
from converter.ir.graph import Value
from converter.ops import activation as act
from converter.ops import elementwise as ew
from converter.ops.core import const
from converter.ops.shape import Split

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

Activation_ = Callable[[Value, int], Value]


def _slope(x: Value, slope: float) -> Value:
    return const(np.full((1,), slope, dtype=x.element_type.numpy))


def leaky(x: Value, slope: float) -> Value:
    return act.PRelu(x, _slope(x, slope))


def _hard_sigmoid(x: Value, keras_major: int) -> Value:
    if keras_major < 3:  # tf.keras 2: clip(0.2 x + 0.5, 0, 1)
        return act.HardSigmoid(x, scalar(x, 0.2), scalar(x, 0.5))
    return act.HSigmoid(x)


def _glu(x: Value, _: int) -> Value:
    first, second = Split.node(x, int64s(-1), num_splits=2).outputs
    return ew.Multiply(first, act.Sigmoid(second))


def _sparse_plus(x: Value, _: int) -> Value:
    clipped = act.Clamp(x, min=-1.0, max=1.0)
    shifted = ew.Add(clipped, scalar(x, 1.0))
    return ew.Add(ew.Multiply(ew.Multiply(shifted, shifted), scalar(x, 0.25)), act.Relu(ew.Subtract(x, scalar(x, 1.0))))


def _squareplus(x: Value, _: int) -> Value:
    root = ew.Sqrt(ew.Add(ew.Multiply(x, x), scalar(x, 4.0)))
    return ew.Multiply(ew.Add(x, root), scalar(x, 0.5))


def _hard_shrink(x: Value, _: int) -> Value:
    keep = ew.Greater(ew.Abs(x), scalar(x, 0.5))
    return ew.Select(keep, x, scalar(x, 0.0))


ACTIVATIONS: dict[str, Activation_] = {
    "linear": lambda x, _: x,
    "relu": lambda x, _: act.Relu(x),
    "relu6": lambda x, _: act.Clamp(x, min=0.0, max=6.0),
    "sigmoid": lambda x, _: act.Sigmoid(x),
    "tanh": lambda x, _: act.Tanh(x),
    "softmax": lambda x, _: act.Softmax(x, axis=-1),
    "log_softmax": lambda x, _: act.LogSoftmax(x, axis=-1),
    "softplus": lambda x, _: act.SoftPlus(x),
    "softsign": lambda x, _: act.SoftSign(x),
    "elu": lambda x, _: act.Elu(x, alpha=1.0),
    "celu": lambda x, _: act.Elu(x, alpha=1.0),  # alpha 1: max(x, 0) + expm1(min(x, 0))
    "selu": lambda x, _: act.Selu(x, scalar(x, SELU_ALPHA), scalar(x, SELU_SCALE)),
    "gelu": lambda x, _: act.Gelu(x, approximation_mode="ERF"),  # keras.activations.gelu: approximate=False
    "silu": lambda x, _: act.Swish(x),
    "swish": lambda x, _: act.Swish(x),
    "hard_sigmoid": _hard_sigmoid,
    "hard_silu": lambda x, _: act.HSwish(x),
    "hard_swish": lambda x, _: act.HSwish(x),
    "exponential": lambda x, _: ew.Exp(x),
    "leaky_relu": lambda x, _: leaky(x, 0.2),
    "mish": lambda x, _: act.Mish(x),
    "hard_tanh": lambda x, _: act.Clamp(x, min=-1.0, max=1.0),
    "log_sigmoid": lambda x, _: ew.Negative(act.SoftPlus(ew.Negative(x))),
    "tanh_shrink": lambda x, _: ew.Subtract(x, act.Tanh(x)),
    "soft_shrink": lambda x, _: ew.Subtract(x, act.Clamp(x, min=-0.5, max=0.5)),
    "hard_shrink": _hard_shrink,
    "sparse_plus": _sparse_plus,
    "sparse_sigmoid": lambda x, _: act.Clamp(ew.Multiply(ew.Add(x, scalar(x, 1.0)), scalar(x, 0.5)), min=0.0, max=1.0),
    "squareplus": _squareplus,
    "glu": _glu,
}


def activation_name(spec: Any) -> str | None:
    """`"relu"`, `{"class_name": "function", "config": "relu", ...}` or None → the name."""
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        config = spec.get("config")
        if isinstance(config, str) and (spec.get("class_name") == "function" or str(spec.get("module", "")).startswith("keras")):
            return config
        raise Unsupported(f"custom activation {spec.get('registered_name') or spec.get('class_name')!r} is not supported")
    raise Unsupported(f"activation {spec!r} is not supported")


def apply_activation(layer: Layer, x: Value, spec: Any) -> Value:
    name = activation_name(spec)
    if name is None:
        return x
    function = ACTIVATIONS.get(name)
    if function is None:
        raise Unsupported(f"activation {name!r} is not supported")
    return function(x, layer.keras_major)


# ---------------------------------------------------------------- layers


def Activation(layer: Layer, x: Value, *, activation: Any) -> Value:
    return apply_activation(layer, x, activation)


def ReLU(layer: Layer, x: Value, *, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0) -> Value:
    """keras.activations.relu: leaky below `threshold`, clipped at `max_value`."""
    if max_value is not None and max_value < 0:
        raise Unsupported(f"max_value={max_value} is negative")
    if negative_slope != 0 and max_value is None and threshold == 0:
        return leaky(x, negative_slope)
    if threshold != 0:
        positive = ew.Select(ew.Greater(x, scalar(x, threshold)), x, scalar(x, 0.0))
        if max_value is not None:
            positive = act.Clamp(positive, min=0.0, max=float(max_value))
    elif max_value is not None:
        positive = act.Clamp(x, min=0.0, max=float(max_value))
    else:
        positive = act.Relu(x)
    if negative_slope == 0:
        return positive
    shifted = ew.Subtract(scalar(x, threshold), x) if threshold != 0 else ew.Negative(x)
    return ew.Subtract(positive, ew.Multiply(act.Relu(shifted), scalar(x, negative_slope)))


def LeakyReLU(layer: Layer, x: Value, *, negative_slope: float = 0.3, alpha: float | None = None) -> Value:
    """Keras 3 spells the slope `negative_slope`, Keras 2 `alpha`."""
    return leaky(x, negative_slope if alpha is None else alpha)


def PReLU(layer: Layer, x: Value, *, shared_axes: list[int] | int | None = None) -> Value:
    (alpha,) = layer.variables("alpha")
    rank = rank_of(x)
    if alpha.ndim != rank - 1:
        raise Unsupported(f"alpha has shape {alpha.shape} for an input of rank {rank}")
    return act.PRelu(x, const(np.asarray(alpha).reshape((1, *alpha.shape))))


def ELU(layer: Layer, x: Value, *, alpha: float = 1.0) -> Value:
    return act.Elu(x, alpha=float(alpha))


def Softmax(layer: Layer, x: Value, *, axis: int | list[int] = -1) -> Value:
    if layer.call_option("mask") is not None:
        raise Unsupported("a mask argument is not supported")
    axes = [axis] if isinstance(axis, int) else list(axis)
    if len(axes) != 1:
        raise Unsupported(f"softmax over several axes {axes} is not supported")
    return act.Softmax(x, axis=keras_axis(axes[0], rank_of(x)))


def ThresholdedReLU(layer: Layer, x: Value, *, theta: float = 1.0) -> Value:
    """Keras 2 only: x where x > theta, else 0."""
    return ew.Select(ew.Greater(x, scalar(x, theta)), x, scalar(x, 0.0))


LAYERS = {
    "Activation": Activation,
    "ReLU": ReLU,
    "LeakyReLU": LeakyReLU,
    "PReLU": PReLU,
    "ELU": ELU,
    "Softmax": Softmax,
    "ThresholdedReLU": ThresholdedReLU,
}
