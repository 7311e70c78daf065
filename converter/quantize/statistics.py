"""Activation statistics: run the FP32 graph on calibration batches with the observed tensors as
extra outputs (onnxruntime via converter.runtime) and keep, per tensor, its range and a histogram.

The first pass takes min and max; estimators that need a distribution get a second pass filling a
fixed-size histogram over that range. Nothing else of an activation is kept, so memory is the
model's own plus a few KiB per tensor.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from converter.ir.graph import Graph, Value

BINS = 2048


@dataclass
class TensorStats:
    low: float
    high: float
    count: int = 0
    histogram: np.ndarray | None = None  # BINS counts over [low, high]
    channel_low: np.ndarray | None = None  # per channel of the last axis, when asked for
    channel_high: np.ndarray | None = None

    def edges(self) -> np.ndarray:
        return np.linspace(self.low, self.high, BINS + 1)

    @property
    def magnitude_max(self) -> float:
        return max(abs(self.low), abs(self.high))

    def magnitude_histogram(self) -> np.ndarray:
        """The histogram of |x| over [0, max|x|], BINS bins (signed bins folded onto magnitudes)."""
        assert self.histogram is not None
        top = self.magnitude_max or 1.0
        centers = (self.edges()[:-1] + self.edges()[1:]) / 2
        index = np.minimum((np.abs(centers) / top * BINS).astype(np.int64), BINS - 1)
        return np.bincount(index, weights=self.histogram, minlength=BINS)


class ActivationRunner:
    """The graph compiled once with `observed` as extra outputs; `run(feeds)` returns them."""

    def __init__(self, graph: Graph, observed: Sequence[Value]):
        from converter.runtime.onnxruntime_backend import OnnxRuntimeExecutable

        self.graph = graph
        self.observed = list(observed)
        parameters = {id(p.outputs[0]): i for i, p in enumerate(graph.parameters)}
        self.from_feed = {i: parameters[id(v)] for i, v in enumerate(self.observed) if id(v) in parameters}
        computed = [v for i, v in enumerate(self.observed) if i not in self.from_feed]
        self.computed_index = [i for i in range(len(self.observed)) if i not in self.from_feed]
        probe = Graph(graph.parameters, list(graph.outputs) + computed, graph.name)
        self.outputs = len(graph.outputs)
        self.executable = OnnxRuntimeExecutable(probe)

    def run(self, feeds: Mapping[str, np.ndarray] | Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(the graph's outputs, the observed tensors)"""
        from converter.validate.runners import ordered_feeds

        inputs = ordered_feeds(self.graph, feeds)
        results = self.executable(inputs)
        observed: list[np.ndarray] = [np.empty(0)] * len(self.observed)
        for i, position in self.from_feed.items():
            observed[i] = np.asarray(inputs[position])
        for i, array in zip(self.computed_index, results[self.outputs :]):
            observed[i] = array
        return results[: self.outputs], observed


def collect(
    graph: Graph,
    observed: Sequence[Value],
    batches: Sequence[Mapping[str, np.ndarray]],
    histograms: bool,
    per_channel: Collection[int] = (),
) -> list[TensorStats]:
    """Per observed value: its range over every batch, with `histograms` its BINS-bin histogram,
    and for the values at the indices `per_channel` the range of each channel of the last axis."""
    runner = ActivationRunner(graph, observed)
    stats = [TensorStats(np.inf, -np.inf) for _ in observed]
    for batch in batches:
        for index, (item, array) in enumerate(zip(stats, runner.run(batch)[1])):
            finite = array[np.isfinite(array)]
            if finite.size:
                item.low = min(item.low, float(finite.min()))
                item.high = max(item.high, float(finite.max()))
                item.count += finite.size
            if index in per_channel and array.ndim and array.size:
                rows = np.where(np.isfinite(array), array, 0).reshape(-1, array.shape[-1])
                low, high = rows.min(axis=0), rows.max(axis=0)
                item.channel_low = low if item.channel_low is None else np.minimum(item.channel_low, low)
                item.channel_high = high if item.channel_high is None else np.maximum(item.channel_high, high)
    for item in stats:
        if not item.count:
            item.low = item.high = 0.0
    if histograms:
        for item in stats:
            item.histogram = np.zeros(BINS, np.int64)
        for batch in batches:
            for item, array in zip(stats, runner.run(batch)[1]):
                if item.high > item.low:
                    counts, _ = np.histogram(array[np.isfinite(array)], bins=BINS, range=(item.low, item.high))
                    item.histogram += counts
    return stats
