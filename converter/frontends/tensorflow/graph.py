"""TensorFlow GraphDef → IR graph: walk the nodes the outputs need, call one handler per node.

Handlers live in `frontends/tensorflow/ops/<family>.py`, one function per TF op, named like
the op and called as `handler(ctx, *inputs, **attributes)`, the op's attribute defaults in
its signature. Attributes are decoded from AttrValue to Python values. Two kinds are not
passed unless the handler names them: internal ones (`_output_shapes`, `_class`, ...) and
data-type annotations (`T`, `Tidx`, ...: the types are on the input values already). Any
other attribute the handler does not name is reported, not ignored.

Node inputs are `name` or `name:index` (`^name` control inputs are ignored); the graph's
outputs are the names given, or the nodes nobody reads. Only nodes the outputs need are
converted, so training and saving branches of a graph do not matter.

Functions of the graph's library (TF2 graphs call them through (Stateful)PartitionedCall)
are inlined: each call converts the nodes of the function body its results need, in a
scope of its own. Inside a function, an input is an argument name or
`node:output_arg:index`, where output_arg names one of the op's outputs (a list for some
ops): the op definitions (`op_defs`, a MetaGraph's stripped op list) give their order.
Control flow (While, If) names functions in attributes; its handlers convert them into
bodies with `call_function` on body parameters (ops/control.py). TF1 loops are cycles
through Enter/Merge/Switch/NextIteration/Exit (frames.py): the walk reaches a loop at its
Exit nodes, whose inputs are taken to be the values entering the loop; the Exit handler
converts the loop's body and condition with `convert_subgraph`.

A value that is no tensor (a TensorList handle) is an `Opaque` object: handlers of the ops
that take one pass it on, any other op reading it fails as unsupported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from converter.errors import ConverterError, InvalidModelError, NodeConversionError, UnsupportedOpsError
from converter.frontends.handlers import handler_facts
from converter.frontends.tensorflow.frames import Branches, Frame, find_frames
from converter.frontends.tensorflow.protos import DataType
from converter.frontends.tensorflow.tensors import Unsupported, element_type, ir_shape, tensor_array
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType, Shape
from converter.ops.core import const, parameter

Handler = Callable[..., "Value | Opaque | Sequence[Value | Opaque | None] | None"]

# Nodes that are never a graph output even when nobody reads them.
NOT_OUTPUTS = {"NoOp", "Assert", "Const", "Placeholder", "PlaceholderWithDefault", "SaveV2", "RestoreV2", "MergeV2Checkpoints"}
CALL_OPS = ("PartitionedCall", "StatefulPartitionedCall")

# Output arguments of supported ops with more than one, for graphs without op definitions.
OUTPUT_ARGS = {
    "FusedBatchNorm": ("y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"),
    "FusedBatchNormV2": ("y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"),
    "FusedBatchNormV3": ("y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2", "reserve_space_3"),
    "TopKV2": ("values", "indices"),
}


class Opaque:
    """A TF value that is no IR tensor (e.g. a TensorList handle, DT_VARIANT).

    Only the handlers made for it read its fields; any other handler touching it as a tensor
    (`x.shape`, `x.element_type`, building an IR op on it) raises Unsupported.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise Unsupported(f"reads a {type(self).__name__}, which only its own ops take")


class Scope:
    """One body being converted, the graph or one call of a function: its nodes and the values they produced."""

    def __init__(self, nodes: dict[str, Any], prefix: str = "", function: Any = None, names_tensors: bool | None = None):
        self.nodes = nodes
        self.prefix = prefix
        self.function = function
        self.arguments = {arg.name for arg in function.signature.input_arg} if function is not None else set()
        self.values: dict[str, list[Value | Opaque | None]] = {}
        self.names_tensors = function is None if names_tensors is None else names_tensors
        self.memo: dict[str, Any] = {}  # what handlers convert once per scope (a TF1 loop for all its Exits)


