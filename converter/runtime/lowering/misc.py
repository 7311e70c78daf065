"""Lowerings for the misc family: TopK, Range, OneHot, NonZero, CumSum, Eye, NonMaxSuppression."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from converter.ir.graph import Node
from converter.ir.types import ElementType
from converter.ops import misc as ops
from converter.ops.spec import OpSpec, normalize_axis
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, LoweringContext, LoweringFn

RANGE_TYPES = {ElementType.f32, ElementType.f64, ElementType.i16, ElementType.i32, ElementType.i64}
"""Element types ONNX Range accepts; others are computed in f32 / i64 and cast."""


def _int64_vector(ctx: LoweringContext, name: str) -> str:
    """A one-element i64 vector from a scalar or one-element input."""
    return ctx.emit1("Reshape", [ctx.emit1("Cast", [name], to=TensorProto.INT64), ctx.int64s([1])])


def _int64_scalar(ctx: LoweringContext, name: str) -> str:
    return ctx.emit1("Reshape", [ctx.emit1("Cast", [name], to=TensorProto.INT64), ctx.int64s([])])


TOPK_TYPES = {ElementType.f32, ElementType.f64, ElementType.i32, ElementType.i64}
"""Element types onnxruntime's TopK sorts; others are sorted through an order-preserving key."""


def _sort_key(ctx: LoweringContext, data: str, element_type: ElementType) -> str:
    if element_type in TOPK_TYPES:
        return data
    if element_type.is_float:
        return ctx.emit1("Cast", [data], to=TensorProto.FLOAT)
    if element_type is ElementType.u64:
        # Flipping the top bit maps unsigned order onto signed order (the cast wraps).
        flipped = ctx.emit1("BitwiseXor", [data, ctx.constant(np.uint64(1 << 63))])
        return ctx.emit1("Cast", [flipped], to=TensorProto.INT64)
    return ctx.emit1("Cast", [data], to=TensorProto.INT64)


