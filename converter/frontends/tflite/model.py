"""TFLite subgraph → IR graph: walk the operators in order, call one handler per operator.

Handlers live in `frontends/tflite/ops/<family>.py`, one function per builtin op, named like the
op (`CONV_2D`), called as `handler(ctx, *inputs, **options)`: an optional input left out (-1) is
None, the builtin options table's fields are keyword arguments with the schema's defaults in the
signature. An option the handler does not name is reported unless it holds its default. Custom
ops are keyed by their custom code; their handlers read `ctx.custom_options`.

Tensor values: constants are read from their buffers (tensors.py), subgraph inputs are
Parameters named by tensor name (dynamic where shape_signature says -1), everything else is an
operator's output. A quantized output is put on its grid with a FakeQuantize unless the op only
moves or selects values of an input on the same grid (each family's GRID_PRESERVING). The
graph's outputs carry their tensor names, and the signature's names when the model has one.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from converter.errors import ConverterError, InvalidModelError, NodeConversionError, UnsupportedOpsError
from converter.frontends.tflite.schema import (
    BUILTIN_OPTIONS,
    FlatbufferError,
    Model,
    Operator,
    OperatorCode,
    SubGraph,
    Tensor,
    decode_options,
    option_defaults,
    options_name,
)
from converter.frontends.tflite.tensors import (
    Unsupported,
    constant,
    dequantized_input,
    element_type,
    fake_quantized,
    has_data,
    ir_shape,
    is_quantized_activation,
    quantized_output,
    same_grid,
)
from converter.ir.graph import Graph, Node, Value
from converter.ops.core import const, parameter

Handler = Callable[..., "Value | Sequence[Value | None] | None"]


class TFLiteContext:
    """What a handler may look at: the model, the operator being converted and its tensors."""

    def __init__(
        self,
        source: str,
        model: Model,
        subgraph: SubGraph,
        handlers: dict[str, Handler],
        grid_preserving: frozenset[str],
        calls: tuple[int, ...] = (0,),
    ):
        self.source = source
        self.model = model
        self.subgraph = subgraph
        self.handlers = handlers
        self.grid_preserving = grid_preserving
        self.calls = calls  # the subgraphs being converted, outermost first (this one last)
        self.values: dict[int, Value] = {}
        self.parameters: list[Node] = []
        self.names: set[str] = set()
        self.operator: Operator | None = None
        self.code: OperatorCode | None = None
        self.options: dict[str, Any] = {}  # the operator's builtin options, decoded

    @property
    def op_name(self) -> str:
        return self.code.name if self.code is not None else ""

    @property
    def node_name(self) -> str:
        """An operator is known by its first output's tensor name."""
        outputs = self.output_tensors
        return outputs[0].name if outputs else f"operator {self.operator.index if self.operator else '?'}"

    @property
    def input_tensors(self) -> list[Tensor | None]:
        assert self.operator is not None
        return [self.subgraph.tensors[i] if i >= 0 else None for i in self.operator.inputs]

    @property
    def output_tensors(self) -> list[Tensor]:
        if self.operator is None:
            return []
        return [self.subgraph.tensors[i] for i in self.operator.outputs]

    @property
    def custom_options(self) -> bytes:
        """A custom op's options, as stored."""
        assert self.operator is not None
        return self.model.custom_options(self.operator)

    def custom_options_map(self) -> dict[str, Any]:
        """A custom op's options as the flexbuffer map most custom ops store ({} when empty)."""
        data = self.custom_options
        if not data:
            return {}
        from flatbuffers import flexbuffers

        try:
            decoded = flexbuffers.Loads(data)
        except Exception as error:  # flexbuffers raises assorted errors on malformed bytes
            raise Unsupported(f"custom options are not a flexbuffer map ({type(error).__name__}: {error})") from None
        if not isinstance(decoded, dict):
            raise Unsupported(f"custom options are a flexbuffer {type(decoded).__name__}, not a map")
        return decoded

    def value(self, index: int) -> Value:
        """The IR value of tensor `index`: produced already, or a constant read now."""
        if index in self.values:
            return self.values[index]
        if not 0 <= index < len(self.subgraph.tensors):
            raise InvalidModelError(f"{self.source}: operator {self.node_name!r} reads tensor {index}, which does not exist")
        tensor = self.subgraph.tensors[index]
        if has_data(self.model, tensor):
            value = constant(self.model, tensor)
        elif tensor.is_variable or _is_empty(tensor):
            value = const(np.zeros(tensor.shape, dtype=element_type(tensor).numpy), name=tensor.name)  # as the interpreter starts them
        else:
            raise InvalidModelError(f"{self.source}: tensor {tensor.name!r} is read before any operator writes it")
        self.values[index] = value
        return value

    def unique_name(self, name: str, index: int) -> str:
        if name in self.names:
            name = f"{name}:{index}"
        self.names.add(name)
        return name


