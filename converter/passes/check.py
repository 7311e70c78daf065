"""Structural checks of a graph: what every pass must leave intact."""

from __future__ import annotations

from converter.ir.graph import Graph
from converter.ops.spec import set_output_types


class GraphCheckError(Exception):
    """The graph is not well-formed (a pass or a frontend produced a broken graph)."""


def check_graph(graph: Graph) -> None:
    """Types and shapes agree with inference, every input is produced inside the graph."""
    nodes = graph.nodes()
    live = {id(node) for node in nodes}
    parameters = {id(p) for p in graph.parameters}
    for node in nodes:
        for index, value in enumerate(node.inputs):
            if id(value.producer) not in live:
                raise GraphCheckError(f"{node}: input {index} comes from a node outside the graph")
            if value.producer.outputs[value.index] is not value:
                raise GraphCheckError(f"{node}: input {index} is a stale value of {value.producer}")
        if node.op.type == "Parameter" and id(node) not in parameters:
            raise GraphCheckError(f"{node} is not one of the graph's parameters")
        if node.op.type in ("Parameter", "Const"):
            continue
        recorded = [value.type for value in node.outputs]
        probe = type(node)(node.op, node.inputs, node.attrs, node.name, bodies=node.bodies)
        try:
            set_output_types(probe)
        except Exception as error:
            raise GraphCheckError(f"{node}: inference fails: {type(error).__name__}: {error}") from None
        inferred = [value.type for value in probe.outputs]
        if len(inferred) != len(recorded):
            raise GraphCheckError(f"{node}: has {len(recorded)} outputs, inference gives {len(inferred)}")
        for index, (have, want) in enumerate(zip(recorded, inferred)):
            if have.element_type != want.element_type:
                raise GraphCheckError(f"{node}: output {index} is {have}, inference gives {want}")
            if not _compatible(have.shape.dims, want.shape.dims):
                raise GraphCheckError(f"{node}: output {index} shape {have.shape} contradicts inferred {want.shape}")


def _compatible(a: tuple | None, b: tuple | None) -> bool:
    if a is None or b is None:
        return True
    if len(a) != len(b):
        return False
    return all(x is None or y is None or x == y for x, y in zip(a, b))
