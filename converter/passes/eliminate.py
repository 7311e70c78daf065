"""eliminate_noops and eliminate_duplicates: remove nodes that compute nothing new.

Identity and Dropout never reach the IR (the frontend maps them to their input);
these passes remove what conversion and other passes leave behind.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.ir.arrays import same_array, sample_key
from converter.ir.graph import Graph, Node, Value
from converter.ops import shape as shape_ops
from converter.ops.core import const
from converter.ops.spec import const_ints, normalize_axis
from converter.passes.patterns import Users, producer, single_use

RESHAPE_LIKE = ("Reshape", "Squeeze", "Unsqueeze")
NEUTRAL_CONSTANT = {"Add": 0.0, "Subtract": 0.0, "Multiply": 1.0, "Divide": 1.0}
NOOP_CANDIDATES = frozenset({"Convert", "Concat", *RESHAPE_LIKE, "Broadcast", "Tile", "Pad", "Slice", "StridedSlice", "Transpose", "Gather", *NEUTRAL_CONSTANT})
"""The op types eliminate_noops' rules can remove or rewrite (each rule is asked about these only)."""


def eliminate_noops(graph: Graph) -> Graph:
    users = graph.users()
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if mapping and not mapping.keys().isdisjoint(node.inputs):  # untouched nodes keep the graph's cached queries
            node.inputs = [mapping.get(v, v) for v in node.inputs]
        if node.op.type not in NOOP_CANDIDATES:
            continue
        replacement = _noop_source(node)
        if replacement is None:
            replacement = _collapse_reshapes(node)
        if replacement is None:
            replacement = _merge_transposes(node, users, graph)
        if replacement is None:
            replacement = _unsqueeze_in_place(node)
        if replacement is None:
            replacement = _reshape_for_unit_transpose(node)
        if replacement is None:
            replacement = _gather_keeping_axis(node, users, graph)
        if replacement is not None and replacement is not node.outputs[0]:
            mapping[node.outputs[0]] = replacement
    graph.replace_values(mapping)
    return _merge_concats(graph)


def _merge_concats(graph: Graph) -> Graph:
    """Concat(Concat(a, b), c) on one axis → Concat(a, b, c), when the inner result has no other reader."""
    users = graph.users()
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if node.op.type != "Concat":
            continue
        parts = _concat_parts(node, users, graph)
        if len(parts) > len(node.inputs):
            mapping[node.outputs[0]] = shape_ops.Concat(*parts, axis=node.attrs["axis"], name=node.name)
    graph.replace_values(mapping)
    return graph


def _concat_parts(node: Node, users: Users, graph: Graph) -> list[Value]:
    rank = node.outputs[0].shape.rank
    axis = normalize_axis(node.attrs["axis"], rank)
    parts: list[Value] = []
    for value in node.inputs:
        inner = producer(value, "Concat")
        if inner is not None and rank is not None and normalize_axis(inner.attrs["axis"], rank) == axis and single_use(users, graph, value):
            parts.extend(_concat_parts(inner, users, graph))
        else:
            parts.append(value)
    return parts


def _same_static_shape(a: Value, b: Value) -> bool:
    return a.shape.is_static and b.shape.is_static and a.shape.static == b.shape.static


def _noop_source(node: Node) -> Value | None:
    """The input this node passes through unchanged, or None."""
    kind = node.op.type
    if not node.inputs or len(node.outputs) != 1:
        return None
    source, output = node.inputs[0], node.outputs[0]
    if source.element_type != output.element_type:
        return None
    if kind == "Convert":
        return source
    if kind == "Concat" and len(node.inputs) == 1:
        return source
    if kind in RESHAPE_LIKE + ("Broadcast", "Tile") and _same_static_shape(source, output):
        return source
    if kind == "Pad" and _same_static_shape(source, output) and _zero_pads(node):
        return source
    if kind in ("Slice", "StridedSlice") and _same_static_shape(source, output) and _unit_steps(node):
        return source
    if kind == "Transpose" and _moves_no_data(node):
        return source
    if kind in NEUTRAL_CONSTANT and source.element_type.is_float:
        return _neutral_operand_source(node)
    return None


