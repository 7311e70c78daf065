"""MXNet SSD anchors: _contrib_MultiBoxPrior.

The anchors depend only on the feature map's height and width, so they are a constant [1, H·W·A,
4] (A = len(sizes) + len(ratios) − 1 per position), computed in float32 in the order MXNet's CPU
kernel computes them (contrib/multibox_prior.cc): per row r and column c the centre
((c + offset_x)·step_x, (r + offset_y)·step_y), steps 1/W and 1/H unless given; first every size
with the first ratio, then every other ratio with the first size; half-width
size·H/W·√ratio/2, half-height size/√ratio/2; `clip` clamps to [0, 1].

_contrib_MultiBoxDetection as MXNet's CPU kernel computes it (contrib/multibox_detection.cc),
in OpenVINO ops; OpenVINO's DetectionOutput does not fit (it scores every class of every anchor,
MXNet one class per anchor, and its rows differ). cls_prob [B, C, N], loc_pred [B, N·4], anchor
[1, N, 4] (corners) → [B, N, 6] rows (class, score, xmin, ymin, xmax, ymax):
- per anchor the first best class among 1..C−1 (class 0 is the background: MXNet's kernels read
  no background_id), valid when its probability is > −1 and >= threshold; the class id printed
  is that class − 1;
- the box decoded from the anchor's centre and size with the variances (exp for width and
  height), clamped to [0, 1] with `clip`;
- without NMS (nms_threshold <= 0 or > 1): the valid rows in anchor order, then rows of −1;
- with NMS: the valid rows stably sorted by score (TopK stable), the first nms_topk of them
  (all when −1) run through NonMaxSuppression, per class or across classes with force_suppress,
  suppressing at IoU >= nms_threshold as both do; a suppressed row keeps its score and box and
  gets class −1. The NMS scores are the rows' ranks (N − position), so its order is the sort's
  even when scores tie. Rows between nms_topk and the valid count are MXNet's leftovers: the
  valid rows in anchor order at those positions, class −1. Then rows of −1.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.frontends.mxnet.ops.common import as_type, dim, i64, shape_vector
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops.activation import Clamp
from converter.ops.core import Convert, ShapeOf, const
from converter.ops.indexing import Gather, GatherElements, ScatterNDUpdate, Slice
from converter.ops.misc import NonMaxSuppression, OneHot, Range, TopK
from converter.ops.reduction import ReduceSum
from converter.ops.shape import Broadcast, Concat, Reshape, Squeeze, Unsqueeze


def _contrib_MultiBoxPrior(
    ctx: MXNetContext,
    data: Value,
    *,
    sizes: tuple[float, ...] = (1.0,),
    ratios: tuple[float, ...] = (1.0,),
    clip: bool = False,
    steps: tuple[float, ...] = (-1.0, -1.0),
    offsets: tuple[float, ...] = (0.5, 0.5),
) -> Value:
    dims = data.shape.dims
    if dims is None or len(dims) != 4 or dims[2] is None or dims[3] is None:
        raise Unsupported("MultiBoxPrior needs the feature map's static height and width")
    if not sizes or not ratios or len(steps) != 2 or len(offsets) != 2:
        raise Unsupported(f"sizes {sizes}, ratios {ratios}, steps {steps}, offsets {offsets}")
    height, width = int(dims[2]), int(dims[3])
    f32 = np.float32
    step_y, step_x = (f32(s) for s in steps)
    if step_y <= 0 or step_x <= 0:
        step_y, step_x = f32(1.0) / f32(height), f32(1.0) / f32(width)
    shapes = [(f32(size), np.sqrt(f32(ratios[0]))) for size in sizes] + [(f32(sizes[0]), np.sqrt(f32(r))) for r in ratios[1:]]
    half = np.array([[size * f32(height) / f32(width) * ratio / f32(2), size / ratio / f32(2)] for size, ratio in shapes], np.float32)
    rows = ((np.arange(height, dtype=f32) + f32(offsets[0])) * step_y).astype(f32)
    columns = ((np.arange(width, dtype=f32) + f32(offsets[1])) * step_x).astype(f32)
    centres = np.stack(np.broadcast_arrays(columns[None, :], rows[:, None]), axis=-1).reshape(-1, 1, 2)
    boxes = np.concatenate([centres - half[None], centres + half[None]], axis=-1).astype(f32)
    if clip:
        boxes = np.clip(boxes, 0.0, 1.0)
    return const(boxes.reshape(1, -1, 4))


def _contrib_MultiBoxDetection(
    ctx: MXNetContext,
    cls_prob: Value,
    loc_pred: Value,
    anchor: Value,
    *,
    clip: bool = True,
    threshold: float = 0.01,
    background_id: int = 0,  # declared by MXNet, read by none of its kernels: class 0 is the background
    nms_threshold: float = 0.5,
    force_suppress: bool = False,
    variances: tuple[float, ...] = (0.1, 0.1, 0.2, 0.2),
    nms_topk: int = -1,
) -> Value:
    if cls_prob.shape.rank != 3 or loc_pred.shape.rank != 2 or anchor.shape.rank != 3:
        ranks = f"{cls_prob.shape.rank}, {loc_pred.shape.rank}, {anchor.shape.rank}"
        raise Unsupported(f"inputs of ranks {ranks}: MXNet takes cls_prob [B, C, N], loc_pred [B, N*4], anchor [1, N, 4]")
    if len(variances) != 4:
        raise Unsupported(f"variances {variances}: MXNet takes 4")
    element = cls_prob.element_type
    minus_one = const(np.array(-1, element.numpy))
    rows_shape = shape_vector([dim(cls_prob, 0), dim(cls_prob, 2), 6])
    if cls_prob.shape.dims[1] == 1:  # no class but the background: every row is -1
        return Broadcast(minus_one, rows_shape)
    foreground = Slice(cls_prob, i64([1]), i64([np.iinfo(np.int64).max]), i64([1]), i64([1]))
    best = TopK.node(foreground, const(np.int64(1)), axis=1, mode="max", sort="value", index_element_type=ElementType.i64, stable=True)
    score = Squeeze(best.outputs[0], i64([1]))  # [B, N]
    class_index = Squeeze(best.outputs[1], i64([1]))  # [B, N], class - 1
    valid = ew.LogicalAnd(ew.Greater(score, const(np.array(-1, element.numpy))), ew.GreaterEqual(score, const(np.array(threshold, element.numpy))))
    boxes = _decoded_boxes(loc_pred, anchor, variances, clip, element)
    rows = Concat(Unsqueeze(Convert(class_index, destination_type=element), i64([2])), Unsqueeze(score, i64([2])), boxes, axis=2)

    count_vector = dim(cls_prob, 2)
    count = Squeeze(count_vector, i64([0])) if count_vector.const is None else const(np.int64(count_vector.const[0]))
    positions = Unsqueeze(Range(const(np.int64(0)), count, const(np.int64(1)), output_type=ElementType.i64), i64([0]))  # [1, N]
    valid_count = ReduceSum(Convert(valid, destination_type=ElementType.i64), i64([1]), keep_dims=True)  # [B, 1]
    first_column = const(np.array([True, False, False, False, False, False]).reshape(1, 1, 6))

    def in_order(indices: Value) -> Value:
        return _along_anchors(rows, indices)

    def compacted() -> Value:  # the valid rows in anchor order, then the others
        flags = Convert(valid, destination_type=ElementType.i32)
        return in_order(TopK.node(flags, count, axis=1, mode="max", sort="value", index_element_type=ElementType.i64, stable=True).outputs[1])

    if not 0 < nms_threshold <= 1:
        return ew.Select(Unsqueeze(ew.Less(positions, valid_count), i64([2])), compacted(), minus_one)

    key = ew.Select(valid, score, const(np.array(-np.inf, element.numpy)))
    order = TopK.node(key, count, axis=1, mode="max", sort="value", index_element_type=ElementType.i64, stable=True).outputs[1]  # [B, N]
    static_count = cls_prob.shape.dims[2]
    leftovers = nms_topk > 0 and (static_count is None or nms_topk < static_count)
    kept_count = ew.Minimum(valid_count, i64([[nms_topk]])) if leftovers else valid_count
    in_nms = ew.Less(positions, kept_count)  # [B, N]
    ranks = Convert(ew.Subtract(count, positions), destination_type=ElementType.f32)
    nms_scores = Unsqueeze(ew.Select(in_nms, ranks, const(np.float32(0))), i64([1]))  # [B, 1, N]
    if not force_suppress:
        sorted_class = _along_anchors(class_index, order)
        classes = Squeeze(dim(foreground, 1), i64([0])) if foreground.shape.dims[1] is None else const(np.int64(foreground.shape.dims[1]))
        one_hot = OneHot(sorted_class, classes, const(np.float32(1)), const(np.float32(0)), axis=1)  # [B, C - 1, N]
        nms_scores = ew.Multiply(one_hot, nms_scores)
    sorted_boxes = as_type(_along_anchors(boxes, order), ElementType.f32)
    kept = _nms_kept(sorted_boxes, nms_scores, count, nms_threshold, ShapeOf(order, output_type=ElementType.i64))
    sorted_rows = in_order(order)
    top = ew.Select(ew.LogicalAnd(Unsqueeze(ew.LogicalNot(kept), i64([2])), first_column), minus_one, sorted_rows)
    rest: Value = minus_one
    if leftovers:
        rest = ew.Select(Unsqueeze(ew.Less(positions, valid_count), i64([2])), ew.Select(first_column, minus_one, compacted()), minus_one)
    return ew.Select(Unsqueeze(in_nms, i64([2])), top, rest)


def _along_anchors(x: Value, order: Value) -> Value:
    """x [B, N] or [B, N, K] with its anchors (axis 1) in `order` [B, N]. GatherElements, not a Gather
    with batch_dims 1: OpenVINO 2026.4's CPU plugin crashes on that Gather when the batch is 1 and
    the indices come from a TopK."""
    if x.shape.rank == 2:
        return GatherElements(x, order, axis=1)
    return GatherElements(x, Broadcast(Unsqueeze(order, i64([2])), ShapeOf(x, output_type=ElementType.i64)), axis=1)


def _decoded_boxes(loc_pred: Value, anchor: Value, variances: tuple[float, ...], clip: bool, element: ElementType) -> Value:
    """TransformLocations: corners from the anchor's centre and size, the offsets scaled by the variances."""
    dtype = element.numpy
    loc = Reshape(loc_pred, i64([0, -1, 4]), special_zero=True)
    anchors = Reshape(anchor, i64([1, -1, 4]), special_zero=False)

    def columns(x: Value, start: int) -> Value:
        return Slice(x, i64([start]), i64([start + 2]), i64([1]), i64([2]))

    low, high = columns(anchors, 0), columns(anchors, 2)
    size = ew.Subtract(high, low)
    centre = ew.Divide(ew.Add(low, high), const(np.array(2, dtype)))
    moved = ew.Add(ew.Multiply(ew.Multiply(columns(loc, 0), const(np.array(variances[:2], dtype))), size), centre)
    half = ew.Divide(ew.Multiply(ew.Exp(ew.Multiply(columns(loc, 2), const(np.array(variances[2:], dtype)))), size), const(np.array(2, dtype)))
    boxes = Concat(ew.Subtract(moved, half), ew.Add(moved, half), axis=2)
    return Clamp(boxes, min=0.0, max=1.0) if clip else boxes