class TFContext:
    """What a handler may look at: the node being converted, variables, and how to declare a graph input or call a function."""

    def __init__(
        self,
        source: str,
        handlers: dict[str, Handler],
        library: Mapping[str, Any] | None = None,
        op_defs: Mapping[str, Any] | None = None,
        variables: Mapping[str, np.ndarray] | None = None,
    ):
        self.source = source
        self.handlers = handlers
        self.library = dict(library or {})
        self.op_defs = dict(op_defs or {})
        self.variables = variables if variables is not None else {}
        self.parameters: dict[str, Node] = {}
        self.function_nodes: dict[str, dict[str, Any]] = {}
        self.function_orders: dict[str, list[Any]] = {}
        self.node: Any = None
        self.scope = Scope({})
        self.frames: dict[str, Frame] = {}  # TF1 loop frames of the graph, by Exit node
        self._branches: Branches | None = None

    @property
    def node_name(self) -> str:
        return self.scope.prefix + self.node.name

    def parameter(self, element_type: ElementType, shape: Shape) -> Value:
        """A graph input named after the current node."""
        node = parameter(self.node.name, element_type, shape)
        self.parameters[self.node.name] = node
        return node.outputs[0]

    def variable(self) -> Value:
        """The value of the variable the current node holds (VarHandleOp, VariableV2), as a constant."""
        if self.node.name not in self.variables or self.scope.function is not None:
            raise Unsupported("no value for this variable in the model's variables")
        return const(self.variables[self.node.name], name=self.node_name)

    def call_function(self, name: str, args: Sequence[Value | Opaque]) -> list[Value | Opaque]:
        """Inline one call of a library function: its results, in signature order.

        Given body Parameters as `args`, the results are a body's outputs (ops/control.py).
        """
        function = self.library.get(name)
        if function is None:
            raise InvalidModelError(f"{self.source}: node {self.node_name!r} calls {name!r}, which is not in the function library")
        signature = function.signature
        if len(args) != len(signature.input_arg):
            raise Unsupported(f"{name} takes {len(signature.input_arg)} inputs, the call gives {len(args)}")
        scope = Scope(function_nodes(self, name), f"{self.node_name}/", function)
        for arg, value in zip(signature.input_arg, args):
            scope.values[arg.name] = [value]
        outer_scope, outer_node = self.scope, self.node
        self.scope = scope
        try:
            for node in function_order(self, name):
                convert_node(self, node)
            results = []
            for arg in signature.output_arg:
                if arg.name not in function.ret:
                    raise InvalidModelError(f"{self.source}: function {name!r} does not return {arg.name!r}")
                results.append(lookup(self, *self.reference(function.ret[arg.name])))
        finally:
            self.scope, self.node = outer_scope, outer_node
        return results

    # -- TF1 control flow (frames.py)

    def frame(self) -> Frame:
        """The TF1 loop frame the current Exit node leaves."""
        return self.frames[self.node.name]

    def branches(self) -> Branches:
        """Which TF1 cond branch each node of the graph runs in (computed once)."""
        if self.scope.function is not None:
            raise Unsupported("TF1 conds (Switch/Merge) inside a function")
        if self._branches is None:
            self._branches = Branches(self.scope.nodes, self.source)
        return self._branches

    def inputs_of(self, node: Any) -> list[str]:
        """A node's data input references; an Exit's are those of the values entering its loop."""
        if self.scope.function is None and node.name in self.frames:
            return self.frames[node.name].entering(self.scope.nodes)
        return data_references(node)

    def producers(self, node: Any) -> list[str]:
        return [self.reference(reference)[0] for reference in self.inputs_of(node)]

    def subgraph_order(self, stop: Iterable[str], roots: Iterable[str]) -> list[Any]:
        """The nodes of the current scope the roots need, up to the `stop` nodes (excluded)."""
        stop = set(stop)
        order = _needed_nodes(self.scope.nodes, self.source, [r for r in roots if r not in stop], self.producers, stop_at=stop)
        return [node for node in order if node.name not in stop]

    def convert_subgraph(self, seeds: Mapping[str, Sequence[Value | Opaque | None]], outputs: Sequence[str]) -> list[Value | Opaque]:
        """Convert anew the nodes between `seeds` (nodes whose outputs are given) and `outputs`
        (references), in a scope of their own: a TF1 loop's body or condition."""
        references = [self.reference(reference) for reference in outputs]
        order = self.subgraph_order(seeds, [name for name, _ in references])
        scope = Scope(self.scope.nodes, self.scope.prefix, self.scope.function, names_tensors=False)
        scope.values.update({name: list(values) for name, values in seeds.items()})
        outer_scope, outer_node = self.scope, self.node
        self.scope = scope
        try:
            for node in order:
                convert_node(self, node)
            return [lookup(self, *reference) for reference in references]
        finally:
            self.scope, self.node = outer_scope, outer_node

    def value(self, reference: str) -> Value | Opaque:
        """The value a reference of the current scope names (converted already)."""
        return lookup(self, *self.reference(reference))

    # -- references

    def reference(self, text: str) -> tuple[str, int]:
        """A data input of the current scope → (producer name, index into its outputs)."""
        if self.scope.function is None:
            return parse_reference(text)
        return self.function_reference(text, self.scope.nodes, self.scope.arguments)

    def function_reference(self, text: str, nodes: Mapping[str, Any], arguments: set[str]) -> tuple[str, int]:
        """`arg`, `arg:i`, `node:output_arg` or `node:output_arg:i` (inside function bodies)."""
        parts = text.split(":")
        if parts[0] in arguments:
            if len(parts) == 1:
                return parts[0], 0
            if len(parts) == 2 and parts[1].isdigit():
                return parts[0], int(parts[1])
        if len(parts) not in (2, 3) or parts[0] not in nodes or (len(parts) == 3 and not parts[2].isdigit()):
            raise InvalidModelError(f"{self.source}: input {text!r} names no node or argument of the function")
        index = int(parts[2]) if len(parts) == 3 else 0
        return parts[0], self.output_offset(nodes[parts[0]], parts[1]) + index

    def output_offset(self, node: Any, arg_name: str) -> int:
        """Where an op's output argument starts among the node's outputs."""
        if node.op in self.library:
            names = [arg.name for arg in self.library[node.op].signature.output_arg]
            return _position(names, arg_name, node, self.source)
        if node.op in CALL_OPS:
            return 0  # one list argument, "output"
        op_def = self.op_defs.get(node.op)
        if op_def is not None:
            offset = 0
            for arg in op_def.output_arg:
                if arg.name == arg_name:
                    return offset
                offset += _argument_size(node, arg)
            raise InvalidModelError(f"{self.source}: node {node.name!r} ({node.op}) has no output {arg_name!r}")
        if node.op in OUTPUT_ARGS:
            return _position(list(OUTPUT_ARGS[node.op]), arg_name, node, self.source)
        return 0  # ops with a single output argument


