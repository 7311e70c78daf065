"""Lowerings for reductions: IR (data, axes) → ONNX Reduce* with an axes input (opset 18+)."""

from __future__ import annotations

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import ElementType
from converter.ops import reduction as ops
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, LoweringContext, LoweringFn
from converter.runtime.lowering.elementwise import emit_as


def _axes(ctx: LoweringContext, name: str) -> str:
    return ctx.emit1("Reshape", [ctx.emit1("Cast", [name], to=ONNX_ELEMENT_TYPE[ElementType.i64]), ctx.int64s([-1])])


E = ElementType
SUMMING = frozenset({E.i32, E.i64, E.f16, E.f32, E.f64})
"""Types onnxruntime's ReduceSum/Mean/Prod/L1/L2 accept."""
COMPARING = SUMMING | {E.i8, E.u8}
"""Types onnxruntime's ReduceMax/Min accept."""


def reduce(onnx_type: str, supported: frozenset[ElementType]) -> LoweringFn:
    """IR reductions leave the data unchanged for empty axes: ONNX's noop_with_empty_axes=1."""

    def lower(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
        data, axes = inputs
        element_type = node.inputs[0].element_type
        keepdims = int(node.attrs["keep_dims"])
        axes_name = _axes(ctx, axes)
        return [emit_as(ctx, onnx_type, [data, axes_name], element_type, supported, cast=(0,), keepdims=keepdims, noop_with_empty_axes=1)]

    return lower


def _count_true(ctx: LoweringContext, node: Node, flags: str, axes: str) -> str:
    as_int = ctx.emit1("Cast", [flags], to=ONNX_ELEMENT_TYPE[E.i64])
    keepdims = int(node.attrs["keep_dims"])
    return ctx.emit1("ReduceSum", [as_int, _axes(ctx, axes)], keepdims=keepdims, noop_with_empty_axes=1)


def reduce_logical_or(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    """any = (number of true values > 0); false over zero elements."""
    count = _count_true(ctx, node, inputs[0], inputs[1])
    return [ctx.emit1("Greater", [count, ctx.constant(np.zeros((), np.int64))])]


def reduce_logical_and(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    """all = (number of false values == 0); true over zero elements."""
    count = _count_true(ctx, node, ctx.emit1("Not", [inputs[0]]), inputs[1])
    return [ctx.emit1("Equal", [count, ctx.constant(np.zeros((), np.int64))])]


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.ReduceSum: reduce("ReduceSum", SUMMING),
    ops.ReduceMean: reduce("ReduceMean", SUMMING),
    ops.ReduceMax: reduce("ReduceMax", COMPARING),
    ops.ReduceMin: reduce("ReduceMin", COMPARING),
    ops.ReduceProd: reduce("ReduceProd", SUMMING),
    ops.ReduceL1: reduce("ReduceL1", SUMMING),
    ops.ReduceL2: reduce("ReduceL2", SUMMING),
    ops.ReduceLogicalAnd: reduce_logical_and,
    ops.ReduceLogicalOr: reduce_logical_or,
}
