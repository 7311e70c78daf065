"""TFLite convolutions → IR (Group)Convolution / ConvolutionBackpropData in NCHW (NCDHW) between Transposes.

Filters: CONV_2D is OHWI, DEPTHWISE_CONV_2D is [1, H, W, C·M], TRANSPOSE_CONV is OHWI with O
the output channels; CONV_3D keeps TensorFlow's [D, H, W, I, O], CONV_3D_TRANSPOSE [D, H, W, O, I].
The IR wants OIHW, [C, M, 1, H, W] and [C_in, C_out, H, W] (OIDHW, [I, O, D, H, W]): constant
filters (quantized ones included) are rearranged at conversion, once. The bias and the fused
activation are applied in NCHW, before the Transpose back.
"""

from __future__ import annotations

from collections.abc import Sequence

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import (
    channel_bias,
    check_rank,
    constant_ints,
    fused_activation,
    i64,
    nchw,
    nhwc,
    static_dims,
    window,
)
from converter.frontends.tflite.tensors import Unsupported, rearranged
from converter.ir.graph import Value
from converter.ops import conv as ops
from converter.ops.shape import Transpose


def _dilations(dilation_h_factor: int, dilation_w_factor: int) -> list[int]:
    if dilation_h_factor < 1 or dilation_w_factor < 1:
        raise Unsupported(f"dilations ({dilation_h_factor}, {dilation_w_factor}) must be positive")
    return [dilation_h_factor, dilation_w_factor]


