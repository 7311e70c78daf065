"""SSD's PriorBox and DetectionOutput, Faster R-CNN's Proposal → OpenVINO's detection ops."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from converter.frontends.caffe.layers.common import dims_of, i64, reshaped
from converter.frontends.caffe.net import CaffeContext, Handler, Unsupported
from converter.ir.graph import Value
from converter.ops import detection as ops
from converter.ops.shape import Unsqueeze


def PriorBox(
    ctx: CaffeContext,
    feature: Value,
    image: Value,
    *,
    min_size: Sequence[float] = (),
    max_size: Sequence[float] = (),
    aspect_ratio: Sequence[float] = (),
    flip: bool = True,
    clip: bool = False,
    variance: Sequence[float] = (),
    img_size: int | None = None,
    img_h: int | None = None,
    img_w: int | None = None,
    step: float | None = None,
    step_h: float | None = None,
    step_w: float | None = None,
    offset: float = 0.5,
) -> Value:
    """[1, 2, H·W·priors·4]: the boxes of every position of the feature map, then their variances."""
    layer_h, layer_w = dims_of(feature, "PriorBox")[2:4]
    image_dims = dims_of(image, "PriorBox's image")
    if img_size is not None and (img_h is not None or img_w is not None):
        raise Unsupported("both img_size and img_h / img_w")
    height = img_size or img_h or image_dims[2]
    width = img_size or img_w or image_dims[3]
    if not min_size:
        raise Unsupported("no min_size")
    if max_size and len(max_size) != len(min_size):
        raise Unsupported(f"{len(max_size)} max sizes for {len(min_size)} min sizes")
    if any(high <= low for low, high in zip(min_size, max_size)):
        raise Unsupported("a max_size not above its min_size")
    if len(variance) not in (0, 1, 4):
        raise Unsupported(f"{len(variance)} variances (1 or 4)")
    if step is not None and (step_h is not None or step_w is not None):
        raise Unsupported("both step and step_h / step_w")
    steps = (step, step) if step is not None else (step_h, step_w)
    if steps == (None, None):
        steps = (height / layer_h, width / layer_w)  # Caffe's steps when none is given
    if steps[0] != steps[1]:
        if steps[0] is None or steps[1] is None or offset != 0.5 or steps != (height / layer_h, width / layer_w):
            raise Unsupported(f"steps {steps} (OpenVINO's PriorBox takes one step for both axes)")
        step_value = 0.0  # OpenVINO's own per-axis steps: the image over the map, at offset 0.5
    else:
        step_value = float(steps[0])  # type: ignore[arg-type]
    boxes = ops.PriorBox(
        i64([layer_h, layer_w]),
        i64([height, width]),
        min_size=min_size,
        max_size=max_size,
        aspect_ratio=aspect_ratio,
        flip=flip,
        clip=clip,
        step=step_value,
        offset=offset,
        variance=variance or [0.1],
        scale_all_sizes=True,
        min_max_aspect_ratios_order=True,
    )
    return Unsqueeze(boxes, i64([0]))


def DetectionOutput(
    ctx: CaffeContext,
    loc: Value,
    conf: Value,
    priors: Value,
    *,
    num_classes: int | None = None,
    share_location: bool = True,
    background_label_id: int = 0,
    nms_param: Any = None,
    code_type: str = "CORNER",
    variance_encoded_in_target: bool = False,
    keep_top_k: int = -1,
    confidence_threshold: float | None = None,
) -> Value:
    """[1, 1, N·keep_top_k, 7] rows (image, label, score, xmin, ymin, xmax, ymax); after the
    detections found, rows of image −1 (Caffe returns only the rows found)."""
    nms_threshold, top_k = 0.3, -1
    if nms_param is not None:
        nms_threshold = nms_param.nms_threshold
        top_k = nms_param.top_k if nms_param.HasField("top_k") else -1
        if nms_param.eta != 1.0:
            raise Unsupported(f"adaptive NMS (eta {nms_param.eta})")
    loc, conf = (reshaped(v, [dims_of(v, "DetectionOutput")[0], -1]) if v.shape.rank != 2 else v for v in (loc, conf))
    priors_dims = dims_of(priors, "DetectionOutput's priors")
    if len(priors_dims) != 3:
        priors = reshaped(priors, [1, 2, -1])
    if num_classes is not None:
        count = dims_of(priors, "priors")[2] // 4
        if dims_of(conf, "confidences")[1] != count * num_classes:
            raise Unsupported(f"{dims_of(conf, 'confidences')[1]} confidences for {count} priors of {num_classes} classes")
    return ops.DetectionOutput(
        loc,
        conf,
        priors,
        background_label_id=background_label_id,
        top_k=top_k,
        variance_encoded_in_target=variance_encoded_in_target,
        keep_top_k=[keep_top_k],
        code_type=f"caffe.PriorBoxParameter.{code_type}",
        share_location=share_location,
        nms_threshold=nms_threshold,
        confidence_threshold=confidence_threshold if confidence_threshold is not None else -float(np.finfo(np.float32).max),
        normalized=True,
    )


def Proposal(
    ctx: CaffeContext,
    scores: Value,
    deltas: Value,
    info: Value,
    *,
    feat_stride: int = 16,
    base_size: int = 16,
    min_size: int = 16,
    ratio: Sequence[float] = (),
    scale: Sequence[float] = (),
    pre_nms_topn: int = 6000,
    post_nms_topn: int = 300,
    nms_thresh: float = 0.7,
) -> Value | list[Value]:
    """Region proposals [post_nms_topn, 5] (padded when fewer are found), and their scores when
    the layer has a second top."""
    if not ratio or not scale:
        raise Unsupported("ratio and scale must be given")
    if dims_of(scores, "Proposal")[0] != 1:
        raise Unsupported("a batch of more than one image")
    info_dims = dims_of(info, "Proposal's image info")
    if int(np.prod(info_dims)) not in (3, 4):
        raise Unsupported(f"image info of shape {info_dims}")
    node = ops.Proposal.node(
        scores, deltas, reshaped(info, [int(np.prod(info_dims))]),
        base_size=base_size, pre_nms_topn=pre_nms_topn, post_nms_topn=post_nms_topn, nms_thresh=nms_thresh,
        feat_stride=feat_stride, min_size=min_size, ratio=ratio, scale=scale,
    )  # fmt: skip
    tops = len(ctx.layer.top) if ctx.layer is not None else 1
    return list(node.outputs) if tops == 2 else node.outputs[0]


HANDLERS: dict[str, Handler] = {"PriorBox": PriorBox, "DetectionOutput": DetectionOutput, "Proposal": Proposal}
