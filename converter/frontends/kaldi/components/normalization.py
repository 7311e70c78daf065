"""Normalizations: BatchNormComponent in test mode (its stored statistics), NormalizeComponent
(each frame to a target RMS), nnet1's LengthNormComponent."""

from __future__ import annotations

import numpy as np

from converter.frontends.kaldi.components.common import blocks, check_dim, input_dim, per_dim, unblocks, vector
from converter.frontends.kaldi.frames import i64
from converter.frontends.kaldi.graph import Handler, KaldiContext, Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.reduction import ReduceSum
from converter.ops.shape import Concat

SQUARED_NORM_FLOOR = 2.0**-66  # NormalizeComponent's floor on the mean square


def BatchNormComponent(
    ctx: KaldiContext,
    x: Value,
    *,
    dim: int,
    block_dim: int,
    epsilon: float,
    target_rms: float,
    test_mode: bool = False,
    count: float,
    stats_mean: np.ndarray,
    stats_var: np.ndarray,
) -> Value:
    """y = (x − mean) · target_rms / √(var + ε), with the statistics stored (decoding sets test
    mode whatever the file says); per block of `block_dim` dims, the same for every block."""
    check_dim(x, dim)
    mean, var = vector(stats_mean, "<StatsMean>", block_dim), vector(stats_var, "<StatsVar>", block_dim)
    if count <= 0:
        raise Unsupported("no statistics (<Count> 0): a BatchNormComponent that never saw data")
    scale = float(target_rms) / np.sqrt(np.maximum(var.astype(np.float64), 0.0) + float(epsilon))
    offset = -mean.astype(np.float64) * scale
    scaled = ew.Multiply(x, ctx.floats(per_dim(scale, dim, "<StatsVar>")))
    return ew.Add(scaled, ctx.floats(per_dim(offset, dim, "<StatsMean>")))


def NormalizeComponent(
    ctx: KaldiContext,
    x: Value,
    *,
    input_dim: int | None = None,
    dim: int | None = None,
    block_dim: int | None = None,
    target_rms: float = 1.0,
    add_log_stddev: bool = False,
) -> Value:
    """Each block of dims scaled to RMS `target_rms`: y = x / √(max(Σx² / (D·rms²), 2⁻⁶⁶)); with
    add-log-stddev, each block gains one dim: log of its RMS before scaling (floored the same way)."""
    total = _input_dim(x, input_dim if input_dim is not None else dim)
    size = block_dim or total
    if total % size != 0:
        raise Unsupported(f"block dim {size} does not divide {total}")
    rows = blocks(x, size) if size != total else x
    squares = ReduceSum(ew.Multiply(rows, rows), i64([1]), keep_dims=True)
    mean_square = ew.Maximum(ew.Multiply(squares, ctx.floats(1.0 / (size * target_rms * target_rms))), ctx.floats(SQUARED_NORM_FLOOR))
    factor = ew.Power(mean_square, ctx.floats(-0.5))
    y = ew.Multiply(rows, factor)
    if add_log_stddev:
        log_stddev = ew.Add(ew.Negative(ew.Log(factor)), ctx.floats(np.log(target_rms)))
        y = Concat(y, log_stddev, axis=1)
    width = total // size * (size + (1 if add_log_stddev else 0))
    return unblocks(y, width) if size != total else y


def _input_dim(x: Value, dim: int | None) -> int:
    check_dim(x, dim)
    return input_dim(x)


# ---------------------------------------------------------------- nnet1


def LengthNormComponent(ctx: KaldiContext, x: Value) -> Value:
    """Each frame divided by its L2 norm."""
    squares = ReduceSum(ew.Multiply(x, x), i64([1]), keep_dims=True)
    return ew.Multiply(x, ew.Power(squares, ctx.floats(-0.5)))


NNET3: dict[str, Handler] = {f.__name__: f for f in (BatchNormComponent, NormalizeComponent)}
NNET1: dict[str, Handler] = {f.__name__: f for f in (LengthNormComponent,)}
