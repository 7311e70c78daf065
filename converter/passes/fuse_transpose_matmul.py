"""fuse_transpose_into_matmul: a Transpose of the last two dims becomes MatMul's transpose flag."""

from __future__ import annotations

from converter.ir.graph import Graph, Value
from converter.ops.spec import const_ints
from converter.passes.patterns import producer, single_use


def fuse_transpose_into_matmul(graph: Graph) -> Graph:
    users = graph.users()
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if node.op.type != "MatMul":
            continue
        inputs = list(node.inputs)
        attrs = dict(node.attrs)
        changed = False
        for index, flag in ((0, "transpose_a"), (1, "transpose_b")):
            transpose = producer(inputs[index], "Transpose")
            if transpose is None or not single_use(users, graph, inputs[index]):
                continue
            order = const_ints(transpose.inputs[1])
            if order is None or len(order) < 2 or order != list(range(len(order) - 2)) + [len(order) - 1, len(order) - 2]:
                continue
            inputs[index] = transpose.inputs[0]
            attrs[flag] = not attrs[flag]
            changed = True
        if changed:
            mapping[node.outputs[0]] = node.op(*inputs, name=node.name, **attrs)
    graph.replace_values(mapping)
    return graph