def _position(names: list[str], arg_name: str, node: Any, source: str) -> int:
    if arg_name not in names:
        raise InvalidModelError(f"{source}: node {node.name!r} ({node.op}) has no output {arg_name!r}")
    return names.index(arg_name)


def _argument_size(node: Any, arg: Any) -> int:
    """How many tensors an output argument holds: 1, or an attribute's count for lists."""
    if arg.number_attr:
        return int(node.attr[arg.number_attr].i) if arg.number_attr in node.attr else 1
    if arg.type_list_attr:
        return len(node.attr[arg.type_list_attr].list.type) if arg.type_list_attr in node.attr else 1
    return 1


# ---------------------------------------------------------------- tensor references


def parse_reference(reference: str) -> tuple[str, int]:
    """`name` or `name:index` → (name, index)."""
    name, separator, index = reference.rpartition(":")
    if separator and index.isdigit():
        return name, int(index)
    return reference, 0


def data_references(node: Any) -> list[str]:
    return [reference for reference in node.input if not reference.startswith("^")]


def data_inputs(node: Any) -> list[tuple[str, int]]:
    return [parse_reference(reference) for reference in data_references(node)]


def function_nodes(ctx: TFContext, name: str) -> dict[str, Any]:
    """A library function's nodes by name (read once per function)."""
    if name not in ctx.function_nodes:
        where = f"{ctx.source}: function {name!r}"
        ctx.function_nodes[name] = _nodes_by_name(ctx.library[name].node_def, where, allow_empty=True)
    return ctx.function_nodes[name]


