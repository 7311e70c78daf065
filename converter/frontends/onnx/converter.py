"""ONNX → IR graph: walk the ONNX graph, call one handler per node.

Handlers live in `frontends/onnx/ops/<family>.py`, one function per ONNX op,
named like the op, called as `handler(ctx, *inputs, **attributes)` where
missing optional inputs are None and attribute defaults sit in the signature.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from converter.errors import ConverterError, InvalidModelError, NodeConversionError, UnsupportedOpsError
from converter.ir.graph import Graph, Node, Value
from converter.limits import check_tensor_bytes, element_count
from converter.ir.types import ElementType, Shape
from converter.frontends.handlers import handler_facts
from converter.frontends.onnx import proto
from converter.frontends.onnx.loader import external_array
from converter.frontends.onnx.functions import bind_attributes, body_opset, can_expand, function_body
from converter.frontends.onnx.tensors import ELEMENT_TYPES, PACKED_TYPES, numpy_dtype, sparse_to_dense, to_array
from converter.frontends.onnx.tensors import attribute_value as raw_attribute_value
from converter.ops.core import const, parameter

Handler = Callable[..., "Value | list[Value | None] | tuple[Value | None, ...]"]

DEFAULT_DOMAINS = ("", "ai.onnx")


class Unsupported(Exception):
    """Raised by a handler for a node it cannot express; becomes NodeConversionError."""


def element_type(onnx_type: int) -> ElementType:
    try:
        return ELEMENT_TYPES[onnx_type]
    except KeyError:
        name = proto.data_type_name(onnx_type)
        raise Unsupported(f"element type {name} is not supported") from None


class OnnxContext:
    """What a handler may look at: the node, the opset, and helpers to make constants."""

    def __init__(
        self,
        source: str,
        opset: int,
        handlers: dict[str, Handler],
        outer: OnnxContext | None = None,
        external_data_dir: Path | None = None,
    ):
        self.source = source
        self.external_data_dir = external_data_dir if outer is None else outer.external_data_dir
        self.opset = opset
        self.handlers = handlers
        self.outer = outer
        self.values: dict[str, Value] = {}
        self.node: proto.NodeProto = proto.NodeProto()

    def lookup(self, name: str) -> Value:
        context: OnnxContext | None = self
        while context is not None:
            if name in context.values:
                return context.values[name]
            context = context.outer
        raise InvalidModelError(f"{self.source}: tensor {name!r} is used before it is produced")

    @property
    def node_name(self) -> str:
        return self.node.name or (self.node.output[0] if self.node.output else self.node.op_type)


def convert_onnx(
    model: proto.ModelProto, source: str, handlers: dict[str, Handler], external_data_dir: Path | None = None
) -> Graph:
    opset = default_opset(model)
    if model.functions:
        import onnx
        from onnx import inliner

        check_local_functions(model, source)
        try:
            model = proto.as_ours(inliner.inline_local_functions(proto.as_onnx(model)))
        except (onnx.checker.ValidationError, RuntimeError, ValueError) as error:
            raise InvalidModelError(f"{source}: its local functions cannot be inlined: {error}") from None
    unsupported = find_unsupported(model.graph, handlers, opset)
    if unsupported:
        raise UnsupportedOpsError(source, unsupported)
    ctx = OnnxContext(source, opset, handlers, external_data_dir=external_data_dir)
    return convert_graph(ctx, model.graph, name=model.graph.name or "model")


def check_local_functions(model: proto.ModelProto, source: str) -> None:
    """A local function that calls itself, directly or through others, would be inlined forever."""
    functions = {(f.domain, f.name): f for f in model.functions}

    def callees(nodes) -> set[tuple[str, str]]:
        found = set()
        for node in nodes:
            if (node.domain, node.op_type) in functions:
                found.add((node.domain, node.op_type))
            for attribute in node.attribute:
                for subgraph in [attribute.g, *attribute.graphs] if attribute.type in (proto.AttributeProto.GRAPH, proto.AttributeProto.GRAPHS) else []:
                    found |= callees(subgraph.node)
        return found

    calls = {key: callees(function.node) for key, function in functions.items()}
    state: dict[tuple[str, str], int] = {}  # 1: on the current path, 2: done
    for start in calls:
        stack = [(start, iter(sorted(calls[start])))]
        state[start] = state.get(start) or 1
        if state[start] == 2:
            continue
        while stack:
            key, pending = stack[-1]
            callee = next(pending, None)
            if callee is None:
                state[key] = 2
                stack.pop()
            elif state.get(callee) == 1:
                raise InvalidModelError(f"{source}: local function {callee[0]}.{callee[1]} calls itself (through {key[0]}.{key[1]}): recursion cannot be inlined")
            elif state.get(callee) is None:
                state[callee] = 1
                stack.append((callee, iter(sorted(calls[callee]))))


def default_opset(model: proto.ModelProto) -> int:
    for entry in model.opset_import:
        if entry.domain in DEFAULT_DOMAINS:
            return entry.version
    return 1


def find_unsupported(graph: proto.GraphProto, handlers: dict[str, Handler], opset: int) -> dict[str, list[str]]:
    """Every op type without a handler or a function body (nested graphs too), with its node names."""
    found: dict[str, list[str]] = {}
    for node in graph.node:
        key = handler_key(node)
        if key not in handlers and (node.domain not in DEFAULT_DOMAINS or not can_expand(node.op_type, opset)):
            found.setdefault(key, []).append(node.name or (node.output[0] if node.output else "?"))
        for attribute in node.attribute:
            for subgraph in [attribute.g, *attribute.graphs] if attribute.type in (proto.AttributeProto.GRAPH, proto.AttributeProto.GRAPHS) else []:
                for op, names in find_unsupported(subgraph, handlers, opset).items():
                    found.setdefault(op, []).extend(names)
    return found


def handler_key(node: proto.NodeProto) -> str:
    """Default-domain handlers are keyed by op type, others by "domain.op_type" (e.g. "com.microsoft.Gelu")."""
    return node.op_type if node.domain in DEFAULT_DOMAINS else f"{node.domain}.{node.op_type}"


def convert_graph(ctx: OnnxContext, graph: proto.GraphProto, name: str) -> Graph:
    initializer_names = {t.name for t in graph.initializer} | {t.values.name for t in graph.sparse_initializer}
    parameters: list[Node] = []
    for value_info in graph.input:
        if value_info.name in initializer_names:
            continue
        node = _parameter(ctx, value_info)
        parameters.append(node)
        ctx.values[value_info.name] = node.outputs[0]
    for tensor in graph.initializer:
        ctx.values[tensor.name] = _initializer(ctx, tensor)
    for sparse in graph.sparse_initializer:
        ctx.values[sparse.values.name] = const(sparse_to_dense(sparse), name=sparse.values.name)

    for node in topological_nodes(graph, set(ctx.values) | _outer_names(ctx)):
        convert_node(ctx, node)

    outputs = []
    for value_info in graph.output:
        value = ctx.lookup(value_info.name)
        if value_info.name not in value.names:
            value.names.append(value_info.name)
        outputs.append(value)
    return Graph(parameters, outputs, name)


def convert_node(ctx: OnnxContext, node: proto.NodeProto) -> None:
    ctx.node = node
    inputs = [ctx.lookup(name) if name else None for name in node.input]
    handler = ctx.handlers.get(handler_key(node))
    try:
        if handler is None:
            result = expand_function(ctx, node, inputs)
        else:
            attributes = {a.name: attribute_value(a) for a in node.attribute}
            _check_attributes(ctx, handler, node, len(inputs), attributes)
            result = handler(ctx, *inputs, **attributes)
    except Unsupported as error:
        raise NodeConversionError(ctx.source, ctx.node_name, node.op_type, str(error)) from None
    except ConverterError:
        raise
    except (ValueError, TypeError, IndexError) as error:
        raise NodeConversionError(ctx.source, ctx.node_name, node.op_type, f"{type(error).__name__}: {error}") from error
    ctx.node = node
    outputs = list(result) if isinstance(result, (list, tuple)) else [result]
    for index, output_name in enumerate(node.output):
        if not output_name:
            continue
        if index >= len(outputs) or outputs[index] is None:
            raise NodeConversionError(ctx.source, ctx.node_name, node.op_type, f"output {index} is not supported")
        value = outputs[index]
        if not value.producer.name:
            value.producer.name = ctx.node_name if len(node.output) == 1 else f"{ctx.node_name}:{index}"
        if output_name not in value.names:
            value.names.append(output_name)
        ctx.values[output_name] = value


def expand_function(ctx: OnnxContext, node: proto.NodeProto, inputs: list[Value | None]) -> list[Value | None]:
    """Convert the op's ONNX function body in place of the op (see functions.py)."""
    body = function_body(node, ctx.opset, inputs)
    if body is None:
        raise Unsupported("no handler and no ONNX function body for this op")
    inner = OnnxContext(ctx.source, body_opset(body, ctx.opset), ctx.handlers)
    absent = set()
    for formal, value in zip(body.input, list(inputs) + [None] * len(body.input)):
        if value is None:
            absent.add(formal)
        else:
            inner.values[formal] = value
    absent.update(body.input[len(inputs):])
    prefix = ctx.node_name
    for index, inner_node in enumerate(bind_attributes(body, node, ctx.opset)):
        for position, name in enumerate(inner_node.input):
            if name in absent:
                inner_node.input[position] = ""
        inner_node.name = f"{prefix}/{inner_node.name or inner_node.op_type + str(index)}"
        convert_node(inner, inner_node)
    return [inner.values.get(name) for name in body.output]


