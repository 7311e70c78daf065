"""MXNet Embedding and take → IR Gather, with MXNet's index handling.

Indices come in any type (often float32) and are truncated toward zero. Embedding and take's
`clip` mode clamp them into [0, dim − 1]; `wrap` takes them modulo the dim; `raise` (an error
in MXNet for an index out of range) is read as `clip`, which agrees on every valid input.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.frontends.mxnet.ops.common import checked_axis, dim, i64, known_rank
from converter.frontends.mxnet.ops.elementwise import Cast
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops.core import const
from converter.ops.indexing import Gather
from converter.ops.shape import Squeeze


def _indices(ctx: MXNetContext, indices: Value) -> Value:
    if indices.element_type is ElementType.i64:
        return indices
    return Cast(ctx, indices, dtype="int64")


def _size(x: Value, axis: int) -> Value:
    """Dim `axis` of x as an i64 scalar."""
    vector = dim(x, axis)
    if vector.const is not None:
        return const(np.array(int(vector.const[0]), np.int64))
    return Squeeze(vector, i64([0]))


def _clipped(indices: Value, size: Value) -> Value:
    return ew.Minimum(ew.Maximum(indices, const(np.array(0, np.int64))), ew.Subtract(size, const(np.array(1, np.int64))))


def take(ctx: MXNetContext, a: Value, indices: Value, *, axis: int = 0, mode: str = "clip") -> Value:
    axis = checked_axis(axis, known_rank(a, "take"))
    index = _indices(ctx, indices)
    size = _size(a, axis)
    if mode in ("clip", "raise"):
        index = _clipped(index, size)
    elif mode == "wrap":
        index = ew.FloorMod(index, size)
    else:
        raise Unsupported(f"mode {mode!r}")
    return Gather(a, index, i64(axis), batch_dims=0)


def Embedding(
    ctx: MXNetContext,
    data: Value,
    weight: Value,
    *,
    input_dim: int = 0,
    output_dim: int = 0,
    dtype: str = "float32",
    sparse_grad: bool = False,
) -> Value:
    index = _clipped(_indices(ctx, data), _size(weight, 0))
    return Gather(weight, index, i64(0), batch_dims=0)


HANDLERS: dict[str, Handler] = {"take": take, "Embedding": Embedding}
