"""ONNX handlers for the misc family: constants, casts, pass-throughs, TopK/ArgMax,
Range, OneHot, NonZero, CumSum, EyeLike and NonMaxSuppression."""

from __future__ import annotations

import math

import numpy as np

from converter.frontends.onnx import proto
from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported, element_type
from converter.frontends.onnx.tensors import sparse_to_dense
from converter.frontends.onnx.ops.quantization import FLOAT8_MAX, to_float4, to_float8, to_nibble_integer
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops import misc as ops
from converter.ops import shape as shape_ops
from converter.ops.core import Convert, ShapeOf, const
from converter.ops.indexing import Gather, Slice
from converter.ops.spec import const_ints, normalize_axis

LARGE_CONSTANT_BYTES = 64 * 1024
"""A filled tensor bigger than this stays a Broadcast of a scalar rather than a Const."""

# ---------------------------------------------------------------- constants


def Constant(
    ctx: OnnxContext,
    *,
    value: np.ndarray | None = None,
    sparse_value: proto.SparseTensorProto | None = None,
    value_float: float | None = None,
    value_floats: list[float] | None = None,
    value_int: int | None = None,
    value_ints: list[int] | None = None,
    value_string: str | None = None,
    value_strings: list[str] | None = None,
) -> Value:
    if value_string is not None or value_strings is not None:
        raise Unsupported("string constants are not supported")
    if value is not None:
        array = value
    elif sparse_value is not None:
        array = sparse_to_dense(sparse_value)
    elif value_float is not None:
        array = np.array(value_float, dtype=np.float32)
    elif value_floats is not None:
        array = np.array(value_floats, dtype=np.float32)
    elif value_int is not None:
        array = np.array(value_int, dtype=np.int64)
    elif value_ints is not None:
        array = np.array(value_ints, dtype=np.int64)
    else:
        raise Unsupported("Constant has no value attribute")
    _check_dtype(array.dtype)
    return const(array)


def _check_dtype(dtype: np.dtype) -> ElementType:
    try:
        return ElementType.from_numpy(dtype)
    except ValueError:
        raise Unsupported(f"element type {dtype} is not supported") from None


def ConstantOfShape(ctx: OnnxContext, shape: Value, *, value: np.ndarray | None = None) -> Value:
    fill = np.zeros((), dtype=np.float32) if value is None else np.asarray(value).reshape(())
    _check_dtype(fill.dtype)
    dims = shape.const
    if dims is not None:
        target = [int(d) for d in np.asarray(dims).reshape(-1)]
        if all(d >= 0 for d in target) and math.prod(target) * fill.itemsize <= LARGE_CONSTANT_BYTES:  # exact: int64 wraps
            return const(np.full(target, fill, dtype=fill.dtype))
    return shape_ops.Broadcast(const(fill), shape)


def _filled_like(x: Value, fill: np.ndarray) -> Value:
    """A tensor of x's shape filled with the scalar `fill`."""
    if x.shape.is_static and math.prod(x.shape.static) * fill.itemsize <= LARGE_CONSTANT_BYTES:
        return const(np.full(x.shape.static, fill, dtype=fill.dtype))
    return shape_ops.Broadcast(const(fill), ShapeOf(x, output_type=ElementType.i64))


# ---------------------------------------------------------------- pass-throughs and casts


def Identity(ctx: OnnxContext, x: Value) -> Value:
    return x


def Dropout(
    ctx: OnnxContext,
    data: Value,
    ratio_value: Value | None = None,
    training_mode: Value | None = None,
    *,
    ratio: float = 0.5,
    seed: int = 0,
) -> list[Value | None]:
    """Inference: the output is the input; the mask (if asked for) is all true (ones before opset 10)."""
    if training_mode is not None:
        training = training_mode.const
        if training is None:
            raise Unsupported("Dropout with a non-constant training_mode is not supported")
        if bool(np.asarray(training).reshape(-1)[0]) and not _zero_ratio(ratio_value):
            raise Unsupported("Dropout in training mode is not supported (inference only)")
    wants_mask = len(ctx.node.output) > 1 and bool(ctx.node.output[1])
    if not wants_mask:
        return [data, None]
    fill = np.ones((), dtype=data.element_type.numpy) if ctx.opset < 10 else np.ones((), dtype=np.bool_)
    return [data, _filled_like(data, fill)]


