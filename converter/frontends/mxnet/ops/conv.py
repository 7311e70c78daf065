"""MXNet Convolution / Deconvolution → IR (Group)Convolution(BackpropData) + bias.

Weights: Convolution [num_filter, C/num_group, k...] (channels-last layouts: [num_filter, k...,
C/num_group]); Deconvolution [C, num_filter/num_group, k...]. Padding is symmetric. A
Deconvolution's `adj` adds output rows at the end; `target_shape` replaces pad and adj by the
ones MXNet computes (deconvolution-inl.h InferPad): total = stride·(in − 1) + dilated kernel −
target, adj = total mod 2, pad = ⌈total / 2⌉.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.frontends.mxnet.ops.common import bias_add, i64, ints, known_rank, same_type, to_channels_first, to_channels_last
from converter.ir.graph import Value
from converter.ops import conv as ops
from converter.ops.core import const
from converter.ops.shape import Reshape, Transpose


def _window(kernel: tuple[int, ...], stride: tuple[int, ...], dilate: tuple[int, ...], pad: tuple[int, ...]) -> tuple[int, list[int], list[int], list[int]]:
    if not kernel:
        raise Unsupported("no kernel")
    count = len(kernel)
    return count, ints(stride, count, 1, "stride"), ints(dilate, count, 1, "dilate"), ints(pad, count, 0, "pad")


def _weights_first(weight: Value, channels_last: bool, rank: int) -> Value:
    """A channels-last filter [O, k..., I] as [O, I, k...]."""
    if not channels_last:
        return weight
    order = [0, rank - 1, *range(1, rank - 1)]
    if weight.const is not None:
        return const(np.ascontiguousarray(np.transpose(weight.const, order)))
    return Transpose(weight, i64(order))


def _grouped(weight: Value, groups: int) -> Value:
    """[O, I/G, k...] → [G, O/G, I/G, k...] (also [I, O/G, k...] → [G, I/G, O/G, k...])."""
    dims = weight.shape.dims
    if dims is None or dims[0] is None:
        raise Unsupported("a grouped filter needs its shape")
    if dims[0] % groups:
        raise Unsupported(f"{dims[0]} filters do not split into {groups} groups")
    shape = [groups, dims[0] // groups, *[-1 if d is None else d for d in dims[1:]]]
    if weight.const is not None:
        return const(np.asarray(weight.const).reshape(shape))
    return Reshape(weight, i64(shape), special_zero=False)


def Convolution(
    ctx: MXNetContext,
    data: Value,
    weight: Value,
    bias: Value | None = None,
    *,
    kernel: tuple[int, ...] = (),
    stride: tuple[int, ...] = (),
    dilate: tuple[int, ...] = (),
    pad: tuple[int, ...] = (),
    num_filter: int = 0,
    num_group: int = 1,
    workspace: int = 1024,
    no_bias: bool = False,
    cudnn_tune: str | None = None,
    cudnn_off: bool = False,
    layout: str | None = None,
) -> Value:
    count, strides, dilations, pads = _window(kernel, stride, dilate, pad)
    rank = count + 2
    if data.shape.rank is not None and data.shape.rank != rank:
        raise Unsupported(f"a {count}-D kernel on a rank-{data.shape.rank} input")
    x, channels_last = to_channels_first(data, layout, rank)
    w = same_type(_weights_first(weight, channels_last, rank), x)
    attrs = dict(strides=strides, dilations=dilations, pads_begin=pads, pads_end=pads)
    if num_group == 1:
        y = ops.Convolution(x, w, **attrs)
    else:
        y = ops.GroupConvolution(x, _grouped(w, num_group), **attrs)
    y = bias_add(y, None if no_bias else bias, rank)
    return to_channels_last(y, rank) if channels_last else y


def Deconvolution(
    ctx: MXNetContext,
    data: Value,
    weight: Value,
    bias: Value | None = None,
    *,
    kernel: tuple[int, ...] = (),
    stride: tuple[int, ...] = (),
    dilate: tuple[int, ...] = (),
    pad: tuple[int, ...] = (),
    adj: tuple[int, ...] = (),
    target_shape: tuple[int, ...] = (),
    num_filter: int = 0,
    num_group: int = 1,
    workspace: int = 512,
    no_bias: bool = True,
    cudnn_tune: str | None = None,
    cudnn_off: bool = False,
    layout: str | None = None,
) -> Value:
    count, strides, dilations, pads = _window(kernel, stride, dilate, pad)
    rank = count + 2
    if known_rank(data, "Deconvolution") != rank:
        raise Unsupported(f"a {count}-D kernel on a rank-{data.shape.rank} input")
    x, channels_last = to_channels_first(data, layout, rank)
    extra = ints(adj, count, 0, "adj")
    if any(target_shape):
        spatial = x.shape.dims[2:] if x.shape.dims is not None else [None] * count  # type: ignore[index]
        if None in spatial:
            raise Unsupported("target_shape needs the input's spatial dims")
        pads, extra = [], []
        for size, k, s, d, target in zip(spatial, kernel, strides, dilations, ints(target_shape, count, 0, "target_shape")):
            total = s * (size - 1) + d * (k - 1) + 1 - target  # type: ignore[operator]
            if total < 0:
                raise Unsupported(f"target_shape {target_shape} is too big")
            pads.append((total + 1) // 2)
            extra.append(total % 2)
    w = same_type(_weights_first(weight, channels_last, rank), x)
    attrs = dict(strides=strides, dilations=dilations, pads_begin=pads, pads_end=pads, output_padding=extra)
    if num_group == 1:
        y = ops.ConvolutionBackpropData(x, w, **attrs)
    else:
        y = ops.GroupConvolutionBackpropData(x, _grouped(w, num_group), **attrs)
    y = bias_add(y, None if no_bias else bias, rank)
    return to_channels_last(y, rank) if channels_last else y


HANDLERS: dict[str, Handler] = {"Convolution": Convolution, "Deconvolution": Deconvolution}
