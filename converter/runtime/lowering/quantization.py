"""Lowerings for quantization ops."""

from __future__ import annotations

import numpy as np

from converter.ir.graph import Node
from converter.ops import quantization as ops
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import LoweringContext, LoweringFn


def fake_quantize(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    x, input_low, input_high, output_low, output_high = inputs
    steps = ctx.constant(np.array(node.attrs["levels"] - 1, dtype=node.inputs[0].element_type.numpy))
    position = ctx.emit1("Div", [ctx.emit1("Sub", [x, input_low]), ctx.emit1("Sub", [input_high, input_low])])
    level = ctx.emit1("Round", [ctx.emit1("Mul", [position, steps])])  # ONNX Round: half to even
    span = ctx.emit1("Sub", [output_high, output_low])
    quantized = ctx.emit1("Add", [ctx.emit1("Mul", [ctx.emit1("Div", [level, steps]), span]), output_low])
    above = ctx.emit1("Greater", [x, ctx.emit1("Max", [input_low, input_high])])
    at_or_below = ctx.emit1("LessOrEqual", [x, ctx.emit1("Min", [input_low, input_high])])
    high_clipped = ctx.emit1("Where", [above, output_high, quantized])
    return [ctx.emit1("Where", [at_or_below, output_low, high_clipped])]


LOWERINGS: dict[OpSpec, LoweringFn] = {ops.FakeQuantize: fake_quantize}