def _zero_ratio(ratio: Value | None) -> bool:
    array = None if ratio is None else ratio.const
    return array is not None and float(np.asarray(array).reshape(-1)[0]) == 0.0


def Cast(ctx: OnnxContext, x: Value, *, to: int, saturate: int = 1, round_mode: str = "up") -> Value:
    return _cast(x, element_type(to), saturate)


def CastLike(ctx: OnnxContext, x: Value, target: Value, *, saturate: int = 1, round_mode: str = "up") -> Value:
    return _cast(x, target.element_type, saturate)


def _cast(x: Value, target: ElementType, saturate: int) -> Value:
    if x.element_type is target:
        return x
    if target in FLOAT8_MAX:
        return to_float8(x, target, saturate)
    if target is ElementType.f4e2m1:  # no infinities: always saturates, whatever `saturate` says
        return to_float4(x)
    if target in (ElementType.i4, ElementType.u4):
        return to_nibble_integer(x, target)
    return Convert(x, destination_type=target)


# ---------------------------------------------------------------- sequences


def Range(ctx: OnnxContext, start: Value, limit: Value, delta: Value, *, stash_type: int = 1) -> Value:
    inputs = [_scalar(v) for v in (start, limit, delta)]
    element = start.element_type
    if element in (ElementType.f16, ElementType.bf16) and stash_type == 1:
        # Accumulate in f32 (ONNX stash_type=1), then round once to the output type.
        widened = [Convert(v, destination_type=ElementType.f32) for v in inputs]
        return Convert(ops.Range(*widened, output_type=ElementType.f32), destination_type=element)
    return ops.Range(*inputs, output_type=element)


def _scalar(value: Value) -> Value:
    """A 0-D view of a one-element value."""
    if value.shape.rank == 0:
        return value
    array = value.const
    if array is not None:
        return const(np.asarray(array).reshape(()))
    return shape_ops.Reshape(value, const(np.zeros((0,), dtype=np.int64)), special_zero=False)


def CumSum(ctx: OnnxContext, x: Value, axis: Value, *, exclusive: int = 0, reverse: int = 0) -> Value:
    return ops.CumSum(x, _scalar(axis), exclusive=bool(exclusive), reverse=bool(reverse))


MAX_CUMPROD_LENGTH = 256
"""CumProd is unrolled into one Multiply per element along its axis; longer axes are refused."""


def CumProd(ctx: OnnxContext, x: Value, axis: Value, *, exclusive: int = 0, reverse: int = 0) -> Value:
    """Running products along `axis` (ONNX CumProd-26). OpenVINO has no CumProd, and a product in
    the log domain is inexact (and undefined at zeros and negative values), so the axis is split
    into its elements and multiplied in order: out[k] = x[0] * ... * x[k] (exclusive: up to x[k-1],
    out[0] = 1; reverse: from the other end), exact in the input's own type, integers included.
    An axis given at run time selects among the products along each axis (static shapes only)."""
    rank = x.shape.rank
    if rank is None or rank == 0:
        raise Unsupported("CumProd needs an input of known rank >= 1")
    axes = const_ints(axis)
    if axes is not None:
        if len(axes) != 1:
            raise Unsupported(f"CumProd needs a scalar axis, got {len(axes)} values")
        return _cumulative_product(x, normalize_axis(axes[0], rank), exclusive, reverse)
    if not x.shape.is_static:
        raise Unsupported("CumProd with a run-time axis needs a static input shape")
    if sum(x.shape.static) > MAX_CUMPROD_LENGTH:
        raise Unsupported(f"CumProd with a run-time axis over {sum(x.shape.static)} elements along all axes (at most {MAX_CUMPROD_LENGTH})")
    chosen = _scalar(axis)
    if chosen.element_type is not ElementType.i64:
        chosen = Convert(chosen, destination_type=ElementType.i64)
    result = _cumulative_product(x, rank - 1, exclusive, reverse)
    for position in reversed(range(rank - 1)):
        is_position = ew.LogicalOr(ew.Equal(chosen, const(np.int64(position))), ew.Equal(chosen, const(np.int64(position - rank))))
        result = ew.Select(is_position, _cumulative_product(x, position, exclusive, reverse), result)
    return result


