"""Per-dim scales and offsets, products and sums of groups of dims, column selections."""

from __future__ import annotations

import numpy as np

from converter.frontends.kaldi.components.common import check_dim, input_dim, integers, per_dim, split_columns, vector
from converter.frontends.kaldi.frames import i64
from converter.frontends.kaldi.graph import Handler, KaldiContext, Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.indexing import Gather
from converter.ops.matmul import MatMul
from converter.ops.reduction import ReduceL2, ReduceSum
from converter.ops.shape import Reshape

SCALE_EPSILON = 1.0e-4  # ScaleAndOffsetComponent keeps |scale| at least this


def _scale(ctx: KaldiContext, x: Value, scales: np.ndarray, what: str) -> Value:
    return ew.Multiply(x, ctx.floats(per_dim(vector(scales, what), input_dim(x), what)))


def _offset(ctx: KaldiContext, x: Value, offsets: np.ndarray, what: str) -> Value:
    return ew.Add(x, ctx.floats(per_dim(vector(offsets, what), input_dim(x), what)))


def _groups(x: Value, count: int, size: int) -> Value:
    """[n, count·size] → [n, count, size]."""
    return Reshape(x, i64([-1, count, size]), special_zero=False)


# ---------------------------------------------------------------- nnet3


def FixedScaleComponent(ctx: KaldiContext, x: Value, *, scales: np.ndarray) -> Value:
    return ew.Multiply(x, ctx.floats(vector(scales, "<Scales>", input_dim(x))))


def FixedBiasComponent(ctx: KaldiContext, x: Value, *, bias: np.ndarray) -> Value:
    return ew.Add(x, ctx.floats(vector(bias, "<Bias>", input_dim(x))))


def PerElementScaleComponent(ctx: KaldiContext, x: Value, *, params: np.ndarray) -> Value:
    return ew.Multiply(x, ctx.floats(vector(params, "<Params>", input_dim(x))))


def NaturalGradientPerElementScaleComponent(ctx: KaldiContext, x: Value, *, params: np.ndarray) -> Value:
    return PerElementScaleComponent(ctx, x, params=params)


def PerElementOffsetComponent(ctx: KaldiContext, x: Value, *, offsets: np.ndarray, dim: int | None = None) -> Value:
    """Offsets per dim, or per dim of each block when <Dim> is a multiple of their number."""
    check_dim(x, dim)
    return _offset(ctx, x, offsets, "<Offsets>")


def ScaleAndOffsetComponent(ctx: KaldiContext, x: Value, *, dim: int, scales: np.ndarray, offsets: np.ndarray) -> Value:
    """y = x · s + b per dim (per dim of each block), |s| kept at least 1e-4 as Kaldi keeps it."""
    check_dim(x, dim)
    s = vector(scales, "<Scales>").astype(np.float32)
    nonzero = np.where(np.abs(s) >= SCALE_EPSILON, s, np.where(s >= 0, SCALE_EPSILON, -SCALE_EPSILON)).astype(np.float32)
    return _offset(ctx, _scale(ctx, x, nonzero, "<Scales>"), offsets, "<Offsets>")


def ElementwiseProductComponent(ctx: KaldiContext, x: Value, *, input_dim: int, output_dim: int) -> Value:
    """The product of the input's consecutive blocks of `output_dim` dims."""
    check_dim(x, input_dim)
    if output_dim <= 0 or input_dim % output_dim != 0:
        raise Unsupported(f"output dim {output_dim} does not divide input dim {input_dim}")
    parts = split_columns(x, [output_dim] * (input_dim // output_dim))
    product = parts[0]
    for part in parts[1:]:
        product = ew.Multiply(product, part)
    return product


def SumGroupComponent(ctx: KaldiContext, x: Value, *, sizes: np.ndarray) -> Value:
    """Output i sums the i-th group of consecutive dims (groups of `sizes`)."""
    group = integers(sizes, "<Sizes>")
    if not group or any(s <= 0 for s in group):
        raise Unsupported(f"group sizes {group}")
    check_dim(x, sum(group), "total of <Sizes>")
    if len(set(group)) == 1:
        return ReduceSum(_groups(x, len(group), group[0]), i64([2]), keep_dims=False)
    membership = np.zeros((sum(group), len(group)), dtype=np.float32)
    membership[np.arange(sum(group)), np.repeat(np.arange(len(group)), group)] = 1.0
    return MatMul(x, ctx.floats(membership))


def PnormComponent(ctx: KaldiContext, x: Value, *, input_dim: int, output_dim: int) -> Value:
    """Output i is the 2-norm of the i-th group of input_dim / output_dim consecutive dims."""
    check_dim(x, input_dim)
    if output_dim <= 0 or input_dim % output_dim != 0:
        raise Unsupported(f"output dim {output_dim} does not divide input dim {input_dim}")
    return ReduceL2(_groups(x, output_dim, input_dim // output_dim), i64([2]), keep_dims=False)


def PermuteComponent(ctx: KaldiContext, x: Value, *, column_map: np.ndarray) -> Value:
    """Output dim i is input dim column_map[i]."""
    indices = integers(column_map, "<ColumnMap>")
    if any(not 0 <= i < input_dim(x) for i in indices):
        raise Unsupported(f"<ColumnMap> names dims outside 0 … {input_dim(x) - 1}")
    return Gather(x, i64(indices), i64(1))


# ---------------------------------------------------------------- nnet1


def AddShift(ctx: KaldiContext, x: Value, shift_data: np.ndarray) -> Value:
    return ew.Add(x, ctx.floats(vector(shift_data, "the shift", input_dim(x))))


def Rescale(ctx: KaldiContext, x: Value, scale_data: np.ndarray) -> Value:
    return ew.Multiply(x, ctx.floats(vector(scale_data, "the scale", input_dim(x))))


def Copy(ctx: KaldiContext, x: Value, copy_from_indices: np.ndarray) -> Value:
    """Output dim i is input dim copy_from_indices[i] (1-based in the file)."""
    indices = [i - 1 for i in integers(copy_from_indices, "the copy indices")]
    if any(not 0 <= i < input_dim(x) for i in indices):
        raise Unsupported(f"copy indices outside 1 … {input_dim(x)}")
    return Gather(x, i64(indices), i64(1))


NNET3: dict[str, Handler] = {
    f.__name__: f
    for f in (
        FixedScaleComponent, FixedBiasComponent, PerElementScaleComponent, NaturalGradientPerElementScaleComponent,
        PerElementOffsetComponent, ScaleAndOffsetComponent, ElementwiseProductComponent, SumGroupComponent,
        PnormComponent, PermuteComponent,
    )
}  # fmt: skip
NNET1: dict[str, Handler] = {f.__name__: f for f in (AddShift, Rescale, Copy)}
