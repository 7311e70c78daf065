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

from collections.abc import Iterator, Sequence
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
    "Select", "Mod", "FloorMod",
}


def dim_origins(graph: Graph) -> dict[Value, list[Origin] | None]:
    """For each value, per dim: its static size, or a token shared only by dims proven equal.
    Cached while the graph is unchanged (three passes in a row ask); read-only."""
    return graph.derived("dim origins", _dim_origins)


def _dim_origins(
    graph: Graph, seeds: dict[int, list[Origin | None]] | None = None, fresh: Iterator[int] | None = None
) -> dict[Value, list[Origin] | None]:
    """`seeds`: for a body's Parameters (by node id), the origins of what they receive."""
    fresh = fresh if fresh is not None else count()
    origins: dict[Value, list[Origin] | None] = {}
    loops: dict[int, list[list[Origin | None] | None]] = {}
    for node in graph.nodes():
        for value in node.outputs:
            declared = value.shape.dims
            if declared is None:
                origins[value] = None
                continue
            if seeds is not None and id(node) in seeds:
                derived = seeds[id(node)]
            elif node.op.type == "Loop":
                if id(node) not in loops:
                    loops[id(node)] = _loop_origins(node, origins, fresh)
                derived = loops[id(node)][value.index]
            else:
                derived = _derive(node, value, origins)
            if derived is None or len(derived) != len(declared):
                derived = [None] * len(declared)
            origins[value] = [
                size if size is not None else (origin if origin is not None else (-1, next(fresh)))
                for origin, size in zip(derived, declared)
            ]
    return origins


