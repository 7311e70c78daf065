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
    y, x = np.concatenate([y, random(50)]), np.concatenate([x, random(50, seed=1)])
    check(tmp_path, f, y, x, expect_ops=["Atan2"], rtol=1e-6, atol=1e-7)


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


# ---------------------------------------------------------------- NonMaxSuppression


def same_on_onnxruntime(graph, inputs: list[np.ndarray]) -> None:
    """The IR's ONNX lowering (what --verify runs) gives OpenVINO's answers."""
    from converter.runtime import execute

    for got, want in zip(execute(graph, inputs, "onnxruntime"), execute(graph, inputs, "openvino")):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def detection_boxes(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping boxes, corners in either order, and distinct scores."""
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 10, (count, 2))
    size = rng.uniform(1, 4, (count, 2))
    boxes = np.concatenate([corner, corner + size], axis=1)
    flipped = rng.random(count) < 0.3
    boxes[flipped] = boxes[flipped][:, [2, 3, 0, 1]]
    scores = rng.permutation(count) / count + 0.01
    return boxes.astype(np.float32), scores.astype(np.float32)


# IoU(0, 1) = IoU(4, 5) = 0.5 exactly, IoU(0, 3) = 0.8; box 5 has its corners swapped.
TIES_BOXES = np.array([[0, 0, 1, 1], [0, 0, 1, 0.5], [0, 0.5, 1, 1], [0, 0, 1, 0.8], [2, 2, 3, 3], [3, 3, 2, 2.5]], np.float32)
TIES_SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], np.float32)


@pytest.mark.parametrize("iou", [0.5, 0.0, 0.3, 1.0])
def test_nms_v1_v2_v3_keep_boxes_at_exactly_the_iou_threshold(tmp_path, iou):
    def f(boxes, scores):
        return [
            raw.NonMaxSuppression(boxes=boxes, scores=scores, max_output_size=10, iou_threshold=iou),
            raw.NonMaxSuppressionV2(boxes=boxes, scores=scores, max_output_size=4, iou_threshold=iou),
            raw.NonMaxSuppressionV3(boxes=boxes, scores=scores, max_output_size=10, iou_threshold=iou, score_threshold=0.5),
        ]

    graph = check(tmp_path, f, TIES_BOXES, TIES_SCORES, expect_ops=["NonMaxSuppression", "NonMaxSuppressionV2", "NonMaxSuppressionV3"])
    same_on_onnxruntime(graph, [TIES_BOXES, TIES_SCORES])


@pytest.mark.parametrize("pad", [False, True])
def test_nms_v4_pads_to_max_output_size(tmp_path, pad):
    def f(boxes, scores):
        def v4(size, score):
            return raw.NonMaxSuppressionV4(
                boxes=boxes, scores=scores, max_output_size=size, iou_threshold=0.4, score_threshold=score, pad_to_max_output_size=pad
            )

        return [*v4(3, 0.1), *v4(60, 0.3)]

    boxes, scores = detection_boxes(40)
    graph = check(tmp_path, f, boxes, scores, expect_ops=["NonMaxSuppressionV4"])
    same_on_onnxruntime(graph, [boxes, scores])


def test_nms_with_run_time_sizes_and_thresholds(tmp_path):
    def f(boxes, scores, max_size, iou, score):
        indices, valid = raw.NonMaxSuppressionV4(
            boxes=boxes, scores=scores, max_output_size=max_size, iou_threshold=iou, score_threshold=score, pad_to_max_output_size=True
        )
        return [indices, valid]

    boxes, scores = detection_boxes(30, seed=3)
    inputs = [boxes, scores, np.array(12, np.int32), np.array(0.5, np.float32), np.array(0.2, np.float32)]
    check(tmp_path, f, *inputs, shapes=[[None, 4], [None], [], [], []], expect_ops=["NonMaxSuppressionV4"])
    ties = [TIES_BOXES, TIES_SCORES, np.array(10, np.int32), np.array(0.5, np.float32), np.array(-np.inf, np.float32)]
    check(tmp_path / "ties", f, *ties, shapes=[[None, 4], [None], [], [], []], expect_ops=["NonMaxSuppressionV4"])


@pytest.mark.parametrize("sigma, iou, score", [(0.0, 0.5, 0.0), (0.5, 0.5, 0.0), (0.5, 0.1, 0.3), (0.2, 1.0, -np.inf)])
@pytest.mark.parametrize("pad", [False, True])
def test_nms_v5_soft_nms_scores(tmp_path, sigma, iou, score, pad):
    def f(boxes, scores):
        outputs = raw.NonMaxSuppressionV5(
            boxes=boxes, scores=scores, max_output_size=8, iou_threshold=iou, score_threshold=score, soft_nms_sigma=sigma,
            pad_to_max_output_size=pad,
        )
        return list(outputs)

    check(tmp_path, f, TIES_BOXES, TIES_SCORES, expect_ops=["NonMaxSuppressionV5"])
    boxes, scores = detection_boxes(25, seed=1)
    check(tmp_path / "random", f, boxes, scores, expect_ops=["NonMaxSuppressionV5"], rtol=1e-5)


def test_nms_half_precision(tmp_path):
    def f(boxes, scores):
        outputs = raw.NonMaxSuppressionV5(
            boxes=boxes, scores=scores, max_output_size=5, iou_threshold=0.4, score_threshold=0.1, soft_nms_sigma=0.0
        )
        return list(outputs)

    boxes, scores = detection_boxes(20, seed=2)
    check(tmp_path, f, boxes.astype(np.float16), scores.astype(np.float16), expect_ops=["NonMaxSuppressionV5"])


def test_tf_image_nms_functions(tmp_path):
    def f(boxes, scores):
        # (non_max_suppression_padded is a while loop in TF 2, not the V4 op)
        selected, soft_scores = tf.image.non_max_suppression_with_scores(boxes, scores, 6, iou_threshold=0.3, soft_nms_sigma=0.3)
        return [tf.gather(boxes, tf.image.non_max_suppression(boxes, scores, 6, iou_threshold=0.3)), selected, soft_scores]

    boxes, scores = detection_boxes(30, seed=4)
    check(tmp_path, f, boxes, scores, rtol=1e-5)


# ---------------------------------------------------------------- CombinedNonMaxSuppression


def combined_inputs(batch: int, count: int, q: int, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    corner = rng.uniform(-0.1, 0.8, (batch, count, q, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(0.05, 0.4, (batch, count, q, 2))], axis=-1)
    scores = np.stack([rng.permutation(count * classes).reshape(count, classes) for _ in range(batch)]) / (count * classes)
    return boxes.astype(np.float32), scores.astype(np.float32)


@pytest.mark.parametrize("q", [1, 3])
@pytest.mark.parametrize("pad_per_class, clip_boxes", [(False, True), (True, False), (True, True)])
@pytest.mark.parametrize("per_class, total", [(4, 10), (2, 3), (10, 200)])
def test_combined_nms(tmp_path, q, pad_per_class, clip_boxes, per_class, total):
    def f(boxes, scores):
        return list(
            raw.CombinedNonMaxSuppression(
                boxes=boxes, scores=scores, max_output_size_per_class=per_class, max_total_size=total,
                iou_threshold=0.45, score_threshold=0.2, pad_per_class=pad_per_class, clip_boxes=clip_boxes,
            )
        )

    boxes, scores = combined_inputs(2, 16, q, 3)
    graph = check(tmp_path, f, boxes, scores, expect_ops=["CombinedNonMaxSuppression"])
    same_on_onnxruntime(graph, [boxes, scores])


def test_combined_nms_dynamic_batch(tmp_path):
    def f(boxes, scores):
        return list(tf.image.combined_non_max_suppression(boxes, scores, 5, 8, iou_threshold=0.5, score_threshold=0.1))

    boxes, scores = combined_inputs(3, 12, 1, 4, seed=2)
    check(tmp_path, f, boxes, scores, shapes=[[None, 12, 1, 4], [None, 12, 4]], expect_ops=["CombinedNonMaxSuppression"])


# ---------------------------------------------------------------- CropAndResize


def crop_boxes() -> np.ndarray:
    return np.array(
        [
            [0.0, 0.0, 1.0, 1.0],  # the whole image: align-corners resize
            [0.1, 0.2, 0.7, 0.9],
            [0.8, 0.9, 0.2, 0.1],  # flipped both ways
            [-0.2, 0.3, 0.6, 1.3],  # partly outside: extrapolated rows and columns
            [0.5, 0.5, 0.5, 0.5],  # a point
            [0.25, 0.0, 0.75, 1.0],
        ],
        np.float32,
    )


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
@pytest.mark.parametrize("crop", [(5, 7), (1, 4), (3, 1), (1, 1)])
def test_crop_and_resize(tmp_path, method, crop):
    def f(image, boxes, box_ind):
        return raw.CropAndResize(
            image=image, boxes=boxes, box_ind=box_ind, crop_size=list(crop), method=method, extrapolation_value=-3.5
        )

    box_ind = np.array([0, 1, 2, 1, 0, 2], np.int32)
    check(tmp_path, f, random(3, 9, 11, 4), crop_boxes(), box_ind, expect_ops=["CropAndResize"], rtol=1e-5, atol=1e-5)


def test_crop_and_resize_dynamic_image_integer_pixels(tmp_path):
    def f(image, boxes, box_ind):
        return tf.image.crop_and_resize(image, boxes, box_ind, [6, 5])

    image = np.random.default_rng(0).integers(0, 255, (2, 13, 8, 3)).astype(np.uint8)
    boxes = np.concatenate([crop_boxes(), np.random.default_rng(1).uniform(-0.1, 1.1, (20, 4)).astype(np.float32)])
    box_ind = np.arange(len(boxes), dtype=np.int32) % 2
    shapes = [[None, None, None, 3], [None, 4], [None]]
    check(tmp_path, f, image, boxes, box_ind, shapes=shapes, expect_ops=["CropAndResize"], rtol=1e-5, atol=1e-4)
