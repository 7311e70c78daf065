"""TF MaxPool and AvgPool (2D, 3D) → IR MaxPool-8 / AvgPool-1, in TF's data format.

TF's SAME average pooling divides by the number of real (unpadded) elements: `exclude-pad`.
"""

from __future__ import annotations

from collections.abc import Sequence

from converter.frontends.tensorflow.graph import Handler, TFContext
from converter.frontends.tensorflow.ops.common import channels_first, channels_last, spatial, window_padding
from converter.frontends.tensorflow.tensors import Unsupported
from converter.ir.graph import Value
from converter.ops.pooling import AvgPool1, MaxPool8


def _window(ksize: Sequence[int], strides: Sequence[int], padding: str, data_format: str, rank: int, explicit_paddings: Sequence[int] = ()):
    return dict(
        kernel=spatial(ksize, data_format, rank, "ksize"),
        strides=spatial(strides, data_format, rank, "strides"),
        **window_padding(padding, explicit_paddings, data_format, rank),
    )


def _check_rank(x: Value, rank: int) -> None:
    if x.shape.rank is not None and x.shape.rank != rank:
        raise Unsupported(f"input of rank {x.shape.rank}, expected {rank}")


def _max_pool(x: Value, window: dict, data_format: str, rank: int) -> Value:
    _check_rank(x, rank)
    node = MaxPool8.node(channels_first(x, data_format, rank), dilations=[1] * (rank - 2), **window)
    return channels_last(node.outputs[0], data_format, rank)


def _avg_pool(x: Value, window: dict, data_format: str, rank: int) -> Value:
    _check_rank(x, rank)
    y = AvgPool1(channels_first(x, data_format, rank), **{"exclude-pad": True}, **window)
    return channels_last(y, data_format, rank)


def MaxPool(
    ctx: TFContext,
    x: Value,
    *,
    ksize: list[int],
    strides: list[int],
    padding: str,
    data_format: str = "NHWC",
    explicit_paddings: Sequence[int] = (),
) -> Value:
    return _max_pool(x, _window(ksize, strides, padding, data_format, 4, explicit_paddings), data_format, 4)


def AvgPool(ctx: TFContext, x: Value, *, ksize: list[int], strides: list[int], padding: str, data_format: str = "NHWC") -> Value:
    return _avg_pool(x, _window(ksize, strides, padding, data_format, 4), data_format, 4)


def MaxPool3D(ctx: TFContext, x: Value, *, ksize: list[int], strides: list[int], padding: str, data_format: str = "NDHWC") -> Value:
    return _max_pool(x, _window(ksize, strides, padding, data_format, 5), data_format, 5)


def AvgPool3D(ctx: TFContext, x: Value, *, ksize: list[int], strides: list[int], padding: str, data_format: str = "NDHWC") -> Value:
    return _avg_pool(x, _window(ksize, strides, padding, data_format, 5), data_format, 5)


HANDLERS: dict[str, Handler] = {"MaxPool": MaxPool, "AvgPool": AvgPool, "MaxPool3D": MaxPool3D, "AvgPool3D": AvgPool3D}
