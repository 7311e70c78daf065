"""Finding the tensor a preparation option names: a tensor name the frontend kept (ONNX value
names, TF `node:index`, Keras layer outputs), `node` for a node's first output, or `node:i`."""

from __future__ import annotations

import difflib

from converter.errors import ConverterError
from converter.ir.graph import Graph, Value


def tensor_index(graph: Graph) -> dict[str, Value]:
    """Every live value by each of its names; a node's outputs also as NODE:i and its first as NODE."""
    index: dict[str, Value] = {}
    for node in graph.nodes():
        for value in node.outputs:
            for name in value.names:
                index.setdefault(name, value)
    for node in graph.nodes():
        if not node.name or node.op.type == "Const":
            continue
        for position, value in enumerate(node.outputs):
            index.setdefault(f"{node.name}:{position}", value)
        if node.outputs:
            index.setdefault(node.name, node.outputs[0])
    return index


def find_tensor(graph: Graph, name: str, option: str, source: str, index: dict[str, Value] | None = None) -> Value:
    """The value `name` stands for; an error listing close names when there is none."""
    index = tensor_index(graph) if index is None else index
    for candidate in (name, f"{name}:0", name[:-2] if name.endswith(":0") else None):
        if candidate is not None and candidate in index:
            return index[candidate]
    raise ConverterError(f"{source}: {option} {name!r}: no tensor of that name{close_names(name, index)}")


def close_names(name: str, index: dict[str, Value] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(index), n=5, cutoff=0.5)
    return f" (close: {', '.join(close)})" if close else ""
