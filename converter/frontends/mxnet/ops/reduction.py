"""MXNet sum / mean / max / min / prod → IR reductions.

`axis` None or () reduces every axis; `exclude` reduces the axes *not* listed; `keepdims`
keeps the reduced axes as 1s. Reducing every axis gives a [1], not a scalar (MXNet 1.x).
"""

from __future__ import annotations

from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.frontends.mxnet.ops.common import checked_axis, i64, known_rank
from converter.ir.graph import Value
from converter.ops import reduction as ops
from converter.ops.shape import Reshape
from converter.ops.spec import OpSpec


def _axes(x: Value, axis: tuple[int, ...] | None, exclude: bool) -> list[int]:
    rank = known_rank(x, "a reduction")
    listed = sorted({checked_axis(a, rank) for a in axis or ()})
    if not listed:
        return [] if exclude else list(range(rank))
    return [a for a in range(rank) if a not in listed] if exclude else listed


def _reduction(spec: OpSpec) -> Handler:
    def handler(ctx: MXNetContext, data: Value, *, axis: tuple[int, ...] | None = None, keepdims: bool = False, exclude: bool = False) -> Value:
        axes = _axes(data, axis, exclude)
        if not axes:
            return data
        reduced = spec(data, i64(axes), keep_dims=keepdims)
        if not keepdims and len(axes) == known_rank(data, "a reduction"):
            return Reshape(reduced, i64([1]), special_zero=False)  # MXNet 1.x has no scalars: [1]
        return reduced

    return handler


REDUCTIONS: dict[str, OpSpec] = {
    "sum": ops.ReduceSum,
    "mean": ops.ReduceMean,
    "max": ops.ReduceMax,
    "min": ops.ReduceMin,
    "prod": ops.ReduceProd,
}
HANDLERS: dict[str, Handler] = {name: _reduction(spec) for name, spec in REDUCTIONS.items()}
