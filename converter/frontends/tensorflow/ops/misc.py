"""TF Einsum, ClipByValue, TopKV2, Cumsum, ReverseV2, Where, OneHot, MatrixBandPart → IR Einsum, Clamp, TopK,
CumSum, Slice, NonZero, OneHot, a Select on a band mask."""

from __future__ import annotations

import numpy as np

from converter.frontends.tensorflow.graph import Handler, TFContext, constant_input
from converter.frontends.tensorflow.ops.common import as_i64, checked_axis, i64, known_rank, scalar_like
from converter.frontends.tensorflow.protos import DataType
from converter.frontends.tensorflow.tensors import Unsupported, element_type
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import activation as act
from converter.ops import elementwise as ew
from converter.ops import matmul, misc
from converter.ops.core import ShapeOf, const
from converter.ops.indexing import Gather, Slice
from converter.ops.shape import Transpose, Unsqueeze

INT64_MIN = np.iinfo(np.int64).min


def Einsum(ctx: TFContext, *inputs: Value, equation: str, N: int | None = None) -> Value:
    return matmul.Einsum(*inputs, equation=equation)


def ClipByValue(ctx: TFContext, x: Value, low: Value, high: Value) -> Value:
    bounds = [v.const for v in (low, high)]
    if x.element_type.is_float and all(b is not None and b.size == 1 for b in bounds):
        return act.Clamp(x, min=float(bounds[0].reshape(-1)[0]), max=float(bounds[1].reshape(-1)[0]))  # type: ignore[union-attr]
    return ew.Minimum(ew.Maximum(x, low), high)


def TopKV2(ctx: TFContext, x: Value, k: Value, *, sorted: bool = True, index_type: int = DataType.DT_INT32) -> list[Value]:
    """Along the last axis; sorted by value either way (TF leaves the unsorted order open), ties by index."""
    axis = known_rank(x, "TopKV2") - 1
    node = misc.TopK.node(x, k, axis=axis, mode="max", sort="value", index_element_type=element_type(index_type), stable=True)
    return list(node.outputs)


def Cumsum(ctx: TFContext, x: Value, axis: Value, *, exclusive: bool = False, reverse: bool = False) -> Value:
    return misc.CumSum(x, axis, exclusive=exclusive, reverse=reverse)


def ReverseV2(ctx: TFContext, x: Value, axis: Value) -> Value:
    rank = known_rank(x, "ReverseV2")
    axes = sorted({checked_axis(int(a), rank, "ReverseV2") for a in constant_input(axis, "the axes").reshape(-1)})
    if not axes:
        return x
    count = len(axes)
    return Slice(x, i64([-1] * count), i64([INT64_MIN] * count), i64([-1] * count), i64(axes))


def Where(ctx: TFContext, condition: Value) -> Value:
    """The coordinates of the true (non-zero) elements: [count, rank], int64, in row-major order."""
    return Transpose(misc.NonZero(condition, output_type=element_type(DataType.DT_INT64)), i64([1, 0]))


def OneHot(ctx: TFContext, indices: Value, depth: Value, on_value: Value, off_value: Value, *, axis: int = -1) -> Value:
    rank = known_rank(indices, "OneHot")
    axis = rank if axis == -1 else checked_axis(axis, rank + 1, "OneHot")
    # TF gives a negative index an all-off row: ignore_negative
    return misc.OneHot(indices, as_i64(depth), on_value, off_value, axis=axis, negative_indices_mode="ignore_negative")


def MatrixBandPart(ctx: TFContext, x: Value, num_lower: Value, num_upper: Value) -> Value:
    """Keeps x[..., m, n] where (num_lower < 0 or m - n <= num_lower) and (num_upper < 0 or
    n - m <= num_upper), zeros elsewhere."""
    rank = known_rank(x, "MatrixBandPart")
    if rank < 2:
        raise Unsupported("MatrixBandPart needs a rank of at least 2")
    offsets = _row_minus_column(x, rank)
    lower, upper = (as_i64(v) for v in (num_lower, num_upper))
    zero = i64(0)
    below = ew.LogicalOr(ew.Less(lower, zero), ew.LessEqual(offsets, lower))
    above = ew.LogicalOr(ew.Less(upper, zero), ew.LessEqual(ew.Negative(offsets), upper))
    return ew.Select(ew.LogicalAnd(below, above), x, scalar_like(x, 0))


def _row_minus_column(x: Value, rank: int) -> Value:
    """m - n for every [m, n] of x's last two dims, as an i64 [M, N] tensor (a constant when they are static)."""
    rows, columns = x.shape.dims[-2:]  # type: ignore[index]
    if rows is not None and columns is not None:
        return const(np.subtract.outer(np.arange(rows, dtype=np.int64), np.arange(columns, dtype=np.int64)))
    sizes = ShapeOf(x, output_type=ElementType.i64)
    row, column = (misc.Range(i64(0), Gather(sizes, i64(axis), i64(0)), i64(1), output_type=ElementType.i64) for axis in (rank - 2, rank - 1))
    return ew.Subtract(Unsqueeze(row, i64(1)), Unsqueeze(column, i64(0)))


HANDLERS: dict[str, Handler] = {
    "Einsum": Einsum,
    "ClipByValue": ClipByValue,
    "TopKV2": TopKV2,
    "Cumsum": Cumsum,
    "ReverseV2": ReverseV2,
    "Where": Where,
    "OneHot": OneHot,
    "MatrixBandPart": MatrixBandPart,
}
