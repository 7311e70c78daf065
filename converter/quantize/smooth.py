"""Smoothing (as in SmoothQuant): move an activation's outlier channels into the weights.

A MatMul's activation often has a few channels far larger than the rest (LayerNorm and GELU
outputs in transformers), and a per-tensor int8 grid sized for them leaves the others with a
handful of levels. Dividing channel k by s_k = max|x_k|^α / max|W_k|^(1−α) and multiplying the
weight's row k by s_k leaves the product unchanged and evens out both; the division is a
Multiply before the FakeQuantize (OpenVINO fuses it into the quantization), so OpenVINO still
runs an int8 MatMul. Layers sharing an activation share its factors (their weights' rows
together decide max|W_k|). Only activations whose channels are imbalanced (the largest channel
peak over IMBALANCE × the median one) are smoothed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from converter.quantize.placement import Layer
from converter.quantize.statistics import TensorStats

ALPHA = 0.5
IMBALANCE = 8.0


def smoothing_factors(layers: Sequence[Layer], stats: Mapping[int, TensorStats], weights: Mapping[int, np.ndarray]) -> dict[tuple[int, int], np.ndarray]:
    """Per activation (producer position, output index): the factors its channels are divided by."""
    groups: dict[tuple[int, int], list[Layer]] = {}
    for layer in layers:
        if layer.op == "MatMul":
            groups.setdefault(layer.activation_key, []).append(layer)
    factors = {}
    for key, members in groups.items():
        item = stats[members[0].position]
        if item.channel_low is None or item.channel_high is None:
            continue
        peak = np.maximum(np.abs(item.channel_low), np.abs(item.channel_high)).astype(np.float64)
        if len(peak) < 2 or not np.all(np.isfinite(peak)) or peak.max() <= IMBALANCE * max(float(np.median(peak)), 1e-12):
            continue
        rows = []
        for layer in members:
            w = np.abs(weights[layer.position]).astype(np.float64)
            rows.append(np.moveaxis(w, layer.input_axis, 0).reshape(w.shape[layer.input_axis], -1).max(axis=1))
        if any(len(r) != len(peak) for r in rows):
            continue
        weight_peak = np.max(rows, axis=0)
        s = np.power(np.maximum(peak, 1e-5), ALPHA) / np.power(np.maximum(weight_peak, 1e-5), 1 - ALPHA)
        factors[key] = np.where(np.isfinite(s) & (s > 0), s, 1.0).astype(np.float32)
    return factors


def smoothed_range(item: TensorStats, s: np.ndarray) -> tuple[float, float]:
    """The min and max of x / s from each channel's range."""
    assert item.channel_low is not None and item.channel_high is not None
    return float(np.min(item.channel_low / s)), float(np.max(item.channel_high / s))
