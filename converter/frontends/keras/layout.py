"""Channels-first twins: keep tensors NCHW between the layers that allow it, so few Transposes are ever built.

A convolution's NHWC output is `Transpose(y)` of its NCHW result `y`; `y` is remembered as that
value's twin. The next convolution reads the twin instead of transposing back. Layers that
do not care about the layout (activations, per-channel affine ops, merges, padding, pooling,
dropout) run on the twins of their inputs with their config rewritten for channels-first data
(`axis`, `data_format`), and their NHWC output is again a Transpose of the result. NHWC values
nobody reads are dead code and vanish from the graph. `sink_transposes` would otherwise stop at
values with several readers (MobileNet's residual Adds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from converter.frontends.keras.layers.activation import activation_name
from converter.frontends.keras.layers.common import to_channels_first, to_channels_last
from converter.ir.graph import Value

Rewrite = Callable[[dict[str, Any], int], "tuple[dict[str, Any], bool] | None"]
"""config, input rank → (the config for channels-first inputs, whether the output is channels-first too), or None."""

AXIS_BOUND_ACTIVATIONS = ("softmax", "log_softmax", "glu")


class ChannelsFirstTwins:
    def __init__(self) -> None:
        self._twins: dict[int, tuple[Value, Value]] = {}  # id(NHWC value) → (it, its NCHW twin); ids of live objects only

    def twin(self, x: Value) -> Value | None:
        entry = self._twins.get(id(x))
        return entry[1] if entry is not None and entry[0] is x else None

    def to_first(self, x: Value) -> Value:
        twin = self.twin(x)
        if twin is None:
            twin = to_channels_first(x)
            self._twins[id(x)] = (x, twin)
        return twin

    def to_last(self, y: Value) -> Value:
        x = to_channels_last(y)
        self._twins[id(x)] = (x, y)
        return x


def channels_first_axis(axis: int, rank: int) -> int:
    """An NHWC axis → the same axis of the NCHW twin (channels move from the end to 1)."""
    axis %= rank
    if axis == 0:
        return 0
    return 1 if axis == rank - 1 else axis + 1


def _unchanged(config: dict[str, Any], rank: int) -> tuple[dict[str, Any], bool]:
    return config, True


def _activation(config: dict[str, Any], rank: int) -> tuple[dict[str, Any], bool] | None:
    if activation_name(config.get("activation")) in AXIS_BOUND_ACTIVATIONS:
        return None
    return config, True


def _single_axis(config: dict[str, Any], rank: int) -> tuple[dict[str, Any], bool] | None:
    axis = config.get("axis", -1)
    if isinstance(axis, list):
        if len(axis) != 1:
            return None
        axis = axis[0]
    if not isinstance(axis, int):
        return None
    return {**config, "axis": channels_first_axis(axis, rank)}, True


def _data_format(config: dict[str, Any], rank: int) -> tuple[dict[str, Any], bool] | None:
    if config.get("data_format") not in (None, "channels_last"):
        return None
    return {**config, "data_format": "channels_first"}, True


def _global_pooling(config: dict[str, Any], rank: int) -> tuple[dict[str, Any], bool] | None:
    rewritten = _data_format(config, rank)
    if rewritten is None:
        return None
    return rewritten[0], bool(config.get("keepdims", False))


def _rescaling(config: dict[str, Any], rank: int) -> tuple[dict[str, Any], bool] | None:
    scalar = all(isinstance(config.get(key, 0.0), (int, float)) for key in ("scale", "offset"))
    return (config, True) if scalar else None


REWRITES: dict[str, Rewrite] = {
    **{name: _unchanged for name in (
        "ReLU", "LeakyReLU", "ELU", "ThresholdedReLU", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
        "Dropout", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
        "ActivityRegularization", "Identity",
    )},
    "Activation": _activation,
    "Rescaling": _rescaling,
    "BatchNormalization": _single_axis,
    "LayerNormalization": _single_axis,
    "RMSNormalization": _single_axis,
    "Concatenate": _single_axis,
    "Softmax": _single_axis,
    **{name: _data_format for name in (
        "ZeroPadding2D", "ZeroPadding3D", "Cropping2D", "Cropping3D", "UpSampling2D", "UpSampling3D",
    )},
    **{name: _global_pooling for name in (
        "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
        "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool2D", "GlobalMaxPool3D",
    )},
}
