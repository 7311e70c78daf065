"""Weights as OpenVINO stores INT8: per-output-channel symmetric int8, `i8 Const → Convert(f32) → Multiply(scale)`.

Each output channel gets scale = max|w| / 127 and values round(w / scale) in [-127, 127] (the
narrow range: -128 is never used, so the grid is symmetric around zero and needs no zero point).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops.core import Convert, const
from converter.ops.elementwise import Multiply

LIMIT = 127


def quantize_per_channel(weight: np.ndarray, channel_axes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(int8 values, float32 scales broadcastable to the weight); `channel_axes` keep their own scale."""
    weight = np.asarray(weight, dtype=np.float32)
    axes = {a % weight.ndim for a in channel_axes}
    reduce = tuple(a for a in range(weight.ndim) if a not in axes)
    peak = np.max(np.abs(weight), axis=reduce, keepdims=True) if reduce else np.abs(weight)
    scale = np.where(peak > 0, peak / np.float32(LIMIT), np.float32(1.0)).astype(np.float32)
    values = np.clip(np.rint(weight / scale), -LIMIT, LIMIT).astype(np.int8)
    return values, scale


def dequantize(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return values.astype(np.float32) * scale


def quantized_weight(weight: np.ndarray, channel_axes: Sequence[int], name: str = "") -> Value:
    """The int8 pattern OpenVINO's low-precision transformations read as a dequantized weight."""
    values, scale = quantize_per_channel(weight, channel_axes)
    stored = const(values, name=f"{name}_int8" if name else "")
    converted = Convert(stored, destination_type=ElementType.f32, name=f"{name}_convert" if name else "")
    return Multiply(converted, const(scale, name=f"{name}_scale" if name else ""), name=f"{name}_dequantized" if name else "")