def _loop_origins(node: Node, origins: dict[Value, list[Origin] | None], fresh: Iterator[int]) -> list[list[Origin | None] | None]:
    """Origins of a Loop's outputs. Each body Parameter starts with the origins of its initial
    input; a loop-carried one keeps a dim's origin only if its back edge provably hands the same
    dim on (checked until nothing changes, so it holds at every iteration, by induction). What the
    body then proves about its results holds for the Loop's outputs, but for dims of the body's
    own (dynamic within the body, or along a concatenation axis), which say nothing outside."""
    body = node.bodies["body"]
    attrs = node.attrs
    seeds: dict[int, list[Origin | None]] = {}
    for position, parameter in enumerate(body.parameters):
        external = attrs["body_inputs"][position]
        outer = origins.get(node.inputs[external]) if external >= 0 else None
        dims = parameter.outputs[0].shape.dims
        if outer is not None and dims is not None and len(outer) == len(dims):
            seeds[id(parameter)] = [o if d is None or o == d else None for o, d in zip(outer, dims)]
    inner: dict[Value, list[Origin] | None] = {}
    for _ in range(1 + sum(len(seed) for seed in seeds.values())):
        inner = _dim_origins(body, seeds, fresh)
        changed = False
        for position, parameter in enumerate(body.parameters):
            seed, edge = seeds.get(id(parameter)), attrs["back_edges"][position]
            if seed is None or edge < 0:
                continue
            handed = inner.get(body.outputs[edge])
            for axis, origin in enumerate(seed):
                if origin is not None and (handed is None or axis >= len(handed) or handed[axis] != origin):
                    seed[axis] = None
                    changed = True
        if not changed:
            break
    else:
        return [None] * len(node.outputs)
    outer_tokens = {origin for seed in seeds.values() for origin in seed if isinstance(origin, tuple)}
    results: list[list[Origin | None] | None] = []
    for result, axis, *_ in attrs["outputs"]:
        dims = inner.get(body.outputs[result])
        if dims is None:
            results.append(None)
            continue
        known = [o if isinstance(o, int) or o in outer_tokens else None for o in dims]
        if axis is not None and 0 <= axis < len(known):
            known[axis] = None
        results.append(known)
    return results


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
    if kind in ("Split", "VariadicSplit"):
        axis = const_ints(node.inputs[1])
        if inputs[0] is None or axis is None or len(axis) != 1:
            return None
        parts: list[Origin | None] = list(inputs[0])
        parts[normalize_axis(axis[0], len(parts))] = None  # the part's size: only the declared shape can tell
        return parts
    if kind == "Unsqueeze":
        axes = const_ints(node.inputs[1])
        if inputs[0] is None or axes is None:
            return None
        dims = list(inputs[0])
        for axis in sorted(normalize_axis(a, len(dims) + len(axes)) for a in axes):
            dims.insert(axis, 1)
        return dims
    if kind == "Gather":
        data, indices = inputs[0], inputs[1]
        axis = const_ints(node.inputs[2])
        if data is None or indices is None or axis is None:
            return None
        axis_ = normalize_axis(axis[0], len(data))
        batch = node.attrs["batch_dims"] % max(len(indices), 1) if node.attrs["batch_dims"] < 0 else node.attrs["batch_dims"]
        return list(data[:axis_]) + list(indices[batch:]) + list(data[axis_ + 1 :])
    if kind == "Concat" and inputs and all(dims is not None for dims in inputs):
        axis = normalize_axis(node.attrs["axis"], len(inputs[0]))  # type: ignore[arg-type]
        merged: list[Origin | None] = list(_broadcast([d[:axis] + [1] + d[axis + 1 :] for d in inputs]) or [None] * len(inputs[0]))  # type: ignore[index, operator]
        merged[axis] = None
        return merged
    if kind == "Range":
        start, step = const_ints(node.inputs[0]), const_ints(node.inputs[2])
        length = _gathered_dims(node.inputs[1], origins) if node.inputs[1].shape.rank == 0 else [None]
        return [length[0]] if start == [0] and step == [1] and len(length) == 1 else None
    if kind == "Broadcast" and node.attrs["mode"] in ("numpy", "bidirectional"):
        target = shape_values(node.inputs[1], origins, {})
        data = inputs[0]
        if target is None or data is None or any(t is None for t in target):
            return None
        if node.attrs["mode"] == "numpy":
            return list(target)
        return _broadcast([data, [1 if t == 1 else t for t in target]])
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
    while (convert := producer(pattern, "Convert")) is not None and convert.inputs[0].element_type.is_integer:
        pattern = convert.inputs[0]  # TF builds i32 patterns, read as i64
    concat = producer(pattern, "Concat")
    pieces = concat.inputs if concat is not None else [pattern]
    parts: list[Origin | None] = []
    memo: dict[Value, list | None] = {}
    for piece in pieces:
        values = const_ints(piece)
        if values is not None:
            parts.extend(values)
            continue
        gathered = _gathered_dims(piece, origins)
        if all(part is None for part in gathered):
            # Not a plain dim read: a small shape computation (an Unsqueeze of a constant that
            # canonicalize_shape_reads left, a Concat of reads...) may still say what it holds.
            elements = shape_values(piece, origins, memo)
            if elements is not None and len(elements) == len(gathered) and not any(isinstance(e, bool) for e in elements):
                gathered = elements
        parts.extend(gathered)
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
    if node.op.type == "Slice":
        return _sliced_dims(node, origins) or unknown
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


def _sliced_dims(node: Node, origins: dict[Value, list[Origin] | None]) -> list[Origin | None] | None:
    """Origins of `Slice(ShapeOf(x), start, stop, step[, axes])` with constant bounds."""
    shape_of = producer(node.inputs[0], "ShapeOf")
    bounds = [const_ints(v) for v in node.inputs[1:4]]
    source = origins.get(shape_of.inputs[0]) if shape_of is not None else None
    if source is None or any(b is None or len(b) != 1 for b in bounds):
        return None
    start, stop, step = (b[0] for b in bounds)  # type: ignore[index]
    return list(source[slice(start, stop, step)])


def simplify_reshape_patterns(graph: Graph) -> Graph:
    origins = dim_origins(graph)
    users = graph.users()
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if node.op.type == "Reshape" and (unflattened := _unflattened_matmul(node, origins, users, graph)) is not None:
            mapping[node.outputs[0]] = unflattened
            continue
        if node.op.type != "Reshape" or node.inputs[1].const is not None:
            continue
        pattern = _constant_pattern(node, origins)
        if pattern is not None:
            mapping[node.outputs[0]] = Reshape(node.inputs[0], const(np.array(pattern, dtype=np.int64)), special_zero=True, name=node.name)
    graph.replace_values(mapping)
    return graph


