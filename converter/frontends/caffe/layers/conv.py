"""Convolution, Deconvolution (→ (Group)Convolution(BackpropData)) and InnerProduct (→ MatMul).

Caffe's filters are [O, C/g, k...] for Convolution and [C, O/g, k...] for Deconvolution, the
IR's grouped ones [g, O/g, C/g, k...] and [g, C/g, O/g, k...]: the same memory, reshaped. Caffe
pads both ends equally and rounds output sizes down; a Deconvolution is exactly the transposed
convolution with those pads.
"""

from __future__ import annotations

from collections.abc import Sequence

from converter.frontends.caffe.layers.common import along, dims_of, f32, i64, spatial
from converter.frontends.caffe.net import CaffeContext, Handler, Unsupported
from converter.ir.graph import Value
from converter.ops import conv as ops
from converter.ops.elementwise import Add
from converter.ops.matmul import MatMul
from converter.ops.shape import Reshape


def _window(
    rank: int,
    kernel_size: Sequence[int],
    kernel_h: int | None,
    kernel_w: int | None,
    pad: Sequence[int],
    pad_h: int | None,
    pad_w: int | None,
    stride: Sequence[int],
    stride_h: int | None,
    stride_w: int | None,
    dilation: Sequence[int],
) -> tuple[list[int], dict]:
    count = rank - 2
    kernel = spatial(kernel_size, kernel_h, kernel_w, 0, count, "kernel_size")
    if any(k <= 0 for k in kernel):
        raise Unsupported(f"kernel size {kernel} (give kernel_size or kernel_h and kernel_w)")
    pads = spatial(pad, pad_h, pad_w, 0, count, "pad")
    strides = spatial(stride, stride_h, stride_w, 1, count, "stride")
    dilations = spatial(dilation, None, None, 1, count, "dilation")
    return kernel, dict(strides=strides, pads_begin=pads, pads_end=pads, dilations=dilations)


def _convolution(
    ctx: CaffeContext,
    x: Value,
    transposed: bool,
    num_output: int | None,
    bias_term: bool,
    group: int,
    axis: int,
    window: tuple[list[int], dict],
) -> Value:
    dims = dims_of(x, "a convolution")
    if axis not in (1, 1 - len(dims)):
        raise Unsupported(f"channel axis {axis} (only 1)")
    if len(dims) < 3:
        raise Unsupported(f"a {len(dims)}-D input")
    if not num_output:
        raise Unsupported("num_output is not given")
    channels, kernel = dims[1], window[0]
    if group < 1 or channels % group or num_output % group:
        raise Unsupported(f"group {group} does not divide {channels} input and {num_output} output channels")
    if transposed:
        filter_shape = [channels, num_output // group, *kernel]
        grouped = [group, channels // group, num_output // group, *kernel]
    else:
        filter_shape = [num_output, channels // group, *kernel]
        grouped = [group, num_output // group, channels // group, *kernel]
    blobs = ctx.weights(filter_shape, [num_output]) if bias_term else ctx.weights(filter_shape)
    attrs = window[1]
    if group == 1:
        op = ops.ConvolutionBackpropData if transposed else ops.Convolution
        y = op(x, f32(blobs[0]), **attrs)
    else:
        op = ops.GroupConvolutionBackpropData if transposed else ops.GroupConvolution
        y = op(x, f32(blobs[0].reshape(grouped)), **attrs)
    if bias_term:
        y = Add(y, along(blobs[1], len(dims), 1))
    return y


def Convolution(
    ctx: CaffeContext,
    x: Value,
    *,
    num_output: int | None = None,
    bias_term: bool = True,
    pad: Sequence[int] = (),
    kernel_size: Sequence[int] = (),
    stride: Sequence[int] = (),
    dilation: Sequence[int] = (),
    pad_h: int | None = None,
    pad_w: int | None = None,
    kernel_h: int | None = None,
    kernel_w: int | None = None,
    stride_h: int | None = None,
    stride_w: int | None = None,
    group: int = 1,
    axis: int = 1,
    force_nd_im2col: bool = False,
) -> Value:
    rank = len(dims_of(x, "a convolution"))
    window = _window(rank, kernel_size, kernel_h, kernel_w, pad, pad_h, pad_w, stride, stride_h, stride_w, dilation)
    return _convolution(ctx, x, False, num_output, bias_term, group, axis, window)


def Deconvolution(
    ctx: CaffeContext,
    x: Value,
    *,
    num_output: int | None = None,
    bias_term: bool = True,
    pad: Sequence[int] = (),
    kernel_size: Sequence[int] = (),
    stride: Sequence[int] = (),
    dilation: Sequence[int] = (),
    pad_h: int | None = None,
    pad_w: int | None = None,
    kernel_h: int | None = None,
    kernel_w: int | None = None,
    stride_h: int | None = None,
    stride_w: int | None = None,
    group: int = 1,
    axis: int = 1,
    force_nd_im2col: bool = False,
) -> Value:
    rank = len(dims_of(x, "a deconvolution"))
    window = _window(rank, kernel_size, kernel_h, kernel_w, pad, pad_h, pad_w, stride, stride_h, stride_w, dilation)
    return _convolution(ctx, x, True, num_output, bias_term, group, axis, window)


def InnerProduct(
    ctx: CaffeContext,
    x: Value,
    *,
    num_output: int | None = None,
    bias_term: bool = True,
    axis: int = 1,
    transpose: bool = False,
) -> Value:
    """y = x' · Wᵀ + b, x' the input with the dims from `axis` on flattened into one (K);
    W is [N, K], or [K, N] when `transpose`."""
    dims = dims_of(x, "an inner product")
    axis = axis + len(dims) if axis < 0 else axis
    if not 0 <= axis < len(dims):
        raise Unsupported(f"axis {axis} of a {len(dims)}-D input")
    if not num_output:
        raise Unsupported("num_output is not given")
    inner = 1
    for d in dims[axis:]:
        inner *= d
    shape = [inner, num_output] if transpose else [num_output, inner]
    blobs = ctx.weights(shape, [num_output]) if bias_term else ctx.weights(shape)
    flat = x if len(dims) == axis + 1 else Reshape(x, i64([0] * axis + [inner]), special_zero=True)
    y = MatMul(flat, f32(blobs[0]), transpose_b=not transpose)
    if bias_term:
        y = Add(y, f32(blobs[1]))
    return y


HANDLERS: dict[str, Handler] = {"Convolution": Convolution, "Deconvolution": Deconvolution, "InnerProduct": InnerProduct}
