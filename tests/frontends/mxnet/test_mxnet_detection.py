"""_contrib_MultiBoxDetection (SSD's detection head): checkpoints written in the test, converted, run
from the IR on disk in OpenVINO, against the numpy reference of MXNet's CPU kernel
(mxnet_reference.multibox_detection) — no MXNet runs here; with IRFORGE_MXNET_PYTHON naming an
interpreter that has mxnet, the SSD symbol is checked against real MXNet too. Class ids must be equal;
scores and boxes within 1e-5. Random inputs are continuous, so scores, classes and IoUs do not tie
(ties are tested on their own, built on purpose)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from converter.errors import UnsupportedOpsError
from converter.frontends.mxnet import convert_mxnet
from mxnet_files import SymbolBuilder, assert_close, mxnet_outputs, run_converted, write_checkpoint
from mxnet_reference import run_reference

RTOL, ATOL = 1e-5, 1e-6


def softmax(logits: np.ndarray, axis: int = 1) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)


def random_inputs(batches: int = 2, classes: int = 4, anchors: int = 48, seed: int = 0) -> dict[str, np.ndarray]:
    """Softmax probabilities, loc offsets of SSD's scale and well-formed anchors in corner form,
    crowded enough in [0, 1] that NMS has work and clipping has edges."""
    rng = np.random.default_rng(seed)
    centre = rng.uniform(0.1, 0.9, (anchors, 2))
    half = rng.uniform(0.05, 0.3, (anchors, 2))
    return {
        "cls_prob": softmax(rng.normal(0, 2, (batches, classes, anchors))),
        "loc_pred": rng.normal(0, 1, (batches, anchors * 4)).astype(np.float32),
        "anchor": np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)[None],
    }


def detection_checkpoint(folder: Path, feeds: dict[str, np.ndarray], declare_batch: bool = True, **attrs: object) -> Path:
    b = SymbolBuilder()
    inputs = [b.var(name, feeds[name].shape if declare_batch else (0, *feeds[name].shape[1:])) for name in ("cls_prob", "loc_pred")]
    det = b.op("_contrib_MultiBoxDetection", "det", *inputs, b.var("anchor", feeds["anchor"].shape), **attrs)
    return write_checkpoint(folder, "det", b, [det], {})


def assert_detections(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_array_equal(actual[..., 0], expected[..., 0])
    assert_close(actual, expected, RTOL, ATOL)


def row_kinds(rows: np.ndarray) -> dict[str, int]:
    """How many rows are detections, marked −1 with their score kept (suppressed, past nms_topk), all −1."""
    empty = np.all(rows == -1, axis=-1)
    return {"kept": int((rows[..., 0] >= 0).sum()), "marked": int(((rows[..., 0] < 0) & ~empty).sum()), "empty": int(empty.sum())}


CASES = {
    "defaults": {},
    "threshold_nms": {"threshold": 0.3, "nms_threshold": 0.3},
    "force_suppress": {"threshold": 0.2, "nms_threshold": 0.4, "force_suppress": True},
    "nms_topk": {"threshold": 0.25, "nms_topk": 7},
    "nms_topk_force": {"threshold": 0.25, "nms_topk": 12, "force_suppress": True, "nms_threshold": 0.2},
    "no_clip_variances": {"clip": False, "variances": (0.2, 0.2, 0.1, 0.1), "nms_threshold": 0.45},
    "no_nms": {"threshold": 0.3, "nms_threshold": 0.0},
    "no_nms_above_one": {"threshold": 0.3, "nms_threshold": 1.5, "nms_topk": 5},
    "nms_threshold_one": {"threshold": 0.3, "nms_threshold": 1.0},
    "background_id_ignored": {"threshold": 0.3, "background_id": 2},
    "nothing_valid": {"threshold": 0.9999},
}
# What each case must contain, so that it tests what it says (counts over both batches).
MUST = {
    "defaults": ("kept", "marked"),
    "threshold_nms": ("kept", "marked", "empty"),
    "force_suppress": ("kept", "marked", "empty"),
    "nms_topk": ("kept", "marked", "empty"),
    "nms_topk_force": ("kept", "marked", "empty"),
    "no_clip_variances": ("kept", "marked"),
    "no_nms": ("kept", "empty"),
    "no_nms_above_one": ("kept", "empty"),
    "nms_threshold_one": ("kept", "empty"),
    "background_id_ignored": ("kept", "marked", "empty"),
    "nothing_valid": ("empty",),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_random_inputs(name: str, tmp_path: Path) -> None:
    feeds = random_inputs()
    path = detection_checkpoint(tmp_path, feeds, **CASES[name])
    expected = run_reference(path, {}, {}, feeds)[0]
    kinds = row_kinds(expected)
    assert all(kinds[kind] > 0 for kind in MUST[name]), kinds
    if name.startswith("no_nms"):  # no sort: the valid rows stay in anchor order
        assert kinds["marked"] == 0 and not np.all(np.diff(expected[0, : kinds["kept"] // 2, 1]) <= 0)
    assert_detections(run_converted(path, feeds, tmp_path)[0], expected)


def test_dynamic_batch_and_many_anchors(tmp_path: Path) -> None:
    """Batch unknown at conversion (0 in __shape__), three batches, 400 anchors, five classes."""
    feeds = random_inputs(batches=3, classes=6, anchors=400, seed=1)
    path = detection_checkpoint(tmp_path, feeds, declare_batch=False, threshold=0.2, nms_topk=150)
    expected = run_reference(path, {}, {}, feeds)[0]
    assert all(count > 0 for count in row_kinds(expected).values())
    assert_detections(run_converted(path, feeds, tmp_path)[0], expected)


def test_structured_boxes_with_known_answers(tmp_path: Path) -> None:
    """Zero offsets decode to the anchors themselves: the rows are written out by hand."""
    anchors = np.array([[0.10, 0.10, 0.50, 0.50], [0.12, 0.10, 0.52, 0.50], [0.60, 0.60, 0.90, 0.90], [0.10, 0.12, 0.50, 0.52]], np.float32)
    cls = np.array([[[0.2, 0.1, 0.65, 0.3], [0.7, 0.8, 0.15, 0.1], [0.1, 0.1, 0.2, 0.6]]], np.float32)  # [1, 3, 4]
    feeds = {"cls_prob": cls, "loc_pred": np.zeros((1, 16), np.float32), "anchor": anchors[None]}
    boxes = {i: list(anchors[i]) for i in range(4)}
    # Anchor 2's best is 0.2 < 0.25: invalid. Sorted: 1 (0.8), 0 (0.7), 3 (0.6, other class).
    answers = {
        (): [[0, 0.8, *boxes[1]], [-1, 0.7, *boxes[0]], [1, 0.6, *boxes[3]], [-1] * 6],
        (("force_suppress", True),): [[0, 0.8, *boxes[1]], [-1, 0.7, *boxes[0]], [-1, 0.6, *boxes[3]], [-1] * 6],
        # nms_topk 1: row 0 is the best; rows 1-2 hold the valid rows 1 and 2 in anchor order (anchors 1, 3), class -1.
        (("nms_topk", 1),): [[0, 0.8, *boxes[1]], [-1, 0.8, *boxes[1]], [-1, 0.6, *boxes[3]], [-1] * 6],
        (("nms_threshold", 0.0),): [[0, 0.7, *boxes[0]], [0, 0.8, *boxes[1]], [1, 0.6, *boxes[3]], [-1] * 6],
    }
    for index, (extra, rows) in enumerate(answers.items()):
        path = detection_checkpoint(tmp_path / str(index), feeds, threshold=0.25, **dict(extra))
        wanted = np.array([rows], np.float32)
        expected = run_reference(path, {}, {}, feeds)[0]
        assert_detections(expected, wanted)
        assert_detections(run_converted(path, feeds, tmp_path / str(index))[0], wanted)


def test_ties_follow_mxnet_order(tmp_path: Path) -> None:
    """Equal probabilities: the first best class wins (MXNet's strict >), equal scores keep anchor
    order (std::stable_sort), and equal-score boxes suppress later anchors, never earlier ones."""
    rng = np.random.default_rng(3)
    anchors_count = 24
    levels = np.array([0.3, 0.5, 0.7], np.float32)
    cls = np.zeros((2, 4, anchors_count), np.float32)
    for n in range(2):
        for i in range(anchors_count):
            best = levels[rng.integers(3)]
            tied = rng.choice([1, 2, 3], size=rng.integers(1, 4), replace=False)
            cls[n, tied, i] = best  # one to three classes share the best probability
            cls[n, 0, i] = 1 - best
    centre = np.repeat(rng.uniform(0.3, 0.7, (6, 2)), 4, axis=0)  # four anchors per place: heavy overlap
    anchors = np.concatenate([centre - 0.15, centre + 0.15], axis=1).astype(np.float32)[None]
    loc = (rng.normal(0, 0.3, (2, anchors_count * 4))).astype(np.float32)
    feeds = {"cls_prob": cls, "loc_pred": loc, "anchor": anchors}
    for index, attrs in enumerate([{"nms_threshold": 0.5}, {"nms_threshold": 0.5, "force_suppress": True}, {"nms_topk": 9}]):
        path = detection_checkpoint(tmp_path / str(index), feeds, threshold=0.2, **attrs)
        expected = run_reference(path, {}, {}, feeds)[0]
        assert row_kinds(expected)["marked"] > 0
        assert_detections(run_converted(path, feeds, tmp_path / str(index))[0], expected)


def test_iou_equal_to_the_threshold_suppresses(tmp_path: Path) -> None:
    """MXNet suppresses at IoU >= nms_threshold. Binary fractions decode exactly: box 1 is the lower
    half of box 0 (IoU exactly 0.5); box 2 overlaps box 0 by 1/3 and stays."""
    anchors = np.array([[0, 0, 0.5, 0.5], [0, 0, 0.5, 0.25], [0.25, 0, 0.75, 0.5]], np.float32)
    cls = np.array([[[0.1, 0.2, 0.3], [0.9, 0.8, 0.7]]], np.float32)
    feeds = {"cls_prob": cls, "loc_pred": np.zeros((1, 12), np.float32), "anchor": anchors[None]}
    wanted = np.array([[[0, 0.9, *anchors[0]], [-1, 0.8, *anchors[1]], [0, 0.7, *anchors[2]]]], np.float32)
    path = detection_checkpoint(tmp_path, feeds, nms_threshold=0.5)
    assert_detections(run_reference(path, {}, {}, feeds)[0], wanted)
    assert_detections(run_converted(path, feeds, tmp_path)[0], wanted)


def test_one_class_only_gives_empty_rows(tmp_path: Path) -> None:
    feeds = random_inputs(batches=1, classes=1, anchors=5)
    path = detection_checkpoint(tmp_path, feeds)
    expected = run_reference(path, {}, {}, feeds)[0]
    assert np.all(expected == -1)
    assert_detections(run_converted(path, feeds, tmp_path)[0], expected)


def test_graph_is_nms_not_detection_output(tmp_path: Path) -> None:
    feeds = random_inputs()
    per_class = convert_mxnet(detection_checkpoint(tmp_path / "a", feeds)).op_histogram()
    across = convert_mxnet(detection_checkpoint(tmp_path / "b", feeds, force_suppress=True)).op_histogram()
    unsorted = convert_mxnet(detection_checkpoint(tmp_path / "c", feeds, nms_threshold=0)).op_histogram()
    assert per_class["NonMaxSuppression"] == 1 and per_class["OneHot"] == 1 and "DetectionOutput" not in per_class
    assert across["NonMaxSuppression"] == 1 and "OneHot" not in across
    assert "NonMaxSuppression" not in unsorted and unsorted["TopK"] == 2  # best class, compaction


# ------------------------------------------------------------------ an SSD-style symbol, end to end


def ssd_checkpoint(folder: Path, classes: int = 3) -> tuple[Path, dict[str, np.ndarray]]:
    """MXNet's example/ssd multibox_layer: per feature map a MultiBoxPrior, a class and a loc
    Convolution (transposed to NHWC and flattened), concatenated; the class scores reshaped to
    [B, C + 1, N] and softmaxed over the channel; MultiBoxDetection on top."""
    rng = np.random.default_rng(5)
    b = SymbolBuilder()
    args: dict[str, np.ndarray] = {}

    def conv(name: str, x, cin: int, cout: int, bias_scale: float = 0.1, **attrs):
        args[f"{name}_weight"] = (rng.normal(0, 0.3, (cout, cin, 3, 3))).astype(np.float32)
        args[f"{name}_bias"] = (rng.normal(0, bias_scale, cout)).astype(np.float32)
        return b.op("Convolution", name, x, b.var(f"{name}_weight"), b.var(f"{name}_bias"), kernel=(3, 3), pad=(1, 1), num_filter=cout, **attrs)

    data = b.var("data", (1, 3, 32, 32))
    body = b.op("Activation", "relu1", conv("conv1", data, 3, 8, stride=(2, 2)), act_type="relu")  # 16×16
    maps = [b.op("Pooling", "pool1", body, kernel=(2, 2), stride=(2, 2), pool_type="max")]  # 8×8
    maps.append(b.op("Activation", "relu2", conv("conv2", maps[0], 8, 8, stride=(2, 2)), act_type="relu"))  # 4×4
    sizes, ratios = [(0.2, 0.272), (0.37, 0.447)], [(1, 2, 0.5), (1, 2, 0.5)]
    cls_parts, loc_parts, anchor_parts = [], [], []
    for k, feature in enumerate(maps):
        count = len(sizes[k]) + len(ratios[k]) - 1
        cls = conv(f"cls{k}", feature, 8, count * (classes + 1), bias_scale=1.5)
        cls_parts.append(b.op("Flatten", f"cls{k}_flat", b.op("transpose", f"cls{k}_t", cls, axes=(0, 2, 3, 1))))
        loc = conv(f"loc{k}", feature, 8, count * 4)
        loc_parts.append(b.op("Flatten", f"loc{k}_flat", b.op("transpose", f"loc{k}_t", loc, axes=(0, 2, 3, 1))))
        prior = b.op("_contrib_MultiBoxPrior", f"prior{k}", feature, sizes=sizes[k], ratios=ratios[k], clip=False)
        anchor_parts.append(b.op("Flatten", f"prior{k}_flat", prior))
    cls_preds = b.op("Concat", "cls_concat", *cls_parts, num_args=len(cls_parts), dim=1)
    cls_preds = b.op("transpose", "cls_t", b.op("Reshape", "cls_r", cls_preds, shape=(0, -1, classes + 1)), axes=(0, 2, 1))
    loc_preds = b.op("Concat", "loc_concat", *loc_parts, num_args=len(loc_parts), dim=1)
    anchors = b.op("Reshape", "anchors", b.op("Concat", "anchor_concat", *anchor_parts, num_args=len(anchor_parts), dim=1), shape=(0, -1, 4))
    cls_prob = b.op("SoftmaxActivation", "cls_prob", cls_preds, mode="channel")
    det = b.op("_contrib_MultiBoxDetection", "detection", cls_prob, loc_preds, anchors, nms_threshold=0.45, force_suppress=False, variances=(0.1, 0.1, 0.2, 0.2), nms_topk=40)
    return write_checkpoint(folder, "ssd", b, [det, cls_prob], args), args


def test_ssd_symbol_end_to_end(tmp_path: Path) -> None:
    path, args = ssd_checkpoint(tmp_path)
    image = np.random.default_rng(6).uniform(0, 1, (1, 3, 32, 32)).astype(np.float32)
    expected, expected_prob = run_reference(path, args, {}, {"data": image})
    kinds = row_kinds(expected)
    assert expected.shape == (1, (64 + 16) * 4, 6) and kinds["kept"] > 3 and kinds["marked"] > 3 and kinds["empty"] > 0, kinds
    detections, probabilities = run_converted(path, {"data": image}, tmp_path)
    assert_close(probabilities, expected_prob, 1e-4, 1e-6)
    assert_detections(detections, expected)
    real = mxnet_outputs(path, {"data": image})
    if real is not None:  # real MXNet on the same files, when an interpreter with mxnet is configured
        assert_detections(real[0], expected)


def test_multibox_target_is_reported_as_a_training_op(tmp_path: Path) -> None:
    b = SymbolBuilder()
    anchor, label, cls_pred = b.var("anchor", (1, 8, 4)), b.var("label", (1, 2, 5)), b.var("cls_pred", (1, 3, 8))
    target = b.op("_contrib_MultiBoxTarget", "target", anchor, label, cls_pred)
    path = write_checkpoint(tmp_path, "train", b, [target], {})
    with pytest.raises(UnsupportedOpsError, match="_contrib_MultiBoxTarget is a training op .*inference symbol") as error:
        convert_mxnet(path)
    assert error.value.unsupported == {"_contrib_MultiBoxTarget": ["target"]}
