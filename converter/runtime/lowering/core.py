"""Lowerings for Convert and ShapeOf."""

from __future__ import annotations

from converter.ir.graph import Node
from converter.ir.types import ElementType
from converter.ops import core as ops
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, LoweringContext, LoweringFn


def convert(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    destination = node.attrs["destination_type"]
    if destination in (ElementType.f8e4m3, ElementType.f8e5m2):
        # OpenVINO's Convert does not saturate: out of range is NaN (e4m3) or infinity (e5m2)
        return [ctx.emit1("Cast", inputs, to=ONNX_ELEMENT_TYPE[destination], saturate=0)]
    return [ctx.emit1("Cast", inputs, to=ONNX_ELEMENT_TYPE[destination])]


def shape_of(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    shape = ctx.emit1("Shape", inputs)
    return [ctx.emit1("Cast", [shape], to=ONNX_ELEMENT_TYPE[node.attrs["output_type"]])]


LOWERINGS: dict[OpSpec, LoweringFn] = {ops.Convert: convert, ops.ShapeOf: shape_of}
