"""sink_transposes: push a Transpose down through ops that commute with it until it meets another.

tf2onnx writes NHWC models: every convolution sits between Transpose(NHWC→NCHW) and
Transpose(NCHW→NHWC), and what runs between two convolutions (bias Add, activations,
BatchNorm as Multiply + Add, Pad, Concat, ReduceMean, ...) sees NHWC. Moving the
Transpose after a convolution down past those ops brings it next to the one before the
next convolution, where the two merge (or cancel when they compose to the identity).

`x → Transpose(p) → op → ...` becomes `x → op' → ... → Transpose(p')`, where op' is op with
its axes remapped, its constant operands transposed back (after broadcasting them to the
data's rank), and a same-permutation Transpose on another operand read through. Reduce
without keep_dims, Squeeze and Unsqueeze change the rank, so the permutation that comes out
of them (p') is a different one.

A Transpose moves only when the move pays: it ends merged with a Transpose downstream (or
cancelled), or its permutation becomes the identity, or it absorbs Transposes on other
operands of an element-wise op or Concat. A value with several readers stops the move, so
nothing is ever computed twice. Two moves pay one sweep later (residual blocks of NHWC
models, MobileNetV2 and ResNet from TensorFlow): a stop at a value several nodes read, one of
them a Transpose that undoes the permutation (which then reads the untransposed value instead);
and a stop at the input of an element-wise op or Concat whose other operands come from
Transposes by the same permutation through ops it moves through (next sweep the last chain to
arrive moves through the op and absorbs the others). Every move removes a Transpose, at once
or in the next sweep, and only ever moves one downwards, which makes the pass terminate and
idempotent. Pooling and convolutions are layout-bound: they stop a move.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from converter.ir.graph import Graph, Node, Value
from converter.ops.activation import prelu_channel_slope
from converter.ops.core import const
from converter.ops.indexing import strided_slice_plan
from converter.ops.shape import Transpose
from converter.ops.spec import const_ints, normalize_axis
from converter.passes.patterns import Users
from converter.passes.simplify_shapes import ELEMENTWISE, SAME_SHAPE

Perm = tuple[int, ...]

AXIS_ATTRIBUTE_OPS = {"SoftMax", "LogSoftmax"}
AXES_INPUT_OPS = {"MVN", "NormalizeL2"}
UNARY = (SAME_SHAPE - AXIS_ATTRIBUTE_OPS - AXES_INPUT_OPS) | {
    "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "IsNaN", "IsFinite", "IsInf",
    "BitwiseNot",
}
BROADCASTING = ELEMENTWISE | {
    "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseLeftShift", "BitwiseRightShift", "FakeQuantize",
}
REDUCTIONS = {
    "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceLogicalAnd", "ReduceLogicalOr",
}
SPLITS = {"Split", "VariadicSplit"}


@dataclass
class Moved:
    """One op rewritten to read the untransposed data: its new output, the permutation now
    pending on it, and how many Transposes on other operands it made dead."""

    output: Value
    perm: Perm
    absorbed: int = 0
    siblings: list[Node] = field(default_factory=list)


@dataclass
class Plan:
    """A Transpose's move: the nodes it passes and the values that replace the old ones."""

    nodes: list[Node]
    mapping: dict[Value, Value]
    gain: int


def sink_transposes(graph: Graph) -> Graph:
    # imported here: transpose_regions builds on this module's movers
    from converter.passes.transpose_regions import sink_transpose_regions

    while True:
        _sink_chains(graph)
        if not sink_transpose_regions(graph):
            return graph


def _sink_chains(graph: Graph) -> None:
    while True:
        users = graph.users()
        claimed: set[int] = set()
        mapping: dict[Value, Value] = {}
        for node in graph.nodes():
            if node.op.type != "Transpose" or id(node) in claimed:
                continue
            plan = _plan(node, users, graph)
            if plan is None or plan.gain <= 0 or any(id(n) in claimed for n in plan.nodes):
                continue
            claimed.update(id(n) for n in plan.nodes)
            mapping.update(plan.mapping)
        if not mapping:
            return
        graph.replace_values(mapping)


