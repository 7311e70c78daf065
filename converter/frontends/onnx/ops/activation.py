"""ONNX activation ops → IR activation ops."""

from __future__ import annotations

import math

import numpy as np

from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported
from converter.frontends.onnx.ops.elementwise import scalar_like
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import activation as act
from converter.ops import elementwise as ew
from converter.ops import reduction as rd
from converter.ops.core import Convert, const
from converter.ops.shape import Unsqueeze
from converter.ops.spec import normalize_axis

FLT_MAX = float(np.finfo(np.float32).max)


def _slope_like(x: Value, number: float) -> Value:
    """A one-element 1D constant with x's type: the shape OpenVINO gives scalar op parameters."""
    return const(np.array([number], dtype=x.element_type.numpy))


def Relu(ctx: OnnxContext, x: Value) -> Value:
    return act.Relu(x)


def LeakyRelu(ctx: OnnxContext, x: Value, *, alpha: float = 0.01) -> Value:
    return act.PRelu(x, _slope_like(x, alpha))


def PRelu(ctx: OnnxContext, x: Value, slope: Value) -> Value:
    """ONNX broadcasts the slope numpy-style (right-aligned) onto x.

    PReLU-1 does too, except that a 1D slope as long as x's dim 1 goes along dim 1;
    giving a 1D slope a leading 1 keeps the numpy rule for data of rank >= 3.
    """
    rank = x.shape.rank
    if not x.element_type.is_float or rank is None or slope.shape.rank is None:
        return _prelu_select(x, slope)
    if slope.shape.rank == 1 and rank >= 3 and slope.shape[0] != 1:
        slope = _leading_one(slope)
    return act.PRelu(x, slope)


def _leading_one(slope: Value) -> Value:
    if slope.const is not None:
        return const(slope.const.reshape(1, -1))
    return Unsqueeze(slope, const(np.array([0], dtype=np.int64)))


def _prelu_select(x: Value, slope: Value) -> Value:
    negative = ew.Less(x, scalar_like(x, 0))
    return ew.Select(negative, ew.Multiply(x, slope), x)


def Elu(ctx: OnnxContext, x: Value, *, alpha: float = 1.0) -> Value:
    return act.Elu(x, alpha=alpha)


def Selu(ctx: OnnxContext, x: Value, *, alpha: float = 1.67326319217681884765625, gamma: float = 1.05070102214813232421875) -> Value:
    return act.Selu(x, _slope_like(x, alpha), _slope_like(x, gamma))


