"""`--output TENSOR,...` keeps only what the named tensors need (they become the outputs);
`--input TENSOR` at an internal tensor cuts off what computes it (a new Parameter there, its type
and shape those of the value, unless the entry gives them)."""

from __future__ import annotations

from converter.errors import ConverterError
from converter.ir.graph import Graph, Value
from converter.ops.core import parameter
from converter.prepare.names import find_tensor, tensor_index


def cut_outputs(graph: Graph, names: tuple[str, ...], source: str) -> Graph:
    used_before = used_parameters(graph)
    index = tensor_index(graph)
    outputs = [find_tensor(graph, name, "--output", source, index) for name in names]
    for name, value in zip(names, outputs):
        if value.producer.op.type == "Const":
            raise ConverterError(f"{source}: --output {name!r} is a constant, not computed from the inputs")
        if name not in value.names:
            value.names.insert(0, name)
    graph.outputs = outputs
    drop_unused_parameters(graph, used_before)
    return graph


def cut_input(graph: Graph, value: Value, name: str) -> Value:
    """A new Parameter replacing `value` (an internal tensor); returns its output."""
    if value.shape.dims is None:
        raise ConverterError(f"--input {name!r}: the tensor's rank is unknown here; give its shape, e.g. {name}[1,3,224,224]")
    new = parameter(name, value.element_type, value.shape)
    new.outputs[0].names[:] = [name, *(n for n in value.names if n != name)]
    graph.replace_values({value: new.outputs[0]})
    graph.parameters.append(new)
    return new.outputs[0]


def used_parameters(graph: Graph) -> set:
    users = graph.users()
    outputs = set(graph.outputs)
    return {p for p in graph.parameters if users.get(p.outputs[0]) or p.outputs[0] in outputs}


def drop_unused_parameters(graph: Graph, used_before: set) -> None:
    """Parameters the cuts left without a reader go; an input the model never read stays."""
    used = used_parameters(graph)
    graph.parameters = [p for p in graph.parameters if p in used or p not in used_before]