def _plan(start: Node, users: Users, graph: Graph) -> Plan | None:
    """Walk `start`'s Transpose down its chain of single readers as far as ops commute with it."""
    perm = permutation(start)
    if perm is None:
        return None
    value, source = start.outputs[0], start.inputs[0]
    inner = source.producer
    if inner.op.type == "Transpose" and (first := permutation(inner)) is not None and _is_identity(tuple(first[a] for a in perm)):
        # undoes a Transpose that others read too: read what that one reads
        return Plan([start], {value: inner.inputs[0]}, 1)
    nodes, gain = [start], 0
    history = [perm]
    while not _is_identity(perm):
        reader = _only_reader(users, graph, value)
        if reader is None:
            break
        if reader.op.type == "Transpose" and reader.inputs[0] is value and (order := permutation(reader)) is not None:
            return Plan([*nodes, reader], {reader.outputs[0]: _transposed(source, [perm[a] for a in order], reader.name)}, gain + 1)
        if reader.op.type == "Reshape" and reader.inputs[0] is value and (reshaped := reshape_read_through(reader, perm, source)):
            # A Transpose that only moves axes of size 1 keeps the elements' order: the Reshape
            # after it reads the untransposed data as well (Conv → 1 channel → NHWC → flatten).
            return Plan([*nodes, reader], {reader.outputs[0]: reshaped}, gain + 1)
        if reader.op.type in SPLITS:
            split = _split_into_transposes(reader, value, perm, source, users, graph)
            if split is not None:
                return Plan([*nodes, reader, *split[0]], split[1], gain + 1)
            break
        moved = _move_through(reader, value, perm, source, users, graph, history)
        if moved is None:
            if value is not start.outputs[0] and _siblings_on_the_way(reader, value, perm, users, graph):
                # Two chains meet (the Adds of a residual block): waiting at the meeting op's input
                # lets the other chain's Transpose move through it next sweep, absorbing this one.
                gain += 1
            break
        nodes += [reader, *moved.siblings]
        gain += moved.absorbed
        value, source, perm = reader.outputs[0], moved.output, moved.perm
        history.append(perm)
    if _is_identity(perm):
        gain += 1
    elif value is not start.outputs[0] and _undone_by_a_reader(users, value, perm):
        # Stopped at a value several nodes read (a residual shortcut): moving here pays once the
        # reader that undoes the permutation cancels with it (the rule at the top of _plan).
        gain += 1
    if value is start.outputs[0]:
        return Plan(nodes, {value: source}, gain) if gain else None
    return Plan(nodes, {value: _transposed(source, list(perm), start.name)}, gain)


def reshape_read_through(reshape: Node, perm: Perm, source: Value) -> Value | None:
    """Reshape(source) standing for Reshape(Transpose(source, perm)) when `perm` moves only unit
    axes: the same pattern, or the Reshape's static output shape when a 0 in the pattern would
    copy a dim the move changes."""
    if _unit_axes_only(perm, source):
        if _reshape_reads_through(reshape, perm, source):
            return reshape.op(source, reshape.inputs[1], name=reshape.name, **reshape.attrs)
        dims = reshape.outputs[0].shape.dims
        if dims is not None and all(d is not None for d in dims):
            pattern = const(np.array(dims, dtype=np.int64))
            return reshape.op(source, pattern, name=reshape.name, special_zero=False)
    return None


def _unit_axes_only(perm: Perm, source: Value) -> bool:
    dims = source.shape.dims
    if dims is None or len(dims) != len(perm):
        return False
    kept = [axis for axis in perm if dims[axis] != 1]
    return kept == sorted(kept)


