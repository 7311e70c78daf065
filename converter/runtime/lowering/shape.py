"""Lowerings for shape-manipulation ops."""

from __future__ import annotations

from converter.ir.graph import Node
from converter.ops import shape as ops
from converter.ops.spec import OpSpec, const_ints
from converter.runtime.lowering.context import LoweringContext, LoweringFn


def reshape(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data, pattern = inputs
    if node.attrs["special_zero"]:
        return [ctx.emit1("Reshape", [data, ctx.emit1("Cast", [pattern], to=7)], allowzero=0)]
    return [ctx.emit1("Reshape", [data, ctx.emit1("Cast", [pattern], to=7)], allowzero=1)]


def transpose(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    permutation = const_ints(node.inputs[1])
    if permutation is None:
        raise NotImplementedError("Transpose with a non-constant order cannot be lowered to ONNX")
    return [ctx.emit1("Transpose", [inputs[0]], perm=permutation or None)]


def squeeze(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    if len(inputs) == 1:
        return [ctx.emit1("Squeeze", inputs)]
    return [ctx.emit1("Squeeze", [inputs[0], ctx.emit1("Cast", [ctx.emit1("Reshape", [inputs[1], ctx.int64s([-1])])], to=7)])]


def unsqueeze(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [ctx.emit1("Unsqueeze", [inputs[0], ctx.emit1("Cast", [ctx.emit1("Reshape", [inputs[1], ctx.int64s([-1])])], to=7)])]


def concat(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [ctx.emit1("Concat", inputs, axis=node.attrs["axis"])]


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.Reshape: reshape,
    ops.Transpose: transpose,
    ops.Squeeze: squeeze,
    ops.Unsqueeze: unsqueeze,
    ops.Concat: concat,
}