def _unflattened_matmul(node: Node, origins: dict[Value, list[Origin] | None], users: dict, graph: Graph) -> Value | None:
    """`Reshape(MatMul(Reshape(x, [-1, K]), W), x's leading dims + [N])` → `MatMul(x, W)`.

    TF's Tensordot (Keras 3's Dense on a rank-3 input) flattens x [..., K] to [M, K], multiplies by
    a [K, N] matrix and restores the leading dims. The flattening is proven by ranks and the last
    dim (K both times: the rows are x's leading dims in order); the restoring by dim origins: every
    leading dim is x's but at most one, which the element count then fixes. MatMul broadcasts a 2-D
    operand over x's leading dims, so the product is the same, without either Reshape.
    """
    product = producer(node.inputs[0], "MatMul")
    if product is None or product.attrs["transpose_a"] or product.inputs[1].shape.rank != 2:
        return None
    flat = producer(product.inputs[0], "Reshape")
    if flat is None or not _single_reader(users, graph, product.inputs[0]) or not _single_reader(users, graph, node.inputs[0]):
        return None
    x = flat.inputs[0]
    source, flattened, multiplied, restored = (origins.get(v) for v in (x, flat.outputs[0], node.inputs[0], node.outputs[0]))
    if source is None or flattened is None or multiplied is None or restored is None or len(source) < 3 or len(flattened) != 2:
        return None
    k, n = source[-1], multiplied[-1]
    if not isinstance(k, int) or flattened[1] != k or not isinstance(n, int) or len(restored) != len(source) or restored[-1] != n:
        return None
    if sum(a != b for a, b in zip(restored[:-1], source[:-1])) > 1:
        return None
    from converter.ops.matmul import MatMul

    result = MatMul(x, product.inputs[1], name=product.name, **product.attrs)
    return result if result.shape.rank == len(source) else None


def _single_reader(users: dict, graph: Graph, value: Value) -> bool:
    return len(users.get(value, ())) == 1 and all(v is not value for v in graph.outputs)


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


def canonicalize_shape_reads(graph: Graph) -> Graph:
    """Read every dynamic dim from one place, and static dims as constants.

    `Gather(ShapeOf(v), i)` becomes a constant when v's dim i is static, else a read of the
    first value (in topological order) proven to have the same dim; `ShapeOf(v)` becomes
    `ShapeOf(w)` for the first w with the same dims. `eliminate_duplicates` then merges the
    identical reads that exporters repeat in every layer.
    """
    origins = dim_origins(graph)
    homes: dict[Origin, tuple[Value, int]] = {}
    shapes: dict[tuple, Value] = {}
    for node in graph.nodes():
        for value in node.outputs:
            dims = origins.get(value)
            if dims is None:
                continue
            for axis, origin in enumerate(dims):
                if isinstance(origin, tuple):
                    homes.setdefault(origin, (value, axis))
            shapes.setdefault(tuple(dims), value)
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if node.op.type == "ShapeOf":
            dims = origins.get(node.inputs[0])
            home = shapes.get(tuple(dims)) if dims is not None else None
            if home is not None and home is not node.inputs[0]:
                mapping[node.outputs[0]] = node.op(home, name=node.name, **node.attrs)
        elif node.op.type == "Gather" and (read := _dim_read(node, origins, homes)) is not None:
            mapping[node.outputs[0]] = read
        elif node.op.type == "Slice" and (len(node.inputs) == 4 or const_ints(node.inputs[4]) in ([0], [-1])):
            dims = _sliced_dims(node, origins)
            declared = node.outputs[0].shape
            if dims is not None and all(isinstance(d, int) for d in dims) and declared[0] in (None, len(dims)):
                array = np.array(dims, dtype=node.outputs[0].element_type.numpy)
                mapping[node.outputs[0]] = const(array, name=node.name)
    graph.replace_values(mapping)
    return graph


