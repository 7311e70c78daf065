"""ONNX If and Loop → inlined branch, OpenVINO If-8 or Loop-5.

A subgraph may read tensors of the scopes around it. An If whose condition is
constant (or folds to a constant) is replaced by its chosen branch, converted
straight into the current graph. Otherwise each subgraph becomes a
self-contained body: every outer tensor it reads turns into a body Parameter
fed by a node input.
"""

from __future__ import annotations

import numpy as np
import onnx

from converter.frontends.onnx.converter import OnnxContext, Unsupported, convert_graph
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType
from converter.ops import control
from converter.ops import shape as shape_ops
from converter.ops.core import const, parameter
from converter.ops.spec import set_output_types

MAX_FOLD_DEPTH = 64


class InlineContext(OnnxContext):
    """Converts a subgraph into the current graph; outer names resolve through the outer contexts' own lookup
    (so a branch inlined inside a body captures through that body)."""

    def __init__(self, outer: OnnxContext):
        super().__init__(outer.source, outer.opset, outer.handlers, outer)

    def lookup(self, name: str) -> Value:
        if name in self.values:
            return self.values[name]
        assert self.outer is not None
        return self.outer.lookup(name)


class BodyContext(OnnxContext):
    """Converts a subgraph into a body of its own: outer tensors become captured Parameters."""

    def __init__(self, outer: OnnxContext):
        super().__init__(outer.source, outer.opset, outer.handlers, outer)
        self.captured: list[tuple[Node, Value]] = []

    def lookup(self, name: str) -> Value:
        if name in self.values:
            return self.values[name]
        assert self.outer is not None
        outer_value = self.outer.lookup(name)
        node = parameter(name, outer_value.element_type, outer_value.shape)
        self.values[name] = node.outputs[0]
        self.captured.append((node, outer_value))
        return node.outputs[0]


def constant_value(value: Value, depth: int = 0) -> np.ndarray | None:
    """The value's array when it is computed from constants only, else None."""
    if value.const is not None:
        return value.const
    node = value.producer
    if node.op.type == "ShapeOf" and node.inputs[0].shape.is_static:
        return np.array(node.inputs[0].shape.static, dtype=value.element_type.numpy)
    if node.op.type == "Parameter" or node.bodies or depth > MAX_FOLD_DEPTH:
        return None
    arrays = []
    for source in node.inputs:
        array = constant_value(source, depth + 1)
        if array is None:
            return None
        arrays.append(array)
    from converter.passes.fold_constants import evaluate

    return evaluate(node, node.inputs, arrays)[value.index]


def _subgraph_outputs(ctx: OnnxContext, graph: onnx.GraphProto, name: str) -> list[Value]:
    return convert_graph(ctx, graph, name).outputs


def _body(ctx: OnnxContext, graph: onnx.GraphProto, name: str) -> tuple[Graph, list[Value]]:
    """(self-contained body, outer values its captured parameters read)."""
    body_ctx = BodyContext(ctx)
    converted = convert_graph(body_ctx, graph, name)
    parameters = converted.parameters + [node for node, _ in body_ctx.captured]
    return Graph(parameters, converted.outputs, name), [outer for _, outer in body_ctx.captured]


def _index_of(values: list[Value], value: Value) -> int:
    for index, existing in enumerate(values):
        if existing is value:
            return index
    values.append(value)
    return len(values) - 1


def If(ctx: OnnxContext, cond: Value, *, then_branch: onnx.GraphProto, else_branch: onnx.GraphProto) -> list[Value]:
    if cond.element_type is not ElementType.boolean:
        raise Unsupported(f"cond must be boolean, got {cond.element_type.value}")
    if len(then_branch.output) != len(else_branch.output):
        raise Unsupported("then_branch and else_branch have different numbers of outputs")
    folded = constant_value(cond)
    if folded is not None:
        if folded.size != 1:
            raise Unsupported(f"cond must have one element, got shape {list(folded.shape)}")
        branch = then_branch if bool(folded.reshape(-1)[0]) else else_branch
        return _subgraph_outputs(InlineContext(ctx), branch, branch.name)
    then_body, then_reads = _body(ctx, then_branch, "then_body")
    else_body, else_reads = _body(ctx, else_branch, "else_body")
    inputs: list[Value] = []
    then_inputs = [_index_of(inputs, v) for v in then_reads]
    else_inputs = [_index_of(inputs, v) for v in else_reads]
    node = control.if_node(cond, inputs, then_body, then_inputs, else_body, else_inputs)
    return node.outputs


