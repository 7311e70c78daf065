"""Graph.nodes() and Graph.users() are cached; every way a graph can change must invalidate them."""

from __future__ import annotations

import numpy as np

from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Relu
from converter.ops.core import Parameter, const
from converter.ops.elementwise import Add, Multiply


def _graph() -> tuple[Graph, object]:
    x = Parameter.node(shape=Shape((2,)), element_type=ElementType.f32)
    y = Relu(x.outputs[0])
    return Graph([x], [Add(y, const(np.ones(2, np.float32)))]), y


def _fresh_walk(graph: Graph) -> list:
    return graph._walk()


def test_repeated_queries_are_cached_and_equal_a_fresh_walk():
    graph, _ = _graph()
    first = graph.nodes()
    assert graph.nodes() == first == _fresh_walk(graph)
    assert graph.users() is graph.users()
    first.pop()  # callers get their own list
    assert len(graph.nodes()) == len(first) + 1


def test_assigning_inputs_invalidates():
    graph, relu = _graph()
    before = graph.nodes()
    add = graph.outputs[0].producer
    add.inputs = [graph.inputs[0], add.inputs[1]]  # bypass the Relu
    assert relu.producer in before and relu.producer not in graph.nodes()
    assert graph.nodes() == _fresh_walk(graph)
    assert relu not in graph.users()


def test_in_place_edits_of_inputs_invalidate():
    graph, relu = _graph()
    graph.nodes(), graph.users()
    add = graph.outputs[0].producer
    add.inputs[0] = graph.inputs[0]
    assert relu.producer not in graph.nodes()
    for edit in (lambda i: i.append(relu), lambda i: i.pop(), lambda i: i.insert(0, relu), lambda i: i.remove(relu)):
        edit(add.inputs)
        assert graph.nodes() == _fresh_walk(graph)
        assert set(graph.users()) == {v for n in graph.nodes() for v in n.inputs}


def test_outputs_and_parameters_edited_in_place_invalidate():
    graph, relu = _graph()
    graph.nodes(), graph.users()
    graph.outputs[0] = Multiply(graph.outputs[0], graph.outputs[0])
    assert graph.nodes()[-1].op.type == "Multiply"
    assert graph.nodes() == _fresh_walk(graph)
    other = Parameter.node(shape=Shape((2,)), element_type=ElementType.f32)
    graph.parameters.append(other)
    assert graph.nodes()[1] is other
    graph.outputs = [relu]
    assert graph.nodes() == _fresh_walk(graph) and graph.outputs[0] is relu


def test_replace_values_and_copies():
    graph, relu = _graph()
    graph.nodes()
    graph.replace_values({relu: graph.inputs[0]})
    assert [n.op.type for n in graph.nodes()] == ["Parameter", "Const", "Add"]
    copy = graph.copy()
    assert [n.op.type for n in copy.nodes()] == ["Parameter", "Const", "Add"]
    assert not set(map(id, copy.nodes())) & set(map(id, graph.nodes()))
