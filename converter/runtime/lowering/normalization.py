"""Lowerings for normalizations: IR BatchNormInference, MVN, GroupNormalization, NormalizeL2, LRN → ONNX."""

from __future__ import annotations

from converter.ir.graph import Node
from converter.ops import normalization as ops
from converter.ops.spec import OpSpec, const_ints
from converter.runtime.lowering.context import LoweringContext, LoweringFn

INT64 = 7


def _scalar(ctx: LoweringContext, value: float, node: Node) -> str:
    return ctx.constant(value, node.inputs[0].element_type.numpy)


def _axes(ctx: LoweringContext, name: str) -> str:
    return ctx.emit1("Cast", [ctx.emit1("Reshape", [name, ctx.int64s([-1])])], to=INT64)


def batch_norm_inference(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [ctx.emit1("BatchNormalization", inputs, epsilon=node.attrs["epsilon"])]


def _mean(ctx: LoweringContext, data: str, axes: str) -> str:
    # An empty axes list leaves the data as it is (OpenVINO's rule for MVN and reductions).
    return ctx.emit1("ReduceMean", [data, axes], keepdims=1, noop_with_empty_axes=1)


def mvn(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data, axes = inputs[0], _axes(ctx, inputs[1])
    centered = ctx.emit1("Sub", [data, _mean(ctx, data, axes)])
    if not node.attrs["normalize_variance"]:
        return [centered]
    variance = _mean(ctx, ctx.emit1("Mul", [centered, centered]), axes)
    eps = _scalar(ctx, node.attrs["eps"], node)
    if node.attrs["eps_mode"].lower() == "inside_sqrt":
        deviation = ctx.emit1("Sqrt", [ctx.emit1("Add", [variance, eps])])
    else:
        deviation = ctx.emit1("Add", [ctx.emit1("Sqrt", [variance]), eps])
    return [ctx.emit1("Div", [centered, deviation])]


def group_normalization(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    """Per-group statistics over [N, G, -1], then the per-channel scale and bias."""
    data, scale, bias = inputs
    groups = node.attrs["num_groups"]
    rank = node.inputs[0].shape.rank
    if rank is None:
        raise NotImplementedError("GroupNormalization with unknown input rank cannot be lowered to ONNX")
    grouped = ctx.emit1("Reshape", [data, ctx.int64s([0, groups, -1])])
    axes = ctx.int64s([2])
    centered = ctx.emit1("Sub", [grouped, _mean(ctx, grouped, axes)])
    variance = _mean(ctx, ctx.emit1("Mul", [centered, centered]), axes)
    deviation = ctx.emit1("Sqrt", [ctx.emit1("Add", [variance, _scalar(ctx, node.attrs["epsilon"], node)])])
    normalized = ctx.emit1("Reshape", [ctx.emit1("Div", [centered, deviation]), ctx.emit1("Shape", [data])])
    channel_shape = ctx.int64s([-1] + [1] * (rank - 2))
    scaled = ctx.emit1("Mul", [normalized, ctx.emit1("Reshape", [scale, channel_shape])])
    return [ctx.emit1("Add", [scaled, ctx.emit1("Reshape", [bias, channel_shape])])]


def normalize_l2(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data, axes = inputs[0], _axes(ctx, inputs[1])
    if const_ints(node.inputs[1]) == []:
        squares = ctx.emit1("Mul", [data, data])  # no axes: each element is its own group
    else:
        squares = ctx.emit1("ReduceSumSquare", [data, axes], keepdims=1)
    eps = _scalar(ctx, node.attrs["eps"], node)
    guarded = ctx.emit1("Add" if node.attrs["eps_mode"] == "add" else "Max", [squares, eps])
    return [ctx.emit1("Div", [data, ctx.emit1("Sqrt", [guarded])])]


def lrn(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    """Sum of squares over a box of `size` around each element along the axes.

    OpenVINO's CPU plugin spans (size - 1) // 2 on both sides and scales alpha by
    1 / size^len(axes). Each axis is summed over shifted slices of the zero-padded squares.
    """
    axes = const_ints(node.inputs[1])
    rank = node.inputs[0].shape.rank
    if axes is None or (rank is None and any(a < 0 for a in axes)):
        raise NotImplementedError("LRN with non-constant axes (or negative axes, unknown rank) cannot be lowered to ONNX")
    attrs = node.attrs
    size = attrs["size"]
    half = (size - 1) // 2
    width = 2 * half + 1
    data = inputs[0]
    total = ctx.emit1("Mul", [data, data])
    for axis in sorted({a if a >= 0 else a + rank for a in axes}):  # type: ignore[operator]
        padded = ctx.emit1("Pad", [total, ctx.int64s([half, half]), "", ctx.int64s([axis])])
        slices = []
        for shift in range(width):
            end = shift - (width - 1) if shift < width - 1 else 2**62
            slices.append(ctx.emit1("Slice", [padded, ctx.int64s([shift]), ctx.int64s([end]), ctx.int64s([axis])]))
        total = slices[0] if width == 1 else ctx.emit1("Sum", slices)
    scale = _scalar(ctx, attrs["alpha"] / size ** len(axes), node)
    base = ctx.emit1("Add", [_scalar(ctx, attrs["bias"], node), ctx.emit1("Mul", [total, scale])])
    return [ctx.emit1("Div", [data, ctx.emit1("Pow", [base, _scalar(ctx, attrs["beta"], node)])])]


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.BatchNormInference: batch_norm_inference,
    ops.MVN: mvn,
    ops.GroupNormalization: group_normalization,
    ops.NormalizeL2: normalize_l2,
    ops.LRN: lrn,
}
