"""Object detection ops (OpenVINO's "detection" specs): PriorBox-8, DetectionOutput-8, Proposal-4, ROIPooling-2.

These came to OpenVINO from Caffe's SSD and Faster R-CNN layers. PriorBox depends on shapes
only: with constant inputs (as the Caffe frontend gives it) its kernel folds it into the boxes.
DetectionOutput and Proposal have no ONNX equivalent: graphs holding them run on OpenVINO only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import ElementType, TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, REQUIRED, const_ints, tensor

# ---------------------------------------------------------------- PriorBox-8


def prior_aspect_ratios(aspect_ratio: tuple[float, ...], flip: bool) -> list[float]:
    """1, then each new ratio (and its inverse when flipping), duplicates (within 1e-6) left out."""
    ratios = [1.0]
    for ratio in aspect_ratio:
        if any(abs(ratio - seen) < 1e-6 for seen in ratios):
            continue
        ratios.append(ratio)
        if flip:
            ratios.append(1.0 / ratio)
    return ratios


def prior_count(attrs: dict[str, Any]) -> int:
    """Priors per feature-map position (OpenVINO counts the ratios as a set, with 1 in it)."""
    ratios = {round(r * 1e6) / 1e6 for r in attrs["aspect_ratio"]}
    if attrs["flip"]:
        ratios |= {round(1 / r * 1e6) / 1e6 for r in attrs["aspect_ratio"]}
    count = len(ratios | {1.0})
    if attrs["fixed_size"]:
        priors = count * len(attrs["fixed_size"])
    elif attrs["scale_all_sizes"]:
        priors = count * len(attrs["min_size"]) + len(attrs["max_size"])
    else:
        priors = count + len(attrs["min_size"]) - 1
    for density in attrs["density"]:
        extra = int(density) ** 2 - 1
        priors += (len(attrs["fixed_ratio"]) if attrs["fixed_ratio"] else count) * extra
    return priors


def _infer_prior_box(node: Node) -> list[TensorType]:
    size = const_ints(node.inputs[0])
    if size is None:
        return [tensor(ElementType.f32, [2, None])]
    return [tensor(ElementType.f32, [2, 4 * size[0] * size[1] * prior_count(node.attrs)])]


def _prior_box_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    height, width = (int(v) for v in inputs[0].reshape(-1))
    image_h, image_w = (int(v) for v in inputs[1].reshape(-1))
    if attrs["fixed_size"] or attrs["density"] or attrs["fixed_ratio"]:
        raise NotImplementedError("PriorBox with fixed_size, fixed_ratio or density has no kernel here")
    ratios = [r for r in prior_aspect_ratios(attrs["aspect_ratio"], attrs["flip"]) if abs(r - 1.0) >= 1e-6]
    step, min_sizes, max_sizes = float(attrs["step"]), [float(s) for s in attrs["min_size"]], list(attrs["max_size"])
    if not attrs["scale_all_sizes"]:  # MXNet's sizes and step are fractions of the image
        step = image_h / height if step == -1 else step * image_h
        min_sizes = [s * image_h for s in min_sizes]
    # Half widths and heights of the priors of one position, in OpenVINO's order.
    halves: list[tuple[float, float]] = []
    for index, size in enumerate(min_sizes):
        square = [(size / 2, size / 2)]
        larger = [(np.sqrt(size * max_sizes[index]) / 2,) * 2] if index < len(max_sizes) else []
        with_ratios = attrs["scale_all_sizes"] or index == len(min_sizes) - 1
        base = size if attrs["scale_all_sizes"] else min_sizes[0]
        shaped = [(base / 2 * np.sqrt(r), base / 2 / np.sqrt(r)) for r in ratios] if with_ratios else []
        halves += square + (larger + shaped if attrs["min_max_aspect_ratios_order"] else shaped + larger)
    half = np.array(halves, dtype=np.float32).reshape(1, 1, -1, 2)
    if step == 0:
        xs = (np.arange(width, dtype=np.float32) + 0.5) * np.float32(image_w / width)
        ys = (np.arange(height, dtype=np.float32) + 0.5) * np.float32(image_h / height)
    else:
        xs = (np.float32(attrs["offset"]) + np.arange(width, dtype=np.float32)) * np.float32(step)
        ys = (np.float32(attrs["offset"]) + np.arange(height, dtype=np.float32)) * np.float32(step)
    cx, cy = xs.reshape(1, -1, 1), ys.reshape(-1, 1, 1)
    grid = (height, width, half.shape[2])
    corners = [(cx - half[..., 0]) / image_w, (cy - half[..., 1]) / image_h, (cx + half[..., 0]) / image_w, (cy + half[..., 1]) / image_h]
    boxes = np.stack([np.broadcast_to(c, grid) for c in corners], axis=-1).astype(np.float32)
    if attrs["clip"]:
        boxes = np.clip(boxes, 0.0, 1.0)
    boxes = boxes.reshape(-1)
    variance = list(attrs["variance"]) or [0.1]
    if len(variance) not in (1, 4):
        raise ValueError(f"PriorBox takes 1 or 4 variances, not {len(variance)}")
    variances = np.resize(np.array(variance, dtype=np.float32), boxes.size)
    return [np.stack([boxes, variances])]


PriorBox = OpSpec(
    "PriorBox",
    "opset8",
    (
        Attr("min_size", AttrKind.FLOATS, ()),
        Attr("max_size", AttrKind.FLOATS, ()),
        Attr("aspect_ratio", AttrKind.FLOATS, ()),
        Attr("flip", AttrKind.BOOL, False),
        Attr("clip", AttrKind.BOOL, False),
        Attr("step", AttrKind.FLOAT, 0.0),
        Attr("offset", AttrKind.FLOAT, REQUIRED),
        Attr("variance", AttrKind.FLOATS, ()),
        Attr("scale_all_sizes", AttrKind.BOOL, True),
        Attr("fixed_ratio", AttrKind.FLOATS, ()),
        Attr("fixed_size", AttrKind.FLOATS, ()),
        Attr("density", AttrKind.FLOATS, ()),
        Attr("min_max_aspect_ratios_order", AttrKind.BOOL, True),
    ),
    _infer_prior_box,
    _prior_box_kernel,
    doc=(
        "Inputs output_size [H, W] and image_size [IH, IW] (integers) → [2, H·W·priors·4]: per position and"
        " prior (xmin, ymin, xmax, ymax) normalized by the image size, then the variances."
    ),
)

# ---------------------------------------------------------------- DetectionOutput-8


def _infer_detection_output(node: Node) -> list[TensorType]:
    loc, conf, priors = node.inputs[:3]
    attrs = node.attrs
    batch = loc.shape.dims[0] if loc.shape.dims is not None else None
    keep = attrs["keep_top_k"][0] if attrs["keep_top_k"] else -1
    if batch is None:
        rows = None
    elif keep > 0:
        rows = batch * keep
    else:
        prior_size = 4 if attrs["normalized"] else 5
        num_priors = None if priors.shape.dims is None or priors.shape.dims[2] is None else priors.shape.dims[2] // prior_size
        classes = None
        if num_priors and conf.shape.dims is not None and conf.shape.dims[1] is not None:
            classes = conf.shape.dims[1] // num_priors
        if attrs["top_k"] > 0 and classes is not None:
            rows = batch * attrs["top_k"] * classes
        elif num_priors is not None and classes is not None:
            rows = batch * num_priors * classes
        else:
            rows = None
    return [tensor(loc.element_type, [1, 1, rows, 7])]


DetectionOutput = OpSpec(
    "DetectionOutput",
    "opset8",
    (
        Attr("background_label_id", AttrKind.INT, 0),
        Attr("top_k", AttrKind.INT, -1),
        Attr("variance_encoded_in_target", AttrKind.BOOL, False),
        Attr("keep_top_k", AttrKind.INTS, REQUIRED),
        Attr("code_type", AttrKind.STR, "caffe.PriorBoxParameter.CORNER"),
        Attr("share_location", AttrKind.BOOL, True),
        Attr("nms_threshold", AttrKind.FLOAT, REQUIRED),
        Attr("confidence_threshold", AttrKind.FLOAT, 0.0),
        Attr("clip_after_nms", AttrKind.BOOL, False),
        Attr("clip_before_nms", AttrKind.BOOL, False),
        Attr("decrease_label_id", AttrKind.BOOL, False),
        Attr("normalized", AttrKind.BOOL, False),
        Attr("input_height", AttrKind.INT, 1),
        Attr("input_width", AttrKind.INT, 1),
        Attr("objectness_score", AttrKind.FLOAT, 0.0),
    ),
    _infer_detection_output,
    doc=(
        "SSD's detection output: box_logits [N, priors·4·loc_classes], class_preds [N, priors·classes], proposals"
        " [1 or N, 1 or 2, priors·4 (5 unnormalized)] → [1, 1, rows, 7] (image, label, score, xmin, ymin, xmax, ymax),"
        " rows after the last detection marked with image −1."
    ),
)

# ---------------------------------------------------------------- Proposal-4


def _infer_proposal(node: Node) -> list[TensorType]:
    probs = node.inputs[0]
    batch = probs.shape.dims[0] if probs.shape.dims is not None else None
    rows = None if batch is None else batch * node.attrs["post_nms_topn"]
    return [tensor(probs.element_type, [rows, 5]), tensor(probs.element_type, [rows])]


Proposal = OpSpec(
    "Proposal",
    "opset4",
    (
        Attr("base_size", AttrKind.INT, REQUIRED),
        Attr("pre_nms_topn", AttrKind.INT, REQUIRED),
        Attr("post_nms_topn", AttrKind.INT, REQUIRED),
        Attr("nms_thresh", AttrKind.FLOAT, REQUIRED),
        Attr("feat_stride", AttrKind.INT, REQUIRED),
        Attr("min_size", AttrKind.INT, REQUIRED),
        Attr("ratio", AttrKind.FLOATS, REQUIRED),
        Attr("scale", AttrKind.FLOATS, REQUIRED),
        Attr("clip_before_nms", AttrKind.BOOL, True),
        Attr("clip_after_nms", AttrKind.BOOL, False),
        Attr("normalize", AttrKind.BOOL, False),
        Attr("box_size_scale", AttrKind.FLOAT, 1.0),
        Attr("box_coordinate_scale", AttrKind.FLOAT, 1.0),
        Attr("framework", AttrKind.STR, ""),
    ),
    _infer_proposal,
    doc=(
        "Region proposals: class_probs [N, 2A, H, W], bbox_deltas [N, 4A, H, W], image_shape [3] or [4]"
        " (height, width, scale[, scale_w]) → rois [N·post_nms_topn, 5] (batch, x1, y1, x2, y2), their scores."
    ),
)

# ---------------------------------------------------------------- ROIPooling-2


def _infer_roi_pooling(node: Node) -> list[TensorType]:
    data, rois = node.inputs
    num_rois = rois.shape.dims[0] if rois.shape.dims is not None else None
    channels = data.shape.dims[1] if data.shape.dims is not None else None
    return [tensor(data.element_type, [num_rois, channels, node.attrs["pooled_h"], node.attrs["pooled_w"]])]


ROIPooling = OpSpec(
    "ROIPooling",
    "opset2",
    (
        Attr("pooled_h", AttrKind.INT, REQUIRED),
        Attr("pooled_w", AttrKind.INT, REQUIRED),
        Attr("spatial_scale", AttrKind.FLOAT, REQUIRED),
        Attr("method", AttrKind.STR, "max"),
    ),
    _infer_roi_pooling,
    doc=(
        "Fast R-CNN's ROI pooling: data [N, C, H, W], rois [R, 5] (batch, x1, y1, x2, y2 in input pixels)"
        " → [R, C, pooled_h, pooled_w]; method max rounds the scaled corners and max-pools each bin."
    ),
)

OPS: tuple[OpSpec, ...] = (PriorBox, DetectionOutput, Proposal, ROIPooling)
