"""ONNX normalizations → IR BatchNormInference-5, MVN-6, GroupNormalization-12, NormalizeL2-1, LRN-1.

RMSNormalization has no public OpenVINO op: it is spelled out with a ReduceMean.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported, element_type
from converter.frontends.onnx.ops.conv import channel_vector
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops import normalization as ops
from converter.ops import reduction
from converter.ops.core import Convert, const
from converter.ops.pooling import AvgPool1
from converter.ops.shape import Reshape, Squeeze, Unsqueeze


def _like(value: Value, reference: Value) -> Value:
    """`value` in `reference`'s element type (ONNX allows e.g. f32 statistics for f16 data)."""
    if value.element_type is reference.element_type:
        return value
    array = value.const
    if array is not None:
        return const(array.astype(reference.element_type.numpy))
    return Convert(value, destination_type=reference.element_type)


def _scalar(value: float, like: Value) -> Value:
    return const(np.array(value, dtype=like.element_type.numpy))


def _axes(values: list[int]) -> Value:
    return const(np.array(values, dtype=np.int64))


def _known_rank(x: Value, op: str) -> int:
    rank = x.shape.rank
    if rank is None:
        raise Unsupported(f"{op} needs a known input rank")
    return rank


def _wanted_outputs(ctx: OnnxContext) -> int:
    """How many outputs the node names (trailing empty names do not count)."""
    names = list(ctx.node.output)
    while names and not names[-1]:
        names.pop()
    return len(names)


def BatchNormalization(
    ctx: OnnxContext,
    x: Value,
    scale: Value,
    bias: Value,
    mean: Value,
    var: Value,
    *,
    epsilon: float = 1e-5,
    momentum: float = 0.9,
    spatial: int = 1,
    training_mode: int = 0,
) -> list[Value]:
    scale, bias, mean, var = (_like(v, x) for v in (scale, bias, mean, var))
    if training_mode:
        return _batch_norm_training(x, scale, bias, mean, var, epsilon, momentum)
    if ctx.opset < 14 and _wanted_outputs(ctx) > 1:
        raise Unsupported("the training outputs (mean, var, saved_mean, saved_var) are not supported")
    if spatial == 0 and ctx.opset < 9:
        return [_per_activation_batch_norm(x, scale, bias, mean, var, epsilon)]
    return [ops.BatchNormInference(x, scale, bias, mean, var, epsilon=epsilon)]


def _per_activation_batch_norm(x: Value, scale: Value, bias: Value, mean: Value, var: Value, epsilon: float) -> Value:
    """spatial=0: statistics shaped like one sample ([C, D1, ...]), broadcast over the batch."""
    arrays = [v.const for v in (scale, bias, mean, var)]
    if all(a is not None for a in arrays):
        scale_, bias_, mean_, var_ = (np.asarray(a, dtype=np.float64) for a in arrays)
        factor = scale_ / np.sqrt(var_ + epsilon)
        dtype = x.element_type.numpy
        return ew.Add(ew.Multiply(x, const(factor.astype(dtype))), const((bias_ - mean_ * factor).astype(dtype)))
    deviation = ew.Sqrt(ew.Add(var, _scalar(epsilon, x)))
    return ew.Add(ew.Multiply(ew.Divide(ew.Subtract(x, mean), deviation), scale), bias)


def _batch_norm_training(
    x: Value, scale: Value, bias: Value, mean: Value, var: Value, epsilon: float, momentum: float
) -> list[Value]:
    """Normalize with the batch statistics; also return the updated running statistics."""
    rank = _known_rank(x, "BatchNormalization in training mode")
    axes = _axes([0, *range(2, rank)])
    normalized = ops.MVN(x, axes, normalize_variance=True, eps=epsilon, eps_mode="inside_sqrt")
    y = ew.Add(ew.Multiply(normalized, channel_vector(scale, rank)), channel_vector(bias, rank))
    batch_mean = reduction.ReduceMean(x, axes, keep_dims=True)
    centered = ew.Subtract(x, batch_mean)
    batch_var = reduction.ReduceMean(ew.Multiply(centered, centered), axes, keep_dims=False)
    flat_mean = reduction.ReduceMean(x, axes, keep_dims=False)
    keep, take = _scalar(momentum, x), _scalar(1.0 - momentum, x)
    running_mean = ew.Add(ew.Multiply(mean, keep), ew.Multiply(flat_mean, take))
    running_var = ew.Add(ew.Multiply(var, keep), ew.Multiply(batch_var, take))
    return [y, running_mean, running_var]