def _check_attributes(ctx: OnnxContext, handler: Handler, node: proto.NodeProto, num_inputs: int, attributes: dict[str, Any]) -> None:
    accepts_any, keyword_only, positional, required, variadic = handler_facts(handler)
    if not accepts_any:
        unknown = sorted(set(attributes) - keyword_only)
        if unknown:
            raise NodeConversionError(ctx.source, ctx.node_name, node.op_type, f"unsupported attribute(s) {unknown}")
    if num_inputs < required or (not variadic and num_inputs > positional):
        raise NodeConversionError(ctx.source, ctx.node_name, node.op_type, f"unexpected number of inputs ({num_inputs})")


def attribute_value(attribute: proto.AttributeProto) -> Any:
    if attribute.ref_attr_name:
        raise InvalidModelError(f"attribute {attribute.name!r} refers to a function attribute outside a function")
    value = raw_attribute_value(attribute)
    if attribute.type == proto.AttributeProto.STRING:
        return value.decode("utf-8")
    if attribute.type == proto.AttributeProto.STRINGS:
        return [v.decode("utf-8") for v in value]
    if attribute.type == proto.AttributeProto.TENSOR:
        try:
            check_initializer_size(value, "the file")
        except InvalidModelError as error:
            raise ValueError(f"tensor attribute {attribute.name!r}: {str(error).removeprefix('the file: ')}") from None
        return to_array(value)
    if attribute.type in (proto.AttributeProto.INTS, proto.AttributeProto.FLOATS):
        return list(value)
    return value


