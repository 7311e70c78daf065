"""ONNX Reduce* ops → IR reductions.

Axes come from the `axes` attribute (ReduceSum before opset 13, the others before 18)
or from the second input. ONNX reduces over all axes when the axes are empty, unless
`noop_with_empty_axes` is set: then it reduces over no axes, each element alone
(x itself, |x| for ReduceL1, x*x for ReduceSumSquare, ...). OpenVINO's CPU plugin runs
no reduction over empty axes, so that case is built from element-wise ops.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported
from converter.frontends.onnx.ops.control import constant_value
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops import misc as misc_ops
from converter.ops import reduction as rd
from converter.ops import shape as shape_ops
from converter.ops.core import Convert, ShapeOf, const
from converter.ops.indexing import Gather
from converter.ops.spec import OpSpec, const_ints

Build = Callable[[Value, Value | None, bool], Value]
"""(data, axes or None for a reduction over no axes, keep_dims) -> result."""


def _axes(data: Value, axes_input: Value | None, axes: list[int] | None, noop: int, keepdims: int) -> Value | None:
    """The IR axes input, or None for a reduction over no axes."""
    if axes is not None:
        values: list[int] | None = list(axes)
    elif axes_input is None or axes_input.shape.dims == (0,):
        values = []
    else:
        values = const_ints(axes_input)
        if values is None:  # axes computed from constants and static shapes (function bodies: Range(axis, rank))
            array = constant_value(axes_input)
            values = None if array is None else [int(v) for v in np.asarray(array).reshape(-1)]
    if values is None:
        return _runtime_axes(data, axes_input, keepdims)
    if not values:
        if noop:
            return None
        if data.shape.rank is None:
            raise Unsupported("reducing over all axes needs a known rank")
        values = list(range(data.shape.rank))
    return const(np.array(values, dtype=np.int64))


def _runtime_axes(data: Value, axes_input: Value, keepdims: int) -> Value:
    length = _axes_length(axes_input)
    if length is None or length == 0:
        # empty axes mean "all axes" (or none): nothing an IR reduction expresses at run time
        raise Unsupported("non-constant axes that may be empty are not supported")
    if not keepdims and length != 1 and data.shape.rank is None:
        # OpenVINO cannot infer the output rank (axes might repeat); its CPU plugin needs it
        raise Unsupported("non-constant axes with keepdims=0 need an input of known rank (or a single axis)")
    return axes_input


def _axes_length(axes: Value) -> int | None:
    return axes.shape[0] if axes.shape.rank == 1 else 1 if axes.shape.rank == 0 else None


def _drop_reduced_dims(kept: Value, axes: Value) -> Value:
    """A keep_dims reduction's result without its reduced (size-1) dims, for axes known only at run
    time: OpenVINO infers no output rank for keep_dims=false with such axes (they might repeat; ONNX
    forbids that), so the kept positions are found at run time, in order, with a TopK of static k,
    and the result reshaped to their dims: a static output rank of rank − len(axes)."""
    rank = kept.shape.rank
    count = _axes_length(axes)
    assert rank is not None and count is not None
    positions = const(np.arange(rank, dtype=np.int64))
    axes = axes if axes.element_type is ElementType.i64 else Convert(axes, destination_type=ElementType.i64)
    axes = shape_ops.Reshape(axes, const(np.array([1, -1], dtype=np.int64)), special_zero=False)  # [1, k]
    normalized = ew.Select(ew.Less(axes, const(np.int64(0))), ew.Add(axes, const(np.int64(rank))), axes)
    reduced = rd.ReduceLogicalOr(ew.Equal(shape_ops.Reshape(positions, const(np.array([-1, 1], dtype=np.int64)), special_zero=False), normalized), const(np.array([1], dtype=np.int64)), keep_dims=False)
    # kept positions score rank − p (> 0, larger first = in order), reduced ones 0
    score = ew.Select(reduced, const(np.zeros(rank, dtype=np.int64)), ew.Subtract(const(np.int64(rank)), positions))
    top = misc_ops.TopK.node(score, const(np.int64(rank - count)), axis=0, mode="max", sort="value", index_element_type=ElementType.i64, stable=True)
    dims = Gather(ShapeOf(kept, output_type=ElementType.i64), top.outputs[1], const(np.int64(0)))
    return shape_ops.Reshape(kept, dims, special_zero=False)


def _empty_fill(data: Value, result: Value, fill: float | None) -> Value:
    """ONNX's ±inf where the reduction covers zero elements (OpenVINO gives finite extremes).

    With a static zero dim the input is empty, so every output element (if any) is such
    a reduction.
    """
    if fill is None or data.shape.dims is None or 0 not in data.shape.dims:
        return result
    dtype = data.element_type.numpy
    value: float | int | bool = fill
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        value = int(info.max) if fill > 0 else int(info.min)
    elif dtype.kind == "b":
        value = fill > 0
    return ew.Select(const(np.array(True)), const(np.array(value, dtype=dtype)), result)


def _reduce(
    ctx: OnnxContext,
    data: Value,
    axes_input: Value | None,
    axes: list[int] | None,
    keepdims: int,
    noop: int,
    build: Build,
    empty_fill: float | None = None,
) -> Value:
    axes_value = _axes(data, axes_input, axes, noop, keepdims)
    if axes_value is None:
        return build(data, None, bool(keepdims))
    if not keepdims and axes_value.const is None and _axes_length(axes_value) != 1:
        result = _drop_reduced_dims(build(data, axes_value, True), axes_value)
        return _empty_fill(data, result, empty_fill)
    return _empty_fill(data, build(data, axes_value, bool(keepdims)), empty_fill)


def _simple(op: OpSpec, alone: Callable[[Value], Value] = lambda x: x) -> Build:
    """An IR reduction; `alone` is its value over a single element."""

    def build(data: Value, axes: Value | None, keep_dims: bool) -> Value:
        return alone(data) if axes is None else op(data, axes, keep_dims=keep_dims)

    return build


def _boolean_aware(op: OpSpec, logical: OpSpec) -> Build:
    """ReduceMax/ReduceMin on booleans (opset 20) are any/all.

    The CPU plugin runs ReduceLogical* only with constant axes; otherwise go through u8.
    """

    def build(data: Value, axes: Value | None, keep_dims: bool) -> Value:
        if axes is None:
            return data
        if data.element_type is not ElementType.boolean:
            return op(data, axes, keep_dims=keep_dims)
        if axes.const is not None:
            return logical(data, axes, keep_dims=keep_dims)
        as_bytes = Convert(data, destination_type=ElementType.u8)
        return Convert(op(as_bytes, axes, keep_dims=keep_dims), destination_type=ElementType.boolean)

    return build


_sum = _simple(rd.ReduceSum)


def _sum_square(data: Value, axes: Value | None, keep_dims: bool) -> Value:
    return _sum(ew.Multiply(data, data), axes, keep_dims)


def _log_sum(data: Value, axes: Value | None, keep_dims: bool) -> Value:
    return ew.Log(_sum(data, axes, keep_dims))


def _log_sum_exp(data: Value, axes: Value | None, keep_dims: bool) -> Value:
    """max + log(sum(exp(x - max))): no overflow for large inputs."""
    if axes is None:
        return data
    peak = rd.ReduceMax(data, axes, keep_dims=True)
    total = rd.ReduceSum(ew.Exp(ew.Subtract(data, peak)), axes, keep_dims=keep_dims)
    peak_out = peak if keep_dims else rd.ReduceMax(data, axes, keep_dims=False)
    return ew.Add(ew.Log(total), peak_out)


def _handler(name: str, build: Build, empty_fill: float | None = None) -> Handler:
    def handler(
        ctx: OnnxContext,
        data: Value,
        axes_input: Value | None = None,
        *,
        axes: list[int] | None = None,
        keepdims: int = 1,
        noop_with_empty_axes: int = 0,
    ) -> Value:
        return _reduce(ctx, data, axes_input, axes, keepdims, noop_with_empty_axes, build, empty_fill)

    handler.__name__ = name
    return handler


HANDLERS: dict[str, Handler] = {
    "ReduceSum": _handler("ReduceSum", _simple(rd.ReduceSum)),
    "ReduceMean": _handler("ReduceMean", _simple(rd.ReduceMean)),
    "ReduceMax": _handler("ReduceMax", _boolean_aware(rd.ReduceMax, rd.ReduceLogicalOr), empty_fill=-np.inf),
    "ReduceMin": _handler("ReduceMin", _boolean_aware(rd.ReduceMin, rd.ReduceLogicalAnd), empty_fill=np.inf),
    "ReduceProd": _handler("ReduceProd", _simple(rd.ReduceProd)),
    "ReduceL1": _handler("ReduceL1", _simple(rd.ReduceL1, ew.Abs)),
    "ReduceL2": _handler("ReduceL2", _simple(rd.ReduceL2, ew.Abs)),
    "ReduceSumSquare": _handler("ReduceSumSquare", _sum_square),
    "ReduceLogSum": _handler("ReduceLogSum", _log_sum),
    "ReduceLogSumExp": _handler("ReduceLogSumExp", _log_sum_exp),
}
