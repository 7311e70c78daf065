"""SavedModel directories → IR graph, without TensorFlow.

`saved_model.pb` holds MetaGraphs; the one tagged `serve` has the graph, its function library,
the signatures and (TF2) the object graph. A signature names graph tensors: its inputs are
Placeholders (`serving_default_x:0`), its outputs usually come from a StatefulPartitionedCall
whose function body — calls nest — computes the model; graph.py inlines them.

Variables: in TF2 exports the call passes VarHandleOp nodes as the called function's
captured inputs, the last ones of the call; the concrete function's `bound_inputs` names the
objects they are, in the SavedObjectGraph. The checkpoint in `variables/` has its own object
graph (TrackableObjectGraph, under `_CHECKPOINTABLE_OBJECT_GRAPH`) with the same objects at
the same paths of child names from the root, and there each variable's `VARIABLE_VALUE`
attribute gives its checkpoint key. TF1 exports (VariableV2, or VarHandleOp without an
object graph) use the variable's name, or its shared_name, as the key.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError
from google.protobuf.text_format import ParseError

from converter.errors import InvalidModelError
from converter.frontends.tensorflow.bundle import TensorBundle
from converter.frontends.tensorflow.graph import CALL_OPS, convert_graph_def, data_inputs
from converter.frontends.tensorflow.protos import SavedModel, parse_text
from converter.frontends.tensorflow.tensors import Unsupported, numpy_dtype, shape_dims
from converter.ir.graph import Graph

SERVE = "serve"
DEFAULT_SIGNATURE = "serving_default"
VARIABLE_OPS = ("VarHandleOp", "VariableV2")
VARIABLE_VALUE = "VARIABLE_VALUE"


def is_saved_model(path: str | os.PathLike[str]) -> bool:
    path = Path(path)
    return path.is_dir() and any((path / name).is_file() for name in ("saved_model.pb", "saved_model.pbtxt"))


def load_saved_model(folder: Path) -> Any:
    binary, text = folder / "saved_model.pb", folder / "saved_model.pbtxt"
    try:
        if binary.is_file():
            return SavedModel.FromString(binary.read_bytes())
        if text.is_file():
            return parse_text(text.read_text(), SavedModel())
    except (DecodeError, ParseError, UnicodeDecodeError) as error:
        raise InvalidModelError(f"{binary if binary.is_file() else text}: not a SavedModel, or truncated ({error})") from None
    raise InvalidModelError(f"{folder}: no saved_model.pb (not a SavedModel directory)")


def select_meta_graph(saved_model: Any, tags: Sequence[str], source: str) -> Any:
    graphs = list(saved_model.meta_graphs)
    if not graphs:
        raise InvalidModelError(f"{source}: the SavedModel has no MetaGraph")
    for meta_graph in graphs:
        if set(tags) <= set(meta_graph.meta_info_def.tags):
            return meta_graph
    if len(graphs) == 1 and not graphs[0].meta_info_def.tags:
        return graphs[0]
    available = [sorted(g.meta_info_def.tags) for g in graphs]
    raise InvalidModelError(f"{source}: no MetaGraph tagged {sorted(tags)} (tag sets: {available})")


def select_signature(meta_graph: Any, name: str | None, source: str) -> tuple[str, Any]:
    signatures = {key: value for key, value in meta_graph.signature_def.items() if not key.startswith("__")}
    if name is None:
        if DEFAULT_SIGNATURE in signatures:
            name = DEFAULT_SIGNATURE
        elif len(signatures) == 1:
            name = next(iter(signatures))
        else:
            raise InvalidModelError(f"{source}: no {DEFAULT_SIGNATURE!r} signature; choose one of {sorted(signatures)}")
    if name not in signatures:
        raise InvalidModelError(f"{source}: no signature {name!r}; the SavedModel has {sorted(signatures)}")
    return name, signatures[name]


def tensor_names(tensor_infos: Mapping[str, Any], source: str, what: str) -> list[tuple[str, str]]:
    """(signature key, graph tensor) pairs, by key."""
    pairs = []
    for key in sorted(tensor_infos):
        info = tensor_infos[key]
        if info.WhichOneof("encoding") != "name":
            raise InvalidModelError(f"{source}: signature {what} {key!r} is a sparse or composite tensor, which is not supported")
        pairs.append((key, info.name))
    return pairs


# ---------------------------------------------------------------- variables


def _paths(children_of: Sequence[Sequence[Any]]) -> dict[int, tuple[str, ...]]:
    """Each object's first path of child names from the root (object 0)."""
    paths: dict[int, tuple[str, ...]] = {0: ()}
    queue = deque([0])
    while queue:
        node_id = queue.popleft()
        for child in children_of[node_id]:
            if child.node_id not in paths and 0 <= child.node_id < len(children_of):
                paths[child.node_id] = (*paths[node_id], child.local_name)
                queue.append(child.node_id)
    return paths


