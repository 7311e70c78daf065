"""MXNet symbol + params → IR graph: walk the nodes in order, call one handler per op.

Handlers live in `frontends/mxnet/ops/<family>.py`, one function per MXNet op, named like the op
and called as `handler(ctx, *inputs, **attributes)`: the positional parameters are the op's
inputs as MXNet names them (`data, weight, bias=None`), the keyword-only ones its parameters with
MXNet's defaults, typed so that the attribute text is parsed as that type (attributes.py). An
attribute the handler does not name is reported, not ignored. Op aliases (`concat` for Concat,
old spellings such as `_PlusScalar`) resolve to the same handler (ops/__init__.py ALIASES).

`null` nodes are variables: a name found in the params (`arg:NAME`, `aux:NAME` or a bare name) is a
constant, any other is a graph input, typed by its `__dtype__` and shaped by its `__shape__`
when the symbol records them; otherwise its dims are dynamic and its rank is what the first op
reading it implies (a 2-D Convolution: rank 4), see `input_rank`. Inputs no output depends on
(SoftmaxOutput's label) are dropped. Symbols of MXNet before 0.9 leave aux inputs (BatchNorm's
moving statistics) out of the JSON: a handler input missing at the end is looked up in the params
as NODE_INPUT (`bn0_moving_mean`), as MXNet's upgrade of such files does.

Output `i` of node `n` is the tensor `n_output` (one output) or `n_output{i}`, MXNet's names.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from converter.errors import ConverterError, InvalidModelError, NodeConversionError, UnsupportedOpsError
from converter.frontends.mxnet.attributes import Unsupported, parse_attribute, signature, split_tuple, type_hints
from converter.frontends.mxnet.params import TYPE_FLAGS, Params
from converter.frontends.mxnet.symbol import Symbol, SymbolNode
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType, Shape
from converter.ops.core import const, parameter

Handler = Callable[..., "Value | Sequence[Value | None] | None"]

# Ops that keep their input's rank, through which `input_rank` looks for an op that fixes it.
RANK_PRESERVING = {
    "BatchNorm", "Activation", "LeakyReLU", "Dropout", "_copy", "identity", "BlockGrad", "Cast", "clip",
    "_plus_scalar", "_minus_scalar", "_rminus_scalar", "_mul_scalar", "_div_scalar", "_rdiv_scalar",
    "relu", "sigmoid", "tanh", "exp", "log", "sqrt", "rsqrt", "square", "abs", "negative",
    "elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div", "InstanceNorm", "LayerNorm",
}  # fmt: skip
WINDOW_OPS = {"Convolution", "Deconvolution", "Pooling"}
# Ops that exist for training only; a symbol holding them is a training graph.
TRAINING_OPS = {
    "_contrib_MultiBoxTarget": "SSD's loss targets from the labels",
    "_npx_multibox_target": "SSD's loss targets from the labels",
    "MultiBoxTarget": "SSD's loss targets from the labels",
}


class MXNetContext:
    """What a handler may look at: the node being converted, its hidden attributes, the source."""

    def __init__(self, source: str, symbol: Symbol, params: Params, handlers: dict[str, Handler], aliases: dict[str, str]):
        self.source = source
        self.symbol = symbol
        self.params = params
        self.handlers = handlers
        self.aliases = aliases
        self.values: dict[int, list[Value | None]] = {}
        self.parameters: list[Node] = []
        self.node: SymbolNode | None = None

    @property
    def node_name(self) -> str:
        return self.node.name if self.node is not None else ""

    def handler(self, op: str) -> Handler | None:
        return self.handlers.get(self.aliases.get(op, op))


def convert_symbol(symbol: Symbol, params: Params, source: str, handlers: dict[str, Handler], aliases: dict[str, str], name: str = "model") -> Graph:
    ctx = MXNetContext(source, symbol, params, handlers, aliases)
    unsupported: dict[str, list[str]] = {}
    for node in symbol.nodes:
        if node.op != "null" and ctx.handler(node.op) is None:
            unsupported.setdefault(node.op, []).append(node.name)
    if unsupported:
        training = [f"{op} is a training op ({TRAINING_OPS[op]})" for op in sorted(unsupported) if op in TRAINING_OPS]
        hint = "; ".join(training) + ": convert the inference symbol" if training else ""
        raise UnsupportedOpsError(source, unsupported, hint)
    consumers = symbol.consumers()
    for node in symbol.nodes:
        ctx.node = node
        if node.op == "null":
            ctx.values[node.index] = [_variable(ctx, node, consumers)]
        else:
            ctx.values[node.index] = convert_node(ctx, node)
    ctx.node = None
    outputs = [_lookup(ctx, source_index, index, "a head") for source_index, index in symbol.heads]
    used = [p for p in ctx.parameters if p in _reachable_parameters(outputs)]
    for node in used:
        if node.outputs[0].shape.rank is None:  # OpenVINO compiles no input of unknown rank
            raise NodeConversionError(
                source, node.name, "null",
                "the input's rank is unknown: no __shape__ in the symbol and no op that fixes it reads it"
                ' (give the node "attrs": {"__shape__": "(1, 3, 224, 224)"}, as mx.sym.var(shape=...) writes; 0 for a dynamic dim)',
            )  # fmt: skip
    return Graph(used, outputs, name)


# ---------------------------------------------------------------- variables


def _variable(ctx: MXNetContext, node: SymbolNode, consumers: dict[int, list[tuple[SymbolNode, int]]]) -> Value:
    array = ctx.params.find(node.name)
    if array is not None:
        return const(array, name=node.name)
    try:
        element_type = _input_type(node)
        shape = _input_shape(node, ctx.symbol, consumers, ctx.params)
    except Unsupported as error:
        raise NodeConversionError(ctx.source, node.name, "null", str(error)) from None
    created = parameter(node.name, element_type, shape)
    ctx.parameters.append(created)
    return created.outputs[0]


def _input_type(node: SymbolNode) -> ElementType:
    text = node.hidden.get("__dtype__")
    if text is None:
        return ElementType.f32
    try:
        flag = int(text)
    except ValueError:
        raise Unsupported(f"__dtype__ {text!r} is not a type flag") from None
    if flag not in TYPE_FLAGS or flag == 12:
        raise Unsupported(f"__dtype__ {flag} is not a type irforge reads")
    return ElementType.from_numpy(TYPE_FLAGS[flag])


def _input_shape(node: SymbolNode, symbol: Symbol, consumers: dict[int, list[tuple[SymbolNode, int]]], params: Params) -> Shape:
    """`__shape__` when recorded (0 and -1 are unknown dims, as in MXNet), else dynamic dims of the
    rank the readers imply, channels (axis 1) from the first weights that tell them."""
    text = node.hidden.get("__shape__")
    if text is not None:
        try:
            dims = [int(item) for item in split_tuple(text.strip())]
        except ValueError:
            raise Unsupported(f"__shape__ {text!r} is not a shape") from None
        if dims:
            return Shape(tuple(d if d > 0 else None for d in dims))
    rank = input_rank(node.index, consumers)
    if rank is None:
        return Shape.dynamic_rank()
    dims: list[int | None] = [None] * rank
    if rank >= 2:
        dims[1] = input_channels(node.index, symbol, consumers, params)
    return Shape(tuple(dims))


def input_rank(index: int, consumers: dict[int, list[tuple[SymbolNode, int]]], depth: int = 0) -> int | None:
    """The rank the ops reading a graph input imply: a window op's kernel has one entry per spatial
    axis; other ops that keep the rank pass the question on to their own readers."""
    if depth > 64:
        return None
    for reader, position in consumers.get(index, []):
        if position != 0:
            continue
        if reader.op in WINDOW_OPS and reader.attrs.get("global_pool", "False").lower() not in ("true", "1"):
            kernel = split_tuple(reader.attrs.get("kernel", "").strip())
            if kernel:
                return len(kernel) + 2
        if reader.op == "UpSampling":
            return 4
        if reader.op in RANK_PRESERVING:
            rank = input_rank(reader.index, consumers, depth + 1)
            if rank is not None:
                return rank
    return None


def input_channels(index: int, symbol: Symbol, consumers: dict[int, list[tuple[SymbolNode, int]]], params: Params, depth: int = 0) -> int | None:
    """The channels (axis 1) of a channels-first input, from the weights of the first op that
    reads it and has them (a Convolution's filter, a BatchNorm's gamma), through ops that keep the shape."""
    if depth > 64:
        return None
    for reader, position in consumers.get(index, []):
        if position != 0:
            continue
        weight = _param_input(symbol, reader, 1, params)
        if reader.op == "Convolution" and reader.attrs.get("layout") in (None, "NCW", "NCHW", "NCDHW") and weight is not None and weight.ndim >= 3:
            return int(weight.shape[1]) * int(reader.attrs.get("num_group", "1"))
        if reader.op == "Deconvolution" and reader.attrs.get("layout") in (None, "NCW", "NCHW", "NCDHW") and weight is not None and weight.ndim >= 3:
            return int(weight.shape[0])
        if reader.op == "BatchNorm" and reader.attrs.get("axis", "1") == "1" and weight is not None and weight.ndim == 1:
            return int(weight.shape[0])
        if reader.op in RANK_PRESERVING and reader.op not in ("BatchNorm", "InstanceNorm", "LayerNorm"):
            found = input_channels(reader.index, symbol, consumers, params, depth + 1)
            if found is not None:
                return found
    return None


def _param_input(symbol: Symbol, reader: SymbolNode, position: int, params: Params) -> np.ndarray | None:
    """The params array a node reads at input `position`, when that input is a variable in the params."""
    if position >= len(reader.inputs):
        return None
    source = symbol.nodes[reader.inputs[position][0]]
    return params.find(source.name) if source.op == "null" else None


# ---------------------------------------------------------------- op nodes


def _lookup(ctx: MXNetContext, source: int, index: int, reader: str) -> Value:
    produced = ctx.values[source]
    if index >= len(produced) or produced[index] is None:
        node = ctx.symbol.nodes[source]
        raise InvalidModelError(f"{ctx.source}: {reader} reads output {index} of node {node.name!r} ({node.op}), which has {len(produced)}")
    return produced[index]  # type: ignore[return-value]


def convert_node(ctx: MXNetContext, node: SymbolNode) -> list[Value | None]:
    handler = ctx.handler(node.op)
    assert handler is not None
    inputs = [_lookup(ctx, source, index, f"node {node.name!r}") for source, index in node.inputs]
    try:
        positional, variadic = _positional(handler)
        inputs += _missing_inputs(ctx, node, positional[len(inputs) :]) if not variadic else []
        attributes = handler_attributes(handler, node)
        required = [p for p in positional if p.default is inspect.Parameter.empty]
        if len(inputs) < len(required) or (not variadic and len(inputs) > len(positional)):
            raise Unsupported(f"unexpected number of inputs ({len(inputs)})")
        result = handler(ctx, *inputs, **attributes)
    except Unsupported as error:
        raise NodeConversionError(ctx.source, node.name, node.op, str(error)) from None
    except ConverterError:
        raise
    except (ValueError, TypeError, IndexError, KeyError) as error:
        raise NodeConversionError(ctx.source, node.name, node.op, f"{type(error).__name__}: {error}") from error
    produced = [result] if isinstance(result, Value) else list(result or [])
    _name_outputs(node, produced)
    return produced


def _positional(handler: Handler) -> tuple[list[inspect.Parameter], bool]:
    parameters = list(signature(handler).parameters.values())[1:]
    positional = [p for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    return positional, any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)


def _missing_inputs(ctx: MXNetContext, node: SymbolNode, missing: list[inspect.Parameter]) -> list[Value]:
    """Inputs a pre-0.9 symbol leaves out, found in the params as NODE_INPUT (up to the first not found)."""
    found = []
    for parameter_ in missing:
        array = ctx.params.find(f"{node.name}_{parameter_.name}")
        if array is None:
            break
        found.append(const(array, name=f"{node.name}_{parameter_.name}"))
    return found


def handler_attributes(handler: Handler, node: SymbolNode) -> dict[str, Any]:
    """The node's attributes, parsed as the handler's keyword parameters declare; unknown ones are reported."""
    parameters = signature(handler).parameters
    named = {n for n, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(key for key in node.attrs if key not in named)
    if unknown:
        raise Unsupported(f"unsupported attribute(s) {', '.join(f'{k}={node.attrs[k]!r}' for k in unknown)}")
    hints = type_hints(handler)
    return {key: parse_attribute(key, text, hints[key]) for key, text in node.attrs.items()}


def _name_outputs(node: SymbolNode, produced: list[Value | None]) -> None:
    for index, value in enumerate(produced):
        if value is None:
            continue
        if not value.producer.name:
            value.producer.name = node.name
        tensor = f"{node.name}_output" if len(produced) == 1 else f"{node.name}_output{index}"
        if tensor not in value.names and value.producer.op.type not in ("Parameter", "Const"):
            value.names.append(tensor)


def _reachable_parameters(outputs: list[Value]) -> set[Node]:
    seen: set[int] = set()
    found: set[Node] = set()
    stack = [value.producer for value in outputs]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op.type == "Parameter":
            found.add(node)
        stack.extend(value.producer for value in node.inputs)
    return found


def constant(value: Value, what: str) -> np.ndarray:
    """The array of an input that must be constant."""
    if value.const is None:
        raise Unsupported(f"{what} must be a constant")
    return np.asarray(value.const)
