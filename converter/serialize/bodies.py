"""Port maps of control-flow layers (If-8, Loop-5), both ways.

In the XML a body is a nested `<layers>`/`<edges>` element (`then_body`,
`else_body`, `body`) and a port map ties its Parameter and Result layers to
the outer layer's ports:

    <then_port_map>
        <input external_port_id="1" internal_layer_id="0"/>     node input 1 → body Parameter layer 0
        <output external_port_id="3" internal_layer_id="4"/>    body Result layer 4 → node port 3
    </then_port_map>

Output `external_port_id`s count on from the inputs, like the layer's own port
ids. Loop has one `port_map` whose special entries carry `purpose`
(`current_iteration`, `execution_condition`, external id -1), concatenated
outputs carry `axis`, `start`, `end`, `stride`, `part_size`, and
`<back_edges><edge from-layer="RESULT" to-layer="PARAMETER"/></back_edges>`
feed results back into parameters. See `converter.ops.control` for how a node
holds the same facts.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from converter.ir.graph import Graph, Node
from converter.ops.control import CONCAT_NONE
from converter.ops.spec import OpSpec, set_output_types

IF_BODIES = {"then_body": "then", "else_body": "else"}


# ---------------------------------------------------------------- writing


def write_port_map(layer: ET.Element, key: str, node: Node, body: Graph, body_ids: dict[int, int]) -> None:
    """Append the port map of body `key` to `layer`; `body_ids` maps id(node) → body layer id."""
    if sum(1 for node in body.nodes() if node.op.type == "Parameter") != len(body.parameters):
        raise ValueError(f"body {key!r} of {node.name!r} reads a value from outside the body")
    parameter_ids = [body_ids[id(p)] for p in body.parameters]
    result_ids = [len(body_ids) + k for k in range(len(body.outputs))]
    first_output_port = len(node.inputs)
    if node.op.type == "If":
        prefix = IF_BODIES[key]
        port_map = ET.SubElement(layer, f"{prefix}_port_map")
        for layer_id, external in zip(parameter_ids, node.attrs[f"{prefix}_inputs"]):
            _entry(port_map, "input", external_port_id=external, internal_layer_id=layer_id)
        for index, layer_id in enumerate(result_ids):
            _entry(port_map, "output", external_port_id=first_output_port + index, internal_layer_id=layer_id)
        return
    if node.op.type == "Loop" and key == "body":
        _write_loop_port_map(layer, node, parameter_ids, result_ids, first_output_port)
        return
    raise ValueError(f"no port map for body {key!r} of {node.op.type}")


def _write_loop_port_map(layer: ET.Element, node: Node, parameter_ids: list[int], result_ids: list[int], first_output_port: int) -> None:
    attrs = node.attrs
    port_map = ET.SubElement(layer, "port_map")
    for index, (layer_id, external) in enumerate(zip(parameter_ids, attrs["body_inputs"])):
        if index != attrs["current_iteration"]:
            _entry(port_map, "input", external_port_id=external, internal_layer_id=layer_id)
    for index, (result, axis, start, end, stride, part_size) in enumerate(attrs["outputs"]):
        external = first_output_port + index
        if axis is CONCAT_NONE:
            _entry(port_map, "output", external_port_id=external, internal_layer_id=result_ids[result])
        else:
            _entry(
                port_map, "output", axis=axis, external_port_id=external, internal_layer_id=result_ids[result],
                start=start, end=end, stride=stride, part_size=part_size,
            )
    if attrs["current_iteration"] != -1:
        _entry(port_map, "input", external_port_id=-1, internal_layer_id=parameter_ids[attrs["current_iteration"]],
               purpose="current_iteration")
    if attrs["condition_output"] != -1:
        _entry(port_map, "output", external_port_id=-1, internal_layer_id=result_ids[attrs["condition_output"]],
               purpose="execution_condition")
    back_edges = ET.SubElement(layer, "back_edges")
    for index, result in enumerate(attrs["back_edges"]):
        if result != -1:
            ET.SubElement(back_edges, "edge", {"from-layer": str(result_ids[result]), "to-layer": str(parameter_ids[index])})


def _entry(parent: ET.Element, tag: str, **attributes: Any) -> None:
    ET.SubElement(parent, tag, {name: str(value) for name, value in attributes.items()})


# ---------------------------------------------------------------- reading


def make_control_node(
    op: OpSpec, inputs: list, attrs: dict[str, Any], name: str, bodies: dict[str, Graph], layer: ET.Element
) -> Node:
    """Build an If/Loop node from its parsed bodies and the port maps in `layer`."""
    if op.type == "If":
        return _make_if(op, inputs, attrs, name, bodies, layer)
    if op.type == "Loop":
        return _make_loop(op, inputs, attrs, name, bodies, layer)
    raise ValueError(f"{op.type} layers cannot have bodies")


def _body_layer_ids(layer: ET.Element, key: str) -> tuple[list[int], list[int]]:
    """Sorted Parameter and Result layer ids of body `key` (the order the reader gives them)."""
    body = layer.find(key)
    layers = body.find("layers") if body is not None else None
    if layers is None:
        raise ValueError(f"missing <{key}>")
    parameters, results = [], []
    for child in layers.findall("layer"):
        if child.get("type") == "Parameter":
            parameters.append(int(child.get("id", "")))
        elif child.get("type") == "Result":
            results.append(int(child.get("id", "")))
    return sorted(parameters), sorted(results)


def _port_entries(port_map: ET.Element | None, tag: str, what: str) -> list[ET.Element]:
    if port_map is None:
        raise ValueError(f"missing <{what}>")
    return port_map.findall(tag)


def _index(ids: list[int], layer_id: str | None, what: str) -> int:
    try:
        return ids.index(int(layer_id or ""))
    except ValueError:
        raise ValueError(f"{what} names layer {layer_id!r}, which is not one of the body's {ids}") from None


def _make_if(op: OpSpec, inputs: list, attrs: dict[str, Any], name: str, bodies: dict[str, Graph], layer: ET.Element) -> Node:
    num_outputs = len(_output_ports(layer))
    node_attrs = dict(attrs)
    ordered: dict[str, Graph] = {}
    for key, prefix in IF_BODIES.items():
        if key not in bodies:
            raise ValueError(f"missing <{key}>")
        body = bodies[key]
        parameter_ids, result_ids = _body_layer_ids(layer, key)
        port_map = layer.find(f"{prefix}_port_map")
        mapping = [-1] * len(parameter_ids)
        for entry in _port_entries(port_map, "input", f"{prefix}_port_map"):
            mapping[_index(parameter_ids, entry.get("internal_layer_id"), f"{prefix}_port_map input")] = int(entry.get("external_port_id", ""))
        if any(not (1 <= m < len(inputs)) for m in mapping):
            raise ValueError(f"{prefix}_port_map: body inputs {mapping} do not all name a node input")
        results: list[int | None] = [None] * num_outputs
        for entry in _port_entries(port_map, "output", f"{prefix}_port_map"):
            port = int(entry.get("external_port_id", "")) - len(inputs)
            if not 0 <= port < num_outputs:
                raise ValueError(f"{prefix}_port_map: output port {port + len(inputs)} does not exist")
            results[port] = _index(result_ids, entry.get("internal_layer_id"), f"{prefix}_port_map output")
        if any(r is None for r in results):
            raise ValueError(f"{prefix}_port_map does not map every output")
        ordered[key] = Graph(body.parameters, [body.outputs[r] for r in results if r is not None], body.name)
        node_attrs[f"{prefix}_inputs"] = tuple(mapping)
    node = Node(op, inputs, node_attrs, name, bodies=ordered)
    set_output_types(node)
    return node


def _output_ports(layer: ET.Element) -> list[ET.Element]:
    outputs = layer.find("output")
    return outputs.findall("port") if outputs is not None else []


def _make_loop(op: OpSpec, inputs: list, attrs: dict[str, Any], name: str, bodies: dict[str, Graph], layer: ET.Element) -> Node:
    if "body" not in bodies:
        raise ValueError("missing <body>")
    body = bodies["body"]
    parameter_ids, result_ids = _body_layer_ids(layer, "body")
    port_map = layer.find("port_map")
    body_inputs = [-2] * len(parameter_ids)
    current_iteration, condition_output = -1, -1
    for entry in _port_entries(port_map, "input", "port_map"):
        index = _index(parameter_ids, entry.get("internal_layer_id"), "port_map input")
        if entry.get("purpose") == "current_iteration":
            current_iteration, body_inputs[index] = index, -1
        else:
            body_inputs[index] = int(entry.get("external_port_id", ""))
    if any(not (2 <= m < len(inputs) or (m == -1 and i == current_iteration)) for i, m in enumerate(body_inputs)):
        raise ValueError(f"port_map: body inputs {body_inputs} do not all name a node input")
    num_outputs = len(_output_ports(layer))
    outputs: list[tuple[int, int | None, int, int, int, int] | None] = [None] * num_outputs
    for entry in _port_entries(port_map, "output", "port_map"):
        result = _index(result_ids, entry.get("internal_layer_id"), "port_map output")
        if entry.get("purpose") == "execution_condition":
            condition_output = result
            continue
        port = int(entry.get("external_port_id", "")) - len(inputs)
        if not 0 <= port < num_outputs:
            raise ValueError(f"port_map: output port {port + len(inputs)} does not exist")
        axis = entry.get("axis")
        outputs[port] = (
            result,
            None if axis is None else int(axis),
            int(entry.get("start", "0")),
            int(entry.get("end", "-1")),
            int(entry.get("stride", "1")),
            int(entry.get("part_size", "1")),
        )
    if any(o is None for o in outputs):
        raise ValueError("port_map does not map every output")
    back_edges = [-1] * len(parameter_ids)
    edges = layer.find("back_edges")
    for edge in edges.findall("edge") if edges is not None else []:
        back_edges[_index(parameter_ids, edge.get("to-layer"), "back edge")] = _index(result_ids, edge.get("from-layer"), "back edge")
    node_attrs = dict(attrs)
    node_attrs.update(
        body_inputs=tuple(body_inputs),
        back_edges=tuple(back_edges),
        current_iteration=current_iteration,
        condition_output=condition_output,
        outputs=tuple(o for o in outputs if o is not None),
    )
    node = Node(op, inputs, node_attrs, name, bodies={"body": body})
    set_output_types(node)
    return node