def Celu(ctx: OnnxContext, x: Value, *, alpha: float = 1.0) -> Value:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)): x where positive, else Elu(x / alpha, alpha)."""
    if alpha == 1.0:
        return act.Elu(x, alpha=1.0)
    negative_part = act.Elu(ew.Divide(x, scalar_like(x, alpha), m_pythondiv=False), alpha=alpha)
    return ew.Select(ew.Greater(x, scalar_like(x, 0)), x, negative_part)


def Clip(
    ctx: OnnxContext,
    x: Value,
    low: Value | None = None,
    high: Value | None = None,
    *,
    min: float = -FLT_MAX,  # noqa: A002 - ONNX attribute names (opset < 11)
    max: float = FLT_MAX,  # noqa: A002
) -> Value:
    if ctx.opset < 11:
        return _clip_constant(x, min, max)
    low_number = _scalar_const(low)
    high_number = _scalar_const(high)
    if (low is None or low_number is not None) and (high is None or high_number is not None):
        return _clip_constant(x, low_number, high_number)
    result = x if low is None else ew.Maximum(x, low)
    return result if high is None else ew.Minimum(result, high)


def _scalar_const(value: Value | None) -> float | int | None:
    if value is None or value.const is None or value.const.size != 1:
        return None
    return value.const.reshape(-1)[0].item()


def _clip_constant(x: Value, low: float | int | None, high: float | int | None) -> Value:
    """Clamp when it is exact: both bounds in order and representable as doubles."""
    if x.element_type.is_float:
        low_bound = -math.inf if low is None else float(low)
        high_bound = math.inf if high is None else float(high)
        if low_bound <= high_bound:
            return act.Clamp(x, min=low_bound, max=high_bound)
    elif low is not None and high is not None and low <= high and abs(low) < 2**53 and abs(high) < 2**53:
        return act.Clamp(x, min=float(low), max=float(high))
    # ONNX Clip is Min(max, Max(x, min)), also when min > max
    result = x if low is None else ew.Maximum(x, scalar_like(x, low))
    return result if high is None else ew.Minimum(result, scalar_like(x, high))


def Sigmoid(ctx: OnnxContext, x: Value) -> Value:
    return act.Sigmoid(x)


def HardSigmoid(ctx: OnnxContext, x: Value, *, alpha: float = 0.2, beta: float = 0.5) -> Value:
    return act.HardSigmoid(x, scalar_like(x, alpha), scalar_like(x, beta))


def HardSwish(ctx: OnnxContext, x: Value) -> Value:
    return act.HSwish(x)


def Tanh(ctx: OnnxContext, x: Value) -> Value:
    return act.Tanh(x)


def Gelu(ctx: OnnxContext, x: Value, *, approximate: str = "none") -> Value:
    modes = {"none": "ERF", "tanh": "TANH"}
    if approximate not in modes:
        raise Unsupported(f"approximate={approximate!r}")
    return act.Gelu(x, approximation_mode=modes[approximate])


def Softplus(ctx: OnnxContext, x: Value) -> Value:
    return act.SoftPlus(x)


def Softsign(ctx: OnnxContext, x: Value) -> Value:
    return act.SoftSign(x)


def Mish(ctx: OnnxContext, x: Value) -> Value:
    return act.Mish(x)


def Swish(ctx: OnnxContext, x: Value, *, alpha: float = 1.0) -> Value:
    return act.Swish(x, scalar_like(x, alpha))


def ThresholdedRelu(ctx: OnnxContext, x: Value, *, alpha: float = 1.0) -> Value:
    return ew.Select(ew.Greater(x, scalar_like(x, alpha)), x, scalar_like(x, 0))


def Shrink(ctx: OnnxContext, x: Value, *, bias: float = 0.0, lambd: float = 0.5) -> Value:
    """x - bias above lambd, x + bias below -lambd, else 0 (integers compute in f32)."""
    source_type = x.element_type
    if not source_type.is_float:
        x = Convert(x, destination_type=ElementType.f32)
    above = ew.Greater(x, scalar_like(x, lambd))
    below = ew.Less(x, scalar_like(x, -lambd))
    inner = ew.Select(above, ew.Subtract(x, scalar_like(x, bias)), scalar_like(x, 0))
    result = ew.Select(below, ew.Add(x, scalar_like(x, bias)), inner)
    return result if source_type is x.element_type else Convert(result, destination_type=source_type)


# ------------------------------------------------------------------ softmax family


def _default_axis(ctx: OnnxContext, axis: int | None) -> int:
    if axis is not None:
        return axis
    return -1 if ctx.opset >= 13 else 1


def _coerced_axes(ctx: OnnxContext, x: Value, axis: int) -> list[int] | None:
    """Before opset 13 the op works on x flattened to 2D at `axis`: all axes from `axis` on.

    Returns None when that is a single (last) axis.
    """
    rank = x.shape.rank
    if ctx.opset >= 13:
        return None
    if rank is None:
        if axis == -1:
            return None
        raise Unsupported(f"axis={axis} before opset 13 needs a known rank")
    first = normalize_axis(axis, rank)
    if first == rank - 1:
        return None
    return list(range(first, rank))


def Softmax(ctx: OnnxContext, x: Value, *, axis: int | None = None) -> Value:
    axis = _default_axis(ctx, axis)
    axes = _coerced_axes(ctx, x, axis)
    if axes is None:
        return act.Softmax(x, axis=axis)
    exponent, total = _exp_and_sum(x, axes)
    return ew.Divide(exponent, total, m_pythondiv=False)


def LogSoftmax(ctx: OnnxContext, x: Value, *, axis: int | None = None) -> Value:
    axis = _default_axis(ctx, axis)
    axes = _coerced_axes(ctx, x, axis)
    if axes is None:
        return act.LogSoftmax(x, axis=axis)
    shifted = _shifted(x, axes)
    total = rd.ReduceSum(ew.Exp(shifted), _axes(axes), keep_dims=True)
    return ew.Subtract(shifted, ew.Log(total))


def _axes(axes: list[int]) -> Value:
    return const(np.array(axes, dtype=np.int64))


def _shifted(x: Value, axes: list[int]) -> Value:
    return ew.Subtract(x, rd.ReduceMax(x, _axes(axes), keep_dims=True))


def _exp_and_sum(x: Value, axes: list[int]) -> tuple[Value, Value]:
    exponent = ew.Exp(_shifted(x, axes))
    return exponent, rd.ReduceSum(exponent, _axes(axes), keep_dims=True)


def Hardmax(ctx: OnnxContext, x: Value, *, axis: int | None = None) -> Value:
    """1 at the first maximum along the axes, 0 elsewhere.

    Built from ReduceMax/ReduceMin and an index ramp over the reduced (static) dims.
    """
    axis = _default_axis(ctx, axis)
    rank = x.shape.rank
    if rank is None:
        raise Unsupported("Hardmax needs a known rank")
    axes = _coerced_axes(ctx, x, axis) or [normalize_axis(axis, rank)]
    sizes = [x.shape[a] for a in axes]
    if any(size is None for size in sizes):
        raise Unsupported("Hardmax needs static sizes along its axes")
    count = int(np.prod(sizes, dtype=np.int64))
    ramp_shape = [x.shape[a] if a in axes else 1 for a in range(axes[0], rank)]
    ramp = const(np.arange(count, dtype=np.int32).reshape(ramp_shape))
    is_max = ew.Equal(x, rd.ReduceMax(x, _axes(axes), keep_dims=True))
    candidates = ew.Select(is_max, ramp, const(np.array(count, dtype=np.int32)))
    first = rd.ReduceMin(candidates, _axes(axes), keep_dims=True)
    return Convert(ew.Equal(ramp, first), destination_type=x.element_type)


HANDLERS: dict[str, Handler] = {
    "Relu": Relu,
    "LeakyRelu": LeakyRelu,
    "PRelu": PRelu,
    "Elu": Elu,
    "Selu": Selu,
    "Celu": Celu,
    "Clip": Clip,
    "Sigmoid": Sigmoid,
    "HardSigmoid": HardSigmoid,
    "HardSwish": HardSwish,
    "Tanh": Tanh,
    "Gelu": Gelu,
    "Softplus": Softplus,
    "Softsign": Softsign,
    "Mish": Mish,
    "Swish": Swish,
    "ThresholdedRelu": ThresholdedRelu,
    "Shrink": Shrink,
    "Softmax": Softmax,
    "LogSoftmax": LogSoftmax,
    "Hardmax": Hardmax,
}
