"""MXNet Pooling → IR MaxPool / AvgPool, sums as a convolution with ones, global pools as reductions.

MXNet's windows (src/operator/nn/pool.h): window `o` starts at o·stride − pad. `valid` has
⌊(in + 2·pad − k) / stride⌋ + 1 windows, `full` ⌈…⌉ + 1 (its last window may reach past the
padding), `same` (1-D only, pad 0) ⌈in / stride⌉ starting at 0. Max pools take the largest
element inside the input; average pools divide by the window's part inside the padded input
(count_include_pad, the default) or inside the input; sum and lp pools add the elements
inside the input (lp: Σxᵖ then the p-th root, p 1, 2 or 3). Extra padding at the end gives the
`full` and `same` window counts wherever the padded values do not count (max: ignored; sum:
zeros; average without pad: excluded); a `full` average that counts padding is a sum pool
divided by each window's count inside the padded input.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.frontends.mxnet.ops.common import dim, dims, i64, ints, known_rank, scalar_like, shape_vector, to_channels_first, to_channels_last
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops import reduction as reduce
from converter.ops.conv import Convolution
from converter.ops.core import const
from converter.ops.pooling import AvgPool1, MaxPool8
from converter.ops.shape import Reshape

POOL_TYPES = ("max", "avg", "sum", "lp")


def Pooling(
    ctx: MXNetContext,
    data: Value,
    *,
    kernel: tuple[int, ...] = (),
    pool_type: str = "max",
    global_pool: bool = False,
    cudnn_off: bool = False,
    pooling_convention: str = "valid",
    stride: tuple[int, ...] = (),
    pad: tuple[int, ...] = (),
    p_value: int | None = None,
    count_include_pad: bool | None = None,
    layout: str | None = None,
) -> Value:
    if pool_type not in POOL_TYPES:
        raise Unsupported(f"pool_type {pool_type!r}")
    if pool_type == "lp" and p_value not in (1, 2, 3):
        raise Unsupported(f"lp pooling with p_value {p_value}")
    rank = known_rank(data, "Pooling") if global_pool or not kernel else len(kernel) + 2
    if data.shape.rank is not None and data.shape.rank != rank:
        raise Unsupported(f"a {len(kernel)}-D kernel on a rank-{data.shape.rank} input")
    x, channels_last = to_channels_first(data, layout, rank)
    if global_pool:
        y = _global(x, pool_type, p_value, rank)
    else:
        y = _windowed(x, kernel, stride, pad, pool_type, pooling_convention, p_value, count_include_pad is not False)
    return to_channels_last(y, rank) if channels_last else y


def _global(x: Value, pool_type: str, p_value: int | None, rank: int) -> Value:
    axes = i64(list(range(2, rank)))
    if pool_type == "max":
        return reduce.ReduceMax(x, axes, keep_dims=True)
    if pool_type == "avg":
        return reduce.ReduceMean(x, axes, keep_dims=True)
    if pool_type == "sum":
        return reduce.ReduceSum(x, axes, keep_dims=True)
    return _lp_root(reduce.ReduceSum(_lp_power(x, p_value), axes, keep_dims=True), p_value)


def _lp_power(x: Value, p: int | None) -> Value:
    if p == 1:
        return x
    if p == 2:
        return ew.Multiply(x, x)
    return ew.Multiply(ew.Multiply(x, x), x)


def _lp_root(x: Value, p: int | None) -> Value:
    if p == 1:
        return x
    if p == 2:
        return ew.Sqrt(x)
    return ew.Power(x, scalar_like(x, 1.0 / 3.0))


def _windowed(
    x: Value, kernel: tuple[int, ...], stride: tuple[int, ...], pad: tuple[int, ...], pool_type: str, convention: str, p_value: int | None, include_pad: bool
) -> Value:
    if not kernel:
        raise Unsupported("no kernel (and not global_pool)")
    count = len(kernel)
    strides, pads = ints(stride, count, 1, "stride"), ints(pad, count, 0, "pad")
    if convention not in ("valid", "full", "same"):
        raise Unsupported(f"pooling_convention {convention!r}")
    if convention == "same" and any(pads):
        raise Unsupported("pooling_convention 'same' with pad (MXNet refuses it)")
    ends = _end_pads(x, kernel, strides, pads, convention)
    window = dict(strides=strides, kernel=list(kernel), pads_begin=pads)
    if pool_type == "max":
        return MaxPool8.node(x, dilations=[1] * count, pads_end=ends, **window).outputs[0]
    if pool_type == "avg":
        if include_pad and any(pads) and convention == "full":
            return ew.Divide(_sum_pool(x, kernel, strides, pads, ends), _padded_counts(x, kernel, strides, pads), m_pythondiv=False)
        return AvgPool1(x, **{"exclude-pad": not include_pad or ends != pads}, pads_end=ends, **window)
    return _lp_root(_sum_pool(_lp_power(x, p_value) if pool_type == "lp" else x, kernel, strides, pads, ends), p_value if pool_type == "lp" else 1)


def _end_pads(x: Value, kernel: tuple[int, ...], strides: list[int], pads: list[int], convention: str) -> list[int]:
    """End padding giving MXNet's window count with floor rounding."""
    if convention == "valid":
        return pads
    if convention == "full":
        # ⌊(in + 2p + s − 1 − k) / s⌋ = ⌈(in + 2p − k) / s⌉: the same count for every input size
        return [p + s - 1 for p, s in zip(pads, strides)]
    sizes = x.shape.dims[2:] if x.shape.dims is not None else [None] * len(kernel)
    if None in sizes:
        raise Unsupported("pooling_convention 'same' needs the input's spatial dims")
    ends = []
    for size, k, s in zip(sizes, kernel, strides):
        windows = -(-size // s)  # type: ignore[operator]
        ends.append(max((windows - 1) * s + k - size, 0))  # type: ignore[operator]
    return ends


def _padded_counts(x: Value, kernel: tuple[int, ...], strides: list[int], pads: list[int]) -> Value:
    """Per window, how many of its positions lie inside the padded input: MXNet's divisor of a
    `full` average counting padding (its last windows may reach past the padding)."""
    sizes = x.shape.dims[2:] if x.shape.dims is not None else [None] * len(kernel)
    if None in sizes:
        raise Unsupported("a 'full' average pool counting padding needs the input's spatial dims")
    per_axis = []
    for size, k, s, p in zip(sizes, kernel, strides, pads):
        windows = 1 + -(-(size + 2 * p - k) // s)  # type: ignore[operator]
        starts = np.arange(windows) * s - p
        per_axis.append(np.minimum(starts + k, size + p) - starts)  # type: ignore[operator]
    counts = per_axis[0]
    for more in per_axis[1:]:
        counts = np.multiply.outer(counts, more)
    return const(counts.astype(x.element_type.numpy).reshape((1, 1, *counts.shape)))


def _sum_pool(x: Value, kernel: tuple[int, ...], strides: list[int], pads: list[int], ends: list[int]) -> Value:
    """Window sums of the input's elements: every channel as its own image, convolved with ones."""
    count = len(kernel)
    images = Reshape(x, i64([-1, 1, *([0] * count)]), special_zero=True)
    ones = const(np.ones((1, 1, *kernel), dtype=x.element_type.numpy))
    summed = Convolution(images, ones, strides=strides, dilations=[1] * count, pads_begin=pads, pads_end=ends)
    target = shape_vector([dim(x, 0), dim(x, 1), dims(summed, 2, 2 + count)])
    return Reshape(summed, target, special_zero=False)


HANDLERS: dict[str, Handler] = {"Pooling": Pooling}
