"""ONNX If, Loop and Scan → inlined branch, OpenVINO If-8 or Loop-5.

A subgraph may read tensors of the scopes around it. An If whose condition is
constant (or folds to a constant) is replaced by its chosen branch, converted
straight into the current graph. Otherwise each subgraph becomes a
self-contained body: every outer tensor it reads turns into a body Parameter
fed by a node input.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.onnx import proto
from converter.frontends.onnx.converter import OnnxContext, Unsupported, convert_graph
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType, Shape
from converter.ops import control
from converter.ops import elementwise as ew
from converter.ops import indexing
from converter.ops import shape as shape_ops
from converter.ops.core import ShapeOf, const, parameter
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


def _subgraph_outputs(ctx: OnnxContext, graph: proto.GraphProto, name: str) -> list[Value]:
    return convert_graph(ctx, graph, name).outputs


def _body(ctx: OnnxContext, graph: proto.GraphProto, name: str) -> tuple[Graph, list[Value]]:
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


def If(ctx: OnnxContext, cond: Value, *, then_branch: proto.GraphProto, else_branch: proto.GraphProto) -> list[Value]:
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


def Loop(ctx: OnnxContext, trip_count: Value | None, cond: Value | None, *initial: Value, body: proto.GraphProto) -> list[Value]:
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
    iteration_type = parameter("iteration", ElementType.i64, Shape.of()).outputs[0]
    typed_body = _with_types(body, [iteration_type, condition, *initial])
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


# ---------------------------------------------------------------- Scan


def _i64(value: int | list[int]) -> Value:
    return const(np.array(value, dtype=np.int64))


def _normalized_axes(axes: list[int] | None, count: int, ranks: list[int | None], what: str) -> list[int]:
    axes = list(axes) if axes is not None else [0] * count
    if len(axes) != count:
        raise Unsupported(f"{what} has {len(axes)} entries, expected {count}")
    result = []
    for axis, rank in zip(axes, ranks):
        if axis < 0:
            if rank is None:
                raise Unsupported(f"a negative axis in {what} needs a known rank")
            axis += rank
        result.append(axis)
    return result


def _directions(directions: list[int] | None, count: int, what: str) -> list[int]:
    directions = list(directions) if directions is not None else [0] * count
    if len(directions) != count or any(d not in (0, 1) for d in directions):
        raise Unsupported(f"{what} must list 0 or 1 for each of {count} tensors, got {directions}")
    return directions


def Scan(
    ctx: OnnxContext,
    *inputs: Value,
    body: proto.GraphProto,
    num_scan_inputs: int,
    scan_input_axes: list[int] | None = None,
    scan_input_directions: list[int] | None = None,
    scan_output_axes: list[int] | None = None,
    scan_output_directions: list[int] | None = None,
    directions: list[int] | None = None,
) -> list[Value]:
    """Scan as Loop-5 over the scanned axis; Scan-8 adds an outer Loop over the batch."""
    if ctx.opset < 9:
        return _batched_scan(ctx, list(inputs), body, num_scan_inputs, directions)
    states = len(inputs) - num_scan_inputs
    scanned = list(inputs[states:])
    if states < 0 or not scanned or any(v is None for v in inputs):
        raise Unsupported("Scan needs at least one scan input and no absent inputs")
    outputs_count = len(body.output) - states
    in_axes = _normalized_axes(scan_input_axes, len(scanned), [v.shape.rank for v in scanned], "scan_input_axes")
    in_directions = _directions(scan_input_directions, len(scanned), "scan_input_directions")
    out_directions = _directions(scan_output_directions, outputs_count, "scan_output_directions")
    return _scan_as_loop(ctx, list(inputs[:states]), scanned, body, in_axes, in_directions, scan_output_axes, out_directions)


def _scan_as_loop(
    ctx: OnnxContext,
    initial: list[Value],
    scanned: list[Value],
    body: proto.GraphProto,
    in_axes: list[int],
    in_directions: list[int],
    scan_output_axes: list[int] | None,
    out_directions: list[int],
    name: str = "",
) -> list[Value]:
    """A Loop-5 whose body gathers slice i (or T-1-i) of each scan input; outputs final states, then scans."""
    states = len(initial)
    outputs_count = len(body.output) - states
    steps = _dim_scalar(scanned[0], in_axes[0])
    body_ctx = BodyContext(ctx)
    sliced_types = [_without_axis(v, axis) for v, axis in zip(scanned, in_axes)]
    converted = convert_graph(body_ctx, _with_types(body, [*initial, *sliced_types]), "body")
    state_params = converted.parameters[:states]
    slice_params = converted.parameters[states:]

    iteration = parameter("scan/iteration", ElementType.i64, Shape.of())
    full_params = [parameter(f"scan/input_{k}", v.element_type, v.shape) for k, v in enumerate(scanned)]
    steps_param = parameter("scan/steps", ElementType.i64, Shape.of())
    last = ew.Subtract(ew.Subtract(steps_param.outputs[0], _i64(1)), iteration.outputs[0])
    body_graph = Graph(converted.parameters, converted.outputs, "body")
    for old, full, axis, reverse in zip(slice_params, full_params, in_axes, in_directions):
        index = last if reverse else iteration.outputs[0]
        body_graph.replace_all_uses(old.outputs[0], indexing.Gather(full.outputs[0], index, _i64(axis)))

    results = list(body_graph.outputs)
    _relax_carried_types(body_graph, [p.outputs[0] for p in state_params], results[:states])
    out_ranks = [None if v.shape.rank is None else v.shape.rank + 1 for v in results[states:]]
    out_axes = _normalized_axes(scan_output_axes, outputs_count, out_ranks, "scan_output_axes")
    for k, axis in enumerate(out_axes):
        element = results[states + k]
        results[states + k] = shape_ops.Unsqueeze(element, _i64([axis]), name=f"{element.name}/stacked")
    results.append(const(np.array(True), name="scan/continue"))  # OpenVINO wants a condition result even if constant
    captured = [node for node, _ in body_ctx.captured]
    parameters = [iteration, *state_params, *full_params, steps_param, *captured]
    loop_body = Graph(parameters, results, "body")

    loop_inputs = [*initial, *scanned, steps, *(outer for _, outer in body_ctx.captured)]
    body_inputs = [-1] + list(range(len(loop_inputs)))
    back_edges = [-1] + list(range(states)) + [-1] * (len(parameters) - 1 - states)
    loop_outputs = [(k, control.CONCAT_NONE, 0, -1, 1, 1) for k in range(states)]
    loop_outputs += [(states + k, axis, 0, -1, 1, 1) for k, axis in enumerate(out_axes)]
    node = control.loop_node(
        steps, const(np.array(True)), loop_inputs, loop_body, body_inputs, back_edges,
        current_iteration=0, condition_output=len(results) - 1, outputs=loop_outputs, name=name,
    )
    final = list(node.outputs)
    for k, (axis, reverse) in enumerate(zip(out_axes, out_directions)):
        if reverse:
            final[states + k] = _reversed(final[states + k], axis)
    return final


def _batched_scan(
    ctx: OnnxContext, inputs: list[Value | None], body: proto.GraphProto, num_scan_inputs: int, directions: list[int] | None
) -> list[Value]:
    """Scan-8: inputs (sequence_lens, states [batch, ...], scan inputs [batch, seq, ...]); the body sees one batch entry."""
    if not inputs:
        raise Unsupported("Scan-8 needs inputs")
    lengths, rest = inputs[0], inputs[1:]
    states = len(rest) - num_scan_inputs
    if states < 0 or num_scan_inputs < 1 or any(v is None for v in rest):
        raise Unsupported("Scan needs at least one scan input and no absent inputs")
    values: list[Value] = [v for v in rest if v is not None]
    seq_dim = values[states].shape[1] if values[states].shape.rank is not None else None
    if lengths is not None and not _all_equal(lengths, seq_dim):
        raise Unsupported("Scan-8 with sequence_lens shorter than the sequence is not supported")
    in_directions = _directions(directions, num_scan_inputs, "directions")
    outputs_count = len(body.output) - states

    outer_ctx = BodyContext(ctx)
    iteration = parameter("batch/iteration", ElementType.i64, Shape.of())
    full_params = [parameter(f"batch/input_{k}", v.element_type, v.shape) for k, v in enumerate(values)]
    entries = [indexing.Gather(p.outputs[0], iteration.outputs[0], _i64(0)) for p in full_params]
    inner = _scan_as_loop(
        outer_ctx, entries[:states], entries[states:], body, [0] * num_scan_inputs, in_directions, None,
        [0] * outputs_count, name="scan",
    )
    results = [shape_ops.Unsqueeze(v, _i64([0]), name=f"batch/stacked_{k}") for k, v in enumerate(inner)]
    results.append(const(np.array(True), name="batch/continue"))
    captured = [node for node, _ in outer_ctx.captured]
    parameters = [iteration, *full_params, *captured]
    loop_inputs = [*values, *(outer for _, outer in outer_ctx.captured)]
    node = control.loop_node(
        _dim_scalar(values[0], 0), const(np.array(True)), loop_inputs, Graph(parameters, results, "body"),
        [-1] + list(range(len(loop_inputs))), [-1] * len(parameters),
        current_iteration=0, condition_output=len(results) - 1,
        outputs=[(k, 0, 0, -1, 1, 1) for k in range(len(inner))],
    )
    return node.outputs


def _all_equal(lengths: Value, seq_dim: int | None) -> bool:
    array = constant_value(lengths)
    return array is not None and seq_dim is not None and bool(np.all(array == seq_dim))


def _dim_scalar(value: Value, axis: int) -> Value:
    if value.shape.rank is not None and value.shape[axis] is not None:
        return _i64(int(value.shape[axis]))
    return indexing.Gather(ShapeOf(value), _i64(axis), _i64(0))


def _without_axis(value: Value, axis: int) -> Value:
    """A stand-in typed like one slice of `value` along `axis` (only its type is used)."""
    dims = value.shape.dims
    shape = Shape(None if dims is None else tuple(d for i, d in enumerate(dims) if i != axis))
    return parameter("slice", value.element_type, shape).outputs[0]


def _with_types(body: proto.GraphProto, sources: list[Value]) -> proto.GraphProto:
    """A copy of `body` whose inputs are typed like `sources` (the values that feed them first)."""
    from converter.frontends.onnx.tensors import ONNX_ELEMENT_TYPES

    typed = proto.GraphProto()
    typed.CopyFrom(body)
    if len(typed.input) != len(sources):
        raise Unsupported(f"the body has {len(typed.input)} inputs, expected {len(sources)}")
    for value_info, source in zip(typed.input, sources):
        dims = source.shape.dims
        element = ONNX_ELEMENT_TYPES[source.element_type]
        value_info.type.CopyFrom(proto.tensor_type(element, None if dims is None else list(dims)))
    return typed


def _reversed(value: Value, axis: int) -> Value:
    """value with `axis` read back to front."""
    lowest = np.iinfo(np.int64).min
    return indexing.Slice(value, _i64([-1]), _i64([lowest]), _i64([-1]), _i64([axis]))


HANDLERS = {"If": If, "Loop": Loop, "Scan": Scan}
