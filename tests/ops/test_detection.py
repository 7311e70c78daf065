"""Detection ops (PriorBox-8, ROIPooling-2, DetectionOutput-8, Proposal-4): the PriorBox kernel and the
ONNX lowerings against OpenVINO, and the declared output shapes against OpenVINO's."""

from __future__ import annotations

import numpy as np
import pytest

from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops import detection as ops
from converter.ops.core import const, parameter
from converter.runtime import execute

RNG = np.random.default_rng(3)

PRIOR_CASES = [
    dict(min_size=(30.0,), max_size=(60.0,), aspect_ratio=(2.0,), flip=True, clip=False, step=30.0, offset=0.5, variance=(0.1, 0.1, 0.2, 0.2)),
    dict(min_size=(21.0, 45.0), max_size=(45.0, 99.0), aspect_ratio=(2.0, 3.0), flip=True, clip=True, offset=0.5, variance=(0.1,)),
    dict(min_size=(16.0,), aspect_ratio=(2.0, 0.5, 2.0), flip=False, clip=False, step=8.0, offset=0.25),
    dict(min_size=(0.2, 0.1), aspect_ratio=(2.0,), flip=False, clip=False, step=-1.0, offset=0.5, scale_all_sizes=False),
    dict(min_size=(30.0,), max_size=(60.0,), aspect_ratio=(2.0,), flip=True, offset=0.5, min_max_aspect_ratios_order=False),
]


@pytest.mark.parametrize("attrs", PRIOR_CASES)
def test_prior_box_kernel_and_lowering_match_openvino(attrs) -> None:
    x = parameter("x", ElementType.f32, Shape((1,)))  # a graph needs an input; the boxes read none
    boxes = ops.PriorBox(const(np.array([5, 7], dtype=np.int64)), const(np.array([300, 240], dtype=np.int64)), **attrs)
    graph = Graph([x], [boxes], "priors")
    kernel = ops.PriorBox.kernel([np.array([5, 7]), np.array([300, 240])], boxes.producer.attrs)[0]
    assert kernel.shape == tuple(boxes.shape.dims)
    feeds = [np.zeros(1, np.float32)]
    np.testing.assert_allclose(kernel, execute(graph, feeds, "openvino")[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kernel, execute(graph, feeds)[0], rtol=1e-6)


def test_roi_pooling_lowering_matches_openvino() -> None:
    data = parameter("data", ElementType.f32, Shape((2, 3, 12, 16)))
    rois = parameter("rois", ElementType.f32, Shape((4, 5)))
    graph = Graph([data, rois], [ops.ROIPooling(data.outputs[0], rois.outputs[0], pooled_h=3, pooled_w=2, spatial_scale=0.5)], "roi")
    boxes = np.array([[0, 0, 0, 20, 10], [1, 3.3, 2.7, 30, 22], [0, 10, 10, 11, 11], [1, -4, 5, 40, 30]], dtype=np.float32)
    feeds = [RNG.standard_normal((2, 3, 12, 16)).astype(np.float32), boxes]
    np.testing.assert_allclose(execute(graph, feeds)[0], execute(graph, feeds, "openvino")[0], rtol=1e-6)


def test_detection_output_and_proposal_shapes_match_openvino() -> None:
    loc = parameter("loc", ElementType.f32, Shape((1, 40 * 4)))
    conf = parameter("conf", ElementType.f32, Shape((1, 40 * 3)))
    priors = parameter("priors", ElementType.f32, Shape((1, 2, 40 * 4)))
    detections = ops.DetectionOutput(
        loc.outputs[0], conf.outputs[0], priors.outputs[0], keep_top_k=(7,), nms_threshold=0.45, normalized=True, confidence_threshold=0.01
    )
    probs = parameter("probs", ElementType.f32, Shape((1, 6, 4, 5)))
    deltas = parameter("deltas", ElementType.f32, Shape((1, 12, 4, 5)))
    info = parameter("info", ElementType.f32, Shape((3,)))
    proposal = ops.Proposal.node(
        probs.outputs[0], deltas.outputs[0], info.outputs[0], base_size=16, pre_nms_topn=50, post_nms_topn=9, nms_thresh=0.7,
        feat_stride=16, min_size=4, ratio=(0.5, 1.0, 2.0), scale=(1.0,),
    )  # fmt: skip
    graph = Graph([loc, conf, priors, probs, deltas, info], [detections, *proposal.outputs], "detect")
    centers = RNG.uniform(0.2, 0.8, (40, 2))
    prior_boxes = np.concatenate([centers - 0.1, centers + 0.1], axis=1).reshape(-1)
    feeds = [
        RNG.standard_normal((1, 160)).astype(np.float32) * 0.1,
        RNG.uniform(0, 1, (1, 120)).astype(np.float32),
        np.stack([prior_boxes, np.full_like(prior_boxes, 0.1)])[None].astype(np.float32),
        RNG.uniform(0, 1, (1, 6, 4, 5)).astype(np.float32),
        RNG.standard_normal((1, 12, 4, 5)).astype(np.float32) * 0.1,
        np.array([64, 80, 1], dtype=np.float32),
    ]
    results = execute(graph, feeds, "openvino")
    assert [r.shape for r in results] == [tuple(v.shape.dims) for v in graph.outputs]
