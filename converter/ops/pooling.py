"""Pooling: MaxPool-8/14 (values + indices), AvgPool-1/14.

Version 14 adds rounding_type "ceil_torch": ceil, but a last window that would start
in the end padding is dropped (ONNX's ceil_mode and PyTorch's).
"""

from __future__ import annotations

from converter.ir.graph import Node
from converter.ir.types import Dim, ElementType, TensorType
from converter.ops.conv import window_output_dim
from converter.ops.spec import Attr, AttrKind, OpSpec, REQUIRED, tensor


def _pooled_dims(node: Node) -> list[Dim] | None:
    data = node.inputs[0]
    attrs = node.attrs
    kernel = attrs["kernel"]
    if data.shape.dims is None:
        return None if not kernel else [None, None] + [None] * len(kernel)
    dims = data.shape.dims
    spatial = len(dims) - 2
    dilations = attrs.get("dilations") or (1,) * spatial
    pooled = [
        window_output_dim(
            dims[2 + i],
            kernel[i],
            attrs["strides"][i],
            dilations[i],
            attrs["pads_begin"][i],
            attrs["pads_end"][i],
            attrs["auto_pad"],
            attrs["rounding_type"],
        )
        for i in range(spatial)
    ]
    return [dims[0], dims[1], *pooled]


def _infer_max_pool(node: Node) -> list[TensorType]:
    dims = _pooled_dims(node)
    return [tensor(node.inputs[0].element_type, dims), tensor(node.attrs["index_element_type"], dims)]


def _infer_avg_pool(node: Node) -> list[TensorType]:
    return [tensor(node.inputs[0].element_type, _pooled_dims(node))]


def _window_attrs(dilations: bool) -> tuple[Attr, ...]:
    head = (Attr("strides", AttrKind.INTS, REQUIRED),)
    if dilations:
        head += (Attr("dilations", AttrKind.INTS, REQUIRED),)
    return head + (
        Attr("pads_begin", AttrKind.INTS, REQUIRED),
        Attr("pads_end", AttrKind.INTS, REQUIRED),
        Attr("kernel", AttrKind.INTS, REQUIRED),
    )


MAX_POOL_ATTRS = _window_attrs(dilations=True) + (
    Attr("rounding_type", AttrKind.STR, "floor"),
    Attr("auto_pad", AttrKind.STR, "explicit"),
    Attr("index_element_type", AttrKind.ELEMENT_TYPE, ElementType.i64),
    Attr("axis", AttrKind.INT, 0),
)

MaxPool8 = OpSpec("MaxPool", "opset8", MAX_POOL_ATTRS, _infer_max_pool)
MaxPool14 = OpSpec("MaxPool", "opset14", MAX_POOL_ATTRS, _infer_max_pool)
"""As MaxPool-8, plus rounding_type "ceil_torch"."""

AVG_POOL_ATTRS = _window_attrs(dilations=False) + (
    Attr("exclude-pad", AttrKind.BOOL, REQUIRED),
    Attr("rounding_type", AttrKind.STR, "floor"),
    Attr("auto_pad", AttrKind.STR, "explicit"),
)

AvgPool1 = OpSpec("AvgPool", "opset1", AVG_POOL_ATTRS, _infer_avg_pool)
AvgPool14 = OpSpec("AvgPool", "opset14", AVG_POOL_ATTRS, _infer_avg_pool)
"""As AvgPool-1, plus rounding_type "ceil_torch"."""

OPS: tuple[OpSpec, ...] = (MaxPool8, MaxPool14, AvgPool1, AvgPool14)
