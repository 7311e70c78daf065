"""simplify_reshape_patterns: Reshape targets computed from ShapeOf become constants.

Exporters write `Reshape(t, Concat(Gather(ShapeOf(x), 0), Gather(ShapeOf(x), 1), 4, 8))`
to keep dynamic batch and sequence dims. When irforge can prove that `t` has the
same (dynamic) size at that position as `x` at the gathered one, the part
becomes 0 ("copy the input dim", special_zero) and the whole pattern a
constant; one part it cannot prove may become -1. The ShapeOf subgraph then
dies. The proof comes from `dim_origins`: a conservative record of where each
dynamic dim of each value comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count

import numpy as np

from converter.ir.graph import Graph, Node, Value
from converter.ops.core import const
from converter.ops.shape import Reshape
from converter.ops.spec import const_ints, normalize_axis
from converter.passes.patterns import producer

Origin = int | tuple[int, int]
"""A static dim (int) or a token naming where a dynamic dim comes from."""

SAME_SHAPE = {
    "Convert", "ReLU", "Sigmoid", "Tanh", "Elu", "Clamp", "Gelu", "Swish", "HSwish", "HSigmoid", "Mish",
    "SoftPlus", "SoftSign", "SoftMax", "LogSoftmax", "MVN", "Exp", "Log", "Sqrt", "Abs", "Negative", "Erf",
    "Floor", "Ceiling", "Round", "Sign", "Sin", "Cos", "NormalizeL2", "LogicalNot", "Selu", "HardSigmoid",
}
ELEMENTWISE = {
    "Add", "Subtract", "Multiply", "Divide", "Power", "Maximum", "Minimum", "SquaredDifference", "Equal",
    "NotEqual", "Greater", "GreaterEqual", "Less", "LessEqual", "LogicalAnd", "LogicalOr", "LogicalXor",
    "Select", "PRelu", "Mod", "FloorMod",
}


def dim_origins(graph: Graph) -> dict[Value, list[Origin] | None]:
    """For each value, per dim: its static size, or a token shared only by dims proven equal."""
    fresh = count()
    origins: dict[Value, list[Origin] | None] = {}
    for node in graph.nodes():
        for value in node.outputs:
            declared = value.shape.dims
            if declared is None:
                origins[value] = None
                continue
            derived = _derive(node, value, origins)
            if derived is None or len(derived) != len(declared):
                derived = [None] * len(declared)
            origins[value] = [
                size if size is not None else (origin if origin is not None else (-1, next(fresh)))
                for origin, size in zip(derived, declared)
            ]
    return origins


def _derive(node: Node, value: Value, origins: dict[Value, list[Origin] | None]) -> list[Origin | None] | None:
    """What the op says about its output dims (None where it says nothing)."""
    kind = node.op.type
    inputs = [origins.get(v) for v in node.inputs]
    if kind == "Parameter":
        return [d if d is not None else (id(node), axis) for axis, d in enumerate(value.shape.dims or ())] if value.shape.dims is not None else None
    if kind in SAME_SHAPE and inputs:
        return inputs[0]
    if kind in ELEMENTWISE:
        return _broadcast(inputs)
    if kind == "MatMul":
        return _matmul(node, inputs)
    if kind == "Transpose":
        order = const_ints(node.inputs[1])
        if inputs[0] is None or not order:
            return None
        return [inputs[0][axis] for axis in order]
    if kind == "Reshape":
        return _reshape(node, inputs[0], origins)
    if kind == "Unsqueeze":
        axes = const_ints(node.inputs[1])
        if inputs[0] is None or axes is None:
            return None
        dims = list(inputs[0])
        for axis in sorted(normalize_axis(a, len(dims) + len(axes)) for a in axes):
            dims.insert(axis, 1)
        return dims
    if kind == "ScaledDotProductAttention":
        query, value_ = inputs[0], inputs[2]
        if query is None or value_ is None:
            return None
        return query[:-1] + value_[-1:]
    return None


def _broadcast(inputs: Sequence[list[Origin] | None]) -> list[Origin] | None:
    if any(dims is None for dims in inputs):
        return None
    rank = max(len(dims) for dims in inputs)  # type: ignore[arg-type]
    padded = [[1] * (rank - len(dims)) + list(dims) for dims in inputs]  # type: ignore[arg-type]
    result: list[Origin] = []
    for column in zip(*padded):
        candidates = {o for o in column if o != 1}
        if len(candidates) == 1:
            result.append(next(iter(candidates)))
        elif not candidates:
            result.append(1)
        else:
            statics = {o for o in candidates if isinstance(o, int)}
            if len(statics) != 1:
                return None  # two different dynamic origins: either may be 1 at run time
            result.append(next(iter(statics)))
    return result


def _matmul(node: Node, inputs: Sequence[list[Origin] | None]) -> list[Origin] | None:
    a, b = inputs
    if a is None or b is None or len(a) < 2 or len(b) < 2:
        return None
    rows = a[-1] if node.attrs["transpose_a"] else a[-2]
    columns = b[-2] if node.attrs["transpose_b"] else b[-1]
    batch = _broadcast([a[:-2], b[:-2]])
    return None if batch is None else batch + [rows, columns]


def _reshape(node: Node, source: list[Origin] | None, origins: dict[Value, list[Origin] | None]) -> list[Origin | None] | None:
    parts = _pattern_parts(node.inputs[1], origins)
    if parts is None:
        return None
    result: list[Origin | None] = []
    for position, part in enumerate(parts):
        if part == 0 and node.attrs["special_zero"]:
            result.append(source[position] if source is not None and position < len(source) else None)
        elif isinstance(part, int) and part > 0 or isinstance(part, tuple):
            result.append(part)
        else:
            result.append(None)  # -1 or unknown: only the declared shape can tell
    return result


def _pattern_parts(pattern: Value, origins: dict[Value, list[Origin] | None]) -> list[Origin | None] | None:
    """The elements of a 1-D shape pattern: ints where constant, origins where gathered from a ShapeOf."""
    values = const_ints(pattern)
    if values is not None:
        return list(values)
    concat = producer(pattern, "Concat")
    pieces = concat.inputs if concat is not None else [pattern]
    parts: list[Origin | None] = []
    for piece in pieces:
        values = const_ints(piece)
        if values is not None:
            parts.extend(values)
            continue
        parts.extend(_gathered_dims(piece, origins))
    return parts


def _gathered_dims(piece: Value, origins: dict[Value, list[Origin] | None]) -> list[Origin | None]:
    """Origins of `Gather(ShapeOf(x), indices)` (through Unsqueeze/Reshape/Convert), else unknowns."""
    unknown: list[Origin | None] = [None] * (piece.shape.dims[0] if piece.shape.is_static and piece.shape.rank == 1 else 1)
    node = piece.producer
    while node.op.type in ("Unsqueeze", "Reshape", "Squeeze", "Convert"):
        node = node.inputs[0].producer
    if node.op.type == "ShapeOf":
        source = origins.get(node.inputs[0])
        return list(source) if source is not None and len(source) == len(unknown) else unknown
    if node.op.type != "Gather":
        return unknown
    shape_of = producer(node.inputs[0], "ShapeOf")
    indices, axis = const_ints(node.inputs[1]), const_ints(node.inputs[2])
    if shape_of is None or indices is None or axis != [0]:
        return unknown
    source = origins.get(shape_of.inputs[0])
    if source is None or len(indices) != len(unknown):
        return unknown
    return [source[normalize_axis(i, len(source))] for i in indices]


def simplify_reshape_patterns(graph: Graph) -> Graph:
    origins = dim_origins(graph)
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if node.op.type != "Reshape" or node.inputs[1].const is not None:
            continue
        pattern = _constant_pattern(node, origins)
        if pattern is not None:
            mapping[node.outputs[0]] = Reshape(node.inputs[0], const(np.array(pattern, dtype=np.int64)), special_zero=True, name=node.name)
    graph.replace_values(mapping)
    return graph


def _constant_pattern(node: Node, origins: dict[Value, list[Origin] | None]) -> list[int] | None:
    parts = _pattern_parts(node.inputs[1], origins)
    source = origins.get(node.inputs[0])
    if parts is None or source is None:
        return None
    pattern: list[int] = []
    for position, part in enumerate(parts):
        if isinstance(part, int):
            if part == 0 and not node.attrs["special_zero"]:
                return None  # a literal zero-sized dim cannot be told apart from "copy"
            if part == 0 and position >= len(source):
                return None
            pattern.append(part)
        elif part is not None and position < len(source) and source[position] == part:
            pattern.append(0)
        else:
            pattern.append(-1)
    return None if pattern.count(-1) > 1 else pattern