def topological_nodes(graph: proto.GraphProto, available: set[str]) -> list[proto.NodeProto]:
    """Nodes in an order where each reads only what is produced before it.

    ONNX requires sorted nodes, but exporters do not always comply; keep the
    file's order where it is valid.
    """
    produced = set(available)
    pending = list(graph.node)
    order: list[proto.NodeProto] = []
    while pending:
        remaining = []
        for node in pending:
            needed = [n for n in node.input if n] + _subgraph_inputs(node)
            if all(name in produced for name in needed):
                order.append(node)
                produced.update(node.output)
            else:
                remaining.append(node)
        if len(remaining) == len(pending):
            names = sorted({n for node in remaining for n in node.input if n and n not in produced})
            raise InvalidModelError(f"graph {graph.name!r}: tensors {names[:5]} are never produced (or form a cycle)")
        pending = remaining
    return order


def _subgraph_inputs(node: proto.NodeProto) -> list[str]:
    """Outer-scope names a node's subgraphs read (they must exist before the node)."""
    names: list[str] = []
    for attribute in node.attribute:
        graphs = [attribute.g] if attribute.type == proto.AttributeProto.GRAPH else list(attribute.graphs)
        for subgraph in graphs:
            local = {i.name for i in subgraph.input} | {t.name for t in subgraph.initializer}
            for inner in subgraph.node:
                local.update(inner.output)
            for inner in subgraph.node:
                names.extend(n for n in inner.input if n and n not in local)
                names.extend(n for n in _subgraph_inputs(inner) if n not in local)
            names.extend(o.name for o in subgraph.output if o.name not in local)
    return names