def _is_empty(tensor: Tensor) -> bool:
    return any(d == 0 for d in tensor.shape)


# ---------------------------------------------------------------- the walk


def convert_model(
    model: Model,
    source: str,
    handlers: dict[str, Handler],
    grid_preserving: frozenset[str] = frozenset(),
    subgraph_index: int = 0,
    name: str = "model",
) -> Graph:
    if not 0 <= subgraph_index < len(model.subgraphs):
        raise InvalidModelError(f"{source}: no subgraph {subgraph_index}")
    subgraph = model.subgraphs[subgraph_index]
    ctx = TFLiteContext(source, model, subgraph, handlers, grid_preserving, (subgraph_index,))
    unsupported = find_unsupported(ctx)
    if unsupported:
        raise UnsupportedOpsError(source, unsupported)
    signature = _signature_names(model, subgraph_index)
    for index in subgraph.inputs:
        _graph_input(ctx, index, signature)
    for operator in subgraph.operators:
        convert_operator(ctx, operator)
    ctx.operator = ctx.code = None
    outputs = [_graph_output(ctx, index, signature) for index in subgraph.outputs]
    return Graph(ctx.parameters, outputs, name)


def operator_code(ctx: TFLiteContext, operator: Operator) -> OperatorCode:
    codes = ctx.model.operator_codes
    if operator.opcode_index >= len(codes):
        raise InvalidModelError(f"{ctx.source}: operator {operator.index} has opcode index {operator.opcode_index} of {len(codes)}")
    return codes[operator.opcode_index]


def find_unsupported(ctx: TFLiteContext) -> dict[str, list[str]]:
    """Every op without a handler, builtin or custom, with its operators' output tensor names, in
    the subgraph and in the subgraphs its WHILE and IF operators run."""
    found: dict[str, list[str]] = {}
    pending, seen = [ctx.calls[-1]], {ctx.calls[-1]}
    while pending:
        index = pending.pop()
        scan = TFLiteContext(ctx.source, ctx.model, ctx.model.subgraphs[index], ctx.handlers, ctx.grid_preserving)
        count = len(scan.subgraph.tensors)
        for operator in scan.subgraph.operators:
            if any(not -1 <= i < count for i in operator.inputs) or any(not 0 <= i < count for i in operator.outputs):
                raise InvalidModelError(f"{ctx.source}: operator {operator.index} names a tensor the subgraph does not have")
            code = operator_code(scan, operator)
            if code.name not in ctx.handlers:
                scan.operator = operator
                found.setdefault(code.name, []).append(scan.node_name)
            for called in called_subgraphs(scan, operator):
                if called not in seen:
                    seen.add(called)
                    pending.append(called)
    return found


SUBGRAPH_OPTIONS = ("cond_subgraph_index", "body_subgraph_index", "then_subgraph_index", "else_subgraph_index")


def called_subgraphs(ctx: TFLiteContext, operator: Operator) -> list[int]:
    """The subgraphs a WHILE or IF operator runs (checked to exist)."""
    code = operator_code(ctx, operator)
    if code.is_custom or code.name not in ("WHILE", "IF") or operator.options_type not in BUILTIN_OPTIONS:
        return []
    options = decode_options(operator.options_type, operator.options)
    indices = [int(options[key]) for key in SUBGRAPH_OPTIONS if key in options]
    for index in indices:
        if not 0 < index < len(ctx.model.subgraphs):
            raise InvalidModelError(f"{ctx.source}: operator {operator.index} ({code.name}) runs subgraph {index}, which does not exist")
    return indices