# ---------------------------------------------------------------- Loop


def Loop(ctx: OnnxContext, trip_count: Value | None, cond: Value | None, *initial: Value, body: onnx.GraphProto) -> list[Value]:
    """Loop(M, cond, v...) with body (iter_num, cond_in, v_in...) → (cond_out, v_out..., scan...)."""
    carried = len(initial)
    if len(body.input) != 2 + carried:
        raise Unsupported(f"the body has {len(body.input)} inputs, expected {2 + carried}")
    if any(v is None for v in initial):
        raise Unsupported("absent loop-carried initial values are not supported")
    scans = len(body.output) - 1 - carried
    if scans < 0:
        raise Unsupported(f"the body has {len(body.output)} outputs, expected at least {1 + carried}")
    trip_count = trip_count if trip_count is not None else const(np.array(-1, dtype=np.int64))
    condition = cond if cond is not None else const(np.array(True))
    if not trip_count.element_type.is_integer:
        raise Unsupported(f"M must be an integer, got {trip_count.element_type.value}")

    body_ctx = BodyContext(ctx)
    typed_body = _with_input_types(body, [trip_count, condition, *initial])
    converted = convert_graph(body_ctx, typed_body, "body")
    iteration, cond_in, *carried_in = converted.parameters
    outputs = list(converted.outputs)
    _relax_carried_types(converted, [node.outputs[0] for node in carried_in], outputs[1 : 1 + carried])
    for index in range(1 + carried, len(outputs)):
        scanned = outputs[index]
        outputs[index] = shape_ops.Unsqueeze(scanned, const(np.array([0], dtype=np.int64)), name=f"{scanned.name}/stacked")
    captured = [node for node, _ in body_ctx.captured]
    loop_body = Graph([iteration, cond_in, *carried_in, *captured], outputs, "body")

    inputs = [condition, *initial, *(outer for _, outer in body_ctx.captured)]
    body_inputs = [-1] + list(range(len(inputs)))
    back_edges = [-1, 0] + [1 + k for k in range(carried)] + [-1] * len(captured)
    loop_outputs = [(1 + k, control.CONCAT_NONE, 0, -1, 1, 1) for k in range(carried)]
    loop_outputs += [(1 + carried + k, 0, 0, -1, 1, 1) for k in range(scans)]
    node = control.loop_node(
        trip_count, condition, inputs, loop_body, body_inputs, back_edges,
        current_iteration=0, condition_output=0, outputs=loop_outputs,
    )
    return node.outputs


def _with_input_types(body: onnx.GraphProto, sources: list[Value]) -> onnx.GraphProto:
    """A copy of `body` whose inputs are typed like the values that first feed them."""
    from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE

    typed = onnx.GraphProto()
    typed.CopyFrom(body)
    iteration_type = onnx.helper.make_tensor_type_proto(onnx.TensorProto.INT64, [])
    typed.input[0].type.CopyFrom(iteration_type)
    for value_info, source in zip(typed.input[1:], sources[1:]):
        dims = source.shape.dims
        element = ONNX_ELEMENT_TYPE[source.element_type]
        value_info.type.CopyFrom(onnx.helper.make_tensor_type_proto(element, None if dims is None else list(dims)))
    return typed


def _relax_carried_types(body: Graph, carried_in: list[Value], carried_out: list[Value]) -> None:
    """Make loop-carried parameters dynamic where an iteration changes their shape, then re-infer."""
    for _ in range(4):
        changed = False
        for parameter_value, result in zip(carried_in, carried_out):
            merged = control.merge_types(parameter_value.type, result.type)
            if result.element_type is not parameter_value.element_type:
                raise Unsupported(f"loop-carried {parameter_value.name!r} changes element type")
            if merged != parameter_value.type:
                parameter_value.producer.attrs["shape"] = merged.shape
                changed = True
        if not changed:
            return
        for node in body.nodes():
            set_output_types(node)
    raise Unsupported("loop-carried shapes do not settle")


HANDLERS = {"If": If, "Loop": Loop}
