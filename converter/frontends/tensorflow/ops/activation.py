"""TF activations → IR activation ops. Softmax and LogSoftmax work on the last axis."""

from __future__ import annotations

import numpy as np

from converter.frontends.tensorflow.graph import Handler, TFContext
from converter.ir.graph import Value
from converter.ops import activation as act
from converter.ops.core import const
from converter.ops.spec import OpSpec

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _parameter_like(x: Value, number: float) -> Value:
    """A one-element 1D constant with x's type: the shape OpenVINO gives scalar op parameters."""
    return const(np.array([number], dtype=x.element_type.numpy))


def Relu6(ctx: TFContext, x: Value) -> Value:
    return act.Clamp(x, min=0.0, max=6.0)


def Elu(ctx: TFContext, x: Value) -> Value:
    return act.Elu(x, alpha=1.0)


def Selu(ctx: TFContext, x: Value) -> Value:
    return act.Selu(x, _parameter_like(x, SELU_ALPHA), _parameter_like(x, SELU_SCALE))


def LeakyRelu(ctx: TFContext, x: Value, *, alpha: float = 0.2) -> Value:
    return act.PRelu(x, _parameter_like(x, alpha))


def Softmax(ctx: TFContext, logits: Value) -> Value:
    return act.Softmax(logits, axis=-1)


def LogSoftmax(ctx: TFContext, logits: Value) -> Value:
    return act.LogSoftmax(logits, axis=-1)


def _unary(op: OpSpec) -> Handler:
    def handler(ctx: TFContext, x: Value) -> Value:
        return op(x)

    handler.__name__ = op.type
    return handler


ONE_TO_ONE: dict[str, OpSpec] = {
    "Relu": act.Relu,
    "Sigmoid": act.Sigmoid,
    "Tanh": act.Tanh,
    "Softplus": act.SoftPlus,
    "Softsign": act.SoftSign,
}

HANDLERS: dict[str, Handler] = {
    "Relu6": Relu6,
    "Elu": Elu,
    "Selu": Selu,
    "LeakyRelu": LeakyRelu,
    "Softmax": Softmax,
    "LogSoftmax": LogSoftmax,
} | {name: _unary(op) for name, op in ONE_TO_ONE.items()}
