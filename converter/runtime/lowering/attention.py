"""Lowerings for attention ops: ScaledDotProductAttention → MatMul, Mul, Add, Softmax, MatMul."""

from __future__ import annotations

import numpy as np
from onnx import helper

from converter.ir.graph import Node
from converter.ir.types import ElementType
from converter.ops import attention as ops
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, LoweringContext, LoweringFn


def scaled_dot_product_attention(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    query, key, value = inputs[:3]
    element_type = node.inputs[0].element_type
    dtype = element_type.numpy
    rank = node.inputs[1].shape.rank
    if rank is None:
        raise NotImplementedError("ScaledDotProductAttention: the key's rank must be known to transpose it")
    swap_last = list(range(rank - 2)) + [rank - 1, rank - 2]
    scores = ctx.emit1("MatMul", [query, ctx.emit1("Transpose", [key], perm=swap_last)])
    scale = inputs[4] if len(inputs) > 4 else _default_scale(ctx, node, query)
    scores = ctx.emit1("Mul", [scores, scale])
    if node.attrs["causal"]:
        scores = ctx.emit1("Add", [scores, _causal_bias(ctx, query, key, element_type)])
    elif len(inputs) > 3:
        mask = inputs[3]
        if node.inputs[3].element_type is ElementType.boolean:
            zero, minus_inf = ctx.constant(np.array(0, dtype)), ctx.constant(np.array(-np.inf, dtype))
            mask = ctx.emit1("Where", [mask, zero, minus_inf])
        scores = ctx.emit1("Add", [scores, mask])
    weights = ctx.emit1("Softmax", [scores], axis=-1)
    return [ctx.emit1("MatMul", [weights, value])]


def _default_scale(ctx: LoweringContext, node: Node, query: str) -> str:
    """1/sqrt(E), from the static E when known, else from the query's runtime shape."""
    element_type = node.inputs[0].element_type
    dims = node.inputs[0].shape.dims
    if dims is not None and dims[-1] is not None:
        return ctx.constant(np.array(1.0 / np.sqrt(dims[-1]), element_type.numpy))
    depth = ctx.emit1("Cast", [ctx.emit1("Shape", [query], start=-1)], to=ONNX_ELEMENT_TYPE[element_type])
    return ctx.emit1("Reciprocal", [ctx.emit1("Sqrt", [depth])])


def _causal_bias(ctx: LoweringContext, query: str, key: str, element_type: ElementType) -> str:
    """numpy.triu(full([L, S], -inf), k=1): -inf above the diagonal, 0 elsewhere."""
    target = ctx.emit1("Shape", [query], start=-2, end=-1)
    source = ctx.emit1("Shape", [key], start=-2, end=-1)
    size = ctx.emit1("Concat", [target, source], axis=0)
    fill = helper.make_tensor("fill", ONNX_ELEMENT_TYPE[element_type], [1], np.array([-np.inf], element_type.numpy).tobytes(), raw=True)
    minus_inf = ctx.emit1("ConstantOfShape", [size], value=fill)
    return ctx.emit1("Trilu", [minus_inf, ctx.constant(np.array(1, np.int64))], upper=1)


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.ScaledDotProductAttention: scaled_dot_product_attention,
}
