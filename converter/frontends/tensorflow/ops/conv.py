"""TF convolutions and BiasAdd → IR (Group)Convolution(BackpropData) + Add, in TF's data format.

Filters are HWIO (DepthwiseConv2dNative: HW, in channels, multiplier); the IR wants OIHW
(grouped: G, O/G, I/G, H, W). Constant filters are rearranged here, once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.tensorflow.graph import Handler, TFContext
from converter.frontends.tensorflow.ops.common import (
    channels_first,
    channels_last,
    i64,
    is_channels_last,
    permuted,
    spatial,
    static_entries,
    window_padding,
)
from converter.frontends.tensorflow.tensors import Unsupported
from converter.ir.graph import Value
from converter.ops import conv as ops
from converter.ops import elementwise as ew
from converter.ops.core import const
from converter.ops.shape import Reshape


def _filter_to_oihw(w: Value, rank: int) -> Value:
    """[spatial..., I, O] → [O, I, spatial...]."""
    return permuted(w, [rank - 1, rank - 2, *range(rank - 2)])


def _channels(x: Value, data_format: str) -> int | None:
    dims = x.shape.dims
    if dims is None:
        return None
    return dims[-1] if is_channels_last(data_format) else dims[1]


def _convolution(
    x: Value,
    w: Value,
    strides: Sequence[int],
    padding: str,
    data_format: str,
    dilations: Sequence[int],
    explicit_paddings: Sequence[int],
    rank: int,
) -> Value:
    if x.shape.rank is not None and x.shape.rank != rank:
        raise Unsupported(f"input of rank {x.shape.rank}, expected {rank}")
    attrs = dict(
        strides=spatial(strides, data_format, rank, "strides"),
        dilations=spatial(dilations, data_format, rank, "dilations"),
        **window_padding(padding, explicit_paddings, data_format, rank),
    )
    data = channels_first(x, data_format, rank)
    in_channels, filter_in = _channels(x, data_format), w.shape[rank - 2]
    weights = _filter_to_oihw(w, rank)
    if in_channels is None or filter_in is None or in_channels == filter_in:
        y = ops.Convolution(data, weights, **attrs)
    else:
        if in_channels % filter_in:
            raise Unsupported(f"{in_channels} input channels are not a multiple of the filter's {filter_in}")
        y = ops.GroupConvolution(data, _split_groups(weights, in_channels // filter_in), **attrs)
    return channels_last(y, data_format, rank)


def _split_groups(weights: Value, groups: int) -> Value:
    """OIHW → [G, O/G, I, H, W]."""
    dims = weights.shape.dims
    if dims is None or any(d is None for d in dims):
        raise Unsupported("grouped convolution with a filter of unknown shape")
    if dims[0] % groups:
        raise Unsupported(f"{dims[0]} filters do not split into {groups} groups")
    target = [groups, dims[0] // groups, *dims[1:]]
    if weights.const is not None:
        return const(weights.const.reshape(target))
    return Reshape(weights, i64(target), special_zero=False)


def Conv2D(
    ctx: TFContext,
    x: Value,
    w: Value,
    *,
    strides: list[int],
    padding: str,
    data_format: str = "NHWC",
    dilations: Sequence[int] = (1, 1, 1, 1),
    explicit_paddings: Sequence[int] = (),
    use_cudnn_on_gpu: bool = True,
) -> Value:
    return _convolution(x, w, strides, padding, data_format, dilations, explicit_paddings, rank=4)


def Conv3D(
    ctx: TFContext,
    x: Value,
    w: Value,
    *,
    strides: list[int],
    padding: str,
    data_format: str = "NDHWC",
    dilations: Sequence[int] = (1, 1, 1, 1, 1),
) -> Value:
    return _convolution(x, w, strides, padding, data_format, dilations, (), rank=5)


def DepthwiseConv2dNative(
    ctx: TFContext,
    x: Value,
    w: Value,
    *,
    strides: list[int],
    padding: str,
    data_format: str = "NHWC",
    dilations: Sequence[int] = (1, 1, 1, 1),
    explicit_paddings: Sequence[int] = (),
) -> Value:
    """Filter [H, W, C, M]: each input channel c gets M filters → IR groups [C, M, 1, H, W]."""
    dims = w.shape.dims
    if dims is None or len(dims) != 4 or any(d is None for d in dims):
        raise Unsupported("depthwise convolution with a filter of unknown shape")
    height, width, channels, multiplier = dims
    if w.const is not None:
        weights = const(np.ascontiguousarray(np.transpose(w.const, (2, 3, 0, 1))).reshape(channels, multiplier, 1, height, width))
    else:
        weights = Reshape(permuted(w, [2, 3, 0, 1]), i64([channels, multiplier, 1, height, width]), special_zero=False)
    y = ops.GroupConvolution(
        channels_first(x, data_format, 4),
        weights,
        strides=spatial(strides, data_format, 4, "strides"),
        dilations=spatial(dilations, data_format, 4, "dilations"),
        **window_padding(padding, explicit_paddings, data_format, 4),
    )
    return channels_last(y, data_format, 4)


def Conv2DBackpropInput(
    ctx: TFContext,
    input_sizes: Value,
    w: Value,
    out_backprop: Value,
    *,
    strides: list[int],
    padding: str,
    data_format: str = "NHWC",
    dilations: Sequence[int] = (1, 1, 1, 1),
    explicit_paddings: Sequence[int] = (),
    use_cudnn_on_gpu: bool = True,
) -> Value:
    """The transposed convolution (Keras Conv2DTranspose): the gradient of a Conv2D whose input has
    `input_sizes`. Its padding is the forward convolution's; the extra rows and columns of an
    output larger than the smallest one that fits become output_padding."""
    sizes = static_entries(input_sizes)
    if sizes is None or len(sizes) != 4:
        raise Unsupported("input_sizes is not a 4-D shape")
    target = sizes[1:3] if is_channels_last(data_format) else sizes[2:4]
    if None in target:
        raise Unsupported("the output's height and width (input_sizes) must be known before running")
    dims = out_backprop.shape.dims
    kernel = w.shape.dims
    if dims is None or kernel is None or any(d is None for d in (*dims[1:], *kernel)):
        raise Unsupported("Conv2DBackpropInput needs static spatial shapes")
    source = dims[1:3] if is_channels_last(data_format) else dims[2:4]
    step = spatial(strides, data_format, 4, "strides")
    dilation = spatial(dilations, data_format, 4, "dilations")
    window = window_padding(padding, explicit_paddings, data_format, 4)
    begin, end = [], []
    for axis in range(2):
        extent = (kernel[axis] - 1) * dilation[axis] + 1  # type: ignore[operator]
        if window["auto_pad"] == "same_upper":
            total = max((source[axis] - 1) * step[axis] + extent - target[axis], 0)  # type: ignore[operator]
            begin.append(total // 2)
            end.append(total - total // 2)
        else:
            begin.append(window["pads_begin"][axis])  # type: ignore[index]
            end.append(window["pads_end"][axis])  # type: ignore[index]
    natural = [(source[a] - 1) * step[a] + (kernel[a] - 1) * dilation[a] + 1 - begin[a] - end[a] for a in range(2)]  # type: ignore[operator]
    extra = [target[a] - natural[a] for a in range(2)]
    if any(e < 0 or e >= max(step[a], dilation[a]) for a, e in enumerate(extra)):
        raise Unsupported(f"input_sizes {sizes} does not fit the gradient of {list(dims)}")
    y = ops.ConvolutionBackpropData(
        channels_first(out_backprop, data_format, 4),
        _filter_to_oihw(w, 4),  # [H, W, out, in] → [in, out, H, W]: the IR's [C_in of the data, C_out, ...]
        strides=step,
        dilations=dilation,
        pads_begin=begin,
        pads_end=end,
        output_padding=extra,
    )
    return channels_last(y, data_format, 4)


def BiasAdd(ctx: TFContext, x: Value, bias: Value, *, data_format: str = "NHWC") -> Value:
    if is_channels_last(data_format) or x.shape.rank in (None, 1, 2):
        return ew.Add(x, bias)  # the bias goes along the last axis: numpy broadcasting
    shape = [1, -1] + [1] * (x.shape.rank - 2)
    if bias.const is not None:
        return ew.Add(x, const(bias.const.reshape(shape)))
    return ew.Add(x, Reshape(bias, i64(shape), special_zero=False))


def BiasAddV1(ctx: TFContext, x: Value, bias: Value) -> Value:
    return ew.Add(x, bias)


HANDLERS: dict[str, Handler] = {
    "Conv2D": Conv2D,
    "Conv3D": Conv3D,
    "DepthwiseConv2dNative": DepthwiseConv2dNative,
    "Conv2DBackpropInput": Conv2DBackpropInput,
    "BiasAdd": BiasAdd,
    "BiasAddV1": BiasAddV1,
}
