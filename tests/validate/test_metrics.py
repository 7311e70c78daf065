"""compare / measure / top-k agreement / accuracy on crafted arrays with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from converter.validate.metrics import accuracy, class_scores, compare, cosine_similarity, measure, top_k_agreement

F32 = np.float32


def arr(*values, dtype=F32) -> np.ndarray:
    return np.array(values, dtype)


# ------------------------------------------------------------------ compare


def test_compare_allclose_semantics_per_element():
    expected = [arr(1.0, 100.0, 0.0)]
    # bound per element: atol + rtol·|expected| = 0.1 + 0.01·[1, 100, 0] = [0.11, 1.1, 0.1]
    assert compare(expected, [arr(1.105, 101.09, -0.09)], rtol=0.01, atol=0.1).ok
    result = compare(expected, [arr(1.0, 100.0, 0.11)], rtol=0.01, atol=0.1)
    assert not result.ok
    assert result.detail == "output 0: max abs diff 0.11"
    assert result.max_abs == [pytest.approx(0.11, rel=1e-6)]


def test_compare_infinite_differences_are_reported_as_inf():
    # 0.5 where the source has 0 is infinitely far relatively; inf where the source has 1.0 is an
    # infinite difference: both inf, not numpy.nan_to_num's stand-in 1.8e308
    zero = compare([arr(0.0, 1.0)], [arr(0.5, 1.0)], 0.0, 0.0)
    assert zero.max_rel == [math.inf]
    infinite = compare([arr(1.0)], [arr(math.inf)], 0.0, 0.0)
    assert infinite.max_abs == [math.inf]


def test_compare_max_rel_is_per_element():
    result = compare([arr(2.0, -4.0)], [arr(2.5, -4.0)], rtol=0.5, atol=0.0)
    assert result.ok
    assert result.max_abs == [0.5]
    assert result.max_rel == [0.25]


def test_compare_per_tensor_scales_by_the_largest_magnitude():
    expected, actual = [arr(100.0, 0.001)], [arr(100.0, 0.5)]
    assert not compare(expected, actual, rtol=0.01, atol=0.0).ok  # 0.5 ≫ 0.01·0.001
    assert compare(expected, actual, rtol=0.01, atol=0.0, per_tensor=True).ok  # 0.5 ≤ 0.01·100
    assert not compare(expected, [arr(98.0, 0.001)], rtol=0.01, atol=0.0, per_tensor=True).ok  # 2 > 1


def test_compare_nans_and_infinities():
    nan, inf = math.nan, math.inf
    assert compare([arr(nan, inf, -inf, 1.0)], [arr(nan, inf, -inf, 1.0)], 0.0, 0.0).ok
    one_nan = compare([arr(nan, 1.0)], [arr(0.0, 1.0)], 1.0, 1.0)
    assert not one_nan.ok and one_nan.max_abs == [inf]
    assert not compare([arr(inf)], [arr(-inf)], 1.0, 1.0).ok
    assert not compare([arr(1.0)], [arr(nan)], 1.0, 1.0).ok


def test_compare_shape_and_count_mismatch():
    result = compare([arr(1.0, 2.0), arr(3.0)], [arr(1.0, 2.0, 0.0), arr(3.0)], 1e-4, 1e-5)
    assert not result.ok
    assert result.detail == "output 0: shape (3,), expected (2,)"
    assert result.max_abs == [math.inf, 0.0]
    counted = compare([arr(1.0)], [arr(1.0), arr(2.0)], 1e-4, 1e-5)
    assert (counted.ok, counted.detail) == (False, "2 outputs, expected 1")


def test_compare_integers_exactly_and_dtypes_must_agree():
    assert compare([np.array([1, 2], np.int64)], [np.array([1, 2], np.int64)], 1.0, 1.0).ok
    differ = compare([np.array([1, 2], np.int64)], [np.array([1, 3], np.int64)], 1.0, 1.0)
    assert not differ.ok and differ.max_abs == [math.inf]
    dtype = compare([np.array([1, 2], np.int64)], [np.array([1, 2], np.int32)], 1.0, 1.0)
    assert (dtype.ok, dtype.detail) == (False, "output 0: dtype int32, expected int64")


# ------------------------------------------------------------------ measure


def test_measure_over_several_batches():
    expected = [arr(1.0, 2.0), arr(-4.0, 0.0)]
    actual = [arr(1.0, 2.5), arr(-4.0, 0.0)]
    metrics = measure("y", expected, actual, rtol=0.3, atol=0.0)
    assert metrics.name == "y"
    assert metrics.max_abs == 0.5
    assert metrics.max_rel == 0.5 / 4.0  # relative to the largest |source| over every batch, not to 2.0
    assert metrics.cosine == pytest.approx(22.0 / math.sqrt(21.0 * 23.25), abs=1e-12)
    assert metrics.within_tolerance  # 0.5 ≤ 0.3·2
    assert metrics.problem == ""
    assert math.isnan(metrics.top1_agreement) and math.isnan(metrics.top5_agreement)  # [2] is no classifier
    assert not measure("y", expected, actual, rtol=0.2, atol=0.0).within_tolerance  # 0.5 > 0.2·2


def test_measure_cosine_of_a_known_pair():
    metrics = measure("y", [arr(1.0, 0.0)], [arr(1.0, 1.0)], 1.0, 1.0)
    assert metrics.cosine == pytest.approx(1.0 / math.sqrt(2.0), abs=1e-12)
    assert measure("y", [arr(1.0, 2.0)], [arr(-1.0, -2.0)], 1.0, 1.0).cosine == pytest.approx(-1.0, abs=1e-12)
    assert cosine_similarity(np.zeros(3), np.zeros(3)) == 1.0
    assert cosine_similarity(np.zeros(3), np.ones(3)) == 0.0


def test_measure_identical_outputs():
    expected = [np.linspace(-3, 3, 12, dtype=F32).reshape(3, 4)]
    metrics = measure("logits", expected, [e.copy() for e in expected], 0.0, 0.0)
    assert (metrics.max_abs, metrics.max_rel, metrics.cosine, metrics.within_tolerance) == (0.0, 0.0, 1.0, True)


def test_measure_shape_problem():
    metrics = measure("y", [arr(1.0, 2.0), arr(1.0, 2.0)], [arr(1.0, 2.0), arr(1.0, 2.0, 3.0)], 1.0, 1.0)
    assert metrics.problem == "shape [3], expected [2]"
    assert (metrics.max_abs, metrics.max_rel) == (math.inf, math.inf)
    assert math.isnan(metrics.cosine)


def test_measure_non_finite_where_the_source_is_finite():
    metrics = measure("y", [arr(1.0, 2.0), arr(3.0, 4.0)], [arr(1.0, 2.0), arr(3.0, math.nan)], 1.0, 1.0)
    assert metrics.problem == "not finite where the source is"
    assert not metrics.within_tolerance
    assert metrics.max_abs == math.inf
    assert metrics.cosine == 1.0  # over the finite elements


def test_measure_nan_in_the_source_and_the_ir_is_no_problem():
    metrics = measure("y", [arr(math.nan, 2.0)], [arr(math.nan, 2.0)], 0.0, 0.0)
    assert (metrics.problem, metrics.within_tolerance, metrics.max_abs) == ("", True, 0.0)


def test_measure_integer_outputs():
    same = measure("ids", [np.array([3, 1], np.int64)], [np.array([3, 1], np.int64)], 0.0, 0.0)
    assert (same.max_abs, same.max_rel, same.cosine, same.within_tolerance) == (0.0, 0.0, 1.0, True)
    differ = measure("ids", [np.array([3, 1], np.int64)], [np.array([3, 2], np.int64)], 1.0, 1.0)
    assert (differ.max_abs, differ.cosine, differ.within_tolerance) == (math.inf, 0.0, False)
    dtype = measure("ids", [np.array([3, 1], np.int64)], [np.array([3, 1], np.int32)], 1.0, 1.0)
    assert dtype.problem == "dtype int32, expected int64"


def test_measure_float16_against_float32_compares_values():
    """measure accepts a float output of another float type (its dtype check lets float/float pass);
    identical values must then be within tolerance — or the row fails with no problem to show."""
    expected = [arr(0.5, -1.25, 2.0)]
    metrics = measure("y", expected, [expected[0].astype(np.float16)], 1e-4, 1e-5)
    assert (metrics.max_abs, metrics.max_rel, metrics.problem) == (0.0, 0.0, "")
    assert metrics.within_tolerance


# ------------------------------------------------------------------ top-k, accuracy, class scores


def crafted_scores() -> tuple[np.ndarray, np.ndarray]:
    """8 samples × 10 classes. Source top-1 is class i; the IR moves it to rank 0, 1, …"""
    expected = np.zeros((8, 10), F32)
    actual = np.zeros((8, 10), F32)
    ranks = [0, 0, 0, 0, 1, 4, 5, 9]  # rank of the source's top-1 class among the IR's scores
    for sample, rank in enumerate(ranks):
        expected[sample] = np.linspace(0, 1, 10)[::-1]  # class 0 highest
        expected[sample] = np.roll(expected[sample], sample)  # top-1 class = sample
        order = [c for c in range(10) if c != sample]
        order.insert(rank, sample)  # IR class order, highest first
        actual[sample, order] = np.linspace(1, 0, 10)
    return expected, actual


def test_top_k_agreement_of_a_crafted_pair():
    expected, actual = crafted_scores()
    assert list(expected.argmax(axis=1)) == list(range(8))
    top1, top5 = top_k_agreement([expected[:3], expected[3:]], [actual[:3], actual[3:]])
    assert top1 == 4 / 8  # ranks 0, 0, 0, 0
    assert top5 == 6 / 8  # ranks 0…4


def test_top_k_agreement_not_a_classifier():
    vectors = [np.zeros((2, 3, 4, 4), F32)]
    assert all(math.isnan(v) for v in top_k_agreement(vectors, vectors))
    scalars = [np.zeros((4, 1), F32)]
    assert all(math.isnan(v) for v in top_k_agreement(scalars, scalars))
    ints = [np.zeros((4, 10), np.int64)]
    assert all(math.isnan(v) for v in top_k_agreement(ints, ints))
    assert all(math.isnan(v) for v in top_k_agreement([], []))


def test_top5_is_nan_with_five_classes_or_fewer():
    expected = np.array([[0.1, 0.9, 0, 0, 0], [0.8, 0.2, 0, 0, 0]], F32)
    actual = np.array([[0.1, 0.9, 0, 0, 0], [0.2, 0.8, 0, 0, 0]], F32)
    top1, top5 = top_k_agreement([expected], [actual])
    assert top1 == 0.5
    assert math.isnan(top5)


def test_measure_reports_top_k_of_a_classifier_output():
    expected, actual = crafted_scores()
    metrics = measure("logits", [expected], [actual], 1.0, 1.0)
    assert (metrics.top1_agreement, metrics.top5_agreement) == (0.5, 0.75)


def test_accuracy_against_labels():
    scores = [np.eye(4, dtype=F32)[[0, 1, 2]], np.eye(4, dtype=F32)[[3, 3]]]  # predicts 0, 1, 2, 3, 3
    assert accuracy(scores, np.array([0, 1, 0, 3, 2])) == 3 / 5
    assert accuracy(scores, np.array([[0], [1], [2], [3], [3]])) == 1.0  # labels of any shape, one per sample
    assert math.isnan(accuracy(scores, np.array([0, 1, 2])))  # one label per sample, or no figure
    assert math.isnan(accuracy([np.zeros((5, 4, 2), F32)], np.zeros(5)))


def test_class_scores():
    nchw = np.arange(12, dtype=F32).reshape(3, 4, 1, 1)
    scores = class_scores(nchw)
    assert scores.shape == (3, 4) and scores.dtype == np.float64
    np.testing.assert_array_equal(scores, np.arange(12).reshape(3, 4))
    assert class_scores(np.zeros((3, 4), F32)).shape == (3, 4)
    assert class_scores(np.zeros((3, 4, 2, 1), F32)) is None  # spatial maps, not scores
    assert class_scores(np.zeros((3, 1), F32)) is None  # one class
    assert class_scores(np.zeros(4, F32)) is None
    assert class_scores(np.zeros((3, 4), np.int64)) is None
