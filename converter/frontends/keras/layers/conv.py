"""Convolutions: Conv1D/2D/3D, Conv*Transpose, DepthwiseConv1D/2D, SeparableConv1D/2D.

Keras is channels_last; the IR's convolutions are channels-first. Each layer becomes
Transpose(NHWC→NCHW) → (Group)Convolution(BackpropData) + bias → Transpose back; the kernel is
rearranged in numpy (HWIO → OIHW). The `sink_transposes` pass removes the pairs between
consecutive layers. Keras "same" pads like TensorFlow: the odd element at the end (same_upper).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.frontends.keras.context import Layer, Unsupported, per_axis
from converter.frontends.keras.layers.activation import apply_activation
from converter.frontends.keras.layers.common import along_axis, channels_last, rank_of
from converter.ir.graph import Value
from converter.ops import conv as ops
from converter.ops import elementwise as ew
from converter.ops.core import const

PADDINGS = ("valid", "same", "causal")


def _window(padding: str, kernel: tuple[int, ...], dilation: tuple[int, ...], causal_allowed: bool) -> dict[str, Any]:
    count = len(kernel)
    if padding not in PADDINGS or (padding == "causal" and not causal_allowed):
        raise Unsupported(f"padding={padding!r} is not supported here")
    if padding == "causal":  # pad the past only: (k - 1) * dilation at the start
        begin = [(k - 1) * d for k, d in zip(kernel, dilation)]
        return dict(pads_begin=begin, pads_end=[0] * count, auto_pad="explicit")
    return dict(pads_begin=[0] * count, pads_end=[0] * count, auto_pad="same_upper" if padding == "same" else "valid")


class ConvSpec:
    """The window attributes every convolution layer has, checked once."""

    def __init__(self, layer: Layer, x: Value, spatial: int, kernel_size: Any, strides: Any, dilation_rate: Any, data_format: str | None):
        self.layer = layer
        if rank_of(x) != spatial + 2:
            raise Unsupported(f"expects a rank-{spatial + 2} input, got rank {rank_of(x)}")
        self.spatial = spatial
        self.kernel = per_axis(kernel_size, spatial, "kernel_size")
        self.strides = per_axis(strides, spatial, "strides")
        self.dilations = per_axis(dilation_rate, spatial, "dilation_rate")
        self.last = channels_last(data_format)

    def to_ir(self, x: Value) -> Value:
        return self.layer.twins.to_first(x) if self.last else x

    def from_ir(self, y: Value) -> Value:
        return self.layer.twins.to_last(y) if self.last else y


def _hwio_to_oihw(kernel: np.ndarray) -> np.ndarray:
    """Keras conv kernel [*k, in, out] → IR [out, in, *k]."""
    spatial = kernel.ndim - 2
    return np.ascontiguousarray(np.transpose(kernel, (spatial + 1, spatial, *range(spatial))))


def _bias(y: Value, bias: np.ndarray | None) -> Value:
    if bias is None:
        return y
    return ew.Add(y, const(along_axis(bias, 1, rank_of(y))))


def _convolve(spec: ConvSpec, x: Value, weights: np.ndarray, groups: int, padding: str, causal_allowed: bool = False) -> Value:
    """x (IR layout) ⊛ weights [out, in/groups, *k]."""
    attrs = dict(strides=spec.strides, dilations=spec.dilations, **_window(padding, spec.kernel, spec.dilations, causal_allowed))
    if groups == 1:
        return ops.Convolution(x, const(weights), **attrs)
    if weights.shape[0] % groups:
        raise Unsupported(f"{weights.shape[0]} filters are not divisible by groups={groups}")
    grouped = weights.reshape(groups, weights.shape[0] // groups, *weights.shape[1:])
    return ops.GroupConvolution(x, const(grouped), **attrs)


def _conv(layer: Layer, x: Value, spatial: int, filters: int, kernel_size: Any, strides: Any, padding: str,
          data_format: str | None, dilation_rate: Any, groups: int, activation: Any, use_bias: bool) -> Value:
    spec = ConvSpec(layer, x, spatial, kernel_size, strides, dilation_rate, data_format)
    kernel, *rest = layer.variables("kernel", "bias" if use_bias else None)
    if kernel.shape[:spatial] != spec.kernel or kernel.shape[-1] != filters:
        raise Unsupported(f"kernel shape {kernel.shape} does not match kernel_size {spec.kernel} and {filters} filters")
    y = _convolve(spec, spec.to_ir(x), _hwio_to_oihw(kernel), groups, padding, causal_allowed=spatial == 1)
    y = spec.from_ir(_bias(y, rest[0] if rest else None))
    return apply_activation(layer, y, activation)


def Conv1D(layer: Layer, x: Value, *, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
           data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1, activation: Any = None,
           use_bias: bool = True) -> Value:
    return _conv(layer, x, 1, filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation, use_bias)


def Conv2D(layer: Layer, x: Value, *, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
           data_format: str | None = None, dilation_rate: Any = (1, 1), groups: int = 1, activation: Any = None,
           use_bias: bool = True) -> Value:
    return _conv(layer, x, 2, filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation, use_bias)


def Conv3D(layer: Layer, x: Value, *, filters: int, kernel_size: Any, strides: Any = (1, 1, 1), padding: str = "valid",
           data_format: str | None = None, dilation_rate: Any = (1, 1, 1), groups: int = 1, activation: Any = None,
           use_bias: bool = True) -> Value:
    return _conv(layer, x, 3, filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation, use_bias)


# ---------------------------------------------------------------- depthwise and separable


def _depthwise(spec: ConvSpec, x: Value, kernel: np.ndarray, depth_multiplier: int, padding: str) -> Value:
    """Keras depthwise kernel [*k, in, multiplier] → GroupConvolution [in, multiplier, 1, *k]; output channel c*m + j."""
    spatial = spec.spatial
    if kernel.shape[:spatial] != spec.kernel or kernel.shape[-1] != depth_multiplier:
        raise Unsupported(f"depthwise kernel shape {kernel.shape} does not match kernel_size {spec.kernel} × multiplier {depth_multiplier}")
    channels = kernel.shape[spatial]
    weights = np.transpose(kernel, (spatial, spatial + 1, *range(spatial))).reshape(channels, depth_multiplier, 1, *spec.kernel)
    attrs = dict(strides=spec.strides, dilations=spec.dilations, **_window(padding, spec.kernel, spec.dilations, spatial == 1))
    return ops.GroupConvolution(x, const(np.ascontiguousarray(weights)), **attrs)


def _depthwise_layer(layer: Layer, x: Value, spatial: int, kernel_size: Any, strides: Any, padding: str, depth_multiplier: int,
                     data_format: str | None, dilation_rate: Any, activation: Any, use_bias: bool) -> Value:
    spec = ConvSpec(layer, x, spatial, kernel_size, strides, dilation_rate, data_format)
    kernel, *rest = layer.variables("kernel", "bias" if use_bias else None)
    y = _depthwise(spec, spec.to_ir(x), kernel, depth_multiplier, padding)
    return apply_activation(layer, spec.from_ir(_bias(y, rest[0] if rest else None)), activation)


def DepthwiseConv1D(layer: Layer, x: Value, *, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                    depth_multiplier: int = 1, data_format: str | None = None, dilation_rate: Any = 1,
                    activation: Any = None, use_bias: bool = True) -> Value:
    return _depthwise_layer(layer, x, 1, kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation, use_bias)


def DepthwiseConv2D(layer: Layer, x: Value, *, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                    depth_multiplier: int = 1, data_format: str | None = None, dilation_rate: Any = (1, 1),
                    activation: Any = None, use_bias: bool = True) -> Value:
    return _depthwise_layer(layer, x, 2, kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation, use_bias)


def _separable(layer: Layer, x: Value, spatial: int, filters: int, kernel_size: Any, strides: Any, padding: str,
               data_format: str | None, dilation_rate: Any, depth_multiplier: int, activation: Any, use_bias: bool) -> Value:
    spec = ConvSpec(layer, x, spatial, kernel_size, strides, dilation_rate, data_format)
    depthwise, pointwise, *rest = layer.variables("depthwise_kernel", "pointwise_kernel", "bias" if use_bias else None)
    y = _depthwise(spec, spec.to_ir(x), depthwise, depth_multiplier, padding)
    if pointwise.shape[:spatial] != (1,) * spatial or pointwise.shape[-1] != filters:
        raise Unsupported(f"pointwise kernel shape {pointwise.shape} is not 1×…×1 with {filters} filters")
    ones = (1,) * spatial
    y = ops.Convolution(y, const(_hwio_to_oihw(pointwise)), strides=ones, dilations=ones, pads_begin=(0,) * spatial,
                        pads_end=(0,) * spatial, auto_pad="explicit")
    return apply_activation(layer, spec.from_ir(_bias(y, rest[0] if rest else None)), activation)


def SeparableConv1D(layer: Layer, x: Value, *, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                    data_format: str | None = None, dilation_rate: Any = 1, depth_multiplier: int = 1,
                    activation: Any = None, use_bias: bool = True) -> Value:
    return _separable(layer, x, 1, filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier, activation, use_bias)


def SeparableConv2D(layer: Layer, x: Value, *, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                    data_format: str | None = None, dilation_rate: Any = (1, 1), depth_multiplier: int = 1,
                    activation: Any = None, use_bias: bool = True) -> Value:
    return _separable(layer, x, 2, filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier, activation, use_bias)


# ---------------------------------------------------------------- transposed


def _transpose_window(kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None) -> tuple[int, int, int]:
    """(pad_begin, pad_end, output_padding) for the IR that gives Keras' output length.

    Keras (backend_utils._get_output_shape_given_tf_padding) fixes the output length; TensorFlow
    then pads like the forward SAME/VALID convolution of that length: the total padding before
    the cut, the rest of the length as output_padding at the end.
    """
    extent = (kernel - 1) * dilation + 1
    if padding == "valid":
        length_minus = extent + (max(extent, stride) - extent if output_padding is None else output_padding)  # out - (in - 1) * s
    elif padding == "same":
        length_minus = stride if output_padding is None else extent % 2 + output_padding
    else:
        raise Unsupported(f"padding={padding!r} is not supported for transposed convolutions")
    total = max(extent - length_minus, 0) if padding == "same" else 0
    begin = total // 2
    extra = length_minus - (extent - total)
    if extra < 0:
        raise Unsupported(f"output_padding={output_padding} gives a negative output padding")
    return begin, total - begin, extra


def _conv_transpose(layer: Layer, x: Value, spatial: int, filters: int, kernel_size: Any, strides: Any, padding: str,
                    output_padding: Any, data_format: str | None, dilation_rate: Any, activation: Any, use_bias: bool) -> Value:
    spec = ConvSpec(layer, x, spatial, kernel_size, strides, dilation_rate, data_format)
    kernel, *rest = layer.variables("kernel", "bias" if use_bias else None)
    if kernel.shape[:spatial] != spec.kernel or kernel.shape[spatial] != filters:
        raise Unsupported(f"kernel shape {kernel.shape} does not match kernel_size {spec.kernel} and {filters} filters")
    paddings = [None] * spatial if output_padding is None else list(per_axis(output_padding, spatial, "output_padding"))
    windows = [_transpose_window(k, s, d, padding, p) for k, s, d, p in zip(spec.kernel, spec.strides, spec.dilations, paddings)]
    weights = np.ascontiguousarray(np.transpose(kernel, (spatial + 1, spatial, *range(spatial))))  # [*k, out, in] → [in, out, *k]
    y = ops.ConvolutionBackpropData(
        spec.to_ir(x), const(weights), strides=spec.strides, dilations=spec.dilations,
        pads_begin=[w[0] for w in windows], pads_end=[w[1] for w in windows], output_padding=[w[2] for w in windows],
        auto_pad="explicit",
    )
    return apply_activation(layer, spec.from_ir(_bias(y, rest[0] if rest else None)), activation)


def Conv1DTranspose(layer: Layer, x: Value, *, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                    output_padding: Any = None, data_format: str | None = None, dilation_rate: Any = 1,
                    activation: Any = None, use_bias: bool = True) -> Value:
    return _conv_transpose(layer, x, 1, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate, activation, use_bias)


def Conv2DTranspose(layer: Layer, x: Value, *, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                    output_padding: Any = None, data_format: str | None = None, dilation_rate: Any = (1, 1),
                    activation: Any = None, use_bias: bool = True) -> Value:
    return _conv_transpose(layer, x, 2, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate, activation, use_bias)


def Conv3DTranspose(layer: Layer, x: Value, *, filters: int, kernel_size: Any, strides: Any = (1, 1, 1), padding: str = "valid",
                    data_format: str | None = None, output_padding: Any = None, dilation_rate: Any = (1, 1, 1),
                    activation: Any = None, use_bias: bool = True) -> Value:
    return _conv_transpose(layer, x, 3, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate, activation, use_bias)


LAYERS = {
    "Conv1D": Conv1D,
    "Conv2D": Conv2D,
    "Conv3D": Conv3D,
    "Convolution1D": Conv1D,
    "Convolution2D": Conv2D,
    "Convolution3D": Conv3D,
    "Conv1DTranspose": Conv1DTranspose,
    "Conv2DTranspose": Conv2DTranspose,
    "Conv3DTranspose": Conv3DTranspose,
    "Convolution2DTranspose": Conv2DTranspose,
    "DepthwiseConv1D": DepthwiseConv1D,
    "DepthwiseConv2D": DepthwiseConv2D,
    "SeparableConv1D": SeparableConv1D,
    "SeparableConv2D": SeparableConv2D,
    "SeparableConvolution2D": SeparableConv2D,
}
