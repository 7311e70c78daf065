"""What an op spec is, and how nodes are built from one.

An `OpSpec` names an OpenVINO op (type + opset version), lists its attributes
with their kinds and defaults, and carries one `infer` function that gives the
output types from the node. An optional numpy `kernel` computes outputs from
constant inputs (used by constant folding and reference runs).

Build nodes by calling the spec: `Relu(x)` returns the output value,
`Split.node(x, axis, num_splits=3)` returns the node (for several outputs).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from converter.ir.graph import Node, Value
from converter.ir.types import ElementType, Shape, TensorType


class AttrKind(enum.Enum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STR = "str"
    INTS = "ints"
    FLOATS = "floats"
    STRS = "strs"
    ELEMENT_TYPE = "element_type"
    SHAPE = "shape"


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Attr:
    name: str
    kind: AttrKind
    default: Any = REQUIRED


InferFn = Callable[[Node], list[TensorType]]
KernelFn = Callable[[list[np.ndarray], dict[str, Any]], list[np.ndarray]]


@dataclass(frozen=True, eq=False)
class OpSpec:
    type: str
    version: str
    attrs: tuple[Attr, ...]
    infer: InferFn
    kernel: KernelFn | None = None
    doc: str = field(default="", repr=False)

    def node(self, *inputs: Value, name: str = "", **attrs: Any) -> Node:
        """Make a node: fill default attributes, check them, infer output types."""
        if attrs and not self.attribute_names.issuperset(attrs):
            raise TypeError(f"{self.type}-{self.version}: unknown attribute(s) {sorted(set(attrs) - self.attribute_names)}")
        values: dict[str, Any] = {}
        for attr in self.attrs:
            if attr.name in attrs:
                values[attr.name] = normalize_attr(attr, attrs[attr.name])
            elif attr.default is REQUIRED:
                raise TypeError(f"{self.type}-{self.version}: attribute {attr.name!r} is required")
            else:
                values[attr.name] = attr.default
        node = Node(self, list(inputs), values, name)
        set_output_types(node)
        return node

    @functools.cached_property
    def attribute_names(self) -> frozenset[str]:
        return frozenset(a.name for a in self.attrs)

    def __call__(self, *inputs: Value, name: str = "", **attrs: Any) -> Value:
        node = self.node(*inputs, name=name, **attrs)
        if len(node.outputs) != 1:
            raise TypeError(f"{self.type} has {len(node.outputs)} outputs; use .node()")
        return node.outputs[0]

    def __repr__(self) -> str:
        return f"<op {self.type}-{self.version}>"


class InferenceError(ValueError):
    """An op's inference refused its inputs: in a model's graph, the model is inconsistent."""


def set_output_types(node: Node) -> None:
    """(Re)run inference and update the node's output values in place. Inputs inference rejects
    (inconsistent shapes, a zero stride, an axis out of range) raise InferenceError."""
    try:
        types = node.op.infer(node)
    except InferenceError:
        raise
    except (ValueError, ArithmeticError, IndexError) as error:
        raise InferenceError(f"{node.op.type}: {error}" if not str(error).startswith(node.op.type) else str(error)) from error
    if len(node.outputs) == len(types):
        for value, tensor_type in zip(node.outputs, types):
            value.type = tensor_type
    else:
        node.outputs = [Value(t, node, i) for i, t in enumerate(types)]


def normalize_attr(attr: Attr, value: Any) -> Any:
    """Bring an attribute value to its canonical Python form (for stable output)."""
    kind = attr.kind
    if kind is AttrKind.INT:
        return int(value)
    if kind is AttrKind.FLOAT:
        return float(np.float32(value)) if not isinstance(value, float) else value
    if kind is AttrKind.BOOL:
        return bool(value)
    if kind is AttrKind.STR:
        return str(value)
    if kind is AttrKind.INTS:
        return tuple(int(v) for v in value)
    if kind is AttrKind.FLOATS:
        return tuple(float(v) for v in value)
    if kind is AttrKind.STRS:
        return tuple(str(v) for v in value)
    if kind is AttrKind.ELEMENT_TYPE:
        return value if isinstance(value, ElementType) else ElementType(value)
    if kind is AttrKind.SHAPE:
        return value if isinstance(value, Shape) else Shape(tuple(value))
    raise AssertionError(kind)


# ---------------------------------------------------------------- inference helpers


def broadcast_dims(a: Shape, b: Shape) -> Shape:
    """Numpy-style broadcast of two shapes, keeping dynamic dims dynamic."""
    if a.dims is None or b.dims is None:
        return Shape.dynamic_rank()
    rank = max(len(a.dims), len(b.dims))
    da = (1,) * (rank - len(a.dims)) + a.dims
    db = (1,) * (rank - len(b.dims)) + b.dims
    out: list[int | None] = []
    for x, y in zip(da, db):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None:
            out.append(y)
        elif y is None or x == y:
            out.append(x)
        else:
            raise ValueError(f"shapes {a} and {b} do not broadcast")
    return Shape(tuple(out))


def broadcast_all(shapes: Sequence[Shape]) -> Shape:
    result = shapes[0]
    for shape in shapes[1:]:
        result = broadcast_dims(result, shape)
    return result


def same_as_input(index: int = 0) -> InferFn:
    def infer(node: Node) -> list[TensorType]:
        return [node.inputs[index].type]

    return infer


def elementwise_binary(output_type: ElementType | None = None) -> InferFn:
    """Binary op with numpy broadcasting; output type = input 0's unless given."""

    def infer(node: Node) -> list[TensorType]:
        a, b = node.inputs
        return [TensorType(output_type or a.element_type, broadcast_dims(a.shape, b.shape))]

    return infer


def normalize_axis(axis: int, rank: int | None) -> int:
    if axis >= 0 or rank is None:
        return axis
    return axis + rank


def const_ints(value: Value) -> list[int] | None:
    """The integer contents of a constant input, flattened, or None if not constant."""
    array = value.const
    if array is None:
        return None
    return [int(v) for v in np.asarray(array).reshape(-1)]


def tensor(element_type: ElementType, dims: Sequence[int | None] | None) -> TensorType:
    return TensorType(element_type, Shape(None if dims is None else tuple(dims)))
