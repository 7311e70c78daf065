"""TF reductions (Mean, Sum, Max, Min, Prod, All, Any, L2Loss) and ArgMax/ArgMin → IR Reduce* and TopK."""

from __future__ import annotations

import numpy as np

from converter.frontends.tensorflow.graph import Handler, TFContext, constant_input
from converter.frontends.tensorflow.ops.common import as_i64, checked_axis, i64, known_rank, scalar_like
from converter.frontends.tensorflow.protos import DataType
from converter.frontends.tensorflow.tensors import element_type
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops import reduction as ops
from converter.ops.misc import TopK
from converter.ops.shape import Reshape, Squeeze
from converter.ops.spec import OpSpec


def _reduction(op: OpSpec) -> Handler:
    def handler(ctx: TFContext, x: Value, axes: Value, *, keep_dims: bool = False) -> Value:
        if axes.const is not None and np.asarray(axes.const).size == 0:
            return x  # no axis: TF reduces nothing
        return op(x, as_i64(axes), keep_dims=keep_dims)

    handler.__name__ = op.type
    return handler


def _arg_extreme(x: Value, dimension: Value, output_type: int, mode: str) -> Value:
    rank = known_rank(x, "ArgMax/ArgMin")
    axis = checked_axis(int(constant_input(dimension, "the dimension").reshape(-1)[0]), rank, "ArgMax/ArgMin")
    # stable: among equal values the first index wins, as in TF
    node = TopK.node(x, i64(1), axis=axis, mode=mode, sort="value", index_element_type=element_type(output_type), stable=True)
    return Squeeze(node.outputs[1], i64([axis]))


def ArgMax(ctx: TFContext, x: Value, dimension: Value, *, output_type: int = DataType.DT_INT64) -> Value:
    return _arg_extreme(x, dimension, output_type, "max")


def ArgMin(ctx: TFContext, x: Value, dimension: Value, *, output_type: int = DataType.DT_INT64) -> Value:
    return _arg_extreme(x, dimension, output_type, "min")


def L2Loss(ctx: TFContext, t: Value) -> Value:
    """sum(t²) / 2 over every element: a scalar."""
    squares = Reshape(ew.Multiply(t, t), i64([-1]), special_zero=False)
    return ew.Multiply(ops.ReduceSum(squares, i64([0]), keep_dims=False), scalar_like(t, 0.5))


REDUCTIONS: dict[str, OpSpec] = {
    "Mean": ops.ReduceMean,
    "Sum": ops.ReduceSum,
    "Max": ops.ReduceMax,
    "Min": ops.ReduceMin,
    "Prod": ops.ReduceProd,
    "All": ops.ReduceLogicalAnd,
    "Any": ops.ReduceLogicalOr,
}

HANDLERS: dict[str, Handler] = {"ArgMax": ArgMax, "ArgMin": ArgMin, "L2Loss": L2Loss} | {name: _reduction(op) for name, op in REDUCTIONS.items()}