def _cumulative_product(x: Value, position: int, exclusive: int, reverse: int) -> Value:
    length = x.shape[position]
    if length is None:
        raise Unsupported("CumProd along a dynamic axis is not supported (it is unrolled per element)")
    if length > MAX_CUMPROD_LENGTH:
        raise Unsupported(f"CumProd along an axis of {length} elements (at most {MAX_CUMPROD_LENGTH}: it is unrolled)")
    if length == 0 or (length == 1 and not exclusive):
        return x
    elements = list(shape_ops.Split.node(x, const(np.int64(position)), num_splits=length).outputs) if length > 1 else [x]
    products: dict[int, Value] = {}
    running: Value | None = None
    for k in reversed(range(length)) if reverse else range(length):
        if exclusive:
            products[k] = running if running is not None else _filled_like(elements[k], np.ones((), dtype=x.element_type.numpy))
            running = elements[k] if running is None else ew.Multiply(running, elements[k])
        else:
            running = elements[k] if running is None else ew.Multiply(running, elements[k])
            products[k] = running
    if length == 1:
        return products[0]
    return shape_ops.Concat(*(products[k] for k in range(length)), axis=position)


def EyeLike(ctx: OnnxContext, x: Value, *, dtype: int | None = None, k: int = 0) -> Value:
    output_type = x.element_type if dtype is None else element_type(dtype)
    if x.shape.rank not in (2, None):
        raise Unsupported(f"EyeLike needs a 2-D input, got rank {x.shape.rank}")
    rows, columns = (_dim(x, axis) for axis in (0, 1))
    return ops.Eye(rows, columns, const(np.int64(k)), output_type=output_type)


def _dim(x: Value, axis: int) -> Value:
    """Dim `axis` of x as a 0-D i64 value."""
    dim = x.shape[axis]
    if dim is not None:
        return const(np.int64(dim))
    return Gather(ShapeOf(x, output_type=ElementType.i64), const(np.int64(axis)), const(np.int64(0)))


def NonZero(ctx: OnnxContext, x: Value) -> Value:
    return ops.NonZero(x, output_type=ElementType.i64)


def OneHot(ctx: OnnxContext, indices: Value, depth: Value, values: Value, *, axis: int = -1) -> Value:
    if not indices.element_type.is_integer:
        indices = Convert(indices, destination_type=ElementType.i64)
    depth = _scalar(depth)
    if not depth.element_type.is_integer:
        depth = Convert(depth, destination_type=ElementType.i64)
    off_value, on_value = (_element(values, i) for i in (0, 1))
    return ops.OneHot(indices, depth, on_value, off_value, axis=axis, negative_indices_mode="normalize")


def _element(values: Value, index: int) -> Value:
    array = values.const
    if array is not None:
        return const(np.asarray(array).reshape(-1)[index])
    return Gather(values, const(np.int64(index)), const(np.int64(0)))


# ---------------------------------------------------------------- TopK and arg-reductions


def TopK(
    ctx: OnnxContext,
    x: Value,
    k_value: Value | None = None,
    *,
    axis: int = -1,
    k: int | None = None,
    largest: int = 1,
    sorted: int = 1,
) -> list[Value]:
    if ctx.opset < 10:
        if k is None:
            raise Unsupported("TopK needs the k attribute before opset 10")
        count = const(np.int64(k))
    elif k_value is None:
        raise Unsupported("TopK needs a K input from opset 10")
    else:
        count = _scalar(k_value)
    if x.shape.rank is not None:
        axis = normalize_axis(axis, x.shape.rank)
    # Sorted either way: ONNX leaves the unsorted order open, and a fixed order is comparable.
    node = ops.TopK.node(
        x, count, axis=axis, mode="max" if largest else "min", sort="value", index_element_type=ElementType.i64, stable=True
    )
    return list(node.outputs)


def ArgMax(ctx: OnnxContext, data: Value, *, axis: int = 0, keepdims: int = 1, select_last_index: int = 0) -> Value:
    return _arg_extreme(data, "max", axis, keepdims, select_last_index)


def ArgMin(ctx: OnnxContext, data: Value, *, axis: int = 0, keepdims: int = 1, select_last_index: int = 0) -> Value:
    return _arg_extreme(data, "min", axis, keepdims, select_last_index)


