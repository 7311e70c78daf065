"""Range estimators: the [low, high] an activation's FakeQuantize covers, from its statistics.

`minmax` takes the observed extremes; `percentile` cuts the rarest 0.01% at each end; `entropy`
picks the clipping threshold whose 8-bit histogram keeps the most information (the smallest
KL divergence between the clipped histogram and its quantized version, as TensorRT calibrates).
Statistics are a histogram over the observed range (statistics.TensorStats), so every estimator
is deterministic and needs no stored activations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from converter.quantize.statistics import TensorStats

METHODS = ("minmax", "percentile", "entropy")
PERCENTILE = 99.99


def minmax(stats: TensorStats) -> tuple[float, float]:
    return stats.low, stats.high


def percentile(stats: TensorStats, q: float = PERCENTILE) -> tuple[float, float]:
    """The q-th and (100 − q)-th percentiles, read from the histogram (interpolated within a bin)."""
    if stats.histogram is None:
        return minmax(stats)
    edges = stats.edges()
    cumulative = np.cumsum(stats.histogram, dtype=np.float64)
    total = cumulative[-1]

    def at(fraction: float) -> float:
        target = fraction * total
        index = int(np.searchsorted(cumulative, target, side="left"))
        index = min(index, len(stats.histogram) - 1)
        before = cumulative[index - 1] if index else 0.0
        inside = stats.histogram[index]
        share = (target - before) / inside if inside else 0.0
        return float(edges[index] + share * (edges[index + 1] - edges[index]))

    low = min(at(1.0 - q / 100.0), 0.0) if stats.low < 0 else stats.low
    high = max(at(q / 100.0), 0.0)
    return low, high


def entropy(stats: TensorStats) -> tuple[float, float]:
    """A threshold T on |x| minimising KL(P_T ‖ Q_T); the range is [-T, T], or [0, T] when no value is negative."""
    if stats.histogram is None:
        return minmax(stats)
    magnitudes = stats.magnitude_histogram()
    bins = len(magnitudes)
    levels = 256 if stats.low >= 0 else 128  # unsigned: 256 levels on [0, T]; signed: 128 per side
    width = stats.magnitude_max / bins
    best, best_divergence = bins, np.inf
    for stop in range(levels, bins + 1, max(1, (bins - levels) // 120)):
        divergence = _clipped_divergence(magnitudes, stop, levels)
        if divergence < best_divergence - 1e-12:
            best, best_divergence = stop, divergence
    threshold = best * width
    return (0.0, threshold) if stats.low >= 0 else (-threshold, threshold)


def _clipped_divergence(histogram: np.ndarray, stop: int, levels: int) -> float:
    reference = histogram[:stop].astype(np.float64).copy()
    reference[-1] += histogram[stop:].sum()  # clipped values land in the last bin
    if reference.sum() == 0:
        return np.inf
    # Q: the first `stop` bins (without the clipped values) merged into `levels` groups, each
    # group's mass spread evenly over the bins of the group that were non-empty.
    groups = np.minimum((np.arange(stop) * levels) // stop, levels - 1)
    source = histogram[:stop].astype(np.float64)
    nonzero = source > 0
    mass = np.bincount(groups, weights=source, minlength=levels)
    occupied = np.bincount(groups, weights=nonzero.astype(np.float64), minlength=levels)
    candidate = np.where(nonzero, mass[groups] / np.maximum(occupied[groups], 1), 0.0)
    p = reference / reference.sum()
    q = candidate / candidate.sum()
    mask = p > 0
    if np.any(q[mask] == 0):  # only the last bin can be empty in Q yet hold clipped values in P
        q = np.where(mask & (q == 0), 1e-12, q)
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


ESTIMATORS: dict[str, Callable[[TensorStats], tuple[float, float]]] = {
    "minmax": minmax,
    "percentile": percentile,
    "entropy": entropy,
}
