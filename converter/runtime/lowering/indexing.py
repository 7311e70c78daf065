"""Lowerings for indexing ops."""

from __future__ import annotations

from converter.ir.graph import Node
from converter.ops import indexing as ops
from converter.ops.spec import OpSpec, const_ints
from converter.runtime.lowering.context import LoweringContext, LoweringFn


def gather(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    axis = const_ints(node.inputs[2])
    if axis is None:
        raise NotImplementedError("Gather with a non-constant axis cannot be lowered to ONNX")
    if node.attrs["batch_dims"] != 0:
        raise NotImplementedError("Gather with batch_dims != 0 is not lowered yet")
    return [ctx.emit1("Gather", inputs[:2], axis=axis[0])]


LOWERINGS: dict[OpSpec, LoweringFn] = {ops.Gather: gather}