def _arg_extreme(data: Value, mode: str, axis: int, keepdims: int, select_last_index: int) -> Value:
    rank = data.shape.rank
    if rank is None:
        if axis < 0:
            raise Unsupported("ArgMax/ArgMin with a negative axis needs an input of known rank")
    else:
        axis = normalize_axis(axis, rank)
    if select_last_index:
        # The first extreme of the reversed data is the last one of the data.
        length = _dim(data, axis)
        last = ew.Subtract(length, const(np.int64(1)))
        # last - [0, 1, ...] rather than Range(last, -1, -1): onnxruntime's optimizer turns a Gather
        # of a Range into a Slice and misreads the stop -1 as "the last element".
        positions = ops.Range(const(np.int64(0)), length, const(np.int64(1)), output_type=ElementType.i64)
        reversed_positions = ew.Subtract(last, positions)
        data = Gather(data, reversed_positions, const(np.int64(axis)))
    topk = ops.TopK.node(data, const(np.int64(1)), axis=axis, mode=mode, sort="value", index_element_type=ElementType.i64, stable=True)
    indices = topk.outputs[1]
    if select_last_index:
        indices = ew.Subtract(last, indices)
    if not keepdims:
        indices = shape_ops.Squeeze(indices, const(np.array([axis], dtype=np.int64)))
    return indices


# ---------------------------------------------------------------- NonMaxSuppression


def NonMaxSuppression(
    ctx: OnnxContext,
    boxes: Value,
    scores: Value,
    max_output_boxes_per_class: Value | None = None,
    iou_threshold: Value | None = None,
    score_threshold: Value | None = None,
    *,
    center_point_box: int = 0,
) -> Value:
    float_type = boxes.element_type.numpy
    max_boxes = const(np.int64(0)) if max_output_boxes_per_class is None else _scalar(max_output_boxes_per_class)
    iou = _above(np.zeros((), dtype=float_type) if iou_threshold is None else _scalar(iou_threshold))
    # ONNX keeps every score when no threshold is given.
    lowest = np.array(np.finfo(float_type).min, dtype=float_type)
    threshold = const(lowest) if score_threshold is None else _scalar(score_threshold)
    node = ops.NonMaxSuppression.node(
        boxes,
        scores,
        max_boxes,
        iou,
        threshold,
        box_encoding="center" if center_point_box else "corner",
        sort_result_descending=False,
        output_type=ElementType.i64,
    )
    selected, _, valid = node.outputs
    # Rows past valid_outputs are padding: keep the first valid_outputs rows. A Slice (not
    # Range + Gather) because it clamps to the rows that exist: OpenVINO's CPU plugin has been
    # seen to return an uninitialized valid_outputs, which a Range would turn into a huge tensor.
    count = shape_ops.Reshape(Convert(valid, destination_type=ElementType.i64), const(np.array([1])), special_zero=False)
    one = const(np.array([1]))
    return Slice(selected, const(np.array([0])), count, one, const(np.array([0])))


ULP_FRACTION = 2.0**-24 + 2.0**-30
"""t + t * ULP_FRACTION rounds to the float after t (for normal f32 t)."""


def _above(threshold: Value | np.ndarray) -> Value:
    """The float just above an IoU threshold: OpenVINO suppresses at IoU >= threshold, ONNX at IoU > threshold."""
    array = threshold if isinstance(threshold, np.ndarray) else threshold.const
    if array is not None:
        value = np.asarray(array).reshape(())
        after = np.nextafter(value, np.array(np.inf, dtype=value.dtype))
        if value >= 0:
            after = np.maximum(after, np.finfo(value.dtype).tiny)  # no denormal: the CPU may flush it to 0
        return const(np.asarray(after, dtype=value.dtype))
    assert isinstance(threshold, Value)
    dtype = threshold.element_type.numpy
    step = ew.Add(ew.Multiply(threshold, const(np.array(ULP_FRACTION, dtype=dtype))), const(np.finfo(dtype).tiny))
    return ew.Add(threshold, step)


HANDLERS: dict[str, Handler] = {
    "Constant": Constant,
    "ConstantOfShape": ConstantOfShape,
    "Identity": Identity,
    "Dropout": Dropout,
    "Cast": Cast,
    "CastLike": CastLike,
    "Range": Range,
    "CumSum": CumSum,
    "CumProd": CumProd,
    "EyeLike": EyeLike,
    "NonZero": NonZero,
    "OneHot": OneHot,
    "TopK": TopK,
    "ArgMax": ArgMax,
    "ArgMin": ArgMin,
    "NonMaxSuppression": NonMaxSuppression,
}