def call_subgraph(ctx: TFLiteContext, index: int, inputs: Sequence[Value]) -> list[Value]:
    """Subgraph `index` converted on `inputs` (the values its input tensors take, real values for
    quantized ones): its outputs, as real values. The values belong to whatever graph the inputs
    belong to: the current one (a branch inlined) or a body's Parameters."""
    if index in ctx.calls:
        raise Unsupported(f"subgraph {index} runs itself (through subgraphs {list(ctx.calls)})")
    if not 0 <= index < len(ctx.model.subgraphs):
        raise InvalidModelError(f"{ctx.source}: no subgraph {index}")
    subgraph = ctx.model.subgraphs[index]
    if len(subgraph.inputs) != len(inputs):
        raise Unsupported(f"subgraph {index} takes {len(subgraph.inputs)} inputs, given {len(inputs)}")
    callee = TFLiteContext(ctx.source, ctx.model, subgraph, ctx.handlers, ctx.grid_preserving, (*ctx.calls, index))
    for tensor_index, value in zip(subgraph.inputs, inputs):
        if not 0 <= tensor_index < len(subgraph.tensors):
            raise InvalidModelError(f"{ctx.source}: subgraph {index}'s input {tensor_index} is not a tensor")
        callee.values[tensor_index] = value
    try:
        for operator in subgraph.operators:
            convert_operator(callee, operator)
        callee.operator = callee.code = None
        return [callee.value(i) for i in subgraph.outputs]
    except NodeConversionError as error:
        raise Unsupported(f"in subgraph {index}, operator {error.node_name!r} ({error.op_type}): {error.reason}") from None


def _signature_names(model: Model, subgraph_index: int) -> dict[int, str]:
    """Tensor index → its name in the subgraph's signature (the first signature naming it)."""
    names: dict[int, str] = {}
    for signature in model.signature_defs:
        if signature.subgraph_index == subgraph_index:
            for entry in (*signature.inputs, *signature.outputs):
                names.setdefault(entry.tensor_index, entry.name)
    return names


def _graph_input(ctx: TFLiteContext, index: int, signature: dict[int, str]) -> None:
    if not 0 <= index < len(ctx.subgraph.tensors):
        raise InvalidModelError(f"{ctx.source}: the subgraph's input {index} is not a tensor")
    tensor = ctx.subgraph.tensors[index]
    try:
        node = parameter(ctx.unique_name(tensor.name, index), element_type(tensor), ir_shape(tensor))
    except Unsupported as error:
        raise NodeConversionError(ctx.source, tensor.name, "input", str(error)) from None
    _add_signature_name(ctx, node.outputs[0], index, signature)
    ctx.parameters.append(node)
    value = node.outputs[0]
    try:
        ctx.values[index] = dequantized_input(value, tensor) if is_quantized_activation(tensor) else value
    except (Unsupported, ValueError) as error:
        raise NodeConversionError(ctx.source, tensor.name, "input", str(error)) from None


def _graph_output(ctx: TFLiteContext, index: int, signature: dict[int, str]) -> Value:
    if not 0 <= index < len(ctx.subgraph.tensors):
        raise InvalidModelError(f"{ctx.source}: the subgraph's output {index} is not a tensor")
    tensor = ctx.subgraph.tensors[index]
    try:
        value = ctx.value(index)
        if is_quantized_activation(tensor) and value.element_type.is_float:
            value = quantized_output(value, tensor)
    except (Unsupported, ValueError) as error:
        raise NodeConversionError(ctx.source, tensor.name, "output", str(error)) from None
    if value is not ctx.values[index]:
        value.producer.name = tensor.name
        for old in list(ctx.values[index].names):  # the output's names move to the integer value
            ctx.values[index].names.remove(old)
            value.names.append(old)
    if not value.names:
        value.names.append(ctx.unique_name(tensor.name, index))
    _add_signature_name(ctx, value, index, signature)
    return value


def _add_signature_name(ctx: TFLiteContext, value: Value, index: int, signature: dict[int, str]) -> None:
    alias = signature.get(index)
    if alias and alias not in value.names and alias not in ctx.names:
        ctx.names.add(alias)
        value.names.append(alias)