def _outer_names(ctx: OnnxContext) -> set[str]:
    names: set[str] = set()
    context = ctx.outer
    while context is not None:
        names.update(context.values)
        context = context.outer
    return names


def _parameter(ctx: OnnxContext, value_info: proto.ValueInfoProto) -> Node:
    tensor_type = value_info.type.tensor_type
    if not value_info.type.HasField("tensor_type"):
        raise NodeConversionError(ctx.source, value_info.name, "input", "only tensor inputs are supported")
    try:
        etype = element_type(tensor_type.elem_type)
    except Unsupported as error:
        raise NodeConversionError(ctx.source, value_info.name, "input", str(error)) from None
    if tensor_type.HasField("shape"):
        # -1 is how some exporters (paddle2onnx) spell a dynamic dim, as OpenVINO reads it; other negatives are damage
        dims = tuple(None if not d.HasField("dim_value") or d.dim_value == -1 else d.dim_value for d in tensor_type.shape.dim)
        if any(d is not None and d < 0 for d in dims):
            raise InvalidModelError(f"{ctx.source}: input {value_info.name!r} has a negative dimension (shape {list(dims)})")
        shape = Shape(dims)
    else:
        shape = Shape.dynamic_rank()
    return parameter(value_info.name, etype, shape)


def _initializer(ctx: OnnxContext, tensor: proto.TensorProto) -> Value:
    try:
        element_type(tensor.data_type)
        check_initializer_size(tensor, ctx.source)
        if tensor.data_location == proto.TensorProto.EXTERNAL:
            if ctx.external_data_dir is None:
                raise InvalidModelError(f"{ctx.source}: initializer {tensor.name!r} uses external data; convert the file, not a ModelProto")
            array = external_array(tensor, ctx.external_data_dir, ctx.source)
        else:
            array = to_array(tensor)
    except Unsupported as error:
        raise NodeConversionError(ctx.source, tensor.name, "initializer", str(error)) from None
    except (ValueError, TypeError) as error:
        raise InvalidModelError(f"{ctx.source}: initializer {tensor.name!r} is unreadable: {error}") from None
    value = const(array, name=tensor.name)
    value.names.append(tensor.name)
    return value


def check_initializer_size(tensor: proto.TensorProto, source: str) -> None:
    """Dims non-negative and within the limit; data stored in the file (raw_data or typed fields)
    exactly as many elements as the dims say, before anything is decoded or allocated."""
    what = f"initializer {tensor.name!r}"
    dtype = numpy_dtype(tensor.data_type)
    nbytes = check_tensor_bytes(source, what, tensor.dims, dtype.itemsize)
    if tensor.data_location == proto.TensorProto.EXTERNAL or dtype.kind in "OSU":
        return
    count = element_count(source, what, tensor.dims)
    if tensor.HasField("raw_data"):
        if dtype.itemsize and tensor.data_type not in PACKED_TYPES and len(tensor.raw_data) != nbytes:
            raise InvalidModelError(f"{source}: {what} (shape {list(tensor.dims)}) needs {nbytes} bytes, its raw_data holds {len(tensor.raw_data)}")
        return
    stored = max(len(tensor.float_data), len(tensor.int32_data), len(tensor.int64_data), len(tensor.double_data), len(tensor.uint64_data))
    if tensor.data_type in (proto.TensorProto.COMPLEX64, proto.TensorProto.COMPLEX128):
        stored //= 2
    if stored != count and tensor.data_type not in PACKED_TYPES:
        raise InvalidModelError(f"{source}: {what} (shape {list(tensor.dims)}) has {count} elements, the file holds {stored}")
