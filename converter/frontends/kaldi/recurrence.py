"""Recurrences: nnet3 nodes that read their own earlier (or later) frames, as LSTM configs do
(`lstm1.W_all` reads `IfDefined(Offset(lstm1.r_trunc, -3))`), converted to one IR Loop over frames.

The nodes of a strongly connected component of the node graph are computed one frame at a time:

- what they read from outside the component, at each offset, is cut to the frames all of it has
  (the component's frames) and fed to the Loop whole; iteration i reads its row i;
- what they read from the component itself d frames back comes from a buffer of their last
  frames, zeros before the first (what IfDefined gives where the frame does not exist);
- what nodes outside read from the component is the Loop's per-iteration rows, concatenated.

Reads of later frames (`Offset(x, +3)`, a backward LSTM) run the same Loop over the frames in
reverse. The component's own reads must all point the same way, through IfDefined, and its
components must not read other frames themselves (TdnnComponent): `problems` says why not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from converter.frontends.kaldi import descriptors as desc
from converter.frontends.kaldi import frames as fr
from converter.frontends.kaldi.frames import Frames, i64
from converter.frontends.kaldi.nnet3 import ConfigNode
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType, Shape
from converter.ops import control
from converter.ops import elementwise as ew
from converter.ops import shape as shape_ops
from converter.ops.core import ShapeOf, const, parameter
from converter.ops.indexing import Gather, Slice

TIME_CONTEXT_TYPES = frozenset({"TdnnComponent"})
INT64_MIN = np.iinfo(np.int64).min


@dataclass
class Reads:
    """What a recurrence's nodes read: outside nodes at offsets (and whether through IfDefined),
    its own nodes at delays (offset sign = direction), and same-frame edges."""

    external: dict[tuple[str, int], bool] = field(default_factory=dict)  # (node, offset) → optional
    per_window: list[desc.ReplaceIndex] = field(default_factory=list)  # ReplaceIndex(outside node, t, v): the same every frame
    delayed: dict[str, int] = field(default_factory=dict)  # member → largest |offset|
    same_frame: dict[str, set[str]] = field(default_factory=dict)  # member → members it reads at offset 0
    directions: set[int] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def analyse(members: Sequence[ConfigNode], inputs: dict[str, desc.Descriptor], component_type: Callable[[ConfigNode], str]) -> Reads:
    names = {m.name for m in members}
    reads = Reads()
    for member in members:
        reads.same_frame[member.name] = set()
        if member.kind == "dim-range-node":
            reads.same_frame[member.name].add(member.values.get("input-node", ""))
            continue
        if member.kind == "component-node" and component_type(member) in TIME_CONTEXT_TYPES:
            reads.problems.append(f"{member.name} reads other frames inside the recurrence")

        def visit(d: desc.Descriptor, offset: int, optional: bool, member: ConfigNode = member) -> None:
            if isinstance(d, desc.Node):
                if d.name not in names:
                    key = (d.name, offset)
                    reads.external[key] = reads.external.get(key, True) and optional
                elif offset == 0:
                    reads.same_frame[member.name].add(d.name)
                else:
                    reads.delayed[d.name] = max(reads.delayed.get(d.name, 0), abs(offset))
                    reads.directions.add(1 if offset < 0 else -1)
                    if not optional:
                        reads.problems.append(f"{member.name} reads {d.name} {abs(offset)} frames away without IfDefined")
                return
            if isinstance(d, desc.ReplaceIndex):
                if d.variable != "t" or set(desc.node_names(d)) & names:
                    reads.problems.append(f"{member.name} uses ReplaceIndex of the recurrence itself")
                elif d not in reads.per_window:
                    reads.per_window.append(d)
                return
            for child in desc.children(d):
                visit(child, offset + (d.t if isinstance(d, desc.Offset) else 0), optional or isinstance(d, desc.IfDefined))

        visit(inputs[member.name], 0, False)
    label = members[0].name if len(members) == 1 else f"{members[0].name} (and {len(members) - 1} more nodes)"
    if len(reads.directions) > 1:
        reads.problems.append(f"{label} reads both earlier and later frames of itself")
    if _same_frame_order(reads.same_frame) is None:
        reads.problems.append(f"{label}: its nodes read each other at the same frame")
    return reads


def _same_frame_order(edges: dict[str, set[str]]) -> list[str] | None:
    """The members in an order where same-frame reads come first; None when they form a cycle."""
    order: list[str] = []
    state: dict[str, int] = {}
    for root in edges:
        if root in state:
            continue
        stack = [(root, iter(sorted(edges[root] & edges.keys())))]
        state[root] = 1
        while stack:
            name, pending = stack[-1]
            for child in pending:
                if state.get(child) == 1:
                    return None
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(sorted(edges[child] & edges.keys()))))
                    break
            else:
                stack.pop()
                state[name] = 2
                order.append(name)
    return order


def problems(members: Sequence[ConfigNode], inputs: dict[str, desc.Descriptor], component_type: Callable[[ConfigNode], str]) -> list[str]:
    return analyse(members, inputs, component_type).problems


def convert(
    members: Sequence[ConfigNode],
    inputs: dict[str, desc.Descriptor],
    values: dict[str, Frames],
    needed: set[str],
    component_type: Callable[[ConfigNode], str],
    run_component: Callable[[ConfigNode, Frames], Frames],
    dim_of: Callable[[ConfigNode], int | None],
    evaluate_outside: Callable[[desc.Descriptor], Frames],
    name: str,
) -> dict[str, Frames]:
    """The members' values (those in `needed`) computed by one Loop over the frames."""
    reads = analyse(members, inputs, component_type)
    by_name = {m.name: m for m in members}
    order = _same_frame_order(reads.same_frame)
    assert order is not None and not reads.problems
    backward = reads.directions == {-1}

    framed = {key: optional for key, optional in reads.external.items() if not values[key[0]].constant}
    shifted = {key: Frames(values[key[0]].value, values[key[0]].begin, values[key[0]].end, optional).shifted(key[1]) for key, optional in framed.items()}
    span = fr.common_span(list(shifted.values()))
    if span is None:
        raise ValueError("a recurrence reading no framed input")
    sequences = {key: _reversed(fr.fit(part, span)) if backward else fr.fit(part, span) for key, part in shifted.items()}
    invariants: dict[object, Value] = {key: values[key[0]].value for key in reads.external if key not in framed}
    invariants.update({d: evaluate_outside(d).value for d in reads.per_window})

    counter = parameter(f"{name}/frame", ElementType.i64, Shape(()))
    row_index = shape_ops.Reshape(counter.outputs[0], i64([1]), special_zero=False)
    outer: list[Value] = []
    body_parameters: list[Node] = [counter]
    states: dict[str, Node] = {}
    for member, delay in reads.delayed.items():
        dim = dim_of(by_name[member])
        if dim is None:
            raise ValueError(f"the dims of {member}, which the recurrence reads back, are not known before computing it")
        states[member] = parameter(f"{name}/{member}/previous", ElementType.f32, Shape((delay, dim)))
        outer.append(const(np.zeros((delay, dim), np.float32)))
    body_parameters += states.values()
    external_parameters: dict[object, Value] = {}
    for position, (key, value) in enumerate({**sequences, **invariants}.items()):
        node = parameter(f"{name}/outside{position}", ElementType.f32, value.shape)
        body_parameters.append(node)
        outer.append(value)
        external_parameters[key] = node.outputs[0]

    rows: dict[str, Value] = {}

    def lookup(node_name: str | desc.ReplaceIndex, offset: int) -> Value:
        if isinstance(node_name, desc.ReplaceIndex):
            return external_parameters[node_name]
        if node_name in rows and offset == 0:
            return rows[node_name]
        if node_name in states:
            buffer = states[node_name].outputs[0]
            position = reads.delayed[node_name] - abs(offset)
            return Gather(buffer, i64([position]), i64(0))
        key = (node_name, offset)
        if key in invariants:
            return external_parameters[key]
        return Gather(external_parameters[key], row_index, i64(0))

    for member_name in order:
        member = by_name[member_name]
        if member.kind == "dim-range-node":
            offset, dim = int(member.values["dim-offset"]), int(member.values["dim"])
            rows[member_name] = fr.columns(rows[member.values["input-node"]], offset, dim)
            continue
        row = evaluate_row(inputs[member_name], lookup)
        rows[member_name] = run_component(member, Frames(row, None, None)).value

    condition = const(np.array(True))
    results: list[Value] = [condition]
    back_edges = [-1]
    for member, delay in reads.delayed.items():
        previous = states[member].outputs[0]
        kept = Slice(previous, i64([1]), i64([delay]), i64([1]), i64([0])) if delay > 1 else None
        back_edges.append(len(results))
        results.append(shape_ops.Concat(kept, rows[member], axis=0) if kept is not None else rows[member])
    back_edges += [-1] * len(external_parameters)
    produced = [m for m in order if m in needed]
    outputs = []
    for member in produced:
        outputs.append((len(results), 0, 0, -1, 1, 1))
        results.append(rows[member])
    body = Graph(body_parameters, results, f"{name}/body")
    first = next(iter(sequences.values()))
    trip_count = Gather(ShapeOf(first), i64(0), i64(0))
    loop = control.loop_node(
        trip_count, const(np.array(True)), outer, body, [-1, *range(len(outer))], back_edges,
        current_iteration=0, condition_output=0, outputs=outputs, name=name,
    )  # fmt: skip
    return {
        member: Frames(_reversed(value) if backward else value, span[0], span[1])
        for member, value in zip(produced, loop.outputs)
    }


