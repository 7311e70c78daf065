"""Normalizations: BatchNormalization (inference: moving statistics), LayerNormalization,
GroupNormalization, UnitNormalization and the Normalization preprocessing layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.frontends.keras.context import Layer, Unsupported
from converter.frontends.keras.layers.common import int64s, keras_axis, rank_of
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.core import const
from converter.ops.normalization import MVN, NormalizeL2
from converter.ops.reduction import ReduceMean
from converter.ops.shape import Reshape

KERAS_EPSILON = 1e-7  # keras.backend.epsilon()
UNIT_NORMALIZATION_EPSILON = 1e-12


def _axes(axis: int | list[int] | tuple[int, ...], rank: int) -> list[int]:
    items = [axis] if isinstance(axis, int) else list(axis)
    if not items:
        raise Unsupported("axis is empty")
    return sorted({keras_axis(int(a), rank) for a in items})


def _broadcast(vector: np.ndarray, axes: list[int], x: Value, dtype: np.dtype) -> Value:
    """A weight over `axes` (shape = those dims) shaped to broadcast against x."""
    vector = np.asarray(vector, dtype=np.float64)
    if vector.ndim != len(axes):
        raise Unsupported(f"a weight of shape {vector.shape} does not match axes {axes}")
    shape = [1] * rank_of(x)
    for position, axis in enumerate(axes):
        shape[axis] = vector.shape[position]
    return const(vector.reshape(shape).astype(dtype))


def BatchNormalization(
    layer: Layer,
    x: Value,
    *,
    axis: int | list[int] = -1,
    momentum: float = 0.99,
    epsilon: float = 0.001,
    center: bool = True,
    scale: bool = True,
    renorm: bool = False,
    renorm_clipping: Any = None,
    renorm_momentum: float = 0.99,
    synchronized: bool = False,
) -> Value:
    """(x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta, as x * a + b.

    momentum, renorm* and synchronized only change training.
    """
    if layer.call_option("mask") is not None:
        raise Unsupported("a mask argument is not supported")
    arrays = layer.variables("gamma" if scale else None, "beta" if center else None, "moving_mean", "moving_variance")
    gamma = arrays.pop(0) if scale else None
    beta = arrays.pop(0) if center else None
    mean, variance = (np.asarray(a, dtype=np.float64) for a in arrays)
    factor = 1.0 / np.sqrt(variance + epsilon)
    if gamma is not None:
        factor = factor * np.asarray(gamma, dtype=np.float64)
    shift = -mean * factor
    if beta is not None:
        shift = shift + np.asarray(beta, dtype=np.float64)
    axes = _axes(axis, rank_of(x))
    dtype = x.element_type.numpy
    return ew.Add(ew.Multiply(x, _broadcast(factor, axes, x, dtype)), _broadcast(shift, axes, x, dtype))


def _affine(y: Value, x: Value, axes: list[int], gamma: np.ndarray | None, beta: np.ndarray | None) -> Value:
    dtype = x.element_type.numpy
    if gamma is not None:
        y = ew.Multiply(y, _broadcast(gamma, axes, x, dtype))
    if beta is not None:
        y = ew.Add(y, _broadcast(beta, axes, x, dtype))
    return y


def LayerNormalization(
    layer: Layer,
    x: Value,
    *,
    axis: int | list[int] = -1,
    epsilon: float = 0.001,
    center: bool = True,
    scale: bool = True,
    rms_scaling: bool = False,
) -> Value:
    """MVN over `axis` (variance inside the sqrt), then gamma and beta.

    rms_scaling (deprecated in Keras 3) divides x itself by sqrt(variance + epsilon), then gamma.
    """
    with_gamma = scale or rms_scaling
    with_beta = center and not rms_scaling
    arrays = layer.variables("gamma" if with_gamma else None, "beta" if with_beta else None)
    gamma = arrays.pop(0) if with_gamma else None
    beta = arrays.pop(0) if with_beta else None
    axes = _axes(axis, rank_of(x))
    if rms_scaling:
        centered = MVN(x, int64s(axes), normalize_variance=False, eps=float(epsilon), eps_mode="inside_sqrt")
        variance = ReduceMean(ew.Multiply(centered, centered), int64s(axes), keep_dims=True)
        eps = const(np.asarray(epsilon, dtype=x.element_type.numpy))
        return _affine(ew.Divide(x, ew.Sqrt(ew.Add(variance, eps))), x, axes, gamma, None)
    y = MVN(x, int64s(axes), normalize_variance=True, eps=float(epsilon), eps_mode="inside_sqrt")
    return _affine(y, x, axes, gamma, beta)


def GroupNormalization(
    layer: Layer,
    x: Value,
    *,
    groups: int = 32,
    axis: int = -1,
    epsilon: float = 0.001,
    center: bool = True,
    scale: bool = True,
) -> Value:
    """Channels split into `groups`; each group normalized over its channels and all other non-batch axes."""
    rank = rank_of(x)
    if keras_axis(axis, rank) != rank - 1:
        raise Unsupported(f"axis={axis}: only the last axis is supported")
    channels = (x.shape.dims or ())[-1]
    if channels is None or channels % groups:
        raise Unsupported(f"{channels} channels are not divisible into {groups} groups")
    arrays = layer.variables("gamma" if scale else None, "beta" if center else None)
    gamma = arrays.pop(0) if scale else None
    beta = arrays.pop(0) if center else None
    grouped = Reshape(x, int64s([0] * (rank - 1) + [groups, channels // groups]), special_zero=True)
    reduce_axes = [*range(1, rank - 1), rank]
    y = MVN(grouped, int64s(reduce_axes), normalize_variance=True, eps=float(epsilon), eps_mode="inside_sqrt")
    y = Reshape(y, int64s([0] * (rank - 1) + [channels]), special_zero=True)
    return _affine(y, x, [rank - 1], gamma, beta)


def RMSNormalization(layer: Layer, x: Value, *, axis: int | list[int] = -1, epsilon: float = 1e-6) -> Value:
    """x * rsqrt(mean(x², axis) + epsilon) * scale."""
    (scale,) = layer.variables("scale")
    axes = _axes(axis, rank_of(x))
    mean_square = ReduceMean(ew.Multiply(x, x), int64s(axes), keep_dims=True)
    eps = const(np.asarray(epsilon, dtype=x.element_type.numpy))
    return _affine(ew.Divide(x, ew.Sqrt(ew.Add(mean_square, eps))), x, axes, scale, None)


def UnitNormalization(layer: Layer, x: Value, *, axis: int | list[int] = -1) -> Value:
    """x * min(rsqrt(sum x²), 1 / 1e-12) = x / sqrt(max(sum x², 1e-24))."""
    axes = _axes(axis, rank_of(x))
    return NormalizeL2(x, int64s(axes), eps=UNIT_NORMALIZATION_EPSILON**2, eps_mode="max")


def Normalization(
    layer: Layer,
    x: Value,
    *,
    axis: int | list[int] | None = -1,
    mean: Any = None,
    variance: Any = None,
    invert: bool = False,
) -> Value:
    """(x - mean) / max(sqrt(variance), 1e-7), or its inverse; statistics from the config or adapt()."""
    rank = rank_of(x)
    keep = [] if axis is None else _axes(axis, rank)
    dims = x.shape.dims or (None,) * rank
    if any(dims[a] is None for a in keep):
        raise Unsupported(f"the kept axes {keep} must have static sizes")
    broadcast = [dims[a] if a in keep else 1 for a in range(rank)]
    if mean is None:
        adapted_mean, adapted_variance, _count = layer.variables("mean", "variance", "count")
        mean_array = np.asarray(adapted_mean, dtype=np.float64).reshape(broadcast)
        variance_array = np.asarray(adapted_variance, dtype=np.float64).reshape(broadcast)
    else:
        mean_array, variance_array = (_config_statistic(v, keep, broadcast) for v in (mean, variance))
    denominator = np.maximum(np.sqrt(variance_array), KERAS_EPSILON)
    dtype = x.element_type.numpy
    if invert:
        return ew.Add(const(mean_array.astype(dtype)), ew.Multiply(x, const(denominator.astype(dtype))))
    return ew.Divide(ew.Subtract(x, const(mean_array.astype(dtype))), const(denominator.astype(dtype)))


def _config_statistic(value: Any, keep: list[int], broadcast: list[int]) -> np.ndarray:
    """Keras places a given mean/variance's trailing dims on the trailing kept axes, then broadcasts."""
    if value is None:
        raise Unsupported("mean is given without variance (or the reverse)")
    array = np.asarray(value, dtype=np.float64)
    expanded = [1] * len(broadcast)
    for i in range(1, array.ndim + 1):
        expanded[keep[-i]] = array.shape[-i]
    return np.broadcast_to(array.reshape(expanded), broadcast)


LAYERS = {
    "BatchNormalization": BatchNormalization,
    "LayerNormalization": LayerNormalization,
    "GroupNormalization": GroupNormalization,
    "UnitNormalization": UnitNormalization,
    "RMSNormalization": RMSNormalization,
    "Normalization": Normalization,
}