def _dim_read(node: Node, origins: dict[Value, list[Origin] | None], homes: dict[Origin, tuple[Value, int]]) -> Value | None:
    """A constant, or a read from the dim's home, for `Gather(ShapeOf(v), one constant index)`."""
    shape_of = producer(node.inputs[0], "ShapeOf")
    indices, axis = const_ints(node.inputs[1]), const_ints(node.inputs[2])
    if shape_of is None or indices is None or len(indices) != 1 or axis != [0] or node.attrs["batch_dims"]:
        return None
    dims = origins.get(shape_of.inputs[0])
    if dims is None:
        return None
    origin = dims[normalize_axis(indices[0], len(dims))]
    element_type = node.outputs[0].element_type.numpy
    index_shape = node.inputs[1].const.shape  # type: ignore[union-attr]
    if isinstance(origin, int):
        return const(np.full(index_shape, origin, dtype=element_type), name=node.name)
    home, home_axis = homes[origin]
    if home is shape_of.inputs[0] and home_axis == normalize_axis(indices[0], len(dims)):
        return None
    from converter.ops.core import ShapeOf

    read = ShapeOf(home, name=f"{node.name}/shape", **shape_of.attrs)
    return node.op(read, const(np.full(index_shape, home_axis, dtype=np.int64)), node.inputs[2], name=node.name, **node.attrs)


ShapeElement = int | tuple[int, int] | None
"""One element of a shape-valued tensor: a number, a dim origin (a size ≥ 0), or unknown."""

MAX_SHAPE_ELEMENTS = 16


def shape_values(value: Value, origins: dict[Value, list[Origin] | None], memo: dict[Value, list | None]) -> list | None:
    """The elements of a small integer tensor computed from shapes, as far as they are known."""
    if value in memo:
        return memo[value]
    memo[value] = None  # guards against revisiting while computing
    result = _shape_values(value, origins, memo)
    if result is not None and (len(result) > MAX_SHAPE_ELEMENTS or value.shape.rank not in (0, 1)):
        result = None
    memo[value] = result
    return result


def _shape_values(value: Value, origins: dict[Value, list[Origin] | None], memo: dict[Value, list | None]) -> list | None:
    node = value.producer
    kind = node.op.type
    if value.const is not None:
        array = value.const
        if array.size > MAX_SHAPE_ELEMENTS or array.dtype.kind not in "iub":
            return None
        return [bool(v) if array.dtype.kind == "b" else int(v) for v in array.reshape(-1)]
    if not (value.element_type.is_integer or value.element_type.value == "boolean"):
        return None
    inputs = lambda index: shape_values(node.inputs[index], origins, memo)  # noqa: E731
    if kind == "ShapeOf":
        dims = origins.get(node.inputs[0])
        return None if dims is None else list(dims)
    if kind in ("Unsqueeze", "Squeeze", "Reshape", "Convert"):
        return inputs(0)
    if kind == "Concat":
        parts = [shape_values(v, origins, memo) for v in node.inputs]
        return None if any(p is None for p in parts) else [e for p in parts for e in p]  # type: ignore[union-attr]
    if kind == "Gather":
        data, indices, axis = inputs(0), const_ints(node.inputs[1]), const_ints(node.inputs[2])
        if data is None or indices is None or axis not in ([0], [-1]):
            return None
        return [data[normalize_axis(i, len(data))] for i in indices]
    if kind == "Slice":
        return _sliced_values(node, inputs(0))
    if kind == "ReduceProd":
        return _product_of_dims(node, inputs(0))
    if kind in ("Equal", "Select"):
        operands = [inputs(i) for i in range(len(node.inputs))]
        if any(o is None for o in operands):
            return None
        size = max(len(o) for o in operands)  # type: ignore[arg-type]
        if any(len(o) not in (1, size) for o in operands):  # type: ignore[arg-type]
            return None
        rows = zip(*[o * size if len(o) == 1 else o for o in operands])  # type: ignore[operator]
        return [_equal(a, b) for a, b in rows] if kind == "Equal" else [_select(c, a, b) for c, a, b in rows]
    return None