def object_checkpoint_keys(object_graph: Any, checkpoint_graph: Any) -> dict[int, str]:
    """SavedObjectGraph variable ids → their checkpoint keys, matching objects by path."""
    saved_paths = _paths([node.children for node in object_graph.nodes])
    checkpoint_nodes = list(checkpoint_graph.nodes)
    by_path = {path: checkpoint_nodes[i] for i, path in _paths([n.children for n in checkpoint_nodes]).items()}
    keys: dict[int, str] = {}
    for object_id, node in enumerate(object_graph.nodes):
        if node.WhichOneof("kind") != "variable":
            continue
        path = saved_paths.get(object_id)
        candidate = by_path.get(path) if path is not None else None
        if candidate is None and object_id < len(checkpoint_nodes):
            candidate = checkpoint_nodes[object_id]  # TF writes both graphs with the same ids
        for attribute in candidate.attributes if candidate is not None else ():
            if attribute.name == VARIABLE_VALUE:
                keys[object_id] = attribute.checkpoint_key
    return keys


def variable_keys(meta_graph: Any, bundle: TensorBundle, source: str) -> dict[str, str]:
    """Checkpoint key of each variable node of the graph, by node name."""
    nodes = {node.name: node for node in meta_graph.graph_def.node}
    keys: dict[str, str] = {}
    object_graph = meta_graph.object_graph_def
    checkpoint_graph = bundle.object_graph()
    if object_graph.nodes and checkpoint_graph is not None:
        by_object = object_checkpoint_keys(object_graph, checkpoint_graph)
        functions = object_graph.concrete_functions
        for node in nodes.values():
            function = node.attr["f"].func.name if node.op in CALL_OPS and "f" in node.attr else None
            if function is None or function not in functions:
                continue
            bound = list(functions[function].bound_inputs)
            captured = data_inputs(node)[len(data_inputs(node)) - len(bound) :] if bound else []
            for (input_name, _), object_id in zip(captured, bound):
                if input_name in nodes and nodes[input_name].op in VARIABLE_OPS and object_id in by_object:
                    keys.setdefault(input_name, by_object[object_id])
    for name, node in nodes.items():
        if node.op in VARIABLE_OPS and name not in keys:
            shared = node.attr["shared_name"].s.decode("utf-8", "replace") if "shared_name" in node.attr else ""
            for candidate in (name, shared):
                if candidate and candidate in bundle:
                    keys[name] = candidate
                    break
    return keys


class BundleVariables(Mapping[str, np.ndarray]):
    """Variable values by node name, read from the bundle on demand and checked against the node."""

    def __init__(self, bundle: TensorBundle, keys: dict[str, str], nodes: Mapping[str, Any]):
        self.bundle, self.keys, self.nodes = bundle, keys, nodes

    def __getitem__(self, name: str) -> np.ndarray:
        key = self.keys[name]
        array = self.bundle[key]
        node = self.nodes[name]
        declared = shape_dims(node.attr["shape"].shape) if "shape" in node.attr else None
        if declared is not None and all(d is not None for d in declared) and tuple(declared) != array.shape:
            raise InvalidModelError(f"{self.bundle.index_path}: key {key!r} has shape {list(array.shape)}, variable {name!r} {list(declared)}")
        if "dtype" in node.attr:
            try:
                expected = numpy_dtype(node.attr["dtype"].type)
            except Unsupported:
                expected = array.dtype
            if expected != array.dtype:
                raise InvalidModelError(f"{self.bundle.index_path}: key {key!r} is {array.dtype}, variable {name!r} {expected}")
        return array

    def __contains__(self, name: object) -> bool:
        return name in self.keys

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)


# ---------------------------------------------------------------- conversion


def convert_saved_model(path: str | os.PathLike[str], signature: str | None = None, tags: Sequence[str] = (SERVE,)) -> Graph:
    """A SavedModel directory's signature (default `serving_default`) as an IR graph.

    The graph's inputs and outputs are named by the signature's keys (the graph tensor
    names stay as further names).
    """
    from converter.frontends.tensorflow.ops import HANDLERS

    folder = Path(path)
    source = os.fspath(folder)
    if not folder.is_dir():
        raise InvalidModelError(f"{source}: not a SavedModel directory")
    meta_graph = select_meta_graph(load_saved_model(folder), tags, source)
    _, signature_def = select_signature(meta_graph, signature, source)
    inputs = tensor_names(signature_def.inputs, source, "input")
    outputs = tensor_names(signature_def.outputs, source, "output")
    variables: Mapping[str, np.ndarray] = {}
    index = folder / "variables" / "variables.index"
    if not index.is_file() and any(folder.glob("variables/variables.data-*")):
        raise InvalidModelError(f"{index}: missing (the variables' data files are there, their index is not)")
    if index.is_file():
        bundle = TensorBundle(folder / "variables")
        nodes = {node.name: node for node in meta_graph.graph_def.node}
        variables = BundleVariables(bundle, variable_keys(meta_graph, bundle, source), nodes)
    op_defs = {op.name: op for op in meta_graph.meta_info_def.stripped_op_list.op}
    graph = convert_graph_def(
        meta_graph.graph_def,
        source,
        HANDLERS,
        inputs=[tensor for _, tensor in inputs],
        outputs=[tensor for _, tensor in outputs],
        name=folder.name,
        op_defs=op_defs,
        variables=variables,
    )
    for (key, _), node in zip(inputs, graph.parameters):
        node.name = key
        _name_first(node.outputs[0].names, key)
    for (key, _), value in zip(outputs, graph.outputs):
        _name_first(value.names, key)
    return graph


def _name_first(names: list[str], name: str) -> None:
    if name in names:
        names.remove(name)
    names.insert(0, name)
