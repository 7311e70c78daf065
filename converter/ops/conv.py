"""Convolutions: Convolution, GroupConvolution and their backprop-data (transposed) forms.

Layout is channels-first: data [N, C, spatial...]. Weights are
[C_out, C_in, k...] (Convolution), [G, C_out/G, C_in/G, k...] (GroupConvolution),
[C_in, C_out, k...] (ConvolutionBackpropData) and [G, C_in/G, C_out/G, k...]
(GroupConvolutionBackpropData). The window arithmetic here is shared with pooling.
"""

from __future__ import annotations

from collections.abc import Sequence

from converter.ir.graph import Node
from converter.ir.types import Dim, TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, REQUIRED, const_ints, tensor

AUTO_PADS = ("explicit", "same_upper", "same_lower", "valid", "notset")


def window_output_dim(
    size: Dim,
    kernel: Dim,
    stride: int,
    dilation: int,
    pad_begin: int,
    pad_end: int,
    auto_pad: str = "explicit",
    rounding_type: str = "floor",
) -> Dim:
    """Output length of a sliding window along one axis (convolution and pooling).

    `rounding_type` "ceil_torch" drops a last window that would start in the end padding.
    """
    if size is None:
        return None
    if auto_pad in ("same_upper", "same_lower"):
        return -(-size // stride)
    if kernel is None:
        return None
    extent = (kernel - 1) * dilation + 1
    if auto_pad == "valid":
        pad_begin = pad_end = 0
    span = size + pad_begin + pad_end - extent
    if rounding_type == "floor" or auto_pad == "valid":
        return max(span // stride + 1, 0)
    result = -(-span // stride) + 1
    if rounding_type == "ceil_torch" and (result - 1) * stride >= size + pad_begin:
        result -= 1
    return max(result, 0)


def same_pads(size: int, kernel: int, stride: int, dilation: int, upper: bool) -> tuple[int, int]:
    """(begin, end) padding of a SAME window; the odd element goes to the end when `upper`."""
    output = -(-size // stride)
    total = max((output - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    small = total // 2
    return (small, total - small) if upper else (total - small, small)


def _spatial_rank(node: Node) -> int | None:
    data_rank = node.inputs[0].shape.rank
    if data_rank is not None:
        return data_rank - 2
    length = len(node.attrs["strides"])
    return length if length else None


def _window_dims(node: Node, data_dims: Sequence[Dim], kernel_dims: Sequence[Dim], rounding_type: str = "floor") -> list[Dim]:
    attrs = node.attrs
    rank = len(kernel_dims)
    dilations = attrs.get("dilations") or (1,) * rank
    return [
        window_output_dim(
            data_dims[i],
            kernel_dims[i],
            attrs["strides"][i],
            dilations[i],
            attrs["pads_begin"][i],
            attrs["pads_end"][i],
            attrs["auto_pad"],
            rounding_type,
        )
        for i in range(rank)
    ]


def _layout(node: Node, grouped: bool, output_axis: int) -> tuple[int, tuple, tuple, Dim] | None:
    """(spatial rank, data dims, weight dims, output channels), or None when the rank is unknown.

    `output_axis` is where output channels sit in ungrouped weights (0 for Convolution, 1 for
    ConvolutionBackpropData); grouped weights carry one more leading axis, the groups.
    """
    spatial = _spatial_rank(node)
    if spatial is None:
        return None
    data, weights = node.inputs[:2]
    data_dims = data.shape.dims or (None,) * (spatial + 2)
    weight_dims = weights.shape.dims or (None,) * (spatial + (3 if grouped else 2))
    if grouped:
        groups, per_group = weight_dims[0], weight_dims[output_axis + 1]
        channels = None if groups is None or per_group is None else groups * per_group
    else:
        channels = weight_dims[output_axis]
    return spatial, data_dims, weight_dims, channels


def _infer_convolution(node: Node, grouped: bool) -> list[TensorType]:
    element_type = node.inputs[0].element_type
    layout = _layout(node, grouped, output_axis=0)
    if layout is None:
        return [tensor(element_type, None)]
    spatial, data_dims, weight_dims, channels = layout
    kernel = weight_dims[-spatial:] if spatial else ()
    return [tensor(element_type, [data_dims[0], channels, *_window_dims(node, data_dims[2:], kernel)])]


CONV_ATTRS = (
    Attr("strides", AttrKind.INTS, REQUIRED),
    Attr("pads_begin", AttrKind.INTS, REQUIRED),
    Attr("pads_end", AttrKind.INTS, REQUIRED),
    Attr("dilations", AttrKind.INTS, REQUIRED),
    Attr("auto_pad", AttrKind.STR, "explicit"),
)

Convolution = OpSpec("Convolution", "opset1", CONV_ATTRS, lambda node: _infer_convolution(node, grouped=False))
GroupConvolution = OpSpec("GroupConvolution", "opset1", CONV_ATTRS, lambda node: _infer_convolution(node, grouped=True))


def backprop_output_dim(
    size: Dim, kernel: Dim, stride: int, dilation: int, pad_begin: int, pad_end: int, output_padding: int, auto_pad: str
) -> Dim:
    """Output length of a transposed convolution without an output_shape input.

    With auto_pad same_*/valid and no output_shape, OpenVINO applies no padding.
    """
    if size is None or kernel is None:
        return None
    if auto_pad != "explicit":
        pad_begin = pad_end = 0
    return stride * (size - 1) + (kernel - 1) * dilation + 1 - pad_begin - pad_end + output_padding


def _infer_backprop(node: Node, grouped: bool) -> list[TensorType]:
    element_type = node.inputs[0].element_type
    layout = _layout(node, grouped, output_axis=1)
    if layout is None:
        return [tensor(element_type, None)]
    spatial, data_dims, weight_dims, channels = layout
    if len(node.inputs) > 2:
        requested = const_ints(node.inputs[2])
        dims: list[Dim] = list(requested) if requested is not None else [None] * spatial
        return [tensor(element_type, [data_dims[0], channels, *dims])]
    attrs = node.attrs
    kernel = weight_dims[-spatial:] if spatial else ()
    output_padding = attrs["output_padding"] or (0,) * spatial
    spatial_dims = [
        backprop_output_dim(
            data_dims[2 + i],
            kernel[i],
            attrs["strides"][i],
            attrs["dilations"][i],
            attrs["pads_begin"][i],
            attrs["pads_end"][i],
            output_padding[i],
            attrs["auto_pad"],
        )
        for i in range(spatial)
    ]
    return [tensor(element_type, [data_dims[0], channels, *spatial_dims])]


BACKPROP_ATTRS = (
    Attr("strides", AttrKind.INTS, REQUIRED),
    Attr("pads_begin", AttrKind.INTS, REQUIRED),
    Attr("pads_end", AttrKind.INTS, REQUIRED),
    Attr("dilations", AttrKind.INTS, REQUIRED),
    Attr("auto_pad", AttrKind.STR, "explicit"),
    Attr("output_padding", AttrKind.INTS, ()),
)

ConvolutionBackpropData = OpSpec(
    "ConvolutionBackpropData", "opset1", BACKPROP_ATTRS, lambda node: _infer_backprop(node, grouped=False)
)
GroupConvolutionBackpropData = OpSpec(
    "GroupConvolutionBackpropData", "opset1", BACKPROP_ATTRS, lambda node: _infer_backprop(node, grouped=True)
)

def _infer_deformable(node: Node) -> list[TensorType]:
    data, _, filters = node.inputs[:3]
    element_type = data.element_type
    spatial = _spatial_rank(node)
    if spatial is None:
        return [tensor(element_type, None)]
    data_dims = data.shape.dims or (None,) * (spatial + 2)
    filter_dims = filters.shape.dims or (None,) * (spatial + 2)
    kernel = filter_dims[-spatial:] if spatial else ()
    return [tensor(element_type, [data_dims[0], filter_dims[0], *_window_dims(node, data_dims[2:], kernel)])]


DeformableConvolution = OpSpec(
    "DeformableConvolution",
    "opset8",
    CONV_ATTRS
    + (
        Attr("group", AttrKind.INT, 1),
        Attr("deformable_group", AttrKind.INT, 1),
        Attr("bilinear_interpolation_pad", AttrKind.BOOL, False),
    ),
    _infer_deformable,
)
"""Inputs: data, offsets [N, 2·deformable_group·k..., out...], filters [C_out, C_in/group, k...], optional mask."""

OPS: tuple[OpSpec, ...] = (
    Convolution,
    GroupConvolution,
    ConvolutionBackpropData,
    GroupConvolutionBackpropData,
    DeformableConvolution,
)