def InstanceNormalization(ctx: OnnxContext, x: Value, scale: Value, bias: Value, *, epsilon: float = 1e-5) -> Value:
    rank = _known_rank(x, "InstanceNormalization")
    normalized = ops.MVN(x, _axes(list(range(2, rank))), normalize_variance=True, eps=epsilon, eps_mode="inside_sqrt")
    return ew.Add(ew.Multiply(normalized, channel_vector(_like(scale, x), rank)), channel_vector(_like(bias, x), rank))


def _stash(stash_type: int) -> ElementType:
    stash = element_type(stash_type)
    if not stash.is_float:
        raise Unsupported(f"stash_type {stash.value} is not a float type")
    return stash


def _converted(value: Value, target: ElementType) -> Value:
    return value if value.element_type is target else Convert(value, destination_type=target)


def LayerNormalization(
    ctx: OnnxContext,
    x: Value,
    scale: Value,
    bias: Value | None = None,
    *,
    axis: int = -1,
    epsilon: float = 1e-5,
    stash_type: int = 1,
) -> list[Value]:
    axes = _trailing_axes(x, axis, "LayerNormalization")
    stash = _stash(stash_type)
    wide = _converted(x, stash)
    normalized = ops.MVN(wide, _axes(axes), normalize_variance=True, eps=epsilon, eps_mode="inside_sqrt")
    y = ew.Multiply(_converted(normalized, x.element_type), scale)
    if bias is not None:
        y = ew.Add(y, bias)
    if _wanted_outputs(ctx) <= 1:
        return [y]
    mean = reduction.ReduceMean(wide, _axes(axes), keep_dims=True)
    centered = ew.Subtract(wide, mean)
    variance = reduction.ReduceMean(ew.Multiply(centered, centered), _axes(axes), keep_dims=True)
    inverse_deviation = ew.Divide(_scalar(1.0, wide), ew.Sqrt(ew.Add(variance, _scalar(epsilon, wide))))
    return [y, mean, inverse_deviation]


def _trailing_axes(x: Value, axis: int, op: str) -> list[int]:
    """Axes [axis, rank); negative when the rank is unknown (the ops take negative axes)."""
    rank = x.shape.rank
    if rank is None:
        if axis >= 0:
            raise Unsupported(f"{op} with a non-negative axis needs a known input rank")
        return list(range(axis, 0))
    if not -rank <= axis < rank:
        raise Unsupported(f"axis {axis} is out of range for rank {rank}")
    return list(range(axis % rank, rank))


def RMSNormalization(
    ctx: OnnxContext,
    x: Value,
    scale: Value,
    *,
    axis: int = -1,
    epsilon: float = 1e-5,
    stash_type: int = 1,
) -> Value:
    axes = _axes(_trailing_axes(x, axis, "RMSNormalization"))
    wide = _converted(x, _stash(stash_type))
    mean_square = reduction.ReduceMean(ew.Multiply(wide, wide), axes, keep_dims=True)
    normalized = ew.Divide(wide, ew.Sqrt(ew.Add(mean_square, _scalar(epsilon, wide))))
    return ew.Multiply(_converted(normalized, x.element_type), scale)


def GroupNormalization(
    ctx: OnnxContext,
    x: Value,
    scale: Value,
    bias: Value,
    *,
    epsilon: float = 1e-5,
    num_groups: int | None = None,
    stash_type: int = 1,
) -> Value:
    if num_groups is None or num_groups < 1:
        raise Unsupported("num_groups is required")
    if ctx.opset < 21:  # opset 18: one scale and bias per group
        scale, bias = (_per_channel(v, x, num_groups) for v in (scale, bias))
    stash = _stash(stash_type)
    wide = [_converted(v, stash) for v in (x, scale, bias)]
    y = ops.GroupNormalization(*wide, num_groups=num_groups, epsilon=epsilon)
    return _converted(y, x.element_type)


