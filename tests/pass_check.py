"""The check every pass test uses: same outputs, well-formed, idempotent."""

from __future__ import annotations

from collections.abc import Callable

from converter.ir.graph import Graph
from converter.passes.check import check_graph
from converter.passes.manager import random_graph_inputs
from converter.runtime import execute
from converter.serialize.writer import serialize
from converter.validate import compare


def run_pass_checked(
    graph: Graph, pass_fn: Callable[[Graph], Graph], rtol: float = 1e-5, atol: float = 1e-6, seed: int = 0
) -> Graph:
    """Run `pass_fn` on a copy; assert outputs match (seeded random inputs), the graph is
    well-formed, and a second run changes nothing. Returns the optimized graph."""
    inputs = random_graph_inputs(graph, seed)
    expected = execute(graph, inputs)
    optimized = pass_fn(graph.copy())
    check_graph(optimized)
    result = compare(expected, execute(optimized, inputs), rtol, atol)
    assert result.ok, result.detail
    assert serialize(pass_fn(optimized.copy())) == serialize(optimized), "the pass is not idempotent"
    return optimized


def unchanged(graph: Graph, pass_fn: Callable[[Graph], Graph]) -> bool:
    return serialize(pass_fn(graph.copy())) == serialize(graph)
