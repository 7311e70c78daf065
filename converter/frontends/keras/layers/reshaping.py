"""Reshaping layers: Reshape, Flatten, Permute, RepeatVector, ZeroPadding*, Cropping*, UpSampling*.

Spatial layers read `data_format`: channels_last puts the spatial axes at 1..rank-2, channels_first at 2..rank-1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from converter.frontends.keras.context import Layer, Unsupported
from converter.frontends.keras.layers.common import channels_last, int64s, rank_of, reshape_keep_batch, to_channels_last
from converter.ir.graph import Value
from converter.ops.core import const
from converter.ops.indexing import Slice
from converter.ops.resize import Interpolate
from converter.ops.shape import Pad, Tile, Transpose, Unsqueeze

INT64_MAX = np.iinfo(np.int64).max
INTERPOLATIONS = {"nearest": "nearest", "bilinear": "linear_onnx"}


def spatial_axes(x: Value, count: int, data_format: str | None) -> list[int]:
    rank = rank_of(x)
    if rank != count + 2:
        raise Unsupported(f"expects a rank-{count + 2} input, got rank {rank}")
    first = 1 if channels_last(data_format) else 2
    return list(range(first, first + count))


def pairs(value: Any, count: int, what: str) -> list[tuple[int, int]]:
    """Keras padding/cropping: `n`, `(a, b)` per axis or `((a0, b0), (a1, b1))` → one (begin, end) per axis."""
    if isinstance(value, int):
        return [(value, value)] * count
    items = list(value)
    if count == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
        return [(int(items[0]), int(items[1]))]
    if len(items) == count and all(isinstance(v, int) for v in items):
        return [(int(v), int(v)) for v in items]
    if len(items) == count and all(isinstance(v, Sequence) and len(v) == 2 for v in items):
        return [(int(v[0]), int(v[1])) for v in items]
    raise Unsupported(f"{what}={value!r} is not understood for {count} spatial axes")


def Reshape(layer: Layer, x: Value, *, target_shape: list[int]) -> Value:
    return reshape_keep_batch(x, [int(d) if d is not None else -1 for d in target_shape])


def Flatten(layer: Layer, x: Value, *, data_format: str | None = None) -> Value:
    if not channels_last(data_format) and rank_of(x) > 2:
        x = to_channels_last(x)
    return reshape_keep_batch(x, [-1])


def Permute(layer: Layer, x: Value, *, dims: list[int]) -> Value:
    if sorted(dims) != list(range(1, rank_of(x))):
        raise Unsupported(f"dims={dims} is not a permutation of 1..{rank_of(x) - 1}")
    return Transpose(x, int64s([0, *dims]))


def RepeatVector(layer: Layer, x: Value, *, n: int) -> Value:
    if rank_of(x) != 2:
        raise Unsupported(f"RepeatVector takes a rank-2 input, got rank {rank_of(x)}")
    return Tile(Unsqueeze(x, int64s(1)), int64s([1, n, 1]))


def _zero_padding(x: Value, padding: Any, count: int, data_format: str | None) -> Value:
    axes = spatial_axes(x, count, data_format)
    rank = rank_of(x)
    begin, end = [0] * rank, [0] * rank
    for axis, (before, after) in zip(axes, pairs(padding, count, "padding")):
        begin[axis], end[axis] = before, after
    return Pad(x, int64s(begin), int64s(end), const(np.zeros((), dtype=x.element_type.numpy)), pad_mode="constant")


def ZeroPadding1D(layer: Layer, x: Value, *, padding: Any = 1, data_format: str | None = None) -> Value:
    return _zero_padding(x, padding, 1, data_format)


def ZeroPadding2D(layer: Layer, x: Value, *, padding: Any = (1, 1), data_format: str | None = None) -> Value:
    return _zero_padding(x, padding, 2, data_format)


def ZeroPadding3D(layer: Layer, x: Value, *, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None) -> Value:
    return _zero_padding(x, padding, 3, data_format)


def _cropping(x: Value, cropping: Any, count: int, data_format: str | None) -> Value:
    axes = spatial_axes(x, count, data_format)
    crops = pairs(cropping, count, "cropping")
    starts = [before for before, _ in crops]
    stops = [-after if after else INT64_MAX for _, after in crops]
    return Slice(x, int64s(starts), int64s(stops), int64s([1] * count), int64s(axes))


def Cropping1D(layer: Layer, x: Value, *, cropping: Any = (1, 1)) -> Value:
    return _cropping(x, cropping, 1, None)


def Cropping2D(layer: Layer, x: Value, *, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None) -> Value:
    return _cropping(x, cropping, 2, data_format)


def Cropping3D(layer: Layer, x: Value, *, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None) -> Value:
    return _cropping(x, cropping, 3, data_format)


def _upsample(x: Value, size: Any, count: int, data_format: str | None, interpolation: str = "nearest") -> Value:
    axes = spatial_axes(x, count, data_format)
    factors = [size] * count if isinstance(size, int) else list(size)
    if len(factors) != count or not all(isinstance(f, int) and f >= 1 for f in factors):
        raise Unsupported(f"size={size!r} is not {count} positive integer(s)")
    mode = INTERPOLATIONS.get(interpolation)
    if mode is None:
        raise Unsupported(f"interpolation={interpolation!r} is not one of {', '.join(INTERPOLATIONS)}")
    scales = const(np.asarray(factors, dtype=np.float32))
    if mode == "nearest":  # ops.repeat: output i reads input floor(i / factor)
        return Interpolate(x, scales, int64s(axes), mode="nearest", shape_calculation_mode="scales",
                           coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    return Interpolate(x, scales, int64s(axes), mode=mode, shape_calculation_mode="scales",
                       coordinate_transformation_mode="half_pixel")


def UpSampling1D(layer: Layer, x: Value, *, size: int = 2) -> Value:
    return _upsample(x, size, 1, None)


def UpSampling2D(layer: Layer, x: Value, *, size: Any = (2, 2), data_format: str | None = None, interpolation: str = "nearest") -> Value:
    return _upsample(x, size, 2, data_format, interpolation)


def UpSampling3D(layer: Layer, x: Value, *, size: Any = (2, 2, 2), data_format: str | None = None) -> Value:
    return _upsample(x, size, 3, data_format)


LAYERS = {
    "Reshape": Reshape,
    "Flatten": Flatten,
    "Permute": Permute,
    "RepeatVector": RepeatVector,
    "ZeroPadding1D": ZeroPadding1D,
    "ZeroPadding2D": ZeroPadding2D,
    "ZeroPadding3D": ZeroPadding3D,
    "Cropping1D": Cropping1D,
    "Cropping2D": Cropping2D,
    "Cropping3D": Cropping3D,
    "UpSampling1D": UpSampling1D,
    "UpSampling2D": UpSampling2D,
    "UpSampling3D": UpSampling3D,
}