def _reshape_reads_through(reshape: Node, perm: Perm, source: Value) -> bool:
    """Whether Reshape(Transpose(source, perm)) equals Reshape(source) with the same pattern, for a
    `perm` that moves only unit axes: no 0 in the pattern copies a moved dim."""
    if not reshape.attrs["special_zero"]:
        return True
    pattern = const_ints(reshape.inputs[1])
    if pattern is None:
        return False
    dims = source.shape.dims
    # a 0 copies dim i of the Reshape's input: the same before and after the move where perm keeps axis i
    return all(part != 0 or (i < len(perm) and (perm[i] == i or dims[perm[i]] == dims[i] == 1)) for i, part in enumerate(pattern))  # type: ignore[index]


def _siblings_on_the_way(node: Node, value: Value, perm: Perm, users: Users, graph: Graph) -> bool:
    """Whether every other operand of an element-wise op or Concat is a constant, or a Transpose by
    `perm`, or comes from one through ops it moves through (so it can arrive there too)."""
    if node.op.type not in BROADCASTING | {"Concat"} or len(node.outputs) != 1:
        return False
    others = [v for v in node.inputs if v is not value and v.const is None]
    return bool(others) and all(_arrives_transposed(v, perm, users, graph) for v in others)


def _arrives_transposed(value: Value, perm: Perm, users: Users, graph: Graph) -> bool:
    while True:
        producer = value.producer
        if producer.op.type == "Transpose":
            return permutation(producer) == perm
        if _only_reader(users, graph, value) is None or len(producer.outputs) != 1:
            return False
        data = [v for v in producer.inputs if v.const is None]
        constants_are_numbers = all(v.const.size == 1 for v in producer.inputs if v.const is not None)
        if producer.op.type in UNARY and len(data) == 1 and data[0] is producer.inputs[0] and constants_are_numbers:
            value = data[0]
        elif producer.op.type in BROADCASTING and len(data) == 1:
            value = data[0]
        else:
            return False


def _undone_by_a_reader(users: Users, value: Value, perm: Perm) -> bool:
    """Whether a Transpose reading `value` restores the order `perm` changed."""
    for reader, _ in users.get(value, ()):
        if reader.op.type == "Transpose" and (order := permutation(reader)) is not None and _is_identity(tuple(perm[a] for a in order)):
            return True
    return False


def permutation(node: Node) -> Perm | None:
    """The normalized constant permutation of a Transpose (an empty order reverses the axes)."""
    order = const_ints(node.inputs[1])
    rank = node.inputs[0].shape.rank
    if order is None or rank is None:
        return None
    if not order:
        order = list(range(rank))[::-1]
    normalized = tuple(normalize_axis(a, rank) for a in order)
    return normalized if sorted(normalized) == list(range(rank)) else None


def _is_identity(perm: Perm) -> bool:
    return perm == tuple(range(len(perm)))


def _transposed(source: Value, order: list[int], name: str) -> Value:
    if order == list(range(len(order))):
        return source
    return Transpose(source, const(np.array(order, dtype=np.int64)), name=name)


def _only_reader(users: Users, graph: Graph, value: Value) -> Node | None:
    """The one node reading `value` (possibly through several inputs), unless it is a graph output."""
    readers = {id(node): node for node, _ in users.get(value, ())}
    if len(readers) != 1 or any(v is value for v in graph.outputs):
        return None
    return next(iter(readers.values()))


def _inverse(perm: Perm) -> list[int]:
    return [int(a) for a in np.argsort(perm)]


def _transpose_constant(array: np.ndarray, perm: Perm) -> np.ndarray | None:
    """The constant c' with transpose(c', perm) == c broadcast to len(perm) dims, or None."""
    rank = len(perm)
    if array.ndim > rank:
        return None
    widened = array.reshape((1,) * (rank - array.ndim) + array.shape)
    return np.ascontiguousarray(np.transpose(widened, _inverse(perm)))


def _remapped_axes(value: Value, perm: Perm) -> np.ndarray | None:
    axes = const_ints(value)
    if axes is None:
        return None
    dtype = value.const.dtype  # type: ignore[union-attr]
    return np.array([perm[normalize_axis(a, len(perm))] for a in axes], dtype=dtype).reshape(value.const.shape)  # type: ignore[union-attr]


