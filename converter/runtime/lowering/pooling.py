"""Lowerings for pooling: IR MaxPool-8/14 and AvgPool-1/14 → ONNX MaxPool / AveragePool.

OpenVINO's "ceil" has no rule against windows starting in the end padding; it lowers
to ONNX's ceil_mode where that makes no difference. With exclude-pad=false and some padding OpenVINO
divides every window by the kernel volume, overhang included (ONNX does so when the
overhang is explicit padding); with no padding at all it divides by the taps inside
the input, as exclude-pad=true does.
"""

from __future__ import annotations

from typing import Any

from converter.ir.graph import Node
from converter.ir.types import ElementType
from converter.ops import pooling as ops
from converter.ops.conv import window_output_dim
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, LoweringContext, LoweringFn
from converter.runtime.lowering.conv import ONNX_AUTO_PAD, window_attrs


def _window(node: Node) -> dict[str, Any]:
    attrs = node.attrs
    result = window_attrs(node, attrs["kernel"])
    result["kernel_shape"] = list(attrs["kernel"])
    return result


def _explicit(node: Node) -> bool:
    return node.attrs["auto_pad"] not in ONNX_AUTO_PAD


def _check_ceil_is_torch(node: Node) -> None:
    """OpenVINO "ceil" lowers to ONNX ceil_mode only where no window starts in the end padding."""
    attrs = node.attrs
    dims = node.inputs[0].shape.dims
    if dims is None or any(d is None for d in dims[2:]):
        raise NotImplementedError(f"{node.op.type} rounding_type=ceil needs static spatial dims to lower to ONNX")
    dilations = attrs.get("dilations") or (1,) * len(attrs["kernel"])
    for i, size in enumerate(dims[2:]):
        window = (size, attrs["kernel"][i], attrs["strides"][i], dilations[i], attrs["pads_begin"][i], attrs["pads_end"][i])
        if window_output_dim(*window, "explicit", "ceil") != window_output_dim(*window, "explicit", "ceil_torch"):
            raise NotImplementedError(f"{node.op.type} rounding_type=ceil with a window starting in the end padding")


def max_pool(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    rounding = node.attrs["rounding_type"]
    attrs = _window(node)
    if rounding != "floor" and _explicit(node):
        if rounding == "ceil":
            _check_ceil_is_torch(node)
        attrs["ceil_mode"] = 1
    values, indices = ctx.emit("MaxPool", inputs, 2, **attrs)
    axis = node.attrs["axis"]
    if axis != 0:
        rank = node.inputs[0].shape.rank
        if rank is None and axis < 0:
            raise NotImplementedError("MaxPool with a negative axis and unknown rank cannot be lowered to ONNX")
        start = axis if axis >= 0 else axis + rank  # type: ignore[operator]
        shape = ctx.emit1("Shape", [inputs[0]])
        volume = ctx.emit1("ReduceProd", [ctx.emit1("Slice", [shape, ctx.int64s([start]), ctx.int64s([2**62])])], keepdims=1)
        indices = ctx.emit1("Mod", [indices, volume])
    index_type = node.attrs["index_element_type"]
    if index_type is not ElementType.i64:
        indices = ctx.emit1("Cast", [indices], to=ONNX_ELEMENT_TYPE[index_type])
    return [values, indices]


def avg_pool(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    attrs = node.attrs
    rounding = attrs["rounding_type"]
    if rounding == "floor" or not _explicit(node):
        return [ctx.emit1("AveragePool", inputs, count_include_pad=int(not attrs["exclude-pad"]), **_window(node))]
    # OpenVINO ignores exclude-pad=false when there is no padding at all.
    if attrs["exclude-pad"] or not any(attrs["pads_begin"] + attrs["pads_end"]):
        if rounding == "ceil":
            _check_ceil_is_torch(node)
        return [ctx.emit1("AveragePool", inputs, count_include_pad=0, ceil_mode=1, **_window(node))]
    # Every window is divided by the kernel volume: pool zero-padded data, the ceil overhang included.
    spatial = len(attrs["kernel"])
    ends = [e + s - 1 for e, s in zip(attrs["pads_end"], attrs["strides"])]
    pads = ctx.int64s([0, 0, *attrs["pads_begin"], 0, 0, *ends])
    padded = ctx.emit1("Pad", [inputs[0], pads])
    pooled = ctx.emit1("AveragePool", [padded], kernel_shape=list(attrs["kernel"]), strides=list(attrs["strides"]))
    if rounding == "ceil":
        return [pooled]
    # ceil_torch: drop the windows that start in the end padding.
    dims = node.outputs[0].shape.dims
    if dims is None or any(d is None for d in dims[2:]):
        raise NotImplementedError("AvgPool ceil_torch with exclude-pad=false needs static output dims to lower to ONNX")
    sizes = [int(d) for d in dims[2:]]  # type: ignore[arg-type]
    axes = list(range(2, 2 + spatial))
    return [ctx.emit1("Slice", [pooled, ctx.int64s([0] * spatial), ctx.int64s(sizes), ctx.int64s(axes)])]


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.MaxPool8: max_pool,
    ops.MaxPool14: max_pool,
    ops.AvgPool1: avg_pool,
    ops.AvgPool14: avg_pool,
}
