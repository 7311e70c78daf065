"""Transpose sinking through values several ops read: move a set of Transposes by one permutation
down through a region of ops at once, when that leaves fewer Transposes.

sink_transposes walks one Transpose down a chain of single readers. A value several ops read
stops that walk (moving past it would compute a Transpose per reader), yet the readers may all
absorb the permutation: basic-pitch's SavedModel transposes its NCHW batch-norm output to NHWC
and reads it with seven StridedSlices (harmonic stacking) and a Concat, then transposes back; a
Sigmoid there is read by a Reshape that only moves a unit axis and by a Concat.

The region of a permutation p: every Transpose by p (a seed), then, in topological order, every
op the permutation moves through (the movers of sink_transposes: element-wise, Concat, Pad,
StridedSlice, Slice, reductions, ...) whose non-constant operands all arrived with the same
permutation. Each value of the region is replaced by its untransposed twin; what reads it from
outside the region gets one Transpose back (a materialized value), except a Transpose reader
(composed with it: gone when the two cancel) and a Reshape the permutation does not affect
(unit axes only). A region op none of whose readers profits is dropped again when that does not
cost a Transpose. A connected part of the region is rewritten only when it strictly lowers the
number of Transposes (seeds and absorbed Transposes against materialized and composed ones), so
the pass terminates and stays idempotent.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field

from converter.ir.graph import Graph, Node, Value
from converter.passes.patterns import Users
from converter.passes.sink_transposes import (
    BROADCASTING,
    Moved,
    Perm,
    _is_identity,
    _move_through,
    _transposed,
    _untransposed_operands,
    permutation,
    reshape_read_through,
)


@dataclass
class _Region:
    """What one permutation's region holds while it grows."""

    perm: Perm
    arrived: dict[Value, tuple[Value, Perm]] = field(default_factory=dict)  # old value -> (untransposed twin, pending perm)
    seeds: dict[int, Node] = field(default_factory=dict)
    moved: dict[int, tuple[Node, Moved]] = field(default_factory=dict)  # region ops rewritten
    terminals: dict[int, tuple[Node, Value]] = field(default_factory=dict)  # readers that absorb: (node, replacement)


def sink_transpose_regions(graph: Graph) -> bool:
    """One sweep: rewrite every region part that removes Transposes. Whether anything changed."""
    users = graph.users()
    nodes = graph.nodes()
    order = {id(node): index for index, node in enumerate(nodes)}
    perms: dict[int, Perm] = {}
    seeds: dict[Perm, list[Node]] = {}
    for node in nodes:
        perm = permutation(node) if node.op.type == "Transpose" else None
        if perm is not None:
            perms[id(node)] = perm
            if not _is_identity(perm):
                seeds.setdefault(perm, []).append(node)
    claimed: set[int] = set()
    mapping: dict[Value, Value] = {}
    for perm, starts in seeds.items():
        region = _grow(perm, starts, nodes, order, perms, users, graph)
        _prune(region, users, graph)
        for part in _parts(region, users):
            if claimed.intersection(part) or _gain(region, part, users, graph) <= 0:
                continue
            claimed.update(part)
            mapping.update(_rewrite(region, part, users, graph))
    if not mapping:
        return False
    graph.replace_values(mapping)
    return True


def _grow(
    perm: Perm, starts: list[Node], nodes: list[Node], order: dict[int, int], perms: dict[int, Perm], users: Users, graph: Graph
) -> _Region:
    """Visit the seeds and what reads the region, in topological order (a heap of node positions):
    every region operand of a node has arrived before the node is visited."""
    region = _Region(perm)
    arrived = region.arrived
    heap = [order[id(node)] for node in starts]
    heapq.heapify(heap)
    visited: set[int] = set()

    def arrive(value: Value, twin: Value, pending: Perm) -> None:
        arrived[value] = (twin, pending)
        for reader, _ in users.get(value, ()):
            if order[id(reader)] not in visited:
                heapq.heappush(heap, order[id(reader)])

    while heap:
        position = heapq.heappop(heap)
        if position in visited:
            continue
        visited.add(position)
        node = nodes[position]
        reads = [v for v in node.inputs if v in arrived]
        kind = node.op.type
        if id(node) in perms:
            data, transposition = node.inputs[0], perms[id(node)]
            if data in arrived:
                source, pending = arrived[data]
                region.terminals[id(node)] = (node, _transposed(source, [pending[a] for a in transposition], node.name))
            elif transposition == perm:
                region.seeds[id(node)] = node
                arrive(node.outputs[0], data, perm)
            continue
        if not reads:
            continue
        if kind == "Reshape" and node.inputs[0] in arrived and node.inputs[1] not in arrived:
            source, pending = arrived[node.inputs[0]]
            reshaped = reshape_read_through(node, pending, source)
            if reshaped is not None:
                region.terminals[id(node)] = (node, reshaped)
                continue
        moved = _move_region_op(node, reads, arrived, users, graph, perm)
        if moved is not None:
            region.moved[id(node)] = (node, moved)
            arrive(node.outputs[0], moved.output, moved.perm)
    return region