def _rank_dropped(perm: Perm, dropped: set[int]) -> Perm:
    """The permutation left after dropping axes `dropped` (in transposed order) from both sides."""
    kept = [axis for axis in range(len(perm)) if axis not in dropped]
    remaining = sorted(perm[axis] for axis in kept)
    return tuple(remaining.index(perm[axis]) for axis in kept)


def _rank_raised(perm: Perm, inserted_transposed: list[int], inserted_source: tuple[int, ...]) -> Perm:
    """The permutation after inserting unit axes at `inserted_transposed` on the transposed side
    and at `inserted_source` on the untransposed side (both sorted, same length)."""
    rank = len(perm) + len(inserted_transposed)
    old_transposed = [p for p in range(rank) if p not in inserted_transposed]
    old_source = [p for p in range(rank) if p not in inserted_source]
    result = [0] * rank
    for index, position in enumerate(old_transposed):
        result[position] = old_source[perm[index]]
    for position, source_position in zip(inserted_transposed, inserted_source):
        result[position] = source_position
    return tuple(result)


def _unsqueeze(node: Node, value: Value, perm: Perm, source: Value, history: list[Perm]) -> Moved | None:
    """Unit axes can go anywhere on the untransposed side: pick the place that brings back a permutation
    seen earlier on this walk (Squeeze … Unsqueeze), so the Transpose still cancels downstream."""
    if node.inputs[0] is not value or (axes := const_ints(node.inputs[1])) is None:
        return None
    rank = len(perm) + len(axes)
    inserted = sorted({normalize_axis(a, rank) for a in axes})
    if len(inserted) != len(axes):
        return None
    choices = {places: _rank_raised(perm, inserted, places) for places in combinations(range(rank), len(inserted))}
    places = next((p for earlier in reversed(history) for p, raised in choices.items() if raised == earlier), tuple(inserted))
    axes_array = np.array(places, dtype=node.inputs[1].const.dtype)  # type: ignore[union-attr]
    return Moved(node.op(source, const(axes_array), name=node.name), choices[places])


Mover = Callable[[Node, Value, Perm, Value, Users, Graph], "Moved | None"]


def _move_through(
    node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph, history: list[Perm]
) -> Moved | None:
    if len(node.outputs) != 1:
        return None
    kind = node.op.type
    if kind == "Unsqueeze":
        return _unsqueeze(node, value, perm, source, history)
    for kinds, mover in MOVERS:
        if kind in kinds:
            return mover(node, value, perm, source, users, graph)
    return None


def _unary(node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph) -> Moved | None:
    """Element-wise ops whose other inputs (Selu's alpha, Swish's beta, ...) are single numbers."""
    data, *rest = node.inputs
    if data is not value or any(v is value or v.const is None or v.const.size != 1 for v in rest):
        return None
    return Moved(node.op(source, *rest, name=node.name, **node.attrs), perm)


def _with_axis_attribute(node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph) -> Moved | None:
    if node.inputs[0] is not value:
        return None
    attrs = dict(node.attrs, axis=perm[normalize_axis(node.attrs["axis"], len(perm))])
    return Moved(node.op(source, *node.inputs[1:], name=node.name, **attrs), perm)


def _with_axes_input(node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph) -> Moved | None:
    """MVN, NormalizeL2 and Reduce*: remap the axes; Reduce without keep_dims drops them from the permutation."""
    data, axes_value = node.inputs
    axes = _remapped_axes(axes_value, perm)
    if data is not value or axes_value is value or axes is None:
        return None
    new_perm = perm
    if node.op.type in REDUCTIONS and not node.attrs["keep_dims"]:
        new_perm = _rank_dropped(perm, {normalize_axis(a, len(perm)) for a in const_ints(axes_value) or ()})
    return Moved(node.op(source, const(axes), name=node.name, **node.attrs), new_perm)


def _squeeze(node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph) -> Moved | None:
    """Only listed axes whose size is known to be 1: Squeeze-1 keeps a listed axis of another size."""
    if len(node.inputs) != 2 or node.inputs[0] is not value or (axes := const_ints(node.inputs[1])) is None or not axes:
        return None
    dropped = {normalize_axis(a, len(perm)) for a in axes}
    if any(value.shape[a] != 1 for a in dropped):
        return None
    return Moved(node.op(source, const(_remapped_axes(node.inputs[1], perm)), name=node.name), _rank_dropped(perm, dropped))