def _nms_kept(boxes: Value, scores: Value, count: Value, nms_threshold: float, rows_shape: Value) -> Value:
    """[B, N] booleans: the rows NonMaxSuppression keeps (IoU >= nms_threshold suppresses, as in MXNet)."""
    node = NonMaxSuppression.node(
        boxes, scores, count, const(np.float32(nms_threshold)), const(np.float32(0.5)),
        box_encoding="corner", sort_result_descending=False, output_type=ElementType.i64,
    )  # fmt: skip
    selected, _, selected_count = node.outputs
    # Rows past valid_outputs are padding; a Slice clamps to the rows that exist.
    selected = Slice(selected, i64([0]), Reshape(selected_count, i64([1]), special_zero=False), i64([1]), i64([0]))
    batch_and_row = Gather(selected, i64([0, 2]), i64(1))  # [M, 2]
    ones = Broadcast(i64(1), Slice(ShapeOf(batch_and_row, output_type=ElementType.i64), i64([0]), i64([1]), i64([1])))
    marks = ScatterNDUpdate(Broadcast(i64(0), rows_shape), batch_and_row, ones)
    return ew.Greater(marks, i64(0))


HANDLERS: dict[str, Handler] = {"_contrib_MultiBoxPrior": _contrib_MultiBoxPrior, "_contrib_MultiBoxDetection": _contrib_MultiBoxDetection}
