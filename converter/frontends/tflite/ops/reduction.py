"""TFLite reductions over an axes input (MEAN, SUM, REDUCE_MAX) → IR Reduce*."""

from __future__ import annotations

import numpy as np

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import as_i64
from converter.ir.graph import Value
from converter.ops import reduction as ops
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


HANDLERS: dict[str, Handler] = {"MEAN": MEAN, "SUM": SUM, "REDUCE_MAX": REDUCE_MAX}
GRID_PRESERVING: frozenset[str] = frozenset({"REDUCE_MAX"})