def _pad(node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph) -> Moved | None:
    data, begins, ends, *rest = node.inputs
    if data is not value or any(v is value for v in (begins, ends, *rest)):
        return None
    if begins.const is None or ends.const is None or begins.const.size != len(perm) or ends.const.size != len(perm):
        return None
    inverse = _inverse(perm)
    new_begins, new_ends = (np.ascontiguousarray(v.const.reshape(-1)[inverse]) for v in (begins, ends))  # type: ignore[union-attr]
    return Moved(node.op(source, const(new_begins), const(new_ends), *rest, name=node.name, **node.attrs), perm)


def _strided_slice(node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph) -> Moved | None:
    """Per-axis begin/end/stride and begin/end masks follow their axis; new, shrink and ellipsis entries stop it."""
    data, *bounds = node.inputs
    if data is not value or any(v is value or v.const is None or v.const.ndim != 1 for v in bounds):
        return None
    rank = len(perm)
    entries = bounds[0].const.size  # type: ignore[union-attr]
    plan = strided_slice_plan(node.attrs, entries, rank)
    if any(kind not in ("slice", "full") for kind, _, _ in plan) or len(plan) != rank:
        return None
    columns = [v.const.reshape(-1) for v in bounds]  # type: ignore[union-attr]
    masks = [node.attrs["begin_mask"], node.attrs["end_mask"]]
    # per transposed axis: begin, end, stride (if given), begin mask, end mask; a "full" axis ignores both bounds
    rows = [
        [*(int(column[i]) for column in columns), *(int(i < len(mask) and mask[i] != 0) for mask in masks)]
        if kind == "slice" else [0, 0, *([1] if len(columns) > 2 else []), 1, 1]
        for kind, i, _ in plan
    ]
    inverse = _inverse(perm)
    rows = [rows[inverse[axis]] for axis in range(rank)]
    new_bounds = [const(np.array([row[c] for row in rows], dtype=bounds[c].const.dtype)) for c in range(len(columns))]  # type: ignore[union-attr]
    attrs = dict(node.attrs, begin_mask=tuple(row[-2] for row in rows), end_mask=tuple(row[-1] for row in rows))
    attrs.update(new_axis_mask=(), shrink_axis_mask=(), ellipsis_mask=())
    return Moved(node.op(source, *new_bounds, name=node.name, **attrs), perm)


def _slice(node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph) -> Moved | None:
    """Slice-8: its axes (all of the first ones when not given) follow the permutation."""
    data, starts, stops, steps, *given = node.inputs
    if data is not value or any(v is value for v in (starts, stops, steps, *given)):
        return None
    if given:
        axes = _remapped_axes(given[0], perm)
    else:
        count = starts.shape[0] if starts.shape.rank == 1 else None
        axes = None if count is None else np.array([perm[i] for i in range(count)], dtype=np.int64)
    if axes is None:
        return None
    return Moved(node.op(source, starts, stops, steps, const(axes), name=node.name), perm)


def _broadcasting(node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph) -> Moved | None:
    """Element-wise ops over several operands: each is the moving data, a constant, or a same-permutation Transpose."""
    if node.attrs.get("auto_broadcast", "numpy") not in ("numpy", "none"):
        return None
    operands = _untransposed_operands(node, value, perm, source, users, graph, keep_scalars=True)
    if operands is None:
        return None
    inputs, siblings, absorbed = operands
    return Moved(node.op(*inputs, name=node.name, **node.attrs), perm, absorbed, siblings)


def _concat(node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph) -> Moved | None:
    operands = _untransposed_operands(node, value, perm, source, users, graph, keep_scalars=False)
    if operands is None:
        return None
    inputs, siblings, absorbed = operands
    axis = perm[normalize_axis(node.attrs["axis"], len(perm))]
    return Moved(node.op(*inputs, name=node.name, axis=axis), perm, absorbed, siblings)


