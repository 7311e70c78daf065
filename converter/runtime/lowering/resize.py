"""Lowerings for the resize family: Interpolate-11 → ONNX Resize."""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto

from converter.ir.graph import Node
from converter.ops import resize as ops
from converter.ops.spec import OpSpec, const_ints
from converter.runtime.lowering.context import LoweringContext, LoweringFn

ONNX_MODES = {"nearest": "nearest", "linear": "linear", "linear_onnx": "linear", "cubic": "cubic"}


def interpolate(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    attrs = node.attrs
    if attrs["mode"] not in ONNX_MODES:
        raise NotImplementedError(f"Interpolate mode {attrs['mode']!r} has no ONNX equivalent")
    data = _pad(ctx, node, inputs[0])
    axes = _axes(node)
    onnx_attrs: dict[str, Any] = {
        "mode": ONNX_MODES[attrs["mode"]],
        "coordinate_transformation_mode": attrs["coordinate_transformation_mode"],
        "antialias": int(attrs["antialias"]),
    }
    if attrs["mode"] == "cubic":
        onnx_attrs["cubic_coeff_a"] = attrs["cube_coeff"]
    if attrs["mode"] == "nearest" and attrs["nearest_mode"] == "simple":
        return [_simple_nearest(ctx, node, data, inputs[1], axes, onnx_attrs)]
    if attrs["mode"] == "nearest":
        onnx_attrs["nearest_mode"] = attrs["nearest_mode"]
    axes, target = _moving_axes(ctx, node, axes, inputs[1])
    if axes == []:
        return [data]
    if not _onnxruntime_accepts(onnx_attrs["mode"], node.inputs[0].shape.rank, axes):
        return [_resize_canonical(ctx, node, data, target, axes, onnx_attrs)]
    return [_resize(ctx, node, data, target, axes, onnx_attrs)]


def _moving_axes(ctx: LoweringContext, node: Node, axes: list[int] | None, target: str) -> tuple[list[int] | None, str]:
    """With constant scales/sizes, only the axes that change (and their scales/sizes)."""
    values = node.inputs[1].const
    rank = node.inputs[0].shape.rank
    if values is None or (axes is None and rank is None):
        return axes, target
    axes = list(range(rank)) if axes is None else axes  # type: ignore[arg-type]
    flat = np.asarray(values).reshape(-1)
    dims = ops.padded_dims(node)
    scales_mode = node.attrs["shape_calculation_mode"] == "scales"
    keep = [i for i, axis in enumerate(axes) if not (flat[i] == 1.0 if scales_mode else dims[axis] == int(flat[i]))]
    if len(keep) == len(axes):
        return axes, target
    return [axes[i] for i in keep], ctx.constant(flat[keep])


def _onnxruntime_accepts(mode: str, rank: int | None, axes: list[int] | None) -> bool:
    """Whether onnxruntime's Resize kernel interpolates these axes as they are."""
    if mode == "nearest" or rank is None or axes is None:
        return True
    moving = set(axes)
    if mode == "linear":
        return rank in (2, 3) or (rank == 4 and (moving <= {2, 3} or moving <= {1, 2})) or (rank == 5 and moving <= {2, 3, 4})
    return rank == 2 or (rank == 4 and moving <= {2, 3})


def _resize_canonical(ctx: LoweringContext, node: Node, data: str, target: str, axes: list[int], attrs: dict[str, Any]) -> str:
    """Move the interpolated axes last, fold the others into one, resize in a form
    onnxruntime accepts ([P, S...] or [1, P, S...]), and undo the moves."""
    rank = node.inputs[0].shape.rank
    assert rank is not None
    limit = 3 if attrs["mode"] == "linear" else 2
    if len(axes) > limit:
        raise NotImplementedError(f"onnxruntime's {attrs['mode']} Resize interpolates at most {limit} axes at once")
    rest = [a for a in range(rank) if a not in axes]
    order = rest + axes
    moved = ctx.emit1("Transpose", [data], perm=order)
    shape = ctx.emit1("Shape", [moved])
    lead = [1] if len(axes) == limit else []
    folded_shape = ctx.emit1("Concat", [ctx.int64s(lead + [-1]), ctx.emit1("Shape", [moved], start=len(rest))], axis=0)
    folded = ctx.emit1("Reshape", [moved, folded_shape])
    first = len(lead) + 1
    resized = _resize(ctx, node, folded, target, list(range(first, first + len(axes))), attrs)
    unfolded_shape = ctx.emit1("Concat", [ctx.emit1("Slice", [shape, ctx.int64s([0]), ctx.int64s([len(rest)])]), ctx.emit1("Shape", [resized], start=first)], axis=0)
    unfolded = ctx.emit1("Reshape", [resized, unfolded_shape])
    return ctx.emit1("Transpose", [unfolded], perm=[order.index(a) for a in range(rank)])


def _pad(ctx: LoweringContext, node: Node, data: str) -> str:
    begin, end = node.attrs["pads_begin"], node.attrs["pads_end"]
    if not any(begin) and not any(end):
        return data
    rank = node.inputs[0].shape.rank
    if rank is None:
        raise NotImplementedError("Interpolate with pads needs an input of known rank")
    full = [list(p) + [0] * (rank - len(p)) for p in (begin, end)]
    return ctx.emit1("Pad", [data, ctx.int64s(full[0] + full[1])], mode="constant")


def _axes(node: Node) -> list[int] | None:
    if len(node.inputs) < 3:
        return None
    axes = const_ints(node.inputs[2])
    if axes is None:
        raise NotImplementedError("Interpolate with non-constant axes cannot be lowered to ONNX Resize")
    return axes


def _resize(ctx: LoweringContext, node: Node, data: str, target: str, axes: list[int] | None, attrs: dict[str, Any]) -> str:
    if node.attrs["shape_calculation_mode"] == "scales":
        return ctx.emit1("Resize", [data, "", ctx.emit1("Cast", [target], to=TensorProto.FLOAT)], axes=axes, **attrs)
    return ctx.emit1("Resize", [data, "", "", ctx.emit1("Cast", [target], to=TensorProto.INT64)], axes=axes, **attrs)


def _simple_nearest(ctx: LoweringContext, node: Node, data: str, target: str, axes: list[int] | None, attrs: dict[str, Any]) -> str:
    """`simple` rounds up on downsampled axes and truncates elsewhere. ONNX has one rounding
    mode per node, but nearest resizing is separable: one Resize per rounding group."""
    if axes is None:
        rank = node.inputs[0].shape.rank
        if rank is None:
            raise NotImplementedError("Interpolate nearest_mode=simple needs an input of known rank")
        axes = list(range(rank))
    targets = node.inputs[1].const
    if targets is None:
        return _simple_nearest_at_runtime(ctx, node, data, target, axes, attrs)
    downsampled = _downsampled_axes(node, axes)
    values = np.asarray(targets).reshape(-1)
    for rounding, wanted in (("ceil", True), ("floor", False)):
        group = [i for i, axis in enumerate(axes) if downsampled[axis] == wanted]
        if not group:
            continue
        target = ctx.constant(values[group].astype(np.float32 if node.attrs["shape_calculation_mode"] == "scales" else np.int64))
        data = _resize(ctx, node, data, target, [axes[i] for i in group], {**attrs, "nearest_mode": rounding})
    return data


def _simple_nearest_at_runtime(ctx: LoweringContext, node: Node, data: str, target: str, axes: list[int], attrs: dict[str, Any]) -> str:
    """Runtime scales/sizes: resize each axis both ways and keep the one its scale asks for."""
    scales_mode = node.attrs["shape_calculation_mode"] == "scales"
    target = ctx.emit1("Cast", [target], to=TensorProto.FLOAT if scales_mode else TensorProto.INT64)
    for position, axis in enumerate(axes):
        axis_target = ctx.emit1("Gather", [target, ctx.int64s([position])], axis=0)
        if scales_mode:
            downsampled = ctx.emit1("Less", [axis_target, ctx.constant(np.array([1.0], dtype=np.float32))])
        else:
            input_dim = ctx.emit1("Gather", [ctx.emit1("Shape", [data]), ctx.int64s([axis])], axis=0)
            downsampled = ctx.emit1("Less", [axis_target, input_dim])
        resized = {
            rounding: _resize(ctx, node, data, axis_target, [axis], {**attrs, "nearest_mode": rounding}) for rounding in ("ceil", "floor")
        }
        condition = ctx.emit1("Squeeze", [downsampled, ctx.int64s([0])])
        data = ctx.emit1("Where", [condition, resized["ceil"], resized["floor"]])
    return data


def _downsampled_axes(node: Node, axes: list[int]) -> dict[int, bool]:
    targets = node.inputs[1].const
    if targets is None:
        raise NotImplementedError("Interpolate nearest_mode=simple with non-constant scales/sizes is not lowered")
    values = [float(v) for v in np.asarray(targets).reshape(-1)]
    if node.attrs["shape_calculation_mode"] == "scales":
        return {axis: value < 1.0 for axis, value in zip(axes, values)}
    dims = ops.padded_dims(node)
    result: dict[int, bool] = {}
    for axis, size in zip(axes, values):
        if dims[axis] is None:
            raise NotImplementedError("Interpolate nearest_mode=simple with sizes needs static input dims")
        result[axis] = size < dims[axis]  # type: ignore[operator]
    return result


LOWERINGS: dict[OpSpec, LoweringFn] = {ops.Interpolate: interpolate}
