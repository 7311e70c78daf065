"""Lowerings for convolutions: IR (Group)Convolution(BackpropData) → ONNX Conv / ConvTranspose."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from converter.ir.graph import Node
from converter.ops import conv as ops
from converter.ops.conv import same_pads
from converter.ops.spec import OpSpec, const_ints
from converter.runtime.lowering.context import LoweringContext, LoweringFn

ONNX_AUTO_PAD = {"same_upper": "SAME_UPPER", "same_lower": "SAME_LOWER", "valid": "VALID"}


def window_attrs(node: Node, kernel: Sequence[int | None]) -> dict[str, Any]:
    """ONNX window attributes (strides, dilations, pads or auto_pad) from an IR node.

    SAME padding becomes explicit pads when the sizes are known: onnxruntime has no
    dilated SAME windows.
    """
    attrs = node.attrs
    result: dict[str, Any] = {"strides": list(attrs["strides"])}
    dilations = list(attrs.get("dilations") or [1] * len(attrs["strides"]))
    if "dilations" in attrs:
        result["dilations"] = dilations
    auto_pad = attrs["auto_pad"]
    if auto_pad in ("same_upper", "same_lower"):
        sizes = node.inputs[0].shape.dims
        if sizes is not None and all(d is not None for d in [*sizes[2:], *kernel]):
            split = [
                same_pads(n, k, s, d, auto_pad == "same_upper")  # type: ignore[arg-type]
                for n, k, s, d in zip(sizes[2:], kernel, attrs["strides"], dilations)
            ]
            result["pads"] = [p[0] for p in split] + [p[1] for p in split]
            return result
    if auto_pad in ONNX_AUTO_PAD:
        result["auto_pad"] = ONNX_AUTO_PAD[auto_pad]
    else:
        result["pads"] = list(attrs["pads_begin"]) + list(attrs["pads_end"])
    return result


def merge_groups(ctx: LoweringContext, weights: str) -> str:
    """[G, D1, rest...] → [G*D1, rest...] (the ONNX grouped weight layout)."""
    shape = ctx.emit1("Shape", [weights])
    rest = ctx.emit1("Slice", [shape, ctx.int64s([2]), ctx.int64s([2**62])])
    pattern = ctx.emit1("Concat", [ctx.int64s([-1]), rest], axis=0)
    return ctx.emit1("Reshape", [weights, pattern])


def _groups(node: Node) -> int:
    groups = node.inputs[1].shape[0]
    if groups is None:
        raise NotImplementedError(f"{node.op.type} with a dynamic group count cannot be lowered to ONNX")
    return groups


def convolution(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [ctx.emit1("Conv", inputs, **window_attrs(node, _kernel(node)))]


def group_convolution(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data, weights = inputs
    return [ctx.emit1("Conv", [data, merge_groups(ctx, weights)], group=_groups(node), **window_attrs(node, _kernel(node)))]


def _backprop(ctx: LoweringContext, node: Node, inputs: list[str], weights: str, group: int) -> list[str]:
    data = inputs[0]
    attrs = node.attrs
    spatial = len(attrs["strides"])
    common: dict[str, Any] = {
        "strides": list(attrs["strides"]),
        "dilations": list(attrs["dilations"]),
        "output_padding": list(attrs["output_padding"] or [0] * spatial),
        "group": group,
    }
    if len(node.inputs) > 2:
        shape = const_ints(node.inputs[2])
        if shape is None:
            full = ctx.emit1("ConvTranspose", [data, weights], pads=[0] * (2 * spatial), **common)
            return [_crop_to_shape(ctx, full, inputs[2], attrs["auto_pad"] == "same_upper")]
        # OpenVINO same_upper gives the larger half of odd padding to the beginning (ONNX SAME_LOWER).
        auto_pad = "SAME_LOWER" if attrs["auto_pad"] == "same_upper" else "SAME_UPPER"
        return [ctx.emit1("ConvTranspose", [data, weights], output_shape=shape, auto_pad=auto_pad, **common)]
    if attrs["auto_pad"] == "explicit":
        pads = list(attrs["pads_begin"]) + list(attrs["pads_end"])
    else:
        pads = [0] * (2 * spatial)  # OpenVINO pads nothing for same_*/valid without output_shape
    return [ctx.emit1("ConvTranspose", [data, weights], pads=pads, **common)]


def _crop_to_shape(ctx: LoweringContext, full: str, target: str, larger_half_first: bool) -> str:
    """Cut the unpadded output to `target` spatial sizes, or extend it at the end with zeros.

    This is OpenVINO's rule for a run-time output_shape: the surplus is removed from both
    sides (the odd element at the beginning when `larger_half_first`), a deficit is added at the end.
    """
    target = ctx.emit1("Cast", [target], to=7)
    spatial = ctx.emit1("Slice", [ctx.emit1("Shape", [full]), ctx.int64s([2]), ctx.int64s([2**62])])
    surplus = ctx.emit1("Sub", [spatial, target])
    zero = ctx.int64s([0])
    cut = ctx.emit1("Max", [surplus, zero])
    half = ctx.emit1("Div", [cut, ctx.int64s([2])])
    begin = ctx.emit1("Sub", [cut, half]) if larger_half_first else half
    end = ctx.emit1("Add", [begin, ctx.emit1("Min", [target, spatial])])
    axes = ctx.emit1("Add", [ctx.emit1("Range", [ctx.constant(0, "int64"), ctx.emit1("Size", [target]), ctx.constant(1, "int64")]), ctx.int64s([2])])
    cropped = ctx.emit1("Slice", [full, begin, end, axes])
    deficit = ctx.emit1("Max", [ctx.emit1("Neg", [surplus]), zero])
    pads = ctx.emit1("Concat", [ctx.int64s([0, 0]), ctx.emit1("Mul", [deficit, zero]), ctx.int64s([0, 0]), deficit], axis=0)
    return ctx.emit1("Pad", [cropped, pads])


def convolution_backprop_data(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return _backprop(ctx, node, inputs, inputs[1], 1)


def group_convolution_backprop_data(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return _backprop(ctx, node, inputs, merge_groups(ctx, inputs[1]), _groups(node))


def deformable_convolution(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    if not node.attrs["bilinear_interpolation_pad"]:
        raise NotImplementedError("DeformableConvolution with bilinear_interpolation_pad=false has no ONNX counterpart")
    data, offsets, filters = inputs[:3]
    mask = inputs[3] if len(inputs) > 3 else ""
    kernel = _kernel(node)
    attrs = window_attrs(node, kernel)
    auto_pad = attrs.pop("auto_pad", None)
    if auto_pad == "VALID":
        attrs["pads"] = [0] * (2 * len(kernel))
    elif auto_pad is not None:
        raise NotImplementedError("DeformableConvolution with SAME padding of unknown sizes cannot be lowered to ONNX")
    attrs["kernel_shape"] = kernel if None not in kernel else None
    return [
        ctx.emit1(
            "DeformConv",
            [data, filters, offsets, "", mask] if mask else [data, filters, offsets],
            group=node.attrs["group"],
            offset_group=node.attrs["deformable_group"],
            **attrs,
        )
    ]


def _kernel(node: Node) -> list[int | None]:
    weights = node.inputs[2 if node.op is ops.DeformableConvolution else 1].shape.dims
    spatial = len(node.attrs["strides"])
    return list(weights[-spatial:]) if weights is not None and spatial else [None] * spatial


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.DeformableConvolution: deformable_convolution,
    ops.Convolution: convolution,
    ops.GroupConvolution: group_convolution,
    ops.ConvolutionBackpropData: convolution_backprop_data,
    ops.GroupConvolutionBackpropData: group_convolution_backprop_data,
}
