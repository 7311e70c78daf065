"""Normalizations: BatchNormInference-5, MVN-6, GroupNormalization-12, NormalizeL2-1, LRN-1."""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.ops.spec import Attr, AttrKind, OpSpec, normalize_axis, same_as_input


def _channel_shaped(array: np.ndarray, rank: int) -> np.ndarray:
    return array.reshape((1, -1) + (1,) * (rank - 2))


def _batch_norm_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x, gamma, beta, mean, variance = inputs
    shaped = [_channel_shaped(a.astype(np.float64), x.ndim) for a in (gamma, beta, mean, variance)]
    gamma_, beta_, mean_, variance_ = shaped
    y = (x - mean_) / np.sqrt(variance_ + attrs["epsilon"]) * gamma_ + beta_
    return [y.astype(x.dtype)]


BatchNormInference = OpSpec(
    "BatchNormInference", "opset5", (Attr("epsilon", AttrKind.FLOAT),), same_as_input(), _batch_norm_kernel
)
"""Inputs: data [N, C, ...], gamma, beta, mean, variance (each [C])."""


def _axes(array: np.ndarray, rank: int) -> tuple[int, ...]:
    return tuple(sorted({normalize_axis(int(a), rank) for a in array.reshape(-1)}))


def _mvn_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x, axes_array = inputs
    axes = _axes(axes_array, x.ndim)
    data = x.astype(np.float64)
    centered = data - data.mean(axis=axes, keepdims=True)
    if attrs["normalize_variance"]:
        variance = np.mean(centered * centered, axis=axes, keepdims=True)
        eps = attrs["eps"]
        if attrs["eps_mode"].lower() == "inside_sqrt":
            centered = centered / np.sqrt(variance + eps)
        else:
            centered = centered / (np.sqrt(variance) + eps)
    return [centered.astype(x.dtype)]


MVN = OpSpec(
    "MVN",
    "opset6",
    (
        Attr("normalize_variance", AttrKind.BOOL),
        Attr("eps", AttrKind.FLOAT),
        Attr("eps_mode", AttrKind.STR),
    ),
    same_as_input(),
    _mvn_kernel,
)
"""Inputs: data, axes. eps_mode "inside_sqrt": / sqrt(var + eps); "outside_sqrt": / (sqrt(var) + eps)."""


def _group_norm_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x, scale, bias = inputs
    groups = attrs["num_groups"]
    data = x.astype(np.float64).reshape(x.shape[0], groups, -1)
    centered = data - data.mean(axis=2, keepdims=True)
    normalized = centered / np.sqrt(np.mean(centered * centered, axis=2, keepdims=True) + attrs["epsilon"])
    y = normalized.reshape(x.shape) * _channel_shaped(scale, x.ndim) + _channel_shaped(bias, x.ndim)
    return [y.astype(x.dtype)]


GroupNormalization = OpSpec(
    "GroupNormalization",
    "opset12",
    (Attr("num_groups", AttrKind.INT), Attr("epsilon", AttrKind.FLOAT)),
    same_as_input(),
    _group_norm_kernel,
)
"""Inputs: data [N, C, ...], scale [C], bias [C]."""


def _normalize_l2_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x, axes_array = inputs
    axes = _axes(axes_array, x.ndim)
    data = x.astype(np.float64)
    squares = np.sum(data * data, axis=axes, keepdims=True) if axes else data * data
    eps = attrs["eps"]
    squares = squares + eps if attrs["eps_mode"] == "add" else np.maximum(squares, eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        return [(data / np.sqrt(squares)).astype(x.dtype)]


NormalizeL2 = OpSpec(
    "NormalizeL2",
    "opset1",
    (Attr("eps", AttrKind.FLOAT), Attr("eps_mode", AttrKind.STR)),
    same_as_input(),
    _normalize_l2_kernel,
)
"""Inputs: data, axes. x / sqrt(sum(x², axes) + eps) ("add") or / sqrt(max(sum, eps)) ("max")."""


LRN = OpSpec(
    "LRN",
    "opset1",
    (
        Attr("alpha", AttrKind.FLOAT),
        Attr("beta", AttrKind.FLOAT),
        Attr("bias", AttrKind.FLOAT),
        Attr("size", AttrKind.INT),
    ),
    same_as_input(),
)
"""Inputs: data, axes. x / (bias + alpha / size^len(axes) * sum of squares in the window)^beta.

OpenVINO's CPU plugin spans (size - 1) // 2 on both sides (ONNX's window for odd sizes
only), supports axes [1] or all spatial axes, and ignores `bias` (computes with 1).
"""

OPS: tuple[OpSpec, ...] = (BatchNormInference, MVN, GroupNormalization, NormalizeL2, LRN)
