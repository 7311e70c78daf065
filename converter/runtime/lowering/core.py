"""Lowerings for Convert and ShapeOf."""

from __future__ import annotations

from converter.ir.graph import Node
from converter.ops import core as ops
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, LoweringContext, LoweringFn


def convert(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [ctx.emit1("Cast", inputs, to=ONNX_ELEMENT_TYPE[node.attrs["destination_type"]])]


def shape_of(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    shape = ctx.emit1("Shape", inputs)
    return [ctx.emit1("Cast", [shape], to=ONNX_ELEMENT_TYPE[node.attrs["output_type"]])]


LOWERINGS: dict[OpSpec, LoweringFn] = {ops.Convert: convert, ops.ShapeOf: shape_of}