def function_order(ctx: TFContext, name: str) -> list[Any]:
    """The nodes of a library function its results need, inputs first (computed once per function)."""
    cache = ctx.function_orders
    if name not in cache:
        function = ctx.library[name]
        nodes = function_nodes(ctx, name)
        arguments = {arg.name for arg in function.signature.input_arg}

        def producers(node: Any) -> list[str]:
            return [ctx.function_reference(r, nodes, arguments)[0] for r in data_references(node)]

        returned = [function.ret[arg.name] for arg in function.signature.output_arg if arg.name in function.ret]
        roots = [ctx.function_reference(reference, nodes, arguments)[0] for reference in returned]
        where = f"{ctx.source}: function {name!r}"
        cache[name] = _needed_nodes(nodes, where, [r for r in roots if r not in arguments], producers, stop_at=arguments)
    return cache[name]


# ---------------------------------------------------------------- the walk


def convert_graph_def(
    graph_def: Any,
    source: str,
    handlers: dict[str, Handler],
    inputs: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
    name: str = "model",
    op_defs: Mapping[str, Any] | None = None,
    variables: Mapping[str, np.ndarray] | None = None,
) -> Graph:
    """The IR graph computing `outputs` from `inputs` (see `convert_graphdef` for the defaults).

    `op_defs` are op definitions by op type (for references inside functions); `variables`
    are the values of variable nodes (VarHandleOp, VariableV2) by node name.
    """
    nodes = _nodes_by_name(graph_def.node, source)
    library = {function.signature.name: function for function in graph_def.library.function}
    ctx = TFContext(source, handlers, library, op_defs, variables)
    ctx.scope = Scope(nodes)
    ctx.frames = find_frames(nodes, source)
    # Named Placeholders become the inputs, in that order; any other name (an internal tensor to cut
    # at, or a typo) is left to the generic surgery (converter/prepare/), which cuts or reports it.
    input_names = [
        name for name in (parse_reference(reference)[0] for reference in inputs or [])
        if name in nodes and nodes[name].op in ("Placeholder", "PlaceholderWithDefault")
    ]
    output_refs = _output_references(nodes, source, outputs)
    roots = [n for n, _ in output_refs] + input_names  # a requested input is one even when no output needs it
    order = _needed_nodes(nodes, source, roots, ctx.producers, stop_at=set(input_names))
    unsupported = find_unsupported(ctx, [n for n in order if n.name not in input_names])
    if unsupported:
        raise UnsupportedOpsError(source, unsupported)

    for node in order:
        if node.name in input_names:
            _requested_input(ctx, node)
        else:
            convert_node(ctx, node)

    graph_outputs: list[Value] = []
    for node_name, index in output_refs:
        produced = ctx.scope.values[node_name]
        if index is None:
            graph_outputs.extend(v for v in produced if isinstance(v, Value))
            continue
        value = lookup(ctx, node_name, index)
        if not isinstance(value, Value):
            raise NodeConversionError(source, node_name, nodes[node_name].op, f"output {index} is a {type(value).__name__}, not a tensor")
        graph_outputs.append(value)
    # The inputs named, in that order, then any other placeholder the outputs need, in file order.
    position = {node_name: i for i, node_name in enumerate(nodes)}
    others = sorted((n for n in ctx.parameters if n not in input_names), key=position.__getitem__)
    parameters = [ctx.parameters[n] for n in [*input_names, *others]]
    return Graph(parameters, graph_outputs, name)


