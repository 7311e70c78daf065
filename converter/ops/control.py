"""Control flow: If-8 and Loop-5, ops whose node carries nested bodies.

Their nodes are not built by calling the spec (bodies come first): use `if_node`
and `loop_node`. How body parameters and results connect to the node's ports
lives in node attributes that are not IR `<data>` attributes (the port maps of
the XML, see `converter.serialize.bodies`):

If: inputs [cond, *values]; bodies `then_body`, `else_body`;
    `then_inputs` / `else_inputs`: for each body parameter, the index of the node
    input it reads (never 0, the condition); node output k is result k of each body.

Loop: inputs [trip_count, execution_condition, *values]; body `body`;
    `body_inputs`: for each body parameter, the index of the node input it starts
    from (>= 2), or -1 for the current-iteration counter;
    `back_edges`: for each body parameter, the body result that feeds it on the
    next iteration, or -1 (invariant input);
    `current_iteration`: the body parameter receiving the iteration number, or -1;
    `condition_output`: the body result that decides whether to go on, or -1;
    `outputs`: for each node output, (body result, axis, start, end, stride,
    part_size); axis `CONCAT_NONE` means the last iteration's value, any other
    axis concatenates the per-iteration values along it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from converter.ir.graph import Graph, Node, Value
from converter.ir.types import Shape, TensorType
from converter.ops.spec import OpSpec, const_ints, set_output_types, tensor

CONCAT_NONE = None
"""`outputs` axis entry of a Loop output that is the last iteration's value."""


def merge_types(a: TensorType, b: TensorType) -> TensorType:
    """The type both `a` and `b` fit: differing dims become dynamic."""
    if a.shape.dims is None or b.shape.dims is None or len(a.shape.dims) != len(b.shape.dims):
        return TensorType(a.element_type, Shape.dynamic_rank())
    dims = tuple(x if x == y else None for x, y in zip(a.shape.dims, b.shape.dims))
    return TensorType(a.element_type, Shape(dims))


def _infer_if(node: Node) -> list[TensorType]:
    then_outputs = node.bodies["then_body"].outputs
    else_outputs = node.bodies["else_body"].outputs
    if len(then_outputs) != len(else_outputs):
        raise ValueError(f"If: then_body has {len(then_outputs)} outputs, else_body {len(else_outputs)}")
    cond = node.inputs[0].const
    if cond is not None and cond.size == 1:  # only the taken body ever runs
        return [v.type for v in (then_outputs if bool(cond.reshape(-1)[0]) else else_outputs)]
    return [merge_types(t.type, e.type) for t, e in zip(then_outputs, else_outputs)]


If = OpSpec("If", "opset8", (), _infer_if, doc="build with if_node()")


def if_node(cond: Value, inputs: Sequence[Value], then_body: Graph, then_inputs: Sequence[int],
            else_body: Graph, else_inputs: Sequence[int], name: str = "") -> Node:
    """An If node; `*_inputs[i]` is the index in `inputs` that body parameter i reads."""
    for body, mapping in ((then_body, then_inputs), (else_body, else_inputs)):
        _check_inputs(body, mapping, len(inputs))
    attrs: dict[str, Any] = {
        "then_inputs": tuple(int(i) + 1 for i in then_inputs),
        "else_inputs": tuple(int(i) + 1 for i in else_inputs),
    }
    node = Node(If, [cond, *inputs], attrs, name, bodies={"then_body": then_body, "else_body": else_body})
    set_output_types(node)
    return node


def _check_inputs(body: Graph, mapping: Sequence[int], count: int) -> None:
    if len(mapping) != len(body.parameters):
        raise ValueError(f"{len(body.parameters)} body parameters, {len(mapping)} input mappings")
    if any(not (0 <= int(i) < count) for i in mapping if int(i) != -1):
        raise ValueError(f"input mapping {list(mapping)} is out of range for {count} inputs")


# ---------------------------------------------------------------- Loop


def _static_trip_count(node: Node) -> int | None:
    count = const_ints(node.inputs[0])
    if count is None or len(count) != 1 or count[0] < 0:
        return None
    condition = node.inputs[1].const
    if condition is None or not bool(condition.reshape(-1)[0]):
        return None
    if node.attrs["condition_output"] != -1 and not _condition_stays_true(node):
        return None
    return count[0]


def _condition_stays_true(node: Node) -> bool:
    """The body's condition result is constant true, or hands on a parameter fed by itself from a true input."""
    body = node.bodies["body"]
    index = node.attrs["condition_output"]
    produced = body.outputs[index]
    if produced.const is not None:
        return bool(produced.const.reshape(-1)[0])
    for position, parameter in enumerate(body.parameters):
        if parameter.outputs[0] is produced and node.attrs["back_edges"][position] == index:
            external = node.attrs["body_inputs"][position]
            initial = node.inputs[external].const if external >= 0 else None
            return initial is not None and bool(initial.reshape(-1)[0])
    return False


def _infer_loop(node: Node) -> list[TensorType]:
    body = node.bodies["body"]
    iterations = _static_trip_count(node)
    types: list[TensorType] = []
    for result, axis, start, end, stride, part_size in node.attrs["outputs"]:
        value_type = body.outputs[result].type
        if axis is CONCAT_NONE:
            types.append(value_type)
            continue
        dims = value_type.shape.dims
        if dims is None:
            types.append(TensorType(value_type.element_type, Shape.dynamic_rank()))
            continue
        full = start == 0 and end == -1 and stride == 1
        size = None
        if iterations is not None and dims[axis] is not None and full and part_size == 1:
            size = iterations * dims[axis]
        types.append(tensor(value_type.element_type, [size if i == axis else d for i, d in enumerate(dims)]))
    return types


Loop = OpSpec("Loop", "opset5", (), _infer_loop, doc="build with loop_node()")


def loop_node(
    trip_count: Value,
    condition: Value,
    inputs: Sequence[Value],
    body: Graph,
    body_inputs: Sequence[int],
    back_edges: Sequence[int],
    current_iteration: int,
    condition_output: int,
    outputs: Sequence[tuple[int, int | None, int, int, int, int]],
    name: str = "",
) -> Node:
    """A Loop node; `body_inputs[i]` is the index in `inputs` body parameter i starts from (-1: none)."""
    _check_inputs(body, body_inputs, len(inputs))
    if len(back_edges) != len(body.parameters):
        raise ValueError("one back edge entry per body parameter is needed")
    attrs: dict[str, Any] = {
        "body_inputs": tuple(-1 if int(i) == -1 else int(i) + 2 for i in body_inputs),
        "back_edges": tuple(int(r) for r in back_edges),
        "current_iteration": int(current_iteration),
        "condition_output": int(condition_output),
        "outputs": tuple((int(r), None if a is None else int(a), int(s), int(e), int(st), int(p)) for r, a, s, e, st, p in outputs),
    }
    node = Node(Loop, [trip_count, condition, *inputs], attrs, name, bodies={"body": body})
    set_output_types(node)
    return node


OPS: tuple[OpSpec, ...] = (If, Loop)