def _move_region_op(
    node: Node, reads: list[Value], arrived: Mapping[Value, tuple[Value, Perm]], users: Users, graph: Graph, perm: Perm
) -> Moved | None:
    """The op rewritten on untransposed operands, when every region operand carries one permutation."""
    pending = {arrived[v][1] for v in reads}
    if len(pending) != 1 or len(node.outputs) != 1:
        return None
    (current,) = pending
    first = reads[0]
    if node.op.type in BROADCASTING | {"Concat"}:
        twins = {v: arrived[v][0] for v in reads}
        return _move_joining(node, first, current, twins, users, graph)
    if len(set(reads)) != 1:
        return None
    return _move_through(node, first, current, arrived[first][0], users, graph, [perm, current])


def _move_joining(node: Node, first: Value, perm: Perm, twins: dict[Value, Value], users: Users, graph: Graph) -> Moved | None:
    """Element-wise ops and Concat: region operands read as their twins; constants transposed back."""
    if node.op.type != "Concat" and node.attrs.get("auto_broadcast", "numpy") not in ("numpy", "none"):
        return None
    operands = _untransposed_operands(node, first, perm, twins[first], users, graph, node.op.type != "Concat", twins)
    if operands is None:
        return None
    inputs, _, _ = operands
    if node.op.type == "Concat":
        axis = node.attrs["axis"]
        axis = perm[axis if axis >= 0 else axis + len(perm)]
        return Moved(node.op(*inputs, name=node.name, axis=axis), perm)
    return Moved(node.op(*inputs, name=node.name, **node.attrs), perm)


def _outside_readers(region: _Region, value: Value, users: Users, graph: Graph) -> bool:
    """Whether `value` needs its Transpose back: a graph output, or read by an op outside the region."""
    if any(v is value for v in graph.outputs):
        return True
    return any(id(reader) not in region.moved and id(reader) not in region.terminals for reader, _ in users.get(value, ()))


def _costs(region: _Region, value: Value, users: Users, graph: Graph) -> int:
    """Transposes `value` costs when materialized (none for a seed's output: the seed stays)."""
    producer = value.producer
    if id(producer) in region.seeds:
        return 1 if _outside_readers(region, value, users, graph) else 0
    return 0 if _is_identity(region.arrived[value][1]) or not _outside_readers(region, value, users, graph) else 1


def _prune(region: _Region, users: Users, graph: Graph) -> None:
    """Drop region ops whose readers all stay outside, latest first, while that costs no Transpose."""
    for key in reversed(list(region.moved)):
        node, _ = region.moved[key]
        output = node.outputs[0]
        if any(id(reader) in region.moved or id(reader) in region.terminals for reader, _ in users.get(output, ())):
            continue
        saved = _costs(region, output, users, graph)
        inputs = {v for v in node.inputs if v in region.arrived}
        before = sum(_costs(region, v, users, graph) for v in inputs)
        entry = region.moved.pop(key)
        after = sum(_costs(region, v, users, graph) for v in inputs)
        if after - before > saved:
            region.moved[key] = entry
        else:
            del region.arrived[output]


def _parts(region: _Region, users: Users) -> list[set[int]]:
    """Connected parts of the region: ops joined by the values they pass on."""
    parent: dict[int, int] = {}

    def find(key: int) -> int:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def union(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    for key in region.seeds:
        find(key)
    for key, (node, _) in [*region.moved.items(), *region.terminals.items()]:
        find(key)
        for value in node.inputs:
            if value in region.arrived:
                union(key, id(value.producer))
    groups: dict[int, set[int]] = {}
    for key in parent:
        groups.setdefault(find(key), set()).add(key)
    return list(groups.values())


def _gain(region: _Region, part: set[int], users: Users, graph: Graph) -> int:
    removed = sum(1 for key in part if key in region.seeds or key in region.terminals and region.terminals[key][0].op.type == "Transpose")
    added = 0
    for key in part:
        if key in region.terminals:
            node, replacement = region.terminals[key]
            added += 1 if node.op.type == "Transpose" and replacement.producer.op.type == "Transpose" else 0
            continue
        node = region.seeds[key] if key in region.seeds else region.moved[key][0]
        added += _costs(region, node.outputs[0], users, graph)
    return removed - added


def _rewrite(region: _Region, part: set[int], users: Users, graph: Graph) -> dict[Value, Value]:
    mapping: dict[Value, Value] = {}
    for key in part:
        if key in region.terminals:
            node, replacement = region.terminals[key]
            mapping[node.outputs[0]] = replacement
        elif key in region.moved:
            node, moved = region.moved[key]
            output = node.outputs[0]
            if _outside_readers(region, output, users, graph):
                mapping[output] = _transposed(moved.output, list(moved.perm), node.name + "/transpose")
    return mapping