def called_function(ctx: TFContext, node: Any) -> str | None:
    """The library function a node calls, if it is a call."""
    if node.op in ctx.library:
        return node.op
    if node.op in CALL_OPS and "f" in node.attr:
        return node.attr["f"].func.name
    return None


def attribute_functions(node: Any) -> list[str]:
    """The functions a node names in attributes (While's cond and body, If's branches)."""
    return [node.attr[key].func.name for key in sorted(node.attr) if node.attr[key].WhichOneof("value") == "func"]


def find_unsupported(ctx: TFContext, order: Iterable[Any], prefix: str = "", seen: set[str] | None = None) -> dict[str, list[str]]:
    """Every op without a handler among the nodes (and the functions they call or name), with its nodes."""
    seen = set() if seen is None else seen
    found: dict[str, list[str]] = {}
    for node in order:
        function = called_function(ctx, node)
        if function is not None:
            functions = [function]
        elif node.op not in ctx.handlers:
            found.setdefault(node.op, []).append(prefix + node.name)
            continue
        else:
            functions = attribute_functions(node)
            frame = ctx.frames.get(node.name) if not prefix else None
            if frame is not None and f"frame {frame.name}" not in seen:
                seen.add(f"frame {frame.name}")
                for op, names in find_unsupported(ctx, frame_interior(ctx, frame), prefix, seen).items():
                    found.setdefault(op, []).extend(names)
        for function in functions:
            if function not in ctx.library:
                raise InvalidModelError(f"{ctx.source}: node {prefix + node.name!r} calls {function!r}, which is not in the function library")
            if function in seen:
                continue
            seen.add(function)
            inner = find_unsupported(ctx, function_order(ctx, function), f"{prefix}{node.name}/", seen)
            for op, names in inner.items():
                found.setdefault(op, []).extend(names)
    return found


def frame_interior(ctx: TFContext, frame: Frame) -> list[Any]:
    """The nodes of a TF1 loop's body and condition (top-level scope)."""
    nodes = ctx.scope.nodes
    body = ctx.subgraph_order(frame.switches + frame.merges + frame.constants, [parse_reference(r)[0] for r in frame.body_results(nodes)])
    cond = ctx.subgraph_order(frame.merges + frame.constants, [parse_reference(frame.predicate(nodes))[0]])
    names = {node.name for node in body}
    return body + [node for node in cond if node.name not in names]


def _nodes_by_name(node_list: Iterable[Any], source: str, allow_empty: bool = False) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for node in node_list:
        if not node.name:
            raise InvalidModelError(f"{source}: a {node.op or 'node'} node has no name")
        if node.name in nodes:
            raise InvalidModelError(f"{source}: two nodes are named {node.name!r}")
        name = node.name  # a reference to it starts with its name: parse only those
        if node.op not in ("NextIteration", "RefNextIteration") and any(i.startswith(name) and parse_reference(i)[0] == name for i in node.input):
            raise InvalidModelError(f"{source}: node {node.name!r} ({node.op}) reads its own output (a cycle)")
        nodes[node.name] = node
    if not nodes and not allow_empty:
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


def _needed_nodes(
    nodes: Mapping[str, Any], where: str, roots: Iterable[str], producers: Callable[[Any], list[str]], stop_at: set[str]
) -> list[Any]:
    """The nodes the roots read, directly or not, in an order where inputs come first.

    `producers(node)` names what a node reads; names in `stop_at` (requested inputs, function
    arguments) end the walk.
    """
    order: list[Any] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def reads(name: str) -> Iterable[str]:
        return () if name in stop_at else producers(nodes[name])

    for root in roots:
        if root in state:
            continue
        stack = [(root, iter(reads(root)))]
        state[root] = 1
        while stack:
            name, pending = stack[-1]
            for input_name in pending:
                if input_name in stop_at and input_name not in nodes:
                    continue  # a function argument
                if input_name not in nodes:
                    raise InvalidModelError(f"{where}: node {name!r} reads {input_name!r}, which is not in the graph")
                if state.get(input_name) == 1:
                    raise InvalidModelError(f"{where}: node {input_name!r} is part of a cycle that is no loop frame irforge recognizes")
                if input_name not in state:
                    state[input_name] = 1
                    stack.append((input_name, iter(reads(input_name))))
                    break
            else:
                stack.pop()
                state[name] = 2
                order.append(nodes[name])
    return order


