"""Resizing: Interpolate-11."""

from __future__ import annotations

import numpy as np

from converter.ir.graph import Node, Value
from converter.ir.types import TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, REQUIRED, const_ints, normalize_axis, tensor

INTERPOLATE_MODES = ("nearest", "linear", "linear_onnx", "cubic", "bilinear_pillow", "bicubic_pillow")
COORDINATE_MODES = ("half_pixel", "pytorch_half_pixel", "asymmetric", "tf_half_pixel_for_nn", "align_corners")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")

SCALE_EPSILON = 1.0e-6
"""OpenVINO adds this before flooring `scale * dim` (so 0.6 * 5 gives 3, not 2.9999998)."""


def scaled_dim(dim: int, scale: float) -> int:
    """An output dim from an input dim and a scale, computed in f32 as OpenVINO does."""
    return int(np.floor(np.float32(dim) * np.float32(scale) + np.float32(SCALE_EPSILON)))


def interpolate_axes(node: Node, rank: int) -> list[int] | None:
    if len(node.inputs) < 3:
        return list(range(rank))
    axes = const_ints(node.inputs[2])
    return None if axes is None else [normalize_axis(a, rank) for a in axes]


def padded_dims(node: Node) -> list[int | None]:
    dims = node.inputs[0].shape.dims or ()
    begin, end = node.attrs["pads_begin"], node.attrs["pads_end"]
    result: list[int | None] = []
    for index, dim in enumerate(dims):
        pad = (begin[index] if index < len(begin) else 0) + (end[index] if index < len(end) else 0)
        result.append(None if dim is None else dim + pad)
    return result


def _target(value: Value) -> list[float] | None:
    array = value.const
    return None if array is None else [float(v) for v in np.asarray(array).reshape(-1)]


def _infer_interpolate(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    if data.shape.dims is None:
        return [tensor(data.element_type, None)]
    dims = padded_dims(node)
    axes = interpolate_axes(node, len(dims))
    if axes is None:
        return [tensor(data.element_type, [None] * len(dims))]
    targets = _target(node.inputs[1])
    for position, axis in enumerate(axes):
        if targets is None:
            dims[axis] = None
        elif node.attrs["shape_calculation_mode"] == "sizes":
            dims[axis] = int(targets[position])
        elif dims[axis] is not None:
            dims[axis] = scaled_dim(dims[axis], targets[position])  # type: ignore[arg-type]
    return [tensor(data.element_type, dims)]


Interpolate = OpSpec(
    "Interpolate",
    "opset11",
    (
        Attr("mode", AttrKind.STR, REQUIRED),
        Attr("shape_calculation_mode", AttrKind.STR, REQUIRED),
        Attr("coordinate_transformation_mode", AttrKind.STR, "half_pixel"),
        Attr("nearest_mode", AttrKind.STR, "round_prefer_floor"),
        Attr("antialias", AttrKind.BOOL, False),
        Attr("pads_begin", AttrKind.INTS, (0,)),
        Attr("pads_end", AttrKind.INTS, (0,)),
        Attr("cube_coeff", AttrKind.FLOAT, -0.75),
    ),
    _infer_interpolate,
    doc=(
        "Inputs image, scales_or_sizes (f32 scales or integer sizes, per `shape_calculation_mode`) and"
        " optional axes. In scales mode the given scales drive the coordinate transform."
    ),
)

OPS: tuple[OpSpec, ...] = (Interpolate,)
