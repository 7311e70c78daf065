"""converter/passes/release.py: weights a pass drops are freed when it ends, by cutting their
cycles, when nothing else holds them (no garbage collection needed), and left intact when
something does."""

from __future__ import annotations

import gc
import weakref

import numpy as np

from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.core import const, parameter
from converter.ops.elementwise import Add, Multiply
from converter.passes.manager import run_pipeline
from converter.passes.release import COLLECT_FROM_BYTES, FULL_COLLECTION_FROM_BYTES

SIZE = COLLECT_FROM_BYTES // 4 + 1024  # f32 elements: just over the threshold


def _graph() -> tuple[Graph, np.ndarray]:
    weight = np.full(SIZE, 0.5, dtype=np.float32)
    x = parameter("x", ElementType.f32, Shape.of(SIZE))
    return Graph([x], [Add(Multiply(x.outputs[0], const(weight, name="w")), const(np.float32(1.0)))]), weight


def _fold_the_scale(graph: Graph) -> Graph:
    """A pass that replaces Multiply(x, w) by Multiply(x, 2w): the old Multiply and w are dropped."""
    add = graph.outputs[0].producer
    multiply = add.inputs[0].producer
    scaled = Multiply(multiply.inputs[0], const(multiply.inputs[1].const * 2, name="w2"))
    graph.replace_values({multiply.outputs[0]: scaled})
    return graph


def test_dropped_weights_are_freed_by_the_end() -> None:
    graph, weight = _graph()
    alive = weakref.ref(weight)
    del weight
    graph, report = run_pipeline(graph, [("fold", _fold_the_scale)])
    assert alive() is None
    assert graph.outputs[0].producer.inputs[0].producer.inputs[1].const[0] == 1.0
    assert [r.name for r in report.records] == ["fold"]


def test_a_dropped_node_someone_holds_is_left_whole() -> None:
    graph, weight = _graph()
    held = graph.outputs[0].producer.inputs[0].producer  # the Multiply the pass drops
    alive = weakref.ref(weight)
    del weight
    graph, _ = run_pipeline(graph, [("fold", _fold_the_scale)])
    assert alive() is not None  # still reachable through `held`
    assert held.outputs and held.outputs[0].producer is held and held.inputs[1].const is alive()
    del held
    gc.collect()
    assert alive() is None


def test_small_models_are_left_to_the_collector() -> None:
    weight = np.full(1024, 0.5, dtype=np.float32)
    x = parameter("x", ElementType.f32, Shape.of(1024))
    graph = Graph([x], [Add(Multiply(x.outputs[0], const(weight, name="w")), const(np.float32(1.0)))])
    graph, _ = run_pipeline(graph, [("fold", _fold_the_scale)])
    assert graph.outputs[0].producer.inputs[0].producer.inputs[1].const[0] == 1.0


def test_a_weight_dropped_by_one_pass_is_gone_before_the_next() -> None:
    graph, weight = _graph()
    alive = weakref.ref(weight)
    del weight
    seen: list[bool] = []

    def look(g: Graph) -> Graph:
        seen.append(alive() is None)
        return g

    gc.disable()
    try:
        run_pipeline(graph, [("fold", _fold_the_scale), ("look", look)])
    finally:
        gc.enable()
    assert seen == [True]


def _dropped_graph_weight() -> weakref.ref:
    """A graph made and dropped: its nodes are cycles only the collector frees (it is disabled)."""
    graph, weight = _graph()
    alive = weakref.ref(weight)
    del graph, weight
    assert alive() is not None
    return alive


def _graph_of(weight_bytes: int) -> Graph:
    weight = np.broadcast_to(np.float32(0.5), (weight_bytes // 4,))  # counts its full size, holds 4 bytes
    x = parameter("x", ElementType.f32, Shape.of(weight_bytes // 4))
    return Graph([x], [Multiply(x.outputs[0], const(weight, name="w"))])


def test_a_large_conversion_collects_an_earlier_dropped_graph() -> None:
    gc.disable()
    try:
        alive = _dropped_graph_weight()
        run_pipeline(_graph_of(FULL_COLLECTION_FROM_BYTES), [])
        assert alive() is None
    finally:
        gc.enable()


def test_a_mid_size_conversion_leaves_the_collection_to_the_collector() -> None:
    gc.disable()
    try:
        alive = _dropped_graph_weight()
        run_pipeline(_graph_of(FULL_COLLECTION_FROM_BYTES - (1 << 20)), [])
        assert alive() is not None  # a full collection would cost more than the memory it returns
        gc.collect()
        assert alive() is None
    finally:
        gc.enable()
