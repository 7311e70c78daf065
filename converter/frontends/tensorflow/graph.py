"""TensorFlow GraphDef → IR graph: walk the nodes the outputs need, call one handler per node.

Handlers live in `frontends/tensorflow/ops/<family>.py`, one function per TF op, named like
the op and called as `handler(ctx, *inputs, **attributes)`, the op's attribute defaults in
its signature. Attributes are decoded from AttrValue to Python values. Two kinds are not
passed unless the handler names them: internal ones (`_output_shapes`, `_class`, ...) and
data-type annotations (`T`, `Tidx`, ...: the types are on the input values already). Any
other attribute the handler does not name is reported, not ignored.

Node inputs are `name` or `name:index` (`^name` control inputs are ignored); the graph's
outputs are the names given, or the nodes nobody reads. Only nodes the outputs need are
converted, so training and saving branches of a frozen graph do not matter.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from converter.errors import ConverterError, InvalidModelError, NodeConversionError, UnsupportedOpsError
from converter.frontends.tensorflow.protos import DataType
from converter.frontends.tensorflow.tensors import Unsupported, element_type, ir_shape, tensor_array
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType, Shape
from converter.ops.core import parameter

Handler = Callable[..., "Value | Sequence[Value | None] | None"]

# Nodes that are never a graph output even when nobody reads them.
NOT_OUTPUTS = {"NoOp", "Assert", "Const", "Placeholder", "PlaceholderWithDefault"}


class TFContext:
    """What a handler may look at: the node being converted, and how to declare a graph input."""

    def __init__(self, source: str, handlers: dict[str, Handler]):
        self.source = source
        self.handlers = handlers
        self.values: dict[str, list[Value | None]] = {}
        self.parameters: dict[str, Node] = {}
        self.node: Any = None

    @property
    def node_name(self) -> str:
        return self.node.name

    def parameter(self, element_type: ElementType, shape: Shape) -> Value:
        """A graph input named after the current node."""
        node = parameter(self.node.name, element_type, shape)
        self.parameters[self.node.name] = node
        return node.outputs[0]


# ---------------------------------------------------------------- tensor references


def parse_reference(reference: str) -> tuple[str, int]:
    """`name` or `name:index` → (name, index)."""
    name, separator, index = reference.rpartition(":")
    if separator and index.isdigit():
        return name, int(index)
    return reference, 0


def data_inputs(node: Any) -> list[tuple[str, int]]:
    return [parse_reference(reference) for reference in node.input if not reference.startswith("^")]


# ---------------------------------------------------------------- the walk


def convert_graph_def(
    graph_def: Any,
    source: str,
    handlers: dict[str, Handler],
    inputs: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
    name: str = "model",
) -> Graph:
    nodes = _nodes_by_name(graph_def, source)
    input_names = [parse_reference(reference)[0] for reference in inputs or []]
    for input_name in input_names:
        if input_name not in nodes:
            raise InvalidModelError(f"{source}: input {input_name!r} is not a node of the graph")
        if nodes[input_name].op not in ("Placeholder", "PlaceholderWithDefault"):
            raise InvalidModelError(f"{source}: input {input_name!r} is a {nodes[input_name].op}, not a Placeholder")
    output_refs = _output_references(nodes, source, outputs)
    roots = [n for n, _ in output_refs] + input_names  # a requested input is one even when no output needs it
    order = _needed_nodes(nodes, source, roots, stop_at=set(input_names))
    unsupported: dict[str, list[str]] = {}
    for node in order:
        if node.op not in handlers:
            unsupported.setdefault(node.op, []).append(node.name)
    if unsupported:
        raise UnsupportedOpsError(source, unsupported)

    ctx = TFContext(source, handlers)
    for node in order:
        if node.name in input_names:
            _requested_input(ctx, node)
        else:
            convert_node(ctx, node)

    graph_outputs = []
    for node_name, index in output_refs:
        produced = ctx.values[node_name]
        if index is None:
            graph_outputs.extend(v for v in produced if v is not None)
        else:
            graph_outputs.append(_output_value(ctx, nodes[node_name], produced, index))
    # The inputs named, in that order, then any other placeholder the outputs need, in file order.
    position = {node_name: i for i, node_name in enumerate(nodes)}
    others = sorted((n for n in ctx.parameters if n not in input_names), key=position.__getitem__)
    parameters = [ctx.parameters[n] for n in [*input_names, *others]]
    return Graph(parameters, graph_outputs, name)


def _nodes_by_name(graph_def: Any, source: str) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for node in graph_def.node:
        if not node.name:
            raise InvalidModelError(f"{source}: a {node.op or 'node'} node has no name")
        if node.name in nodes:
            raise InvalidModelError(f"{source}: two nodes are named {node.name!r}")
        nodes[node.name] = node
    if not nodes:
        raise InvalidModelError(f"{source}: the graph has no nodes")
    return nodes


def _output_references(nodes: dict[str, Any], source: str, outputs: Sequence[str] | None) -> list[tuple[str, int | None]]:
    """(node, output index) per graph output; index None means every output of a sink node."""
    if outputs:
        refs: list[tuple[str, int | None]] = []
        for reference in outputs:
            node_name, index = parse_reference(reference)
            if node_name not in nodes:
                raise InvalidModelError(f"{source}: output {reference!r} is not a node of the graph")
            refs.append((node_name, index))
        return refs
    read = {parse_reference(reference.lstrip("^"))[0] for node in nodes.values() for reference in node.input}
    sinks = [(name, None) for name, node in nodes.items() if name not in read and node.op not in NOT_OUTPUTS]
    if not sinks:
        raise InvalidModelError(f"{source}: no output found (every node is read by another); name the outputs")
    return sinks  # type: ignore[return-value]


def _needed_nodes(nodes: dict[str, Any], source: str, roots: Iterable[str], stop_at: set[str]) -> list[Any]:
    """The nodes the roots read, directly or not, in an order where inputs come first."""
    order: list[Any] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    for root in roots:
        if root in state:
            continue
        stack = [(root, iter(() if root in stop_at else data_inputs(nodes[root])))]
        state[root] = 1
        while stack:
            name, pending = stack[-1]
            for input_name, _ in pending:
                if input_name not in nodes:
                    raise InvalidModelError(f"{source}: node {name!r} reads {input_name!r}, which is not in the graph")
                if state.get(input_name) == 1:
                    raise InvalidModelError(f"{source}: node {input_name!r} is part of a cycle (control flow is not supported)")
                if input_name not in state:
                    state[input_name] = 1
                    inner = () if input_name in stop_at else data_inputs(nodes[input_name])
                    stack.append((input_name, iter(inner)))
                    break
            else:
                stack.pop()
                state[name] = 2
                order.append(nodes[name])
    return order


def _output_value(ctx: TFContext, node: Any, produced: list[Value | None], index: int) -> Value:
    if index >= len(produced) or produced[index] is None:
        raise NodeConversionError(ctx.source, node.name, node.op, f"output {index} is not produced")
    return produced[index]  # type: ignore[return-value]


def _requested_input(ctx: TFContext, node: Any) -> None:
    """A placeholder named as an input: a graph input of its declared type and shape (a
    PlaceholderWithDefault's default is not read)."""
    ctx.node = node
    try:
        dtype = node.attr["dtype"].type
        shape = ir_shape(node.attr["shape"].shape) if "shape" in node.attr else Shape.dynamic_rank()
        ctx.values[node.name] = [ctx.parameter(element_type(dtype), shape)]
    except Unsupported as error:
        raise NodeConversionError(ctx.source, node.name, node.op, str(error)) from None
    _name_outputs(node, ctx.values[node.name])


def convert_node(ctx: TFContext, node: Any) -> None:
    ctx.node = node
    handler = ctx.handlers[node.op]
    try:
        inputs = [_input_value(ctx, name, index) for name, index in data_inputs(node)]
        attributes = handler_attributes(ctx, handler, node, len(inputs))
        result = handler(ctx, *inputs, **attributes)
    except Unsupported as error:
        raise NodeConversionError(ctx.source, node.name, node.op, str(error)) from None
    except ConverterError:
        raise
    except (ValueError, TypeError, IndexError) as error:
        raise NodeConversionError(ctx.source, node.name, node.op, f"{type(error).__name__}: {error}") from error
    if result is None:
        produced: list[Value | None] = []
    elif isinstance(result, Value):
        produced = [result]
    else:
        produced = list(result)
    _name_outputs(node, produced)
    ctx.values[node.name] = produced


def _name_outputs(node: Any, produced: list[Value | None]) -> None:
    """Output i of node n is the tensor `n:i` (and output 0 is `n` too), as TF names them."""
    for index, value in enumerate(produced):
        if value is None:
            continue
        if not value.producer.name:
            value.producer.name = node.name
        for tensor_name in ([node.name] if index == 0 else []) + [f"{node.name}:{index}"]:
            if tensor_name not in value.names:
                value.names.append(tensor_name)


def _input_value(ctx: TFContext, name: str, index: int) -> Value:
    produced = ctx.values[name]
    if index >= len(produced) or produced[index] is None:
        raise NodeConversionError(ctx.source, ctx.node.name, ctx.node.op, f"reads {name}:{index}, which {name!r} does not produce")
    return produced[index]  # type: ignore[return-value]


# ---------------------------------------------------------------- attributes


def attribute_value(attr: Any) -> Any:
    """An AttrValue as a Python value: str, int, float, bool, DataType, Shape, ndarray, or a list of those."""
    kind = attr.WhichOneof("value")
    if kind is None:
        return None
    if kind == "s":
        return _text(attr.s)
    if kind in ("i", "f", "b"):
        return getattr(attr, kind)
    if kind == "type":
        return _data_type(attr.type)
    if kind == "shape":
        return ir_shape(attr.shape)
    if kind == "tensor":
        return tensor_array(attr.tensor)
    if kind == "func":
        return attr.func.name
    if kind == "placeholder":
        raise Unsupported(f"attribute placeholder {attr.placeholder!r} outside a function")
    values = attr.list
    for field in ("s", "i", "f", "b", "type", "shape", "tensor", "func"):
        items = getattr(values, field)
        if len(items):
            if field == "s":
                return [_text(v) for v in items]
            if field == "type":
                return [_data_type(v) for v in items]
            if field == "shape":
                return [ir_shape(v) for v in items]
            if field == "tensor":
                return [tensor_array(v) for v in items]
            if field == "func":
                return [v.name for v in items]
            return list(items)
    return []


def _text(value: bytes) -> str | bytes:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value


def _data_type(value: int) -> int:
    try:
        return DataType(value)
    except ValueError:
        return value


def is_type_annotation(attr: Any) -> bool:
    kind = attr.WhichOneof("value")
    return kind == "type" or (kind == "list" and len(attr.list.type) > 0)


@functools.cache
def _signature(handler: Handler) -> inspect.Signature:
    return inspect.signature(handler)


def handler_attributes(ctx: TFContext, handler: Handler, node: Any, num_inputs: int) -> dict[str, Any]:
    """The node's attributes the handler takes; reports the ones it does not know."""
    parameters = _signature(handler).parameters
    named = {n for n, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    attributes: dict[str, Any] = {}
    unknown = []
    for key in sorted(node.attr):
        attr = node.attr[key]
        if key in named:
            attributes[key] = attribute_value(attr)
        elif not key.startswith("_") and not is_type_annotation(attr):
            unknown.append(key)
    if unknown:
        raise Unsupported(f"unsupported attribute(s) {unknown}")
    positional = [
        p for p in parameters.values() if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ][1:]
    variadic = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters.values())
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if num_inputs < len(required) or (not variadic and num_inputs > len(positional)):
        raise Unsupported(f"unexpected number of inputs ({num_inputs})")
    return attributes


def constant_input(value: Value, what: str) -> np.ndarray:
    """The array of an input that must be constant (an axis, a permutation...)."""
    array = value.const
    if array is None:
        raise Unsupported(f"{what} must be a constant")
    return np.asarray(array)
