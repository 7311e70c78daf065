"""Range estimators on distributions whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from converter.quantize.estimators import entropy, minmax, percentile
from converter.quantize.statistics import BINS, TensorStats


def stats_of(values: np.ndarray) -> TensorStats:
    low, high = float(values.min()), float(values.max())
    histogram, _ = np.histogram(values, bins=BINS, range=(low, high))
    return TensorStats(low, high, values.size, histogram)


def test_minmax_is_the_observed_range() -> None:
    values = np.random.default_rng(0).uniform(-2.0, 3.0, 10_000)
    assert minmax(stats_of(values)) == (values.min(), values.max())


def test_percentile_of_a_normal_distribution_is_near_its_quantile() -> None:
    values = np.random.default_rng(0).standard_normal(2_000_000)
    low, high = percentile(stats_of(values), 99.9)
    assert high == pytest.approx(3.090, abs=0.03)  # Φ⁻¹(0.999)
    assert low == pytest.approx(-3.090, abs=0.03)


def test_percentile_keeps_zero_as_the_low_end_of_a_non_negative_range() -> None:
    values = np.maximum(np.random.default_rng(1).standard_normal(100_000), 0)
    low, high = percentile(stats_of(values))
    assert low == 0.0 and 0 < high <= values.max()


def test_entropy_clips_rare_outliers_of_a_gaussian() -> None:
    rng = np.random.default_rng(2)
    values = np.concatenate([rng.standard_normal(500_000), [40.0, -38.0]])  # two outliers
    low, high = entropy(stats_of(values))
    assert low == -high
    assert 2.5 < high < 10.0  # far inside the outliers, outside most of the mass


def test_entropy_of_a_non_negative_range_is_unsigned_and_keeps_a_uniform_whole() -> None:
    values = np.random.default_rng(3).uniform(0.0, 6.0, 200_000)
    low, high = entropy(stats_of(values))
    assert low == 0.0
    assert high == pytest.approx(6.0, rel=0.05)  # nothing worth clipping in a uniform distribution
