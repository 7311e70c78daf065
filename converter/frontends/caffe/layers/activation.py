"""Neuron layers: ReLU (negative_slope), ReLU6, Clip, PReLU, ELU, Sigmoid, TanH, AbsVal, Power, Exp,
Log, Softmax."""

from __future__ import annotations

import math

from converter.frontends.caffe.layers.common import along, axis_of, dims_of
from converter.frontends.caffe.net import CaffeContext, Handler, Unsupported, scalar
from converter.ir.graph import Value
from converter.ops import activation as act
from converter.ops import elementwise as ew


def ReLU(ctx: CaffeContext, x: Value, *, negative_slope: float = 0.0) -> Value:
    if negative_slope == 0.0:
        return act.Relu(x)
    return act.PRelu(x, scalar(negative_slope, x))


def ReLU6(ctx: CaffeContext, x: Value) -> Value:
    return act.Clamp(x, min=0.0, max=6.0)


def Clip(ctx: CaffeContext, x: Value, *, min: float | None = None, max: float | None = None) -> Value:
    if min is None or max is None:
        raise Unsupported("Clip needs min and max")
    return act.Clamp(x, min=min, max=max)


def PReLU(ctx: CaffeContext, x: Value, *, channel_shared: bool = False) -> Value:
    """One slope per channel (axis 1), or one for all."""
    dims = dims_of(x, "PReLU")
    channels = 1 if channel_shared else (dims[1] if len(dims) > 1 else 1)
    (slope,) = ctx.weights([channels])
    return act.PRelu(x, along(slope, len(dims), 1) if not channel_shared else scalar(float(slope[0]), x))


def ELU(ctx: CaffeContext, x: Value, *, alpha: float = 1.0) -> Value:
    return act.Elu(x, alpha=alpha)


def Sigmoid(ctx: CaffeContext, x: Value) -> Value:
    return act.Sigmoid(x)


def TanH(ctx: CaffeContext, x: Value) -> Value:
    return act.Tanh(x)


def AbsVal(ctx: CaffeContext, x: Value) -> Value:
    return ew.Abs(x)


def _affine(x: Value, scale: float, shift: float) -> Value:
    """shift + scale · x, without the ops that do nothing."""
    if scale != 1.0:
        x = ew.Multiply(x, scalar(scale, x))
    if shift != 0.0:
        x = ew.Add(x, scalar(shift, x))
    return x


def Power(ctx: CaffeContext, x: Value, *, power: float = 1.0, scale: float = 1.0, shift: float = 0.0) -> Value:
    """(shift + scale · x) ^ power."""
    y = _affine(x, scale, shift)
    return y if power == 1.0 else ew.Power(y, scalar(power, x))


def Exp(ctx: CaffeContext, x: Value, *, base: float = -1.0, scale: float = 1.0, shift: float = 0.0) -> Value:
    """base ^ (shift + scale · x); base −1 is e."""
    if base != -1.0 and base <= 0:
        raise Unsupported(f"base {base} (it must be positive, or −1 for e)")
    factor = 1.0 if base == -1.0 else math.log(base)
    return ew.Exp(_affine(x, scale * factor, shift * factor))


def Log(ctx: CaffeContext, x: Value, *, base: float = -1.0, scale: float = 1.0, shift: float = 0.0) -> Value:
    """log_base(shift + scale · x); base −1 is e."""
    if base != -1.0 and (base <= 0 or base == 1):
        raise Unsupported(f"base {base}")
    y = ew.Log(_affine(x, scale, shift))
    return y if base == -1.0 else ew.Multiply(y, scalar(1.0 / math.log(base), x))


def Softmax(ctx: CaffeContext, x: Value, *, axis: int = 1) -> Value:
    return act.Softmax(x, axis=axis_of(axis, len(dims_of(x, "Softmax"))))


HANDLERS: dict[str, Handler] = {
    "ReLU": ReLU, "ReLU6": ReLU6, "Clip": Clip, "PReLU": PReLU, "ELU": ELU, "Sigmoid": Sigmoid, "TanH": TanH,
    "AbsVal": AbsVal, "Power": Power, "Exp": Exp, "Log": Log, "Softmax": Softmax,
}  # fmt: skip
