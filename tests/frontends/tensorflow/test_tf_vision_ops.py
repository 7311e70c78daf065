"""TF ops added for detection and audio models: NMS (V1–V5, Combined), CropAndResize, and the
special-case arithmetic (DivNoNan, Xlogy, Expm1, Atan2, ...): frozen TF graph → irforge IR →
OpenVINO, against TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tf_support import check, random, run_ir, tf  # noqa: E402

raw = tf.raw_ops

SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 1e-7, -1e-7, 1e-30, 3.5, -2.25, 100.0, -100.0, np.inf, -np.inf, np.nan], np.float32)


def pairs() -> tuple[np.ndarray, np.ndarray]:
    """Every combination of the special values, as two flat arrays."""
    x, y = np.meshgrid(SPECIAL, SPECIAL, indexing="ij")
    return x.reshape(-1).copy(), y.reshape(-1).copy()


# ---------------------------------------------------------------- special-case arithmetic


def test_no_nan_and_x_ops_at_zeros_infinities_and_nans(tmp_path):
    def f(x, y):
        return [
            raw.DivNoNan(x=x, y=y),
            raw.MulNoNan(x=x, y=y),
            raw.Xdivy(x=x, y=y),
            raw.Xlogy(x=x, y=y),
            raw.Xlog1py(x=x, y=y),
        ]

    check(tmp_path, f, *pairs(), expect_ops=["DivNoNan", "MulNoNan", "Xdivy", "Xlogy", "Xlog1py"])


def test_no_nan_ops_broadcast(tmp_path):
    def f(x, y):
        return [raw.DivNoNan(x=x, y=y), raw.MulNoNan(x=x, y=y)]

    y = np.array([[0.0], [2.0], [-0.5]], np.float32)
    check(tmp_path, f, random(2, 3, 4), y, expect_ops=["DivNoNan", "MulNoNan"])


def test_truncate_div_and_mod(tmp_path):
    def f(a, b, x, y):
        return [raw.TruncateDiv(x=a, y=b), raw.TruncateMod(x=a, y=b), raw.TruncateDiv(x=x, y=y), raw.TruncateMod(x=x, y=y)]

    a = np.array([7, -7, 8, -9, 0, 6], np.int32)
    b = np.array([2, 2, -3, -4, 5, -3], np.int32)
    x = np.array([7.5, -7.5, 5.0, -5.0, 0.25, 9.0], np.float32)
    y = np.array([2.0, 2.0, -3.0, -3.0, 0.1, 3.0], np.float32)
    check(tmp_path, f, a, b, x, y, expect_ops=["TruncateDiv", "TruncateMod"])


def test_truncate_div_int64(tmp_path):
    # (OpenVINO's CPU plugin computes i64 arithmetic in i32: values beyond that range are not tested)
    def f(a, b):
        return raw.TruncateDiv(x=a, y=b)

    check(tmp_path, f, np.array([7, -7, -100001], np.int64), np.array([-2, 2, 3], np.int64), expect_ops=["TruncateDiv"])


def test_expm1_and_log1p_keep_their_precision_near_zero(tmp_path):
    def f(x):
        return [raw.Expm1(x=x), raw.Log1p(x=x)]

    tiny = np.array([1e-10, -1e-10, 3e-8, -3e-8, 1e-6, -1e-6, 1e-4, 0.01, -0.01], np.float32)
    large = np.array([20.0, 88.0, 89.0, -20.0, -104.0, 1e30, -0.999999, -1.0, -1.5], np.float32)
    x = np.concatenate([SPECIAL, tiny, large, random(40) * 3])
    # relative precision: exp(x) - 1 would be off by 100% at 1e-10
    check(tmp_path, f, x, expect_ops=["Expm1", "Log1p"], rtol=2e-6, atol=0.0)


def test_atan2_every_quadrant_signed_zeros_and_infinities(tmp_path):
    def f(y, x):
        return raw.Atan2(y=y, x=x)

    y, x = pairs()
    check(tmp_path, f, np.concatenate([y, random(50)]), np.concatenate([x, random(50, seed=1)]), expect_ops=["Atan2"], rtol=1e-6, atol=1e-7)


def test_atan2_keeps_the_sign_of_zero_results(tmp_path):
    def f(y, x):
        return raw.Atan2(y=y, x=x)

    y = np.array([0.0, -0.0, 0.0, -0.0, -0.0], np.float32)
    x = np.array([1.0, 1.0, 0.0, 0.0, np.inf], np.float32)
    graph = check(tmp_path, f, y, x, expect_ops=["Atan2"])
    got = run_ir(graph, tmp_path / "signs", {"x0": y, "x1": x})[0]
    assert list(np.signbit(got)) == list(np.signbit(np.arctan2(y, x)))


def test_is_nan_is_inf_is_finite(tmp_path):
    def f(x):
        return [raw.IsNan(x=x), raw.IsInf(x=x), raw.IsFinite(x=x)]

    check(tmp_path, f, SPECIAL, expect_ops=["IsNan", "IsInf", "IsFinite"])


@pytest.mark.parametrize("lower, upper", [(0, 0), (1, 2), (-1, 0), (0, -1), (-1, -1), (3, 1), (4, 5)])
def test_matrix_band_part(tmp_path, lower, upper):
    def f(x):
        return raw.MatrixBandPart(input=x, num_lower=lower, num_upper=upper)

    check(tmp_path, f, random(2, 4, 5), expect_ops=["MatrixBandPart"])


def test_matrix_band_part_dynamic_sizes_and_bounds(tmp_path):
    def f(x, bounds):
        return raw.MatrixBandPart(input=x, num_lower=bounds[0], num_upper=bounds[1])

    check(tmp_path, f, random(3, 5, 4), np.array([1, 0], np.int64), shapes=[[None, None, None], [2]], expect_ops=["MatrixBandPart"])


def test_l2_loss(tmp_path):
    def f(x, v):
        return [raw.L2Loss(t=x), raw.L2Loss(t=v)]

    check(tmp_path, f, random(3, 4, 5), np.array(2.5, np.float32), shapes=[[None, 4, None], []], expect_ops=["L2Loss"])


def test_reciprocal_inv_bias_add_v1(tmp_path):
    def f(x):
        return [raw.Reciprocal(x=x), raw.Inv(x=x), raw.BiasAddV1(value=x, bias=tf.constant([1.0, -2.0, 0.5]))]

    check(tmp_path, f, random(2, 4, 3) + 3.0, expect_ops=["Reciprocal", "Inv", "BiasAddV1"])
