"""Pooling: MaxPooling*/AveragePooling* (window ops on channels-first data) and global pooling (reductions)."""

from __future__ import annotations

from typing import Any

from converter.frontends.keras.context import Layer, Unsupported, per_axis
from converter.frontends.keras.layers.common import channels_last, int64s, rank_of
from converter.ir.graph import Value
from converter.ops import pooling as ops
from converter.ops.reduction import ReduceMax, ReduceMean

PADDINGS = {"valid": "valid", "same": "same_upper"}


def _pool(layer: Layer, x: Value, spatial: int, pool_size: Any, strides: Any, padding: str, data_format: str | None, average: bool) -> Value:
    if rank_of(x) != spatial + 2:
        raise Unsupported(f"expects a rank-{spatial + 2} input, got rank {rank_of(x)}")
    if padding not in PADDINGS:
        raise Unsupported(f"padding={padding!r} is not one of {', '.join(PADDINGS)}")
    kernel = per_axis(pool_size, spatial, "pool_size")
    steps = kernel if strides is None else per_axis(strides, spatial, "strides")
    last = channels_last(data_format)
    data = layer.twins.to_first(x) if last else x
    zeros = (0,) * spatial
    attrs = dict(strides=steps, pads_begin=zeros, pads_end=zeros, kernel=kernel, auto_pad=PADDINGS[padding])
    if average:  # TensorFlow's SAME average divides by the window's count inside the input
        y = ops.AvgPool1(data, **attrs, **{"exclude-pad": True})
    else:
        y = ops.MaxPool8.node(data, dilations=(1,) * spatial, **attrs).outputs[0]
    return layer.twins.to_last(y) if last else y


def MaxPooling1D(layer: Layer, x: Value, *, pool_size: Any = 2, strides: Any = None, padding: str = "valid", data_format: str | None = None) -> Value:
    return _pool(layer, x, 1, pool_size, strides, padding, data_format, average=False)


def MaxPooling2D(layer: Layer, x: Value, *, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid", data_format: str | None = None) -> Value:
    return _pool(layer, x, 2, pool_size, strides, padding, data_format, average=False)


def MaxPooling3D(layer: Layer, x: Value, *, pool_size: Any = (2, 2, 2), strides: Any = None, padding: str = "valid", data_format: str | None = None) -> Value:
    return _pool(layer, x, 3, pool_size, strides, padding, data_format, average=False)


def AveragePooling1D(layer: Layer, x: Value, *, pool_size: Any, strides: Any = None, padding: str = "valid", data_format: str | None = None) -> Value:
    return _pool(layer, x, 1, pool_size, strides, padding, data_format, average=True)


def AveragePooling2D(layer: Layer, x: Value, *, pool_size: Any, strides: Any = None, padding: str = "valid", data_format: str | None = None) -> Value:
    return _pool(layer, x, 2, pool_size, strides, padding, data_format, average=True)


def AveragePooling3D(layer: Layer, x: Value, *, pool_size: Any, strides: Any = None, padding: str = "valid", data_format: str | None = None) -> Value:
    return _pool(layer, x, 3, pool_size, strides, padding, data_format, average=True)


def _global(layer: Layer, x: Value, spatial: int, data_format: str | None, keepdims: bool, average: bool) -> Value:
    if layer.call_option("mask") is not None:
        raise Unsupported("a mask argument is not supported")
    if rank_of(x) != spatial + 2:
        raise Unsupported(f"expects a rank-{spatial + 2} input, got rank {rank_of(x)}")
    first = 1 if channels_last(data_format) else 2
    reduce = ReduceMean if average else ReduceMax
    return reduce(x, int64s(list(range(first, first + spatial))), keep_dims=bool(keepdims))


def GlobalAveragePooling1D(layer: Layer, x: Value, *, data_format: str | None = None, keepdims: bool = False) -> Value:
    return _global(layer, x, 1, data_format, keepdims, average=True)


def GlobalAveragePooling2D(layer: Layer, x: Value, *, data_format: str | None = None, keepdims: bool = False) -> Value:
    return _global(layer, x, 2, data_format, keepdims, average=True)


def GlobalAveragePooling3D(layer: Layer, x: Value, *, data_format: str | None = None, keepdims: bool = False) -> Value:
    return _global(layer, x, 3, data_format, keepdims, average=True)


def GlobalMaxPooling1D(layer: Layer, x: Value, *, data_format: str | None = None, keepdims: bool = False) -> Value:
    return _global(layer, x, 1, data_format, keepdims, average=False)


def GlobalMaxPooling2D(layer: Layer, x: Value, *, data_format: str | None = None, keepdims: bool = False) -> Value:
    return _global(layer, x, 2, data_format, keepdims, average=False)


def GlobalMaxPooling3D(layer: Layer, x: Value, *, data_format: str | None = None, keepdims: bool = False) -> Value:
    return _global(layer, x, 3, data_format, keepdims, average=False)


LAYERS = {
    "MaxPooling1D": MaxPooling1D,
    "MaxPooling2D": MaxPooling2D,
    "MaxPooling3D": MaxPooling3D,
    "MaxPool1D": MaxPooling1D,
    "MaxPool2D": MaxPooling2D,
    "MaxPool3D": MaxPooling3D,
    "AveragePooling1D": AveragePooling1D,
    "AveragePooling2D": AveragePooling2D,
    "AveragePooling3D": AveragePooling3D,
    "AvgPool1D": AveragePooling1D,
    "AvgPool2D": AveragePooling2D,
    "AvgPool3D": AveragePooling3D,
    "GlobalAveragePooling1D": GlobalAveragePooling1D,
    "GlobalAveragePooling2D": GlobalAveragePooling2D,
    "GlobalAveragePooling3D": GlobalAveragePooling3D,
    "GlobalMaxPooling1D": GlobalMaxPooling1D,
    "GlobalMaxPooling2D": GlobalMaxPooling2D,
    "GlobalMaxPooling3D": GlobalMaxPooling3D,
    "GlobalAvgPool1D": GlobalAveragePooling1D,
    "GlobalAvgPool2D": GlobalAveragePooling2D,
    "GlobalAvgPool3D": GlobalAveragePooling3D,
    "GlobalMaxPool1D": GlobalMaxPooling1D,
    "GlobalMaxPool2D": GlobalMaxPooling2D,
    "GlobalMaxPool3D": GlobalMaxPooling3D,
}
