"""Valid value ranges of integer inputs, read off the IR graph (so every frontend gets them).

A token id input is only valid below the size of the embedding table it indexes: follow each
integer Parameter through ops that pass its values on unchanged (Convert, Reshape, Transpose,
slicing, …) to the index input of a Gather (or GatherElements, OneHot, an embedding bag) and
take the indexed dim of its data. Random ids beyond it make onnxruntime fail and OpenVINO read
out of bounds.
"""

from __future__ import annotations

from converter.ir.graph import Graph, Node, Value

# Ops whose output holds (a subset or a copy of) the values of these input ports.
_PASS_VALUES_ON: dict[str, tuple[int, ...]] = {
    "Convert": (0,),
    "Reshape": (0,),
    "Squeeze": (0,),
    "Unsqueeze": (0,),
    "Transpose": (0,),
    "Broadcast": (0,),
    "Tile": (0,),
    "Slice": (0,),
    "StridedSlice": (0,),
    "Split": (0,),
    "VariadicSplit": (0,),
    "Concat": tuple(range(64)),
    "Gather": (0,),
    "Reverse": (0,),
}


def index_bounds(graph: Graph) -> dict[str, int]:
    """Input name → exclusive upper bound of its values, for integer inputs used as indices."""
    users = graph.users()
    bounds: dict[str, int] = {}
    for parameter in graph.parameters:
        value = parameter.outputs[0]
        if not value.element_type.is_integer:
            continue
        bound = _bound_through(value, users, set())
        if bound is not None:
            for name in value.names or [value.name]:
                bounds[name] = bound
    return bounds


def integer_ranges(graph: Graph) -> dict[str, tuple[int, int]]:
    """Input name → [low, high) for inputs the graph indexes with."""
    return {name: (0, bound) for name, bound in index_bounds(graph).items() if bound > 0}


def _bound_through(value: Value, users: dict[Value, list[tuple[Node, int]]], seen: set[int]) -> int | None:
    if id(value) in seen:
        return None
    seen.add(id(value))
    bounds = []
    for node, port in users.get(value, []):
        direct = _index_bound(node, port)
        if direct is not None:
            bounds.append(direct)
        elif port in _PASS_VALUES_ON.get(node.op.type, ()):
            for output in node.outputs:
                bound = _bound_through(output, users, seen)
                if bound is not None:
                    bounds.append(bound)
    return min(bounds) if bounds else None


def _index_bound(node: Node, port: int) -> int | None:
    """The size of the dim that `node` indexes with its input `port`, when static."""
    kind = node.op.type
    if kind in ("Gather", "GatherElements") and port == 1:
        data = node.inputs[0]
        if kind == "Gather":
            axis_value = node.inputs[2].const
            if axis_value is None:
                return None
            axis = int(axis_value.reshape(-1)[0])
        else:
            axis = int(node.attrs.get("axis", 0))
        rank = data.shape.rank
        if rank is None:
            return None
        dim = data.shape[axis % rank] if rank else None
        return dim if isinstance(dim, int) else None
    if kind == "OneHot" and port == 0:
        depth = node.inputs[1].const
        return int(depth.reshape(-1)[0]) if depth is not None else None
    if kind in ("EmbeddingBagOffsetsSum", "EmbeddingBagPackedSum", "EmbeddingSegmentsSum") and port == 1:
        table = node.inputs[0].shape
        return table[0] if table.rank and isinstance(table[0], int) else None
    return None
