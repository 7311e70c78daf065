"""Graph plumbing ops: Parameter, Const, Convert, ShapeOf."""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.ir.graph import Node, Value
from converter.ir.types import ElementType, Shape, TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, REQUIRED, tensor


def _infer_parameter(node: Node) -> list[TensorType]:
    return [TensorType(node.attrs["element_type"], node.attrs["shape"])]


Parameter = OpSpec(
    "Parameter",
    "opset1",
    (Attr("shape", AttrKind.SHAPE, REQUIRED), Attr("element_type", AttrKind.ELEMENT_TYPE, REQUIRED)),
    _infer_parameter,
)


def _infer_const(node: Node) -> list[TensorType]:
    array: np.ndarray = node.attrs["value"]
    return [TensorType(ElementType.from_numpy(array.dtype), Shape(tuple(array.shape)))]


def _const_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    return [attrs["value"]]


Const = OpSpec("Const", "opset1", (), _infer_const, _const_kernel)
"""A constant tensor. Its array lives in `attrs["value"]` (read-only)."""


def parameter(name: str, element_type: ElementType, shape: Shape) -> Node:
    node = Parameter.node(name=name, shape=shape, element_type=element_type)
    node.outputs[0].names.append(name)
    return node


def const(value: Any, dtype: Any = None, name: str = "") -> Value:
    """A Const node holding a read-only copy of `value`; returns its output."""
    array = np.asarray(value, dtype=dtype)
    if array.dtype == np.float64 and dtype is None and not isinstance(value, np.ndarray):
        array = array.astype(np.float32)  # Python floats default to f32, as in the IR
    if not array.flags.c_contiguous:
        array = np.asarray(array, order="C")
    array.flags.writeable = False
    node = Node(Const, [], {"value": array}, name)
    node.outputs = [Value(_infer_const(node)[0], node, 0)]
    return node.outputs[0]


def _infer_convert(node: Node) -> list[TensorType]:
    return [TensorType(node.attrs["destination_type"], node.inputs[0].shape)]


def _convert_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    return [inputs[0].astype(attrs["destination_type"].numpy)]


Convert = OpSpec(
    "Convert",
    "opset1",
    (Attr("destination_type", AttrKind.ELEMENT_TYPE, REQUIRED),),
    _infer_convert,
    _convert_kernel,
)


def _infer_shape_of(node: Node) -> list[TensorType]:
    return [tensor(node.attrs["output_type"], [node.inputs[0].shape.rank])]


def _shape_of_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    return [np.array(inputs[0].shape, dtype=attrs["output_type"].numpy)]


ShapeOf = OpSpec(
    "ShapeOf",
    "opset3",
    (Attr("output_type", AttrKind.ELEMENT_TYPE, ElementType.i64),),
    _infer_shape_of,
    _shape_of_kernel,
)

OPS = (Parameter, Const, Convert, ShapeOf)
