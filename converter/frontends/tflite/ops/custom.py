"""TFLite custom ops an edge zoo uses, keyed by their custom code, each from what its kernel computes.

MediaPipe's (mediapipe/util/tflite/operations/) keep their options as a raw C struct:
- `Convolution2DTransposeBias` (transpose_conv_bias.cc): inputs data, weights OHWI, bias; options
  TfLiteTransposeConvParams, three little-endian int32: padding (TfLitePadding: 1 SAME, 2 VALID),
  stride_width, stride_height. A transposed convolution whose output size follows from the input
  (SAME: `stride·(in − 1) + k − pad`, pad = max(0, k − (in − 1) mod stride − 1), pad // 2 on top),
  plus the bias.
- `MaxPoolingWithArgmax2D` (max_pool_argmax.cc) and `MaxUnpooling2D` (max_unpooling.cc): options
  TfLitePoolParams, int32 padding, stride_width, stride_height, filter_width, filter_height,
  activation (TfLiteFusedActivation), then the runtime's computed padding. The argmax is a float: the
  max's position in its window, `row · filter_width + column + 0.1`, counted from the window's corner
  in the padded input (the first maximum in row-major order wins). Unpooling writes each value at
  its window's position into zeros of `input · filter` size, where TFLite writes it: the flat NHWC
  offset ((n·H + y)·W + x)·C + c, so a later write to the same place wins.

TFLite's own `TFLite_Detection_PostProcess` (tensorflow/lite/kernels/detection_postprocess.cc) keeps
a flexbuffer map; see `TFLite_Detection_PostProcess`.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import (
    channel_bias,
    check_rank,
    fused_activation,
    i64,
    nchw,
    nhwc,
    static_dims,
)
from converter.frontends.tflite.tensors import Unsupported, rearranged
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops.conv import ConvolutionBackpropData
from converter.ops.core import Convert, const
from converter.ops.indexing import Gather, ScatterElementsUpdate
from converter.ops.misc import NonMaxSuppression, TopK
from converter.ops.pooling import MaxPool8
from converter.ops.shape import Broadcast, Concat, Pad, Reshape, Split, Tile, Transpose, Unsqueeze

PADDINGS = {1: "SAME", 2: "VALID"}  # TfLitePadding (0 is kTfLitePaddingUnknown)
ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT", "SIGMOID")  # TfLiteFusedActivation


def _struct_fields(ctx: TFLiteContext, names: tuple[str, ...], struct_name: str) -> dict[str, int]:
    """The leading int32 fields of a C struct stored as the custom options."""
    data = ctx.custom_options
    size = 4 * len(names)
    if len(data) < size:
        raise Unsupported(f"custom options of {len(data)} bytes, a {struct_name} needs {size} ({', '.join(names)})")
    return dict(zip(names, struct.unpack_from(f"<{len(names)}i", data)))


def _padding(code: int) -> str:
    if code not in PADDINGS:
        raise Unsupported(f"padding {code} is neither SAME (1) nor VALID (2)")
    return PADDINGS[code]


def _positive(what: str, *values: int) -> None:
    if any(v < 1 for v in values):
        raise Unsupported(f"{what} {list(values)} must be positive")


def _start_padding(stride: int, filter_size: int, in_size: int, out_size: int) -> int:
    """TFLite's ComputePadding: the padding before the first window (never negative)."""
    return max(((out_size - 1) * stride + filter_size - in_size) // 2, 0)


# ---------------------------------------------------------------- MediaPipe


def Convolution2DTransposeBias(ctx: TFLiteContext, x: Value, weights: Value, bias: Value) -> Value:
    options = _struct_fields(ctx, ("padding", "stride_width", "stride_height"), "TfLiteTransposeConvParams")
    padding = _padding(options["padding"])
    strides = [options["stride_height"], options["stride_width"]]
    _positive("strides", *strides)
    check_rank(x, 4, "Convolution2DTransposeBias")
    _, kernel_h, kernel_w, _ = static_dims(weights, "Convolution2DTransposeBias weights")
    _, height, width, _ = static_dims(x, "Convolution2DTransposeBias")
    begin, end = [], []
    for size, kernel, stride in zip((height, width), (kernel_h, kernel_w), strides):
        total = max(0, kernel - (size - 1) % stride - 1) if padding == "SAME" else 0
        begin.append(total // 2)
        end.append(total - total // 2)
    y = ConvolutionBackpropData(
        nchw(x),
        rearranged(weights, (3, 0, 1, 2)),  # OHWI → [I, O, H, W]
        strides=strides,
        dilations=[1, 1],
        pads_begin=begin,
        pads_end=end,
        output_padding=[0, 0],
    )
    return nhwc(channel_bias(y, bias))


POOL_FIELDS = ("padding", "stride_width", "stride_height", "filter_width", "filter_height", "activation")


def _pool_options(ctx: TFLiteContext) -> dict[str, int]:
    options = _struct_fields(ctx, POOL_FIELDS, "TfLitePoolParams")
    _positive("strides", options["stride_height"], options["stride_width"])
    _positive("filter", options["filter_height"], options["filter_width"])
    return options


def MaxPoolingWithArgmax2D(ctx: TFLiteContext, x: Value) -> tuple[Value, Value]:
    options = _pool_options(ctx)
    padding = _padding(options["padding"])
    activation = options["activation"]
    if not 0 <= activation < len(ACTIVATIONS):
        raise Unsupported(f"activation {activation}")
    check_rank(x, 4, "MaxPoolingWithArgmax2D")
    _, height, width, _ = static_dims(x, "MaxPoolingWithArgmax2D")
    strides = [options["stride_height"], options["stride_width"]]
    kernel = [options["filter_height"], options["filter_width"]]
    begin, end, origins = [], [], []
    for size, k, stride in zip((height, width), kernel, strides):
        out = -(-size // stride) if padding == "SAME" else (size - k + stride) // stride
        if out < 1:
            raise Unsupported(f"a {k}-wide window does not fit in {size}")
        start = _start_padding(stride, k, size, out)
        begin.append(start)
        end.append(max((out - 1) * stride + k - size - start, 0))
        origins.append(np.arange(out, dtype=np.int64) * stride - start)  # each window's first row (column)
    pooled = MaxPool8.node(
        nchw(x), strides=strides, dilations=[1, 1], pads_begin=begin, pads_end=end, kernel=kernel, axis=2,
        index_element_type=ElementType.i64,
    )  # fmt: skip
    values, where = pooled.outputs  # where: y·W + x in the channel's plane
    row = ew.Divide(where, i64(width))
    column = ew.Subtract(where, ew.Multiply(row, i64(width)))
    in_window = ew.Add(
        ew.Multiply(ew.Subtract(row, const(origins[0].reshape(1, 1, -1, 1))), i64(kernel[1])),
        ew.Subtract(column, const(origins[1].reshape(1, 1, 1, -1))),
    )
    argmax = ew.Add(Convert(in_window, destination_type=ElementType.f32), const(np.float32(0.1)))
    # SIGMOID has no range either: the kernel's clamp leaves the maximum as it is.
    name = ACTIVATIONS[activation] if ACTIVATIONS[activation] != "SIGMOID" else "NONE"
    return nhwc(fused_activation(values, name)), nhwc(argmax)


def MaxUnpooling2D(ctx: TFLiteContext, x: Value, indices: Value) -> Value:
    options = _pool_options(ctx)  # its padding and activation play no part in the kernel
    check_rank(x, 4, "MaxUnpooling2D")
    batch, height, width, channels = static_dims(x, "MaxUnpooling2D")
    if indices.shape.dims is not None and indices.shape.dims != x.shape.dims:
        raise Unsupported(f"indices of shape {list(indices.shape.dims)} for values of shape {[batch, height, width, channels]}")
    filter_h, filter_w = options["filter_height"], options["filter_width"]
    out_h, out_w = height * filter_h, width * filter_w
    top = _start_padding(options["stride_height"], filter_h, out_h, height)
    left = _start_padding(options["stride_width"], filter_w, out_w, width)
    position = Convert(indices, destination_type=ElementType.i64)  # truncated, as C's float → int
    window_row = ew.Divide(position, i64(filter_w))
    window_column = ew.Subtract(position, ew.Multiply(window_row, i64(filter_w)))
    rows = np.arange(height, dtype=np.int64).reshape(1, -1, 1, 1) * options["stride_height"] - top
    columns = np.arange(width, dtype=np.int64).reshape(1, 1, -1, 1) * options["stride_width"] - left
    out_y = ew.Add(window_row, const(rows))
    out_x = ew.Add(window_column, const(columns))
    images = np.arange(batch, dtype=np.int64).reshape(-1, 1, 1, 1) * out_h
    offset = ew.Multiply(ew.Add(ew.Multiply(ew.Add(out_y, const(images)), i64(out_w)), out_x), i64(channels))
    offset = ew.Add(offset, const(np.arange(channels, dtype=np.int64).reshape(1, 1, 1, -1)))
    zeros = Broadcast(const(np.zeros((), dtype=x.element_type.numpy)), i64([batch * out_h * out_w * channels]))
    flat = ScatterElementsUpdate(zeros, Reshape(offset, i64([-1]), special_zero=False), Reshape(x, i64([-1]), special_zero=False), i64(0))
    return Reshape(flat, i64([batch, out_h, out_w, channels]), special_zero=False)


# ---------------------------------------------------------------- TFLite_Detection_PostProcess

DETECTION_OPTIONS = (
    "max_detections", "max_classes_per_detection", "nms_score_threshold", "nms_iou_threshold", "num_classes",
    "y_scale", "x_scale", "h_scale", "w_scale",
)  # fmt: skip
DETECTIONS_PER_CLASS = 100  # the kernel's default


def _detection_options(ctx: TFLiteContext) -> dict[str, Any]:
    options = ctx.custom_options_map()
    missing = [key for key in DETECTION_OPTIONS if key not in options]
    if missing:
        raise Unsupported(f"custom options without {', '.join(missing)}")
    parsed: dict[str, Any] = {key: float(options[key]) for key in ("nms_score_threshold", "nms_iou_threshold", "y_scale", "x_scale", "h_scale", "w_scale")}
    for key in ("max_detections", "max_classes_per_detection", "num_classes"):
        parsed[key] = int(options[key])
    parsed["detections_per_class"] = int(options.get("detections_per_class", DETECTIONS_PER_CLASS))
    parsed["use_regular_nms"] = bool(options.get("use_regular_nms", False))
    _positive("max_detections, max_classes_per_detection, num_classes", parsed["max_detections"], parsed["max_classes_per_detection"], parsed["num_classes"])
    if parsed["use_regular_nms"]:
        _positive("detections_per_class", parsed["detections_per_class"])
    if not 0.0 < parsed["nms_iou_threshold"] <= 1.0:
        raise Unsupported(f"nms_iou_threshold {parsed['nms_iou_threshold']} is not in (0, 1]")
    return parsed


def _decoded_boxes(encodings: Value, anchors: Value, boxes: int, options: dict[str, Any]) -> Value:
    """[boxes, 4] corners (ymin, xmin, ymax, xmax) from the center-size encodings and anchors:
    center = encoding / scale · anchor size + anchor center, half size = ½ · exp(encoding / scale) · anchor size."""
    first_four = Gather(Reshape(encodings, i64([boxes, -1]), special_zero=False), i64([0, 1, 2, 3]), i64(1))  # keypoints follow
    y, x, h, w = Split.node(first_four, i64(1), num_splits=4).outputs
    anchor_y, anchor_x, anchor_h, anchor_w = Split.node(Reshape(anchors, i64([boxes, 4]), special_zero=False), i64(1), num_splits=4).outputs

    def scalar(number: float) -> Value:
        return const(np.float32(number))

    center_y = ew.Add(ew.Multiply(ew.Divide(y, scalar(options["y_scale"])), anchor_h), anchor_y)
    center_x = ew.Add(ew.Multiply(ew.Divide(x, scalar(options["x_scale"])), anchor_w), anchor_x)
    half_h = ew.Multiply(ew.Multiply(ew.Exp(ew.Divide(h, scalar(options["h_scale"]))), scalar(0.5)), anchor_h)
    half_w = ew.Multiply(ew.Multiply(ew.Exp(ew.Divide(w, scalar(options["w_scale"]))), scalar(0.5)), anchor_w)
    corners = [ew.Subtract(center_y, half_h), ew.Subtract(center_x, half_w), ew.Add(center_y, half_h), ew.Add(center_x, half_w)]
    return Concat(*corners, axis=1)


def _suppressed(boxes: Value, scores: Value, per_class: int, options: dict[str, Any]) -> tuple[Value, Value, Value]:
    """NonMaxSuppression over [1, classes, boxes] scores: selected (class, box) rows in class order,
    each class's in selection order (score descending, the lower box index first on ties), their
    scores and their count. TFLite keeps scores >= its threshold and suppresses IoU > its threshold;
    the IR keeps scores > and suppresses IoU >=, hence the thresholds one float away."""
    score_threshold = np.nextafter(np.float32(options["nms_score_threshold"]), np.float32(-np.inf))
    iou_threshold = np.nextafter(np.float32(options["nms_iou_threshold"]), np.float32(np.inf))
    node = NonMaxSuppression.node(
        Unsqueeze(boxes, i64(0)), scores, i64(per_class), const(iou_threshold), const(score_threshold),
        sort_result_descending=False, output_type=ElementType.i64,
    )  # fmt: skip
    selected, selected_scores, count = node.outputs
    return selected, Gather(selected_scores, i64(2), i64(1)), count


def _padded(value: Value, rows: int, fill: float | int) -> Value:
    """value's first axis extended by `rows` entries of `fill` (so that a fixed number can be read)."""
    dims = [rows] + [d for d in (value.shape.dims or ())[1:]]
    if any(d is None for d in dims):
        raise Unsupported("TFLite_Detection_PostProcess needs static box and class counts")
    return Concat(value, const(np.full(dims, fill, dtype=value.element_type.numpy)), axis=0)


def _kept(mask: Value, value: Value) -> Value:
    return ew.Select(mask, value, const(np.zeros((), dtype=value.element_type.numpy)))


def TFLite_Detection_PostProcess(ctx: TFLiteContext, encodings: Value, class_predictions: Value, anchors: Value) -> tuple[Value, Value, Value, Value]:
    """SSD post-processing: boxes decoded against the anchors, then non-maximum suppression.

    Fast (use_regular_nms false): each box's `max_classes_per_detection` best classes, one suppression
    over its best score; a detection is a box repeated for its classes. Regular: a suppression per
    class (`detections_per_class` each), the `max_detections` best over all classes (stable: the
    earlier class first on ties). Outputs boxes [1, D, 4], classes [1, D], scores [1, D] (D =
    max_detections · max_classes_per_detection, zeros past the detections) and their count [1]."""
    options = _detection_options(ctx)
    check_rank(encodings, 3, "box encodings")
    check_rank(class_predictions, 3, "class predictions")
    batch, boxes, coordinates = static_dims(encodings, "box encodings")
    _, predicted, with_background = static_dims(class_predictions, "class predictions")
    classes, detections = options["num_classes"], options["max_detections"]
    if batch != 1 or predicted != boxes or coordinates < 4:
        raise Unsupported(f"box encodings {[batch, boxes, coordinates]} and class predictions {[1, predicted, with_background]}")
    offset = with_background - classes  # 1 when column 0 is the background class
    if offset not in (0, 1):
        raise Unsupported(f"{with_background} class columns for num_classes {classes}")
    decoded = _decoded_boxes(encodings, anchors, boxes, options)
    scores = Gather(Reshape(class_predictions, i64([boxes, with_background]), special_zero=False), i64(list(range(offset, with_background))), i64(1))
    columns = options["max_classes_per_detection"]
    if options["use_regular_nms"]:
        rows = _regular(decoded, scores, detections, options)
    else:
        rows = _fast(decoded, scores, detections, columns, classes, options)
    count, picked_boxes, picked_classes, picked_scores = rows
    total = detections * columns
    return (
        Reshape(picked_boxes, i64([1, total, 4]), special_zero=False),
        Reshape(Convert(picked_classes, destination_type=ElementType.f32), i64([1, total]), special_zero=False),
        Reshape(picked_scores, i64([1, total]), special_zero=False),
        Convert(count, destination_type=ElementType.f32),
    )


def _regular(decoded: Value, scores: Value, detections: int, options: dict[str, Any]) -> tuple[Value, Value, Value, Value]:
    """Per-class suppression, then the best `detections` of every class's selections; rows
    past `detections` (when max_classes_per_detection > 1) are zeros, as the kernel leaves them."""
    per_class = min(options["detections_per_class"], detections)
    selected, selected_scores, count = _suppressed(decoded, Unsqueeze(Transpose(scores, i64([1, 0])), i64(0)), per_class, options)
    # Sentinel rows (score -inf) make `detections` candidates even when fewer were selected.
    candidate_scores = _padded(selected_scores, detections, -np.inf)
    candidate_classes = _padded(Gather(selected, i64(1), i64(1)), detections, 0)
    candidate_boxes = _padded(Gather(selected, i64(2), i64(1)), detections, 0)
    best = TopK.node(candidate_scores, i64(detections), axis=0, mode="max", sort="value", index_element_type=ElementType.i64, stable=True)
    best_scores, order = best.outputs
    count = ew.Minimum(count, i64([detections]))
    kept = ew.Less(i64(list(range(detections))), count)
    picked_boxes = _kept(Unsqueeze(kept, i64(1)), Gather(decoded, Gather(candidate_boxes, order, i64(0)), i64(0)))
    picked_classes = _kept(kept, Gather(candidate_classes, order, i64(0)))
    picked_scores = _kept(kept, best_scores)
    extra = detections * (options["max_classes_per_detection"] - 1)
    if extra:
        picked_boxes, picked_classes, picked_scores = (_padded(v, extra, 0) for v in (picked_boxes, picked_classes, picked_scores))
    return count, picked_boxes, picked_classes, picked_scores


def _fast(decoded: Value, scores: Value, detections: int, columns: int, classes: int, options: dict[str, Any]) -> tuple[Value, Value, Value, Value]:
    """One suppression over each box's best score; detection i fills rows i·columns + j with its
    j-th best class (j < min(columns, classes); the rest, which the kernel leaves unwritten, are zeros)."""
    best_classes = min(columns, classes)
    ranked = TopK.node(scores, i64(best_classes), axis=1, mode="max", sort="value", index_element_type=ElementType.i64, stable=True)
    class_scores, class_indices = ranked.outputs  # [boxes, best_classes], best first
    best_score = Unsqueeze(Unsqueeze(Gather(class_scores, i64(0), i64(1)), i64(0)), i64(0))  # [1, 1, boxes]
    selected, _, count = _suppressed(decoded, best_score, detections, options)
    chosen = Gather(_padded(Gather(selected, i64(2), i64(1)), detections, 0), i64(list(range(detections))), i64(0))
    count = ew.Minimum(count, i64([detections]))
    kept = ew.Less(i64(list(range(detections))), count)  # [detections]
    picked_classes = Gather(class_indices, chosen, i64(0))  # [detections, best_classes]
    picked_scores = Gather(class_scores, chosen, i64(0))
    if columns > best_classes:
        pads = (i64([0, 0]), i64([0, columns - best_classes]))
        picked_classes = Pad(picked_classes, *pads, const(np.int64(0)), pad_mode="constant")
        picked_scores = Pad(picked_scores, *pads, const(np.float32(0)), pad_mode="constant")
    written = const((np.arange(columns) < best_classes).reshape(1, columns))
    rows = ew.LogicalAnd(Unsqueeze(kept, i64(1)), written)  # [detections, columns]
    picked_boxes = Tile(Unsqueeze(Gather(decoded, chosen, i64(0)), i64(1)), i64([1, columns, 1]))
    return (
        count,
        _kept(Unsqueeze(rows, i64(2)), picked_boxes),
        _kept(rows, picked_classes),
        _kept(rows, picked_scores),
    )


HANDLERS: dict[str, Handler] = {
    "Convolution2DTransposeBias": Convolution2DTransposeBias,
    "MaxPoolingWithArgmax2D": MaxPoolingWithArgmax2D,
    "MaxUnpooling2D": MaxUnpooling2D,
    "TFLite_Detection_PostProcess": TFLite_Detection_PostProcess,
}
GRID_PRESERVING: frozenset[str] = frozenset()
