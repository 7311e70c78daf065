"""Statistics over frames (x-vector models): StatisticsExtractionComponent (count, x, x² per frame)
and StatisticsPoolingComponent (their sums over a window of frames, as means and stddevs).

Only the per-frame form is converted (input and output periods 1). A pooled frame covers the
frames its input covers: Kaldi could compute pooled frames even before and after them (any
frame whose window holds one input frame), which a window of frames has no rows for.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.kaldi.components.common import check_dim, split_columns
from converter.frontends.kaldi.frames import broadcast_rows, i64
from converter.frontends.kaldi.graph import Handler, KaldiContext, Unsupported
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops.core import ShapeOf, const
from converter.ops.indexing import Gather
from converter.ops.misc import CumSum, Range
from converter.ops.shape import Concat


def StatisticsExtractionComponent(
    ctx: KaldiContext, x: Value, *, input_dim: int, input_period: int = 1, output_period: int = 1, include_varinance: bool = True
) -> Value:
    """Per frame [1, x, x²] (without x² when include-variance is false). Kaldi's tag is spelled <IncludeVarinance>."""
    check_dim(x, input_dim)
    if input_period != 1 or output_period != 1:
        raise Unsupported(f"input period {input_period}, output period {output_period}: only 1 and 1 (statistics per frame) are converted")
    ones = broadcast_rows(const(np.ones((1, 1), np.float32)), x)
    parts = [ones, x, ew.Multiply(x, x)] if include_varinance else [ones, x]
    return Concat(*parts, axis=1)


def StatisticsPoolingComponent(
    ctx: KaldiContext,
    x: Value,
    *,
    input_dim: int,
    input_period: int = 1,
    left_context: int,
    right_context: int,
    num_log_count_features: int = 0,
    output_stddevs: bool = True,
    variance_floor: float = 1.0e-10,
) -> Value:
    """Frame t sums the statistics of its input frames t − left … t + right that exist; the output is
    [log(count) × num-log-count-features, Σx / count, and with output-stddevs √max(Σx²/count − mean², floor)]."""
    check_dim(x, input_dim)
    if input_period != 1:
        raise Unsupported(f"input period {input_period}: only 1 is converted")
    if output_stddevs and (input_dim - 1) % 2 != 0:
        raise Unsupported(f"output-stddevs needs x and x² statistics: input dim {input_dim} is not 1 + 2·n")
    # Window sums as differences of suffix sums: a window reaching the last frame subtracts nothing.
    suffix = CumSum(x, i64(0), reverse=True)
    padded = Concat(suffix, const(np.zeros((1, input_dim), np.float32)), axis=0)
    frames = Gather(ShapeOf(x), i64(0), i64(0))
    t = Range(i64(0), frames, i64(1), output_type=ElementType.i64)
    low = ew.Maximum(ew.Subtract(t, i64(left_context)), i64(0))
    high = ew.Minimum(ew.Add(t, i64(right_context + 1)), frames)
    sums = ew.Subtract(Gather(padded, low, i64(0)), Gather(padded, high, i64(0)))
    count, rest = split_columns(sums, [1, input_dim - 1])
    averages = ew.Divide(rest, count)
    parts = [ew.Log(count)] * num_log_count_features
    if output_stddevs:
        mean, squares = split_columns(averages, [(input_dim - 1) // 2] * 2)
        variance = ew.Maximum(ew.Subtract(squares, ew.Multiply(mean, mean)), ctx.floats(variance_floor))
        parts += [mean, ew.Sqrt(variance)]
    else:
        parts.append(averages)
    return parts[0] if len(parts) == 1 else Concat(*parts, axis=1)


NNET3: dict[str, Handler] = {f.__name__: f for f in (StatisticsExtractionComponent, StatisticsPoolingComponent)}