def _prelu(node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph) -> Moved | None:
    """The slope follows the data; a 1-D slope as long as dim 1 is per channel, so make that explicit first."""
    data, slope_value = node.inputs
    slope = slope_value.const
    if data is not value or slope is None or len(perm) < 2:
        return None
    if slope.size == 1:
        return Moved(node.op(source, slope_value, name=node.name), perm)
    if prelu_channel_slope(slope.shape, value.shape.dims):
        slope = slope.reshape((-1,) + (1,) * (len(perm) - 2))
    transposed = _transpose_constant(slope, perm)
    if transposed is None:
        return None
    return Moved(node.op(source, const(transposed), name=node.name), perm)


def _untransposed_operands(
    node: Node,
    value: Value,
    perm: Perm,
    source: Value,
    users: Users,
    graph: Graph,
    keep_scalars: bool,
    twins: Mapping[Value, Value] | None = None,
) -> tuple[list[Value], list[Node], int] | None:
    """The operands as they are before `perm`: (inputs, sibling Transposes read through, how many of them die).
    With `twins` (a region's untransposed values), only those and constants are accepted."""
    inputs: list[Value] = []
    siblings: dict[int, Node] = {}
    absorbed: set[int] = set()
    for operand in node.inputs:
        if twins is not None and operand in twins:
            inputs.append(twins[operand])
        elif operand is value:
            inputs.append(source)
        elif (array := operand.const) is not None:
            if keep_scalars and array.size == 1 and array.ndim <= len(perm):
                inputs.append(operand)
                continue
            transposed = _transpose_constant(array, perm) if keep_scalars or array.ndim == len(perm) else None
            if transposed is None:
                return None
            inputs.append(const(transposed))
        elif twins is None and operand.producer.op.type == "Transpose" and permutation(operand.producer) == perm:
            inputs.append(operand.producer.inputs[0])
            # Claimed even when others still read it: no other move may rewrite it in the same sweep.
            siblings[id(operand.producer)] = operand.producer
            if _only_reader(users, graph, operand) is node:
                absorbed.add(id(operand))
        else:
            return None
    return inputs, list(siblings.values()), len(absorbed)


def _split_into_transposes(
    node: Node, value: Value, perm: Perm, source: Value, users: Users, graph: Graph
) -> tuple[list[Node], dict[Value, Value]] | None:
    """Split whose every read output goes to one Transpose: split the data, merge each part's Transposes."""
    data, axis_value, *rest = node.inputs
    axis = _remapped_axes(axis_value, perm)
    if data is not value or axis is None or any(v is value for v in rest):
        return None
    ends: list[Node | None] = []
    for output in node.outputs:
        readers = users.get(output, ())
        if any(v is output for v in graph.outputs):
            return None
        if not readers:
            ends.append(None)
            continue
        reader = _only_reader(users, graph, output)
        if reader is None or reader.op.type != "Transpose" or reader.inputs[0] is not output or permutation(reader) is None:
            return None
        ends.append(reader)
    split = node.op.node(source, const(axis), *rest, name=node.name, **node.attrs)
    mapping: dict[Value, Value] = {}
    for part, end in zip(split.outputs, ends):
        if end is not None:
            mapping[end.outputs[0]] = _transposed(part, [perm[a] for a in permutation(end)], end.name)  # type: ignore[union-attr]
    return [end for end in ends if end is not None], mapping


MOVERS: tuple[tuple[set[str], Mover], ...] = (
    (UNARY, _unary),
    (AXIS_ATTRIBUTE_OPS, _with_axis_attribute),
    (AXES_INPUT_OPS | REDUCTIONS, _with_axes_input),
    ({"Squeeze"}, _squeeze),
    ({"Pad"}, _pad),
    ({"StridedSlice"}, _strided_slice),
    ({"Slice"}, _slice),
    (BROADCASTING, _broadcasting),
    ({"Concat"}, _concat),
    ({"PReLU"}, _prelu),
)