def _reversed(x: Value) -> Value:
    """The frames in reverse order."""
    return Slice(x, i64([-1]), i64([INT64_MIN]), i64([-1]), i64([0]))


def evaluate_row(d: desc.Descriptor, lookup: Callable[..., Value], offset: int = 0) -> Value:
    """A descriptor's value at one frame ([1, dim]); `lookup(node, offset)` reads a node's row
    (`lookup(replace_index, 0)` the value of a ReplaceIndex computed outside)."""
    if isinstance(d, desc.Node):
        return lookup(d.name, offset)
    if isinstance(d, desc.ReplaceIndex):
        return lookup(d, 0)
    if isinstance(d, desc.Offset):
        return evaluate_row(d.inner, lookup, offset + d.t)
    if isinstance(d, (desc.IfDefined, desc.Round)):  # Round of modulus 1 only
        return evaluate_row(d.inner, lookup, offset)
    if isinstance(d, desc.Append):
        parts = [evaluate_row(p, lookup, offset) for p in d.parts]
        return parts[0] if len(parts) == 1 else shape_ops.Concat(*parts, axis=1)
    if isinstance(d, desc.Sum):
        total = evaluate_row(d.parts[0], lookup, offset)
        for part in d.parts[1:]:
            total = ew.Add(total, evaluate_row(part, lookup, offset))
        return total
    if isinstance(d, desc.Scale):
        return ew.Multiply(evaluate_row(d.inner, lookup, offset), const(np.array(d.alpha, dtype=np.float32)))
    if isinstance(d, desc.Const):
        return const(np.full((1, d.dim), d.value, dtype=np.float32))
    raise ValueError(f"descriptor {type(d).__name__} inside a recurrence")