def _neutral_operand_source(node: Node) -> Value | None:
    """x for x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1 when the constant does not broadcast x
    to a larger shape (dynamic dims of x included)."""
    kind = node.op.type
    a, b = node.inputs
    orders = [(a, b), (b, a)] if kind in ("Add", "Multiply") else [(a, b)]
    for source, other in orders:
        constant = other.const
        if constant is None or source.const is not None or source.element_type != node.outputs[0].element_type:
            continue
        if np.all(constant == NEUTRAL_CONSTANT[kind]) and _broadcast_keeps_shape(source, constant.shape):
            return source
    return None


def _broadcast_keeps_shape(source: Value, shape: tuple[int, ...]) -> bool:
    """True when numpy-broadcasting `source` with an array of `shape` leaves source's shape as it is."""
    dims = source.shape.dims
    if dims is None or len(shape) > len(dims):
        return False
    return all(size == 1 or size == dim for size, dim in zip(reversed(shape), reversed(dims)))


def _moves_no_data(transpose: Node) -> bool:
    """True for the identity permutation, and for one that only reorders axes of size 1 among
    themselves (the elements keep their order: [?, 1, 1, W] by [0, 2, 1, 3])."""
    order = const_ints(transpose.inputs[1])
    if not order:
        return False
    if order == list(range(len(order))):
        return True
    dims = transpose.inputs[0].shape.dims
    if dims is None or len(dims) != len(order) or transpose.outputs[0].shape.dims != dims:
        return False
    moved = [axis for axis in order if dims[axis] != 1]
    return moved == sorted(moved)


def _zero_pads(node: Node) -> bool:
    begins, ends = const_ints(node.inputs[1]), const_ints(node.inputs[2])
    return begins is not None and ends is not None and not any(begins) and not any(ends)


def _unit_steps(node: Node) -> bool:
    if len(node.inputs) < 4:
        return True
    steps = const_ints(node.inputs[3])
    return steps is not None and all(step == 1 for step in steps)


def _collapse_reshapes(node: Node) -> Value | None:
    """Reshape-like after reshape-like: one Reshape from the first one's input."""
    if node.op.type not in RESHAPE_LIKE:
        return None
    inner = node.inputs[0].producer
    if inner.op.type not in RESHAPE_LIKE:
        return None
    source, output = inner.inputs[0], node.outputs[0]
    if _same_static_shape(source, output):
        return source
    dims = output.shape.dims
    if dims is None or sum(d is None for d in dims) > 1:
        return None
    pattern = [-1 if d is None else d for d in dims]
    if 0 in pattern:
        return None
    reshaped = shape_ops.Reshape(source, const(np.array(pattern, dtype=np.int64)), special_zero=False, name=node.name)
    return reshaped


def _unsqueeze_in_place(node: Node) -> Value | None:
    """Transpose(Unsqueeze(x, axes), p) → Unsqueeze(x, axes') when p moves only the inserted unit
    axes (x's own axes keep their order): TF's expand_dims(x, -1) then NHWC → NCHW."""
    if node.op.type != "Transpose":
        return None
    inner = producer(node.inputs[0], "Unsqueeze")
    order = const_ints(node.inputs[1])
    if inner is None or not order:
        return None
    axes = const_ints(inner.inputs[1])
    rank = len(order)
    if axes is None or sorted(order) != list(range(rank)):
        return None
    inserted = {a % rank for a in axes}
    if len(inserted) != len(axes):
        return None
    kept = [axis for axis in order if axis not in inserted]
    if kept != sorted(kept):
        return None
    new_axes = [position for position, axis in enumerate(order) if axis in inserted]
    return shape_ops.Unsqueeze(inner.inputs[0], const(np.array(new_axes, dtype=np.int64)), name=node.name)


def _reshape_for_unit_transpose(node: Node) -> Value | None:
    """Transpose(reshape-like(x), p) → Reshape(x, its result) when p moves only axes of size 1 (the
    elements keep their order) and the result has at most one dynamic dim: TFLite's [N, W, 1] →
    Unsqueeze [N, 1, W, 1] → NHWC → NCHW [N, 1, 1, W] is one Reshape."""
    if node.op.type != "Transpose":
        return None
    inner = node.inputs[0].producer
    order = const_ints(node.inputs[1])
    dims, result = node.inputs[0].shape.dims, node.outputs[0].shape.dims
    if inner.op.type not in RESHAPE_LIKE or not order or dims is None or result is None or len(order) != len(dims):
        return None
    moved = [axis for axis in order if dims[axis] != 1]
    if moved != sorted(moved) or sum(d is None for d in result) > 1 or 0 in result:
        return None
    pattern = np.array([-1 if d is None else d for d in result], dtype=np.int64)
    return shape_ops.Reshape(inner.inputs[0], const(pattern), special_zero=False, name=node.name)