def CONV_2D(
    ctx: TFLiteContext,
    x: Value,
    filter: Value,
    bias: Value | None = None,
    *,
    padding: str = "SAME",
    stride_w: int = 0,
    stride_h: int = 0,
    fused_activation_function: str = "NONE",
    dilation_w_factor: int = 1,
    dilation_h_factor: int = 1,
    quantized_bias_type: str = "FLOAT32",
) -> Value:
    """Filter [O, H, W, I]; more input channels than I make I-channel groups."""
    check_rank(x, 4, "CONV_2D")
    check_rank(filter, 4, "CONV_2D filter")
    attrs = dict(window(padding, stride_h, stride_w), dilations=_dilations(dilation_h_factor, dilation_w_factor))
    channels, filter_channels = x.shape[3], filter.shape[3]
    if channels is None or filter_channels is None or channels == filter_channels:
        y = ops.Convolution(nchw(x), rearranged(filter, (0, 3, 1, 2)), **attrs)
    else:
        if channels % filter_channels:
            raise Unsupported(f"{channels} input channels are not a multiple of the filter's {filter_channels}")
        groups = channels // filter_channels
        outputs, height, width, _ = static_dims(filter, "a grouped CONV_2D filter")
        if outputs % groups:
            raise Unsupported(f"{outputs} filters do not split into {groups} groups")
        weights = rearranged(filter, (0, 3, 1, 2), (groups, outputs // groups, filter_channels, height, width))
        y = ops.GroupConvolution(nchw(x), weights, **attrs)
    return nhwc(fused_activation(channel_bias(y, bias), fused_activation_function))


def DEPTHWISE_CONV_2D(
    ctx: TFLiteContext,
    x: Value,
    filter: Value,
    bias: Value | None = None,
    *,
    padding: str = "SAME",
    stride_w: int = 0,
    stride_h: int = 0,
    depth_multiplier: int = 0,
    fused_activation_function: str = "NONE",
    dilation_w_factor: int = 1,
    dilation_h_factor: int = 1,
) -> Value:
    """Filter [1, H, W, C·M]: output channel c·M + m filters input channel c (M the multiplier,
    output channels / input channels; depth_multiplier only when the input's channels are unknown)."""
    check_rank(x, 4, "DEPTHWISE_CONV_2D")
    one, height, width, outputs = static_dims(filter, "a DEPTHWISE_CONV_2D filter")
    if one != 1:
        raise Unsupported(f"a depthwise filter of shape {[one, height, width, outputs]}")
    channels = x.shape[3]
    if channels is None:
        if depth_multiplier < 1 or outputs % depth_multiplier:
            raise Unsupported("the input's channels are unknown and depth_multiplier does not tell them")
        channels = outputs // depth_multiplier
    if outputs % channels:
        raise Unsupported(f"{outputs} filters for {channels} input channels")
    weights = rearranged(filter, (3, 0, 1, 2), (channels, outputs // channels, 1, height, width))
    y = ops.GroupConvolution(
        nchw(x), weights, dilations=_dilations(dilation_h_factor, dilation_w_factor), **window(padding, stride_h, stride_w)
    )
    return nhwc(fused_activation(channel_bias(y, bias), fused_activation_function))


def TRANSPOSE_CONV(
    ctx: TFLiteContext,
    output_shape: Value,
    filter: Value,
    x: Value,
    bias: Value | None = None,
    *,
    padding: str = "SAME",
    stride_w: int = 0,
    stride_h: int = 0,
    fused_activation_function: str = "NONE",
    quantized_bias_type: str = "FLOAT32",
) -> Value:
    """The transposed convolution into `output_shape` [N, H, W, O]: TFLite scatters input pixel
    (i, j) to output (i·stride − pad_top + ky, j·stride − pad_left + kx), keeping those inside
    the output; its padding is the one a forward convolution from the output's size would use."""
    check_rank(x, 4, "TRANSPOSE_CONV")
    target = constant_ints(output_shape, "output_shape")
    if len(target) != 4:
        raise Unsupported(f"output_shape {target} is not 4-D")
    _, kernel_h, kernel_w, _ = static_dims(filter, "a TRANSPOSE_CONV filter")
    source = x.shape.dims[1:3] if x.shape.dims is not None else (None, None)
    if None in source:
        raise Unsupported("TRANSPOSE_CONV needs the input's height and width")
    window(padding, stride_h, stride_w)  # checks the strides and the padding
    strides = [stride_h, stride_w]
    begin, end, extra = _transposed_padding(source, target[1:3], (kernel_h, kernel_w), strides, [1, 1], padding, target)  # type: ignore[arg-type]
    y = ops.ConvolutionBackpropData(
        nchw(x),
        rearranged(filter, (3, 0, 1, 2)),  # [O, H, W, I] → [I, O, H, W]: the IR's [C_in of the data, C_out, ...]
        strides=strides,
        dilations=[1, 1],
        pads_begin=begin,
        pads_end=end,
        output_padding=extra,
    )
    return nhwc(fused_activation(channel_bias(y, bias), fused_activation_function))


def _transposed_padding(
    source: Sequence[int], target: Sequence[int], kernels: Sequence[int], strides: Sequence[int], dilations: Sequence[int],
    padding: str, output_shape: Sequence[int],
) -> tuple[list[int], list[int], list[int]]:
    """(pads_begin, pads_end, output_padding) of the IR's transposed convolution from `source` to
    `target` spatial sizes: TFLite pads as the forward convolution from the target's size would."""
    begin, end, extra = [], [], []
    for size, out, kernel, stride, dilation in zip(source, target, kernels, strides, dilations):
        effective = (kernel - 1) * dilation + 1
        forward = -(-out // stride) if padding == "SAME" else (out - effective + stride) // stride
        total = max((forward - 1) * stride + effective - out, 0)
        full = (size - 1) * stride + effective
        pad_begin = total // 2
        pad_end = max(full - pad_begin - out, 0)
        begin.append(pad_begin)
        end.append(pad_end)
        extra.append(out - (full - pad_begin - pad_end))
    if any(e < 0 for e in extra):
        raise Unsupported(f"output_shape {list(output_shape)} is smaller than the transposed convolution's padding allows")
    return begin, end, extra


# ---------------------------------------------------------------- 3-D

TO_NCDHW = (0, 4, 1, 2, 3)
TO_NDHWC = [0, 2, 3, 4, 1]


def _window_3d(padding: str, strides: Sequence[int], dilations: Sequence[int]) -> dict[str, object]:
    if any(s < 1 for s in strides) or any(d < 1 for d in dilations):
        raise Unsupported(f"strides {list(strides)} and dilations {list(dilations)} must be positive")
    if padding not in ("SAME", "VALID"):
        raise Unsupported(f"padding {padding!r}")
    return {
        "strides": list(strides),
        "dilations": list(dilations),
        "auto_pad": "same_upper" if padding == "SAME" else "valid",
        "pads_begin": [0, 0, 0],
        "pads_end": [0, 0, 0],
    }


def CONV_3D(
    ctx: TFLiteContext,
    x: Value,
    filter: Value,
    bias: Value | None = None,
    *,
    padding: str = "SAME",
    stride_d: int = 0,
    stride_w: int = 0,
    stride_h: int = 0,
    fused_activation_function: str = "NONE",
    dilation_d_factor: int = 1,
    dilation_w_factor: int = 1,
    dilation_h_factor: int = 1,
) -> Value:
    """NDHWC input, filter [D, H, W, I, O] (TensorFlow's layout), in NCDHW between Transposes."""
    check_rank(x, 5, "CONV_3D")
    check_rank(filter, 5, "CONV_3D filter")
    channels, filter_channels = x.shape[4], filter.shape[3]
    if channels is not None and filter_channels is not None and channels != filter_channels:
        raise Unsupported(f"CONV_3D of {channels} channels with a filter of {filter_channels}")
    attrs = _window_3d(padding, (stride_d, stride_h, stride_w), (dilation_d_factor, dilation_h_factor, dilation_w_factor))
    y = ops.Convolution(rearranged(x, TO_NCDHW), rearranged(filter, (4, 3, 0, 1, 2)), **attrs)
    y = fused_activation(channel_bias(y, bias), fused_activation_function)
    return Transpose(y, i64(TO_NDHWC))


def CONV_3D_TRANSPOSE(
    ctx: TFLiteContext,
    output_shape: Value,
    filter: Value,
    x: Value,
    bias: Value | None = None,
    *,
    padding: str = "SAME",
    stride_d: int = 0,
    stride_w: int = 0,
    stride_h: int = 0,
    fused_activation_function: str = "NONE",
    dilation_d_factor: int = 1,
    dilation_w_factor: int = 1,
    dilation_h_factor: int = 1,
) -> Value:
    """The transposed 3-D convolution into `output_shape` [N, D, H, W, O]; filter [D, H, W, O, I]."""
    check_rank(x, 5, "CONV_3D_TRANSPOSE")
    target = constant_ints(output_shape, "output_shape")
    if len(target) != 5:
        raise Unsupported(f"output_shape {target} is not 5-D")
    kernels = static_dims(filter, "a CONV_3D_TRANSPOSE filter")[:3]
    source = x.shape.dims[1:4] if x.shape.dims is not None else (None,) * 3
    if None in source:
        raise Unsupported("CONV_3D_TRANSPOSE needs the input's depth, height and width")
    attrs = _window_3d(padding, (stride_d, stride_h, stride_w), (dilation_d_factor, dilation_h_factor, dilation_w_factor))
    strides, dilations = attrs["strides"], attrs["dilations"]
    begin, end, extra = _transposed_padding(source, target[1:4], kernels, strides, dilations, padding, target)  # type: ignore[arg-type]
    y = ops.ConvolutionBackpropData(
        rearranged(x, TO_NCDHW),
        rearranged(filter, (4, 3, 0, 1, 2)),  # [D, H, W, O, I] → [I, O, D, H, W]
        strides=strides,
        dilations=dilations,
        pads_begin=begin,
        pads_end=end,
        output_padding=extra,
    )
    y = fused_activation(channel_bias(y, bias), fused_activation_function)
    return Transpose(y, i64(TO_NDHWC))


HANDLERS: dict[str, Handler] = {
    "CONV_2D": CONV_2D,
    "DEPTHWISE_CONV_2D": DEPTHWISE_CONV_2D,
    "TRANSPOSE_CONV": TRANSPOSE_CONV,
    "CONV_3D": CONV_3D,
    "CONV_3D_TRANSPOSE": CONV_3D_TRANSPOSE,
}
GRID_PRESERVING: frozenset[str] = frozenset()