def convert_operator(ctx: TFLiteContext, operator: Operator) -> None:
    ctx.operator = operator
    ctx.code = code = operator_code(ctx, operator)
    handler = ctx.handlers[code.name]
    try:
        if operator.options_type and operator.options_type not in BUILTIN_OPTIONS and not code.is_custom:
            raise Unsupported(f"its options ({options_name(operator.options_type)}) are not read by irforge")
        inputs = [ctx.value(i) if i >= 0 else None for i in operator.inputs]
        ctx.options = decode_options(operator.options_type, operator.options) if not code.is_custom else {}
        options = handler_options(handler, operator, ctx.options)
        check_inputs(handler, inputs)
        result = handler(ctx, *inputs, **options)
        produced = _as_list(result)
        if len(produced) != len(operator.outputs):
            raise Unsupported(f"{len(produced)} results for {len(operator.outputs)} outputs")
        produced = [_on_grid(ctx, value, tensor) for value, tensor in zip(produced, ctx.output_tensors)]
    except Unsupported as error:
        raise NodeConversionError(ctx.source, ctx.node_name, code.name, str(error)) from None
    except FlatbufferError as error:
        raise InvalidModelError(f"{ctx.source}: operator {ctx.node_name!r} ({code.name}): {error}") from None
    except ConverterError:
        raise
    except (ValueError, TypeError, IndexError, KeyError, ArithmeticError) as error:  # ArithmeticError: a stride or dilation of 0
        raise NodeConversionError(ctx.source, ctx.node_name, code.name, f"{type(error).__name__}: {error}") from error
    for index, value, tensor in zip(operator.outputs, produced, ctx.output_tensors):
        if value is None:
            continue
        if not value.producer.name:
            value.producer.name = tensor.name
        if not value.names and value.producer.op.type not in ("Parameter", "Const"):
            value.names.append(ctx.unique_name(tensor.name, index))
        ctx.values[index] = value


def _as_list(result: Any) -> list[Value | None]:
    if result is None:
        return []
    if isinstance(result, Value):
        return [result]
    return list(result)


def _on_grid(ctx: TFLiteContext, value: Value | None, tensor: Tensor) -> Value | None:
    """The op's real-valued result, rounded and clamped onto the output tensor's quantization grid."""
    if value is None or not is_quantized_activation(tensor) or not value.element_type.is_float:
        return value
    activation = ctx.options.get("fused_activation_function", "NONE")
    if ctx.op_name in ctx.grid_preserving and activation in ("NONE", "RELU") and _reads_same_grid(ctx, tensor):
        return value
    return fake_quantized(value, tensor)


def _reads_same_grid(ctx: TFLiteContext, output: Tensor) -> bool:
    """Every real-valued input (float or quantized) is quantized exactly like the output."""
    data = [t for t in ctx.input_tensors if t is not None and (t.type_name.startswith("FLOAT") or is_quantized_activation(t))]
    return bool(data) and all(same_grid(t, output) for t in data)


# ---------------------------------------------------------------- options


@dataclass(frozen=True)
class _Parameters:
    """What a handler's signature takes: read once per handler, not per operator."""

    options: frozenset[str]  # keyword-only: the options table's fields
    positional: int
    required: int
    optional: frozenset[int]  # positions with a default: inputs that may be left out
    variadic: bool


@functools.cache
def _parameters(handler: Handler) -> _Parameters:
    parameters = list(inspect.signature(handler).parameters.values())[1:]
    positional = [p for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    return _Parameters(
        options=frozenset(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY),
        positional=len(positional),
        required=sum(p.default is inspect.Parameter.empty for p in positional),
        optional=frozenset(i for i, p in enumerate(positional) if p.default is not inspect.Parameter.empty),
        variadic=any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters),
    )


def handler_options(handler: Handler, operator: Operator, decoded: dict[str, Any]) -> dict[str, Any]:
    """The operator's builtin options the handler takes; an option it does not name is reported
    unless it holds the schema's default."""
    if not decoded:
        return {}
    defaults = option_defaults(operator.options_type)
    named = _parameters(handler).options
    unknown = sorted(key for key, value in decoded.items() if key not in named and value != defaults[key])
    if unknown:
        raise Unsupported(f"unsupported option(s) {', '.join(f'{k}={decoded[k]!r}' for k in unknown)}")
    return {key: value for key, value in decoded.items() if key in named}


def check_inputs(handler: Handler, inputs: list[Value | None]) -> None:
    """As many inputs as the handler takes, none left out (-1) that it needs."""
    taken = _parameters(handler)
    if len(inputs) < taken.required or (not taken.variadic and len(inputs) > taken.positional):
        raise Unsupported(f"unexpected number of inputs ({len(inputs)})")
    missing = [i for i, value in enumerate(inputs) if value is None and i not in taken.optional]
    if missing:
        raise Unsupported(f"input {missing[0]} is left out, and the op needs it")
