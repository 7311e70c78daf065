"""The preparation the user asked for, applied to a converted graph in a fixed order:

1. `--output`: cut after the named tensors; 2. `--input`: each entry frozen (->VALUE), or its
Parameter given a shape, or a new Parameter cut in at an internal tensor; inputs the cuts leave
unread go; the named inputs come first, in the order given; 3. `--batch`; types inferred again;
4. preprocessing (layout, channel reversal, mean, scale) embedded after each Parameter and folded
into the first convolution where exact; 5. `{type}`: the application feeds that element type
(a Convert to the model's type follows the Parameter).
"""

from __future__ import annotations

from converter.ir.graph import Graph, Node
from converter.prepare.cut import cut_input, cut_outputs, drop_unused_parameters, used_parameters
from converter.prepare.fold import fold_into_first_layer
from converter.prepare.freeze import freeze
from converter.prepare.names import find_tensor, tensor_index
from converter.prepare.preprocess import declared_layout, embed, plan_inputs
from converter.prepare.request import Preparation
from converter.prepare.shapes import infer_again, retype_input, set_batch, set_input_shape


def input_name(node: Node) -> str:
    value = node.outputs[0]
    return value.names[0] if value.names else node.name


def prepare_graph(graph: Graph, preparation: Preparation, source: str) -> Graph:
    used_before = used_parameters(graph)
    if preparation.outputs:
        cut_outputs(graph, preparation.outputs, source)
    index = tensor_index(graph)
    resolved = [(request, find_tensor(graph, request.name, "--input", source, index)) for request in preparation.inputs]
    named: list[Node] = []
    reshaped = False
    for request, value in resolved:
        if request.frozen:
            freeze(graph, value, request, source)
            reshaped = True
            continue
        if value.producer.op.type == "Parameter":
            node = value.producer
        else:
            node = cut_input(graph, value, request.name).producer
        if request.shape is not None:
            set_input_shape(node, request, source)
            reshaped = True
        named.append(node)
    drop_unused_parameters(graph, used_before)
    graph.parameters = [*named, *(p for p in graph.parameters if p not in named)]
    layouts = {r.name: r for r in preparation.layouts}
    if preparation.batch is not None:
        axes = {}
        for node in graph.parameters:
            request = layouts.get(input_name(node)) or (layouts.get(None) if len(graph.parameters) == 1 else None)
            letters = (request.source if request is not None else None) or declared_layout(node)
            if letters is not None and "n" in letters:
                axes[node.name] = letters.index("n")
        set_batch(graph, preparation.batch, axes, source)
        reshaped = True
    if reshaped:
        changed = ", ".join([*(f"--input {r.text()}" for r, _ in resolved), *([f"--batch {preparation.batch}"] if preparation.batch else [])])
        infer_again(graph, changed, source)
    if preparation.preprocesses:
        inputs = [(input_name(p), p.outputs[0].shape.dims, declared_layout(p)) for p in graph.parameters]
        plans = plan_inputs(inputs, preparation, source)
        for node in list(graph.parameters):
            plan = plans.get(input_name(node))
            if plan is None:
                continue
            node, embedded = embed(graph, node, plan, source)
            if embedded is not None:
                fold_into_first_layer(graph, plan, embedded)
    for request, _ in resolved:
        if request.element_type is None or request.frozen:
            continue
        node = next(p for p in graph.parameters if input_name(p) == request.name or p.name == request.name)
        retype_input(graph, node, request.element_type)
    graph.forget()
    return graph
