"""Lowerings for indexing ops (IR semantics, spelled in ONNX opset 21)."""

from __future__ import annotations

import numpy as np
import onnx

from converter.ir.graph import Node
from converter.ir.types import ElementType
from converter.ops import indexing as ops
from converter.ops.spec import OpSpec, normalize_axis
from converter.runtime.lowering.context import LoweringContext, LoweringFn
from converter.runtime.lowering.shape import INT64_MAX, INT64_MIN, as_int64, as_int64_vector, constant_axis, known_rank, runtime_dim


def _positive_indices(ctx: LoweringContext, indices: str, size: str) -> str:
    """Negative indices count from the end (ONNX ops below accept them, but not all paths do)."""
    negative = ctx.emit1("Less", [indices, ctx.constant(np.int64(0))])
    return ctx.emit1("Where", [negative, ctx.emit1("Add", [indices, size]), indices])


# ---------------------------------------------------------------- Gather-8


def gather(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data, indices = node.inputs[0], node.inputs[1]
    axis = constant_axis(node, 2, data.shape.rank)
    batch_dims = node.attrs["batch_dims"]
    indices_name = as_int64(ctx, indices, inputs[1])
    if batch_dims == 0:
        return [ctx.emit1("Gather", [inputs[0], indices_name], axis=axis)]
    rank = known_rank(node)
    batch = normalize_axis(batch_dims, known_rank(node, 1))
    axis = normalize_axis(axis, rank)
    return [_batched_gather(ctx, inputs[0], indices_name, axis, batch, rank, known_rank(node, 1))]


def _batched_gather(ctx: LoweringContext, data: str, indices: str, axis: int, batch: int, rank: int, indices_rank: int) -> str:
    """Gather with batch dims = GatherND(batch_dims) on the axis moved next to the batch dims."""
    indices = _positive_indices(ctx, indices, runtime_dim(ctx, data, axis))
    middle = list(range(batch, axis))
    if middle:
        data = ctx.emit1("Transpose", [data], perm=list(range(batch)) + [axis] + middle + list(range(axis + 1, rank)))
    gathered = ctx.emit1("GatherND", [data, ctx.emit1("Unsqueeze", [indices, ctx.int64s([-1])])], batch_dims=batch)
    if not middle:
        return gathered
    # gathered: [batch..., index dims..., middle..., rest...] → [batch..., middle..., index dims..., rest...]
    index_dims = list(range(batch, indices_rank))
    moved_middle = list(range(indices_rank, indices_rank + len(middle)))
    rest = list(range(indices_rank + len(middle), indices_rank + rank - batch - 1))
    return ctx.emit1("Transpose", [gathered], perm=list(range(batch)) + moved_middle + index_dims + rest)


# ---------------------------------------------------------------- GatherElements-6 / GatherND-8


def gather_elements(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    indices = as_int64(ctx, node.inputs[1], inputs[1])
    return [ctx.emit1("GatherElements", [inputs[0], indices], axis=node.attrs["axis"])]


def gather_nd(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    indices = as_int64(ctx, node.inputs[1], inputs[1])
    batch = node.attrs["batch_dims"]
    depth = node.inputs[1].shape[-1] if node.inputs[1].shape.rank else None
    if depth is not None:
        # onnxruntime rejects negative GatherND indices: make them positive per indexed axis.
        sizes = ctx.emit1("Shape", [inputs[0]], start=batch, end=batch + depth)
        indices = _positive_indices(ctx, indices, sizes)
    return [ctx.emit1("GatherND", [inputs[0], indices], batch_dims=batch)]


# ---------------------------------------------------------------- ScatterElementsUpdate-12

_ONNX_REDUCTION = {"none": "none", "sum": "add", "prod": "mul", "min": "min", "max": "max", "mean": "add"}


def scatter_elements(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data_value = node.inputs[0]
    axis = constant_axis(node, 3, data_value.shape.rank)
    data, indices, updates = inputs[0], as_int64(ctx, node.inputs[1], inputs[1]), inputs[2]
    reduction, use_init = node.attrs["reduction"], node.attrs["use_init_val"]

    def scatter(base: str, values: str, how: str) -> str:
        return ctx.emit1("ScatterElements", [base, indices, values], axis=axis, reduction=how)

    if reduction == "none":
        return [scatter(data, updates, "none")]
    dtype = data_value.element_type.numpy
    touched = None
    if not use_init or reduction == "mean":
        ones = ctx.emit1("Expand", [ctx.constant(np.array(1, dtype=dtype)), ctx.emit1("Shape", [updates])])
        zeros = ctx.emit1("Expand", [ctx.constant(np.array(0, dtype=dtype)), ctx.emit1("Shape", [data])])
        counts = scatter(zeros, ones, "add")
        touched = ctx.emit1("Greater", [counts, ctx.constant(np.array(0, dtype=dtype))])
    base = data
    if not use_init:
        identity = ctx.constant(np.array(_reduction_identity(reduction, dtype), dtype=dtype))
        base = ctx.emit1("Where", [touched, identity, data])
    result = scatter(base, updates, _ONNX_REDUCTION[reduction])
    if reduction == "mean":
        if use_init:
            counts = ctx.emit1("Add", [counts, ctx.constant(np.array(1, dtype=dtype))])
        safe_counts = ctx.emit1("Max", [counts, ctx.constant(np.array(1, dtype=dtype))])
        # ONNX integer Div truncates toward zero, as the IR's integer mean does.
        mean = ctx.emit1("Div", [result, safe_counts])
        result = ctx.emit1("Where", [touched, mean, data])
    return [result]


def _reduction_identity(reduction: str, dtype: np.dtype) -> float | int:
    if reduction in ("sum", "mean"):
        return 0
    if reduction == "prod":
        return 1
    info = np.finfo(dtype) if np.dtype(dtype).kind == "f" else np.iinfo(dtype)
    return info.max if reduction == "min" else info.min


# ---------------------------------------------------------------- ScatterNDUpdate-15


def scatter_nd(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data, indices, updates = inputs[0], as_int64(ctx, node.inputs[1], inputs[1]), inputs[2]
    depth = node.inputs[1].shape[-1] if node.inputs[1].shape.rank else None
    if depth is not None:
        sizes = ctx.emit1("Shape", [data], start=0, end=depth)
        indices = _positive_indices(ctx, indices, sizes)
    reduction = node.attrs["reduction"]
    if reduction == "sub":
        return [ctx.emit1("ScatterND", [data, indices, ctx.emit1("Neg", [updates])], reduction="add")]
    onnx_reduction = {"none": "none", "sum": "add", "prod": "mul", "min": "min", "max": "max"}[reduction]
    return [ctx.emit1("ScatterND", [data, indices, updates], reduction=onnx_reduction)]


# ---------------------------------------------------------------- Slice-8


def slice_(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    operands = [inputs[0]] + [as_int64_vector(ctx, v, n) for v, n in zip(node.inputs[1:4], inputs[1:4])]
    if len(inputs) > 4:
        axes = as_int64_vector(ctx, node.inputs[4], inputs[4])
    else:
        count = node.inputs[1].shape[0] if node.inputs[1].shape.rank == 1 else None
        if count is None:
            raise NotImplementedError("Slice without axes needs starts of a known length")
        axes = ctx.int64s(list(range(count)))
    start, stop, step = operands[1:]
    return [ctx.emit1("Slice", [inputs[0], start, stop, axes, step])]


# ---------------------------------------------------------------- StridedSlice-1


def strided_slice(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    """One ONNX Slice over the sliced and shrunk axes, then Squeeze and Unsqueeze."""
    entries = node.inputs[1].shape[0] if node.inputs[1].shape.rank == 1 else None
    if entries is None:
        raise NotImplementedError("StridedSlice with begin of unknown length cannot be lowered")
    plan = ops.strided_slice_plan(node.attrs, entries, known_rank(node))
    begin, end = (as_int64_vector(ctx, v, n) for v, n in zip(node.inputs[1:3], inputs[1:3]))
    stride = as_int64_vector(ctx, node.inputs[3], inputs[3]) if len(inputs) > 3 else ctx.int64s([1] * entries)
    starts, stops, steps, axes = [], [], [], []
    for kind, i, axis in plan:
        if kind not in ("slice", "shrink"):
            continue
        first = _element(ctx, begin, i)
        if kind == "shrink":
            is_last = ctx.emit1("Equal", [first, ctx.int64s([-1])])
            starts.append(first)
            stops.append(ctx.emit1("Where", [is_last, ctx.int64s([INT64_MAX]), ctx.emit1("Add", [first, ctx.int64s([1])])]))
            steps.append(ctx.int64s([1]))
        else:
            step = _element(ctx, stride, i)
            backwards = ctx.emit1("Less", [step, ctx.int64s([0])])
            if i < len(node.attrs["begin_mask"]) and node.attrs["begin_mask"][i]:
                first = ctx.emit1("Where", [backwards, ctx.int64s([INT64_MAX]), ctx.int64s([0])])
            last = _element(ctx, end, i)
            if i < len(node.attrs["end_mask"]) and node.attrs["end_mask"][i]:
                last = ctx.emit1("Where", [backwards, ctx.int64s([INT64_MIN]), ctx.int64s([INT64_MAX])])
            starts.append(first)
            stops.append(last)
            steps.append(step)
        axes.append(axis)
    result = inputs[0]
    if axes:
        concat = lambda names: ctx.emit1("Concat", names, axis=0)  # noqa: E731
        result = ctx.emit1("Slice", [result, concat(starts), concat(stops), ctx.int64s(axes), concat(steps)])
    shrunk = [axis for kind, _, axis in plan if kind == "shrink"]
    if shrunk:
        result = ctx.emit1("Squeeze", [result, ctx.int64s(shrunk)])
    kept = [kind for kind, _, _ in plan if kind != "shrink"]
    new_positions = [position for position, kind in enumerate(kept) if kind == "new"]
    if new_positions:
        result = ctx.emit1("Unsqueeze", [result, ctx.int64s(new_positions)])
    return [result if result != inputs[0] else ctx.emit1("Identity", [result])]


def _element(ctx: LoweringContext, vector: str, index: int) -> str:
    return ctx.emit1("Slice", [vector, ctx.int64s([index]), ctx.int64s([index + 1])])


# ---------------------------------------------------------------- ReverseSequence-1


def reverse_sequence(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    rank = known_rank(node)
    batch = normalize_axis(node.attrs["batch_axis"], rank)
    sequence = normalize_axis(node.attrs["seq_axis"], rank)
    lengths = ctx.emit1("Cast", [inputs[1]], to=onnx.TensorProto.INT64)
    data = inputs[0]
    bfloat16 = node.inputs[0].element_type is ElementType.bf16
    if bfloat16:  # ReverseSequence-10 has no bfloat16; moving data through float32 is exact
        data = ctx.emit1("Cast", [data], to=onnx.TensorProto.FLOAT)
    if {batch, sequence} == {0, 1}:
        result = ctx.emit1("ReverseSequence", [data, lengths], batch_axis=batch, time_axis=sequence)
    else:
        order = [batch, sequence] + [a for a in range(rank) if a not in (batch, sequence)]
        moved = ctx.emit1("Transpose", [data], perm=order)
        reversed_ = ctx.emit1("ReverseSequence", [moved, lengths], batch_axis=0, time_axis=1)
        result = ctx.emit1("Transpose", [reversed_], perm=[int(v) for v in np.argsort(order)])
    return [ctx.emit1("Cast", [result], to=onnx.TensorProto.BFLOAT16) if bfloat16 else result]


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.Gather: gather,
    ops.GatherElements: gather_elements,
    ops.GatherND: gather_nd,
    ops.ScatterElementsUpdate: scatter_elements,
    ops.ScatterNDUpdate: scatter_nd,
    ops.Slice: slice_,
    ops.StridedSlice: strided_slice,
    ops.ReverseSequence: reverse_sequence,
}