def lookup(ctx: TFContext, name: str, index: int) -> Value | Opaque:
    produced = ctx.scope.values[name]
    if index >= len(produced) or produced[index] is None:
        node = ctx.scope.nodes.get(name)
        op = node.op if node is not None else "argument"
        raise NodeConversionError(ctx.source, ctx.scope.prefix + name, op, f"output {index} is not produced")
    return produced[index]  # type: ignore[return-value]


def _requested_input(ctx: TFContext, node: Any) -> None:
    """A placeholder named as an input: a graph input of its declared type and shape (a
    PlaceholderWithDefault's default is not read)."""
    ctx.node = node
    try:
        dtype = node.attr["dtype"].type
        shape = ir_shape(node.attr["shape"].shape) if "shape" in node.attr else Shape.dynamic_rank()
        ctx.scope.values[node.name] = [ctx.parameter(element_type(dtype), shape)]
    except Unsupported as error:
        raise NodeConversionError(ctx.source, node.name, node.op, str(error)) from None
    _name_outputs(ctx, ctx.scope.values[node.name])


def convert_node(ctx: TFContext, node: Any) -> None:
    ctx.node = node
    try:
        inputs = [lookup(ctx, *ctx.reference(reference)) for reference in ctx.inputs_of(node)]
        if node.op in ctx.library:
            result: Any = ctx.call_function(node.op, inputs)
        else:
            handler = ctx.handlers[node.op]
            attributes = handler_attributes(ctx, handler, node, len(inputs))
            result = handler(ctx, *inputs, **attributes)
        ctx.node = node
    except Unsupported as error:
        raise NodeConversionError(ctx.source, ctx.node_name, node.op, str(error)) from None
    except ConverterError:
        raise
    except (ValueError, TypeError, IndexError) as error:
        raise NodeConversionError(ctx.source, ctx.node_name, node.op, f"{type(error).__name__}: {error}") from error
    if result is None:
        produced: list[Value | Opaque | None] = []
    elif isinstance(result, (Value, Opaque)):
        produced = [result]
    else:
        produced = list(result)
    _name_outputs(ctx, produced)
    ctx.scope.values[node.name] = produced


def _name_outputs(ctx: TFContext, produced: list[Value | Opaque | None]) -> None:
    """Output i of node n is the tensor `n:i` (and output 0 is `n` too), as TF names them.

    Inside functions and TF1 loops only the IR nodes are named (`call/node`): their tensors are not the graph's.
    """
    name = ctx.node_name
    for index, value in enumerate(produced):
        if not isinstance(value, Value):
            continue
        if not value.producer.name:
            value.producer.name = name
        if not ctx.scope.names_tensors:
            continue
        for tensor_name in ([name] if index == 0 else []) + [f"{name}:{index}"]:
            if tensor_name not in value.names:
                value.names.append(tensor_name)


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


def handler_attributes(ctx: TFContext, handler: Handler, node: Any, num_inputs: int) -> dict[str, Any]:
    """The node's attributes the handler takes; reports the ones it does not know."""
    _, named, positional, required, variadic = handler_facts(handler)
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
    if num_inputs < required or (not variadic and num_inputs > positional):
        raise Unsupported(f"unexpected number of inputs ({num_inputs})")
    return attributes


def constant_input(value: Value, what: str) -> np.ndarray:
    """The array of an input that must be constant (an axis, a permutation...)."""
    array = value.const
    if array is None:
        raise Unsupported(f"{what} must be a constant")
    return np.asarray(array)
