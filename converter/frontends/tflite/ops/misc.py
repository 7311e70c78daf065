"""TFLite SHAPE, FILL, ZEROS_LIKE, CAST, RANGE, TOPK_V2 and CUMSUM.

The type an op produces (SHAPE's out_type, CAST's out_data_type, TOPK_V2's index type) is read
from its output tensor: the options say the same, but older files leave them out.

CAST converts stored values: a quantized tensor's integers, not its real values (TFLite's kernel
copies them with a C cast, truncating floats towards zero, as the IR's Convert does).
"""

from __future__ import annotations

import numpy as np

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import as_i64, i64, known_rank, scalar_like
from converter.frontends.tflite.tensors import (
    Unsupported,
    dequantized_input,
    element_type,
    is_quantized_activation,
    quantized_output,
)
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import misc as ops
from converter.ops.core import Convert, ShapeOf, const
from converter.ops.shape import Broadcast, Reshape


def SHAPE(ctx: TFLiteContext, x: Value, *, out_type: str = "FLOAT32") -> Value:
    target = element_type(ctx.output_tensors[0])
    if target not in (ElementType.i32, ElementType.i64):
        raise Unsupported(f"SHAPE of type {target.value}")
    return ShapeOf(x, output_type=target)


def FILL(ctx: TFLiteContext, dims: Value, value: Value) -> Value:
    if value.shape.rank not in (0, None):
        value = Reshape(value, i64([]), special_zero=False)
    return Broadcast(value, as_i64(dims), mode="numpy")


def ZEROS_LIKE(ctx: TFLiteContext, x: Value) -> Value:
    zero = scalar_like(x, 0)
    if x.shape.is_static:
        return const(np.zeros(x.shape.static, dtype=x.element_type.numpy))
    return Broadcast(zero, ShapeOf(x), mode="numpy")


def CAST(ctx: TFLiteContext, x: Value, *, in_data_type: str = "FLOAT32", out_data_type: str = "FLOAT32") -> Value:
    source, output = ctx.input_tensors[0], ctx.output_tensors[0]
    target = element_type(output)
    if source is not None and is_quantized_activation(source) and x.element_type.is_float:
        x = quantized_output(x, source)  # the stored integers
    y = x if x.element_type is target else Convert(x, destination_type=target)
    if is_quantized_activation(output):
        return dequantized_input(y, output)
    return y


def RANGE(ctx: TFLiteContext, start: Value, limit: Value, delta: Value) -> Value:
    if delta.const is not None and np.any(np.asarray(delta.const) == 0):
        raise Unsupported("RANGE: delta is 0")
    return ops.Range(start, limit, delta, output_type=element_type(ctx.output_tensors[0]))


def TOPK_V2(ctx: TFLiteContext, x: Value, k: Value) -> list[Value]:
    """The k largest values along the last axis, largest first; equal values in index order."""
    axis = known_rank(x, "TOPK_V2") - 1
    if k.shape.rank != 0:
        k = Reshape(k, i64([]), special_zero=False)
    index_type = element_type(ctx.output_tensors[1])
    node = ops.TopK.node(x, k, axis=axis, mode="max", sort="value", index_element_type=index_type, stable=True)
    return list(node.outputs)


def CUMSUM(ctx: TFLiteContext, x: Value, axis: Value, *, exclusive: bool = False, reverse: bool = False) -> Value:
    return ops.CumSum(x, axis, exclusive=exclusive, reverse=reverse)


HANDLERS: dict[str, Handler] = {
    "SHAPE": SHAPE,
    "FILL": FILL,
    "ZEROS_LIKE": ZEROS_LIKE,
    "CAST": CAST,
    "RANGE": RANGE,
    "TOPK_V2": TOPK_V2,
    "CUMSUM": CUMSUM,
}
# FILL repeats its value; TOPK_V2's values are some of the input's.
GRID_PRESERVING: frozenset[str] = frozenset({"FILL", "TOPK_V2"})