def topk(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data, k = inputs
    attrs = node.attrs
    axis = normalize_axis(attrs["axis"], node.inputs[0].shape.rank)
    # OpenVINO clamps k to the axis length; ONNX TopK would fail instead.
    length = ctx.emit1("Gather", [ctx.emit1("Shape", [data]), ctx.int64s([axis])], axis=0)
    count = ctx.emit1("Min", [_int64_vector(ctx, k), length])
    key = _sort_key(ctx, data, node.inputs[0].element_type)
    values, indices = ctx.emit("TopK", [key, count], 2, axis=axis, largest=int(attrs["mode"] == "max"), sorted=1)
    if key != data:
        values = ctx.emit1("GatherElements", [data, indices], axis=axis)
    if attrs["sort"] == "index":
        indices, order = ctx.emit("TopK", [indices, count], 2, axis=axis, largest=0, sorted=1)
        values = ctx.emit1("GatherElements", [values, order], axis=axis)
    return [values, ctx.emit1("Cast", [indices], to=ONNX_ELEMENT_TYPE[attrs["index_element_type"]])]


def range_(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    output_type: ElementType = node.attrs["output_type"]
    if output_type in RANGE_TYPES:
        compute_type = output_type
    else:
        compute_type = ElementType.f32 if output_type.is_float else ElementType.i64
    to = ONNX_ELEMENT_TYPE[compute_type]
    scalars = [ctx.emit1("Reshape", [ctx.emit1("Cast", [name], to=to), ctx.int64s([])]) for name in inputs]
    result = ctx.emit1("Range", scalars)
    if compute_type is not output_type:
        result = ctx.emit1("Cast", [result], to=ONNX_ELEMENT_TYPE[output_type])
    return [result]


def one_hot(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    indices, depth, on_value, off_value = inputs
    indices = ctx.emit1("Cast", [indices], to=TensorProto.INT64)
    depth = _int64_vector(ctx, depth)
    if node.attrs["negative_indices_mode"] == "ignore_negative":
        # ONNX counts negative indices from the end; an index of `depth` is out of range: all off.
        negative = ctx.emit1("Less", [indices, ctx.constant(np.int64(0))])
        indices = ctx.emit1("Where", [negative, ctx.emit1("Reshape", [depth, ctx.int64s([])]), indices])
    output_type: ElementType = node.outputs[0].element_type
    # onnxruntime implements OneHot for a few value types only: compute in f32 or i64, cast back.
    compute_type = ElementType.f32 if output_type.is_float else ElementType.i64
    to = ONNX_ELEMENT_TYPE[compute_type]
    pair = [ctx.emit1("Reshape", [ctx.emit1("Cast", [v], to=to), ctx.int64s([1])]) for v in (off_value, on_value)]
    values = ctx.emit1("Concat", pair, axis=0)
    result = ctx.emit1("OneHot", [indices, depth, values], axis=node.attrs["axis"])
    if compute_type is not output_type:
        result = ctx.emit1("Cast", [result], to=ONNX_ELEMENT_TYPE[output_type])
    return [result]


def non_zero(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [ctx.emit1("Cast", [ctx.emit1("NonZero", inputs)], to=ONNX_ELEMENT_TYPE[node.attrs["output_type"]])]


def cum_sum(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    axis = _int64_scalar(ctx, inputs[1]) if len(inputs) > 1 else ctx.constant(np.int64(0))
    return [ctx.emit1("CumSum", [inputs[0], axis], exclusive=int(node.attrs["exclusive"]), reverse=int(node.attrs["reverse"]))]


def eye(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    rows, columns, diagonal = (_int64_scalar(ctx, name) for name in inputs[:3])
    zero, one = ctx.constant(np.int64(0)), ctx.constant(np.int64(1))
    row_index = ctx.emit1("Unsqueeze", [ctx.emit1("Range", [zero, rows, one]), ctx.int64s([1])])
    column_index = ctx.emit1("Unsqueeze", [ctx.emit1("Range", [zero, columns, one]), ctx.int64s([0])])
    on_diagonal = ctx.emit1("Equal", [ctx.emit1("Sub", [column_index, row_index]), diagonal])
    result = ctx.emit1("Cast", [on_diagonal], to=ONNX_ELEMENT_TYPE[node.attrs["output_type"]])
    if len(inputs) > 3:
        batch = ctx.emit1("Cast", [inputs[3]], to=TensorProto.INT64)
        matrix_shape = ctx.emit1("Shape", [result])
        result = ctx.emit1("Expand", [result, ctx.emit1("Concat", [batch, matrix_shape], axis=0)])
    return [result]


ULP_FRACTION = 2.0**-24 + 2.0**-30
"""t ± t * ULP_FRACTION rounds to the float next to t (for normal f32 t)."""
TINY = np.finfo(np.float32).tiny


def non_max_suppression(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    boxes, scores = (ctx.emit1("Cast", [name], to=TensorProto.FLOAT) for name in inputs[:2])
    if len(inputs) > 5:
        sigma = node.inputs[5].const
        if sigma is None or float(np.asarray(sigma).reshape(-1)[0]) != 0.0:
            raise NotImplementedError("NonMaxSuppression with soft_nms_sigma != 0 has no ONNX equivalent")
    nms_inputs = [boxes, scores]
    if len(inputs) > 2:
        nms_inputs.append(_int64_vector(ctx, inputs[2]))
    thresholds = [ctx.emit1("Reshape", [ctx.emit1("Cast", [name], to=TensorProto.FLOAT), ctx.int64s([1])]) for name in inputs[3:5]]
    if thresholds:
        # OpenVINO suppresses when IoU >= threshold, ONNX when IoU > threshold: step one float down.
        # (ONNX takes no negative threshold, so an IR threshold of 0, "suppress every pair", stays 0.)
        step = ctx.emit1("Add", [ctx.emit1("Mul", [thresholds[0], ctx.constant(np.float32(ULP_FRACTION))]), ctx.constant(TINY)])
        thresholds[0] = ctx.emit1("Max", [ctx.emit1("Sub", [thresholds[0], step]), ctx.constant(np.zeros(1, dtype=np.float32))])
    nms_inputs.extend(thresholds)
    selected = ctx.emit1("NonMaxSuppression", nms_inputs, center_point_box=int(node.attrs["box_encoding"] == "center"))
    selected_scores = ctx.emit1("GatherND", [scores, selected])
    if node.attrs["sort_result_descending"]:
        count = ctx.emit1("Shape", [selected_scores])
        selected_scores, order = ctx.emit("TopK", [selected_scores, count], 2, axis=0, largest=1, sorted=1)
        selected = ctx.emit1("Gather", [selected, order], axis=0)
    batch_and_class = ctx.emit1("Cast", [ctx.emit1("Slice", [selected, ctx.int64s([0]), ctx.int64s([2]), ctx.int64s([1])])], to=TensorProto.FLOAT)
    score_column = ctx.emit1("Unsqueeze", [selected_scores, ctx.int64s([1])])
    score_type = ONNX_ELEMENT_TYPE[node.outputs[1].element_type]
    scores_out = ctx.emit1("Cast", [ctx.emit1("Concat", [batch_and_class, score_column], axis=1)], to=score_type)
    index_type = ONNX_ELEMENT_TYPE[node.attrs["output_type"]]
    valid = ctx.emit1("Cast", [ctx.emit1("Shape", [selected], start=0, end=1)], to=index_type)
    return [ctx.emit1("Cast", [selected], to=index_type), scores_out, valid]


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.TopK: topk,
    ops.Range: range_,
    ops.OneHot: one_hot,
    ops.NonZero: non_zero,
    ops.CumSum: cum_sum,
    ops.Eye: eye,
    ops.NonMaxSuppression: non_max_suppression,
}
