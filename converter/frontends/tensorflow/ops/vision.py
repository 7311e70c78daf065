"""TF detection ops: NonMaxSuppression (V1–V5), CombinedNonMaxSuppression → IR NonMaxSuppression-9;
CropAndResize → an exact Gather subgraph.

TF's NMS and the IR's agree on boxes ([y1, x1, y2, x2], any diagonal corners), on the score
filter (kept when score > score_threshold) and on soft NMS (the IoU threshold is not used
then), but TF suppresses a box when IoU > iou_threshold and the IR when IoU >= it: the
threshold goes one float up. TF's boxes are one batch of one class; the IR's output rows are
[batch, class, box] triplets, valid up to valid_outputs.

CropAndResize samples at in_y = y1 * (H - 1) + i * (y2 - y1) * (H - 1) / (crop_height - 1)
(the box middle when crop_height is 1), reads the four neighbours (or the nearest, rounded
half away from zero) and fills rows and columns outside [0, H - 1] with extrapolation_value:
ROIAlign averages bins instead, so the sampling is spelled out with Gather.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.tensorflow.graph import Handler, TFContext, constant_input
from converter.frontends.tensorflow.ops.common import as_i64, i64, known_rank
from converter.frontends.tensorflow.tensors import Unsupported
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops.core import Convert, ShapeOf, const
from converter.ops.indexing import Gather, GatherND, ScatterNDUpdate, Slice
from converter.ops.misc import NonMaxSuppression as IrNonMaxSuppression
from converter.ops.misc import TopK
from converter.ops.reduction import ReduceSum
from converter.ops.shape import Broadcast, Concat, Pad, Reshape, Split, Squeeze, Transpose, Unsqueeze

F32 = ElementType.f32
I32 = ElementType.i32
I64 = ElementType.i64
ULP_FRACTION = 2.0**-24 + 2.0**-30
"""t + t * ULP_FRACTION rounds to the float32 after t (for normal t)."""
TINY = float(np.finfo(np.float32).tiny)
LOWEST = float(np.finfo(np.float32).min)
"""TF's score threshold when the op has none: every box scoring above float's lowest value."""


def f32(value: Value) -> Value:
    return value if value.element_type is F32 else Convert(value, destination_type=F32)


def f32_scalar(number: float) -> Value:
    return const(np.array(number, dtype=np.float32))


# ---------------------------------------------------------------- NonMaxSuppression


def strictly_above(threshold: Value) -> Value:
    """The smallest float32 t' with (IoU >= t') == (IoU > threshold), for thresholds in [0, 1]."""
    if threshold.const is not None:
        t = np.float32(np.asarray(threshold.const).reshape(()))
        return f32_scalar(max(float(np.nextafter(t, np.float32(np.inf))), TINY))
    t = f32(threshold)
    return ew.Add(t, ew.Add(ew.Multiply(t, f32_scalar(ULP_FRACTION)), f32_scalar(TINY)))


def _single_class_nms(
    boxes: Value,
    scores: Value,
    max_output_size: Value,
    iou_threshold: Value,
    score_threshold: Value | None,
    soft_nms_sigma: Value | None,
) -> tuple[Value, Value, Value]:
    """(selected indices [M] i32, their scores [M] f32, M as a [1] i64) for boxes [N, 4], scores [N]."""
    inputs = [Unsqueeze(f32(boxes), i64(0)), Unsqueeze(f32(scores), i64([0, 1])), as_i64(max_output_size)]
    inputs += [strictly_above(iou_threshold), f32(score_threshold) if score_threshold is not None else f32_scalar(LOWEST)]
    if soft_nms_sigma is not None:
        inputs.append(f32(soft_nms_sigma))
    node = IrNonMaxSuppression.node(*inputs, box_encoding="corner", sort_result_descending=False, output_type=I32)
    selected, selected_scores, valid = node.outputs
    count = Convert(valid, destination_type=I64)
    # Rows past valid_outputs may be padding: keep the box column of the valid ones.
    indices = Slice(Gather(selected, i64(2), i64(1)), i64([0]), count, i64([1]))
    kept_scores = Slice(Gather(selected_scores, i64(2), i64(1)), i64([0]), count, i64([1]))
    return indices, kept_scores, count


def _padded(values: Value, count: Value, max_output_size: Value) -> Value:
    """values [count] padded with zeros to [max_output_size] (TF's pad_to_max_output_size)."""
    missing = ew.Subtract(Reshape(as_i64(max_output_size), i64([1]), special_zero=False), count)
    return Pad(values, i64([0]), missing, const(np.zeros((), dtype=values.element_type.numpy)), pad_mode="constant")


def _nms_outputs(
    boxes: Value,
    scores: Value,
    max_output_size: Value,
    iou_threshold: Value,
    score_threshold: Value | None = None,
    soft_nms_sigma: Value | None = None,
    pad_to_max_output_size: bool = False,
) -> tuple[Value, Value, Value]:
    """(selected_indices, selected_scores in the scores' type, valid_outputs as an i32 scalar)."""
    indices, kept_scores, count = _single_class_nms(boxes, scores, max_output_size, iou_threshold, score_threshold, soft_nms_sigma)
    if pad_to_max_output_size:
        indices, kept_scores = _padded(indices, count, max_output_size), _padded(kept_scores, count, max_output_size)
    if scores.element_type is not F32:
        kept_scores = Convert(kept_scores, destination_type=scores.element_type)
    return indices, kept_scores, Convert(Squeeze(count, i64(0)), destination_type=I32)


def NonMaxSuppression(ctx: TFContext, boxes: Value, scores: Value, max_output_size: Value, *, iou_threshold: float = 0.5) -> Value:
    return _nms_outputs(boxes, scores, max_output_size, f32_scalar(iou_threshold))[0]


def NonMaxSuppressionV2(ctx: TFContext, boxes: Value, scores: Value, max_output_size: Value, iou_threshold: Value) -> Value:
    return _nms_outputs(boxes, scores, max_output_size, iou_threshold)[0]


def NonMaxSuppressionV3(
    ctx: TFContext, boxes: Value, scores: Value, max_output_size: Value, iou_threshold: Value, score_threshold: Value
) -> Value:
    return _nms_outputs(boxes, scores, max_output_size, iou_threshold, score_threshold)[0]


def NonMaxSuppressionV4(
    ctx: TFContext,
    boxes: Value,
    scores: Value,
    max_output_size: Value,
    iou_threshold: Value,
    score_threshold: Value,
    *,
    pad_to_max_output_size: bool = False,
) -> list[Value]:
    indices, _, valid = _nms_outputs(boxes, scores, max_output_size, iou_threshold, score_threshold, None, pad_to_max_output_size)
    return [indices, valid]


def NonMaxSuppressionV5(
    ctx: TFContext,
    boxes: Value,
    scores: Value,
    max_output_size: Value,
    iou_threshold: Value,
    score_threshold: Value,
    soft_nms_sigma: Value,
    *,
    pad_to_max_output_size: bool = False,
) -> list[Value]:
    return list(_nms_outputs(boxes, scores, max_output_size, iou_threshold, score_threshold, soft_nms_sigma, pad_to_max_output_size))


# ---------------------------------------------------------------- CombinedNonMaxSuppression


def _static_int(value: Value, what: str) -> int:
    return int(constant_input(value, what).reshape(-1)[0])


def _combined_selection(
    boxes: Value, scores: Value, max_per_class: Value, iou_threshold: Value, score_threshold: Value
) -> tuple[Value, Value]:
    """NMS per batch and class: ([K, 3] i64 rows (batch, class, box), their scores [K])."""
    q = boxes.shape[2]
    classes = scores.shape[2]
    class_scores = Transpose(f32(scores), i64([0, 2, 1]))  # [B, C, N]
    if q == 1:
        nms_boxes, nms_scores = Squeeze(f32(boxes), i64(2)), class_scores
    else:
        # Boxes per class: every (batch, class) pair is a batch of its own, one class each.
        num_boxes = boxes.shape[1]
        nms_boxes = Reshape(Transpose(f32(boxes), i64([0, 2, 1, 3])), i64([-1, num_boxes, 4]), special_zero=False)
        nms_scores = Reshape(class_scores, i64([-1, 1, num_boxes]), special_zero=False)
    node = IrNonMaxSuppression.node(
        nms_boxes, nms_scores, as_i64(max_per_class), strictly_above(iou_threshold), f32(score_threshold),
        box_encoding="corner", sort_result_descending=False, output_type=I64,
    )
    selected, selected_scores, valid = node.outputs
    rows = Slice(selected, i64([0]), valid, i64([1]), i64([0]))
    kept_scores = Slice(Gather(selected_scores, i64(2), i64(1)), i64([0]), valid, i64([1]))
    if q != 1:
        pair, box = Gather(rows, i64(0), i64(1)), Gather(rows, i64(2), i64(1))
        count = i64(classes)
        batch, klass = ew.Divide(pair, count, m_pythondiv=True), ew.Mod(pair, count)
        rows = Concat(*(Unsqueeze(v, i64(1)) for v in (batch, klass, box)), axis=1)
    return rows, kept_scores


def CombinedNonMaxSuppression(
    ctx: TFContext,
    boxes: Value,
    scores: Value,
    max_output_size_per_class: Value,
    max_total_size: Value,
    iou_threshold: Value,
    score_threshold: Value,
    *,
    pad_per_class: bool = False,
    clip_boxes: bool = True,
) -> list[Value]:
    """boxes [B, N, q, 4] (q = 1 or C), scores [B, N, C] → the best max_total_size detections per
    batch over all classes, by score: boxes [B, D, 4], scores [B, D], classes [B, D] (float),
    valid_detections [B]; zeros past the valid ones."""
    if known_rank(boxes, "CombinedNonMaxSuppression") != 4 or known_rank(scores, "CombinedNonMaxSuppression") != 3:
        raise Unsupported("CombinedNonMaxSuppression needs boxes [B, N, q, 4] and scores [B, N, C]")
    num_boxes, q, classes = boxes.shape[1], boxes.shape[2], scores.shape[2]
    if num_boxes is None or q is None or classes is None or q not in (1, classes):
        raise Unsupported("CombinedNonMaxSuppression needs static num_boxes, q and num_classes (q = 1 or num_classes)")
    total = _static_int(max_total_size, "max_total_size")
    per_class = _static_int(max_output_size_per_class, "max_output_size_per_class")
    detections = min(total, per_class * classes) if pad_per_class else total
    rows, kept_scores = _combined_selection(boxes, scores, max_output_size_per_class, iou_threshold, score_threshold)

    # Every (class, box) score of a batch, -inf where not selected, then the best `detections`;
    # the -inf columns appended make room for more detections than class × box pairs.
    batch_shape = Gather(ShapeOf(scores, output_type=I64), i64([0]), i64(0))
    dense = Broadcast(f32_scalar(-np.inf), Concat(batch_shape, i64([classes, num_boxes]), axis=0))
    dense = Reshape(ScatterNDUpdate(dense, rows, kept_scores), i64([0, classes * num_boxes]), special_zero=True)
    room = Broadcast(f32_scalar(-np.inf), Concat(batch_shape, i64([detections]), axis=0))
    candidates = Concat(dense, room, axis=1)
    best, flat = TopK.node(candidates, i64(detections), axis=1, mode="max", sort="value", index_element_type=I64, stable=True).outputs
    found = ew.Greater(best, f32_scalar(-np.inf))
    flat = ew.Minimum(flat, i64(classes * num_boxes - 1))
    klass, box = ew.Divide(flat, i64(num_boxes), m_pythondiv=True), ew.Mod(flat, i64(num_boxes))

    if q == 1:
        picked = GatherND(Squeeze(f32(boxes), i64(2)), Unsqueeze(box, i64(2)), batch_dims=1)  # [B, D, 4]
    else:
        picked = GatherND(f32(boxes), Concat(Unsqueeze(box, i64(2)), Unsqueeze(klass, i64(2)), axis=2), batch_dims=1)
    if clip_boxes:
        picked = ew.Minimum(ew.Maximum(picked, f32_scalar(0.0)), f32_scalar(1.0))
    zero = f32_scalar(0.0)
    return [
        ew.Select(Unsqueeze(found, i64(2)), picked, zero),
        ew.Select(found, best, zero),
        ew.Select(found, Convert(klass, destination_type=F32), zero),
        ReduceSum(Convert(found, destination_type=I32), i64([1]), keep_dims=False),
    ]


# ---------------------------------------------------------------- CropAndResize


def _image_size(image: Value, axis: int) -> Value:
    """H or W of an NHWC image: an f32 scalar (a constant when static)."""
    size = image.shape[axis]
    if size is not None:
        return f32_scalar(float(size))
    return Convert(Gather(ShapeOf(image, output_type=I64), i64(axis), i64(0)), destination_type=F32)


def _sample_positions(start: Value, end: Value, size: Value, count: int) -> Value:
    """TF's input coordinates [boxes, count] along one axis (start, end: [boxes, 1] normalized)."""
    extent = ew.Subtract(size, f32_scalar(1.0))
    if count == 1:
        return ew.Multiply(ew.Multiply(f32_scalar(0.5), ew.Add(start, end)), extent)
    scale = ew.Divide(ew.Multiply(ew.Subtract(end, start), extent), f32_scalar(count - 1), m_pythondiv=False)
    steps = const(np.arange(count, dtype=np.float32).reshape(1, count))
    return ew.Add(ew.Multiply(start, extent), ew.Multiply(steps, scale))


def _inside(position: Value, size: Value) -> Value:
    return ew.LogicalAnd(ew.GreaterEqual(position, f32_scalar(0.0)), ew.LessEqual(position, ew.Subtract(size, f32_scalar(1.0))))


def _index(position: Value, size: Value) -> Value:
    """An integer coordinate (already floored, ceiled or rounded), clamped into the image: i64."""
    clamped = ew.Minimum(ew.Maximum(position, f32_scalar(0.0)), ew.Subtract(size, f32_scalar(1.0)))
    return Convert(clamped, destination_type=I64)


def CropAndResize(
    ctx: TFContext,
    image: Value,
    boxes: Value,
    box_ind: Value,
    crop_size: Value,
    *,
    method: str = "bilinear",
    extrapolation_value: float = 0.0,
) -> Value:
    """image [B, H, W, C], boxes [N, 4] normalized [y1, x1, y2, x2], box_ind [N], crop_size
    [crop_height, crop_width] → float32 crops [N, crop_height, crop_width, C]."""
    if method not in ("bilinear", "nearest"):
        raise Unsupported(f"CropAndResize method {method!r} is not bilinear or nearest")
    if known_rank(image, "CropAndResize") != 4:
        raise Unsupported("CropAndResize needs an NHWC image")
    crop_height, crop_width = (int(v) for v in constant_input(crop_size, "crop_size").reshape(-1))
    image = f32(image)
    height, width = _image_size(image, 1), _image_size(image, 2)
    y1, x1, y2, x2 = Split.node(f32(boxes), i64(1), num_splits=4).outputs  # each [N, 1]
    in_y = Unsqueeze(_sample_positions(y1, y2, height, crop_height), i64(2))  # [N, ch, 1]
    in_x = Unsqueeze(_sample_positions(x1, x2, width, crop_width), i64(1))  # [N, 1, cw]

    # The image as rows of channels: pixel (b, y, x) is row (b * H + y) * W + x.
    channels = Gather(ShapeOf(image, output_type=I64), i64([3]), i64(0))
    pixels = Reshape(image, Concat(i64([-1]), channels, axis=0), special_zero=False)
    width_i = Convert(width, destination_type=I64)
    image_rows = ew.Multiply(Reshape(as_i64(box_ind), i64([-1, 1, 1]), special_zero=False), Convert(height, destination_type=I64))

    def read(y: Value, x: Value) -> Value:
        row = ew.Multiply(ew.Add(image_rows, _index(y, height)), width_i)
        return Gather(pixels, ew.Add(row, _index(x, width)), i64(0))  # [N, ch, cw, C]

    if method == "nearest":
        crops = read(ew.Round(in_y, mode="half_away_from_zero"), ew.Round(in_x, mode="half_away_from_zero"))
    else:
        top, bottom = ew.Floor(in_y), ew.Ceiling(in_y)
        left, right = ew.Floor(in_x), ew.Ceiling(in_x)
        y_lerp = Unsqueeze(ew.Subtract(in_y, top), i64(3))
        x_lerp = Unsqueeze(ew.Subtract(in_x, left), i64(3))
        top_left, top_right = read(top, left), read(top, right)
        bottom_left, bottom_right = read(bottom, left), read(bottom, right)
        upper = ew.Add(top_left, ew.Multiply(ew.Subtract(top_right, top_left), x_lerp))
        lower = ew.Add(bottom_left, ew.Multiply(ew.Subtract(bottom_right, bottom_left), x_lerp))
        crops = ew.Add(upper, ew.Multiply(ew.Subtract(lower, upper), y_lerp))
    inside = Unsqueeze(ew.LogicalAnd(_inside(in_y, height), _inside(in_x, width)), i64(3))
    return ew.Select(inside, crops, f32_scalar(extrapolation_value))


HANDLERS: dict[str, Handler] = {
    "NonMaxSuppression": NonMaxSuppression,
    "NonMaxSuppressionV2": NonMaxSuppressionV2,
    "NonMaxSuppressionV3": NonMaxSuppressionV3,
    "NonMaxSuppressionV4": NonMaxSuppressionV4,
    "NonMaxSuppressionV5": NonMaxSuppressionV5,
    "CombinedNonMaxSuppression": CombinedNonMaxSuppression,
    "CropAndResize": CropAndResize,
}