def _product_of_dims(node: Node, data: list | None) -> list | None:
    """ReduceProd over a vector of dims (TF's Tensordot: the product of the kept dims): a number
    when all are known, the one dynamic dim when the others are 1, else unknown."""
    axes = const_ints(node.inputs[1])
    if data is None or node.inputs[0].shape.rank != 1 or axes not in ([0], [-1]):
        return None
    if any(element is None or isinstance(element, bool) for element in data):
        return [None]
    dynamic = [element for element in data if isinstance(element, tuple)]
    numbers = [element for element in data if not isinstance(element, tuple)]
    product = int(np.prod(numbers, dtype=np.int64)) if numbers else 1
    if not dynamic:
        return [product]
    return [dynamic[0]] if len(dynamic) == 1 and product == 1 else [None]


def _sliced_values(node: Node, data: list | None) -> list | None:
    bounds = [const_ints(v) for v in node.inputs[1:4]]
    if data is None or any(b is None or len(b) != 1 for b in bounds):
        return None
    if len(node.inputs) > 4 and const_ints(node.inputs[4]) not in ([0], [-1]):
        return None
    start, stop, step = (b[0] for b in bounds)  # type: ignore[index]
    return list(data[slice(start, stop, step)])


def _equal(a: ShapeElement | bool, b: ShapeElement | bool) -> bool | None:
    if a is None or b is None:
        return None
    if isinstance(a, tuple) and isinstance(b, tuple):
        return True if a == b else None
    if isinstance(a, tuple) or isinstance(b, tuple):
        number = b if isinstance(a, tuple) else a
        return False if number < 0 else None  # a dim is never negative  # type: ignore[operator]
    return a == b


def _select(condition: bool | None, a: ShapeElement, b: ShapeElement) -> ShapeElement:
    if condition is None:
        return a if a == b and a is not None else None
    return a if condition else b


def fold_shape_values(graph: Graph) -> Graph:
    """Shape computations whose elements are all known become constants, or a Concat of dim reads.

    `x.expand(n, -1, -1)` exports as `Expand(x, Where(Equal(s, -1), 1, s))` with s = [n, -1, -1]:
    the Where is [n, 1, 1], read directly. Broadcast targets then carry dim origins, and what
    only computed the old target dies.
    """
    origins = dim_origins(graph)
    homes: dict[Origin, tuple[Value, int]] = {}
    for node in graph.nodes():
        for value in node.outputs:
            for axis, origin in enumerate(origins.get(value) or ()):
                if isinstance(origin, tuple):
                    homes.setdefault(origin, (value, axis))
    memo: dict[Value, list | None] = {}
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if node.op.type not in ("Select", "Equal") or len(node.outputs) != 1:
            continue
        value = node.outputs[0]
        elements = shape_values(value, origins, memo)
        if elements is None or any(e is None for e in elements) or value.shape.rank != 1:
            continue
        mapping[value] = _materialize(elements, value, homes, node.name)
    graph.replace_values(mapping)
    return graph


def _materialize(elements: list, value: Value, homes: dict[Origin, tuple[Value, int]], name: str) -> Value:
    from converter.ops.core import ShapeOf
    from converter.ops.indexing import Gather
    from converter.ops.shape import Concat

    dtype = value.element_type.numpy
    if all(not isinstance(e, tuple) for e in elements):
        return const(np.array(elements, dtype=dtype), name=name)
    pieces: list[Value] = []
    run: list[int] = []
    for element in elements:
        if isinstance(element, tuple):
            if run:
                pieces.append(const(np.array(run, dtype=dtype)))
                run = []
            home, axis = homes[element]
            read = Gather(ShapeOf(home, output_type=value.element_type), const(np.array([axis])), const(np.int64(0)))
            pieces.append(read)
        else:
            run.append(int(element))
    if run:
        pieces.append(const(np.array(run, dtype=dtype)))
    return Concat(*pieces, axis=0, name=name) if len(pieces) > 1 else pieces[0]
