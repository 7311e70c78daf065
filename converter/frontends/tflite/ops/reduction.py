"""TFLite reductions over an axes input (MEAN, SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD,
REDUCE_ANY, REDUCE_ALL) → IR Reduce*; ARG_MAX / ARG_MIN → IR TopK with k = 1."""

from __future__ import annotations

import numpy as np

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import as_i64, checked_axis, constant_ints, i64, known_rank
from converter.frontends.tflite.tensors import Unsupported, element_type
from converter.ir.graph import Value
from converter.ops import reduction as ops
from converter.ops.misc import TopK
from converter.ops.shape import Squeeze
from converter.ops.spec import OpSpec


def _reduce(op: OpSpec, x: Value, axes: Value, keep_dims: bool) -> Value:
    if axes.const is not None and np.asarray(axes.const).size == 0:
        return x  # no axis: nothing is reduced
    return op(x, as_i64(axes), keep_dims=keep_dims)


def MEAN(ctx: TFLiteContext, x: Value, axes: Value, *, keep_dims: bool = False) -> Value:
    return _reduce(ops.ReduceMean, x, axes, keep_dims)


def SUM(ctx: TFLiteContext, x: Value, axes: Value, *, keep_dims: bool = False) -> Value:
    return _reduce(ops.ReduceSum, x, axes, keep_dims)


def REDUCE_MAX(ctx: TFLiteContext, x: Value, axes: Value, *, keep_dims: bool = False) -> Value:
    return _reduce(ops.ReduceMax, x, axes, keep_dims)


def REDUCE_MIN(ctx: TFLiteContext, x: Value, axes: Value, *, keep_dims: bool = False) -> Value:
    return _reduce(ops.ReduceMin, x, axes, keep_dims)


def REDUCE_PROD(ctx: TFLiteContext, x: Value, axes: Value, *, keep_dims: bool = False) -> Value:
    return _reduce(ops.ReduceProd, x, axes, keep_dims)


def REDUCE_ANY(ctx: TFLiteContext, x: Value, axes: Value, *, keep_dims: bool = False) -> Value:
    return _reduce(ops.ReduceLogicalOr, x, axes, keep_dims)


def REDUCE_ALL(ctx: TFLiteContext, x: Value, axes: Value, *, keep_dims: bool = False) -> Value:
    return _reduce(ops.ReduceLogicalAnd, x, axes, keep_dims)


def _arg_extreme(ctx: TFLiteContext, x: Value, axis: Value, mode: str) -> Value:
    """The index of the first largest (smallest) value along the axis, as TFLite's kernel keeps
    the first of equal values: a stable TopK of one."""
    rank = known_rank(x, ctx.op_name)
    (dimension,) = constant_ints(axis, "the axis")
    dimension = checked_axis(dimension, rank, ctx.op_name)
    index_type = element_type(ctx.output_tensors[0])  # the output_type option, as the tensor has it
    if not index_type.is_integer:
        raise Unsupported(f"{ctx.op_name} output of type {index_type.value}")
    node = TopK.node(x, i64(1), axis=dimension, mode=mode, sort="value", index_element_type=index_type, stable=True)
    return Squeeze(node.outputs[1], i64([dimension]))


def ARG_MAX(ctx: TFLiteContext, x: Value, axis: Value, *, output_type: str = "FLOAT32") -> Value:
    return _arg_extreme(ctx, x, axis, "max")


def ARG_MIN(ctx: TFLiteContext, x: Value, axis: Value, *, output_type: str = "FLOAT32") -> Value:
    return _arg_extreme(ctx, x, axis, "min")


HANDLERS: dict[str, Handler] = {
    "MEAN": MEAN,
    "SUM": SUM,
    "REDUCE_MAX": REDUCE_MAX,
    "REDUCE_MIN": REDUCE_MIN,
    "REDUCE_PROD": REDUCE_PROD,
    "REDUCE_ANY": REDUCE_ANY,
    "REDUCE_ALL": REDUCE_ALL,
    "ARG_MAX": ARG_MAX,
    "ARG_MIN": ARG_MIN,
}
GRID_PRESERVING: frozenset[str] = frozenset({"REDUCE_MAX", "REDUCE_MIN"})