def _gather_keeping_axis(node: Node, users: Users, graph: Graph) -> Value | None:
    """Unsqueeze(Gather(x, i, axis), axis) → Gather(x, [i], axis) for a constant scalar index i: the
    axis the scalar index removed comes back (TF's tf.shape(x)[0] packed into a shape vector)."""
    if node.op.type != "Unsqueeze":
        return None
    gather = producer(node.inputs[0], "Gather")
    if gather is None or gather.attrs["batch_dims"] or not single_use(users, graph, node.inputs[0]):
        return None
    index, axes, axis = gather.inputs[1].const, const_ints(node.inputs[1]), const_ints(gather.inputs[2])
    rank = gather.inputs[0].shape.rank
    if index is None or index.ndim != 0 or axes is None or len(axes) != 1 or axis is None or len(axis) != 1 or rank is None:
        return None
    if normalize_axis(axes[0], rank) != normalize_axis(axis[0], rank):
        return None
    return gather.op(gather.inputs[0], const(index.reshape(1)), gather.inputs[2], name=node.name, **gather.attrs)


def _merge_transposes(node: Node, users: Users, graph: Graph) -> Value | None:
    """Transpose(Transpose(x, p), q) → x when they cancel, else one Transpose(x, p∘q)
    (the latter only when the inner result has no other reader, so no work is added)."""
    if node.op.type != "Transpose":
        return None
    inner = producer(node.inputs[0], "Transpose")
    if inner is None:
        return None
    outer_order, inner_order = const_ints(node.inputs[1]), const_ints(inner.inputs[1])
    if not outer_order or not inner_order or len(outer_order) != len(inner_order):
        return None
    combined = [inner_order[axis] for axis in outer_order]
    if combined == list(range(len(combined))):
        return inner.inputs[0]
    if not single_use(users, graph, node.inputs[0]):
        return None
    return shape_ops.Transpose(inner.inputs[0], const(np.array(combined, dtype=np.int64)), name=node.name)


def eliminate_duplicates(graph: Graph) -> Graph:
    """Common subexpressions: same op, same inputs, same attributes → computed once.

    Constants with the same bytes are merged too.
    """
    seen: dict[Any, Node] = {}
    constants: dict[tuple, list[Node]] = {}
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if mapping and not mapping.keys().isdisjoint(node.inputs):  # untouched nodes keep the graph's cached queries
            node.inputs = [mapping.get(v, v) for v in node.inputs]
        if node.op.type == "Parameter" or node.bodies:
            continue
        if node.op.type == "Const":
            original = _same_constant(node, constants)
        else:
            key = (node.op, tuple(map(id, node.inputs)), _frozen(node.attrs), _frozen(node.rt_info) if node.rt_info else ())
            original = seen.setdefault(key, node)
        if original is not node:
            for duplicate, kept in zip(node.outputs, original.outputs):
                mapping[duplicate] = kept
    graph.replace_values(mapping)
    return graph


def _same_constant(node: Node, constants: dict[tuple, list[Node]]) -> Node:
    array = node.attrs["value"]
    candidates = constants.setdefault((sample_key(array), _frozen(node.rt_info) if node.rt_info else ()), [])
    for candidate in candidates:
        if same_array(candidate.attrs["value"], array):
            return candidate
    candidates.append(node)
    return node


_ATOMS = frozenset({int, float, str, bool, type(None)})  # hashable as they are: no call per attribute


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        if not value:
            return ()
        return tuple(sorted((k, v if type(v) in _ATOMS else _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(v if type(v) in _ATOMS else _frozen(v) for v in value)
    if isinstance(value, np.ndarray):
        return (str(value.dtype), value.shape, value.tobytes())
    return value

