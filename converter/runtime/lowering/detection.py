"""Lowerings for the detection family: PriorBox (on constant sizes) and ROIPooling.

DetectionOutput and Proposal have no ONNX equivalent (graphs holding them run on OpenVINO).
"""

from __future__ import annotations

import numpy as np

from converter.ir.graph import Node
from converter.ops import detection as ops
from converter.runtime.lowering.context import LoweringContext, LoweringFn
from converter.ops.spec import OpSpec


def prior_box(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    """The boxes depend on the two sizes only: computed here when both are constant."""
    sizes = [value.const for value in node.inputs]
    if any(size is None for size in sizes):
        raise NotImplementedError("PriorBox on sizes computed at run time has no ONNX equivalent")
    return [ctx.constant(ops.PriorBox.kernel([np.asarray(s) for s in sizes], node.attrs)[0])]  # type: ignore[misc]


def roi_pooling(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    """ONNX's MaxRoiPool is Fast R-CNN's ROI pooling: rounded scaled corners, floor/ceil bins."""
    if node.attrs["method"] != "max":
        raise NotImplementedError("ROIPooling method bilinear has no ONNX equivalent")
    shape = [node.attrs["pooled_h"], node.attrs["pooled_w"]]
    return [ctx.emit1("MaxRoiPool", inputs, pooled_shape=shape, spatial_scale=node.attrs["spatial_scale"])]


LOWERINGS: dict[OpSpec, LoweringFn] = {ops.PriorBox: prior_box, ops.ROIPooling: roi_pooling}