def _per_channel(value: Value, x: Value, groups: int) -> Value:
    """[G] → [C]: repeat each group's value for the group's C/G channels."""
    channels = x.shape[1] if x.shape.rank is not None else None
    if channels is None:
        raise Unsupported("GroupNormalization-18 needs a static channel count")
    if channels % groups:
        raise Unsupported(f"{channels} channels do not split into {groups} groups")
    array = value.const
    if array is not None:
        return const(np.repeat(np.asarray(array), channels // groups))
    column = Reshape(value, _axes([groups, 1]), special_zero=False)
    spread = ew.Multiply(column, const(np.ones((1, channels // groups), dtype=value.element_type.numpy)))
    return Reshape(spread, _axes([channels]), special_zero=False)


def MeanVarianceNormalization(ctx: OnnxContext, x: Value, *, axes: list[int] | None = None) -> Value:
    axes = [0, 2, 3] if axes is None else list(axes)
    return ops.MVN(x, _axes(axes), normalize_variance=True, eps=1e-9, eps_mode="outside_sqrt")


def LpNormalization(ctx: OnnxContext, x: Value, *, axis: int = -1, p: int = 2) -> Value:
    # ONNX (and onnxruntime) give 0 for an all-zero vector: divide by max(norm, the smallest
    # normal float), which changes nothing else.
    tiny = float(np.finfo(np.float32).tiny)
    if p == 2:
        return ops.NormalizeL2(x, _axes([axis]), eps=tiny, eps_mode="max")
    if p == 1:
        norm = reduction.ReduceL1(x, _axes([axis]), keep_dims=True)
        return ew.Divide(x, ew.Maximum(norm, _scalar(tiny, x)))
    raise Unsupported(f"p={p} (ONNX allows 1 or 2)")


def LRN(
    ctx: OnnxContext,
    x: Value,
    *,
    alpha: float = 1e-4,
    beta: float = 0.75,
    bias: float = 1.0,
    size: int | None = None,
) -> Value:
    if size is None or size < 1:
        raise Unsupported("size is required")
    if size % 2 == 0 or bias <= 0:
        return _lrn_by_pooling(x, alpha, beta, bias, size)
    # OpenVINO's CPU plugin ignores `bias`: x / (b + a/n S)^β = b^-β · x / (1 + (a/b)/n S)^β.
    y = ops.LRN(x, _axes([1]), alpha=alpha / bias, beta=beta, bias=1.0, size=size)
    return y if bias == 1.0 else ew.Multiply(y, _scalar(bias**-beta, x))


def _lrn_by_pooling(x: Value, alpha: float, beta: float, bias: float, size: int) -> Value:
    """LRN spelled out, for what LRN-1 cannot say.

    ONNX's window [c - (size-1)//2, c + size//2] is asymmetric for even sizes; OpenVINO's is not.
    The channel sums of squares come from an average pool over channels seen as a spatial axis.
    """
    rank = _known_rank(x, "LRN with an even size or bias <= 0")
    if not 2 <= rank <= 4:
        raise Unsupported(f"LRN with an even size or bias <= 0 supports ranks 2 to 4, not {rank}")
    before, after = (size - 1) // 2, size // 2
    squares = Unsqueeze(ew.Multiply(x, x), _axes([1]))
    spatial = rank - 1
    mean = AvgPool1(
        squares,
        strides=[1] * spatial,
        pads_begin=[before] + [0] * (spatial - 1),
        pads_end=[after] + [0] * (spatial - 1),
        kernel=[size] + [1] * (spatial - 1),
        rounding_type="floor",
        auto_pad="explicit",
        **{"exclude-pad": False},
    )
    window_sum = Squeeze(mean, _axes([1]))  # the mean times size, folded into the scale below
    base = ew.Add(_scalar(bias, x), ew.Multiply(window_sum, _scalar(alpha, x)))
    return ew.Divide(x, ew.Power(base, _scalar(beta, x)))


HANDLERS: dict[str, Handler] = {
    "BatchNormalization": BatchNormalization,
    "InstanceNormalization": InstanceNormalization,
    "LayerNormalization": LayerNormalization,
    "RMSNormalization": RMSNormalization,
    "GroupNormalization": GroupNormalization,
    "MeanVarianceNormalization": MeanVarianceNormalization,
    "LpNormalization": LpNormalization,
    "LRN": LRN,
}
