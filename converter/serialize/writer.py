"""Write a graph as OpenVINO IR v11: model.xml + model.bin, deterministic bytes."""

from __future__ import annotations

import functools
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from converter.files import atomic_write, atomic_write_bytes
from converter.ir.graph import Graph, Node, Value
from converter.serialize.attributes import (
    escape_names,
    format_attr,
    format_partial_shape,
    format_static_shape,
)
from converter.serialize.weights import WeightsWriter

IR_VERSION = "11"


def serialize(graph: Graph) -> tuple[bytes, bytes]:
    """Return (xml bytes, bin bytes) for the graph."""
    xml, weights = serialize_streaming(graph)
    return xml, weights.getvalue()


def serialize_streaming(graph: Graph) -> tuple[bytes, WeightsWriter]:
    """(xml bytes, the weights still as arrays): write them with `write_serialized`.

    The top level is written straight to text (no element tree: most of the time of writing a
    large graph); a control-flow layer with bodies is built as elements and rendered in place.
    The bytes are those of `serialize_tree`."""
    weights = WeightsWriter()
    out = ['<?xml version="1.0"?>\n', f"<net{_attributes({'name': graph.name, 'version': IR_VERSION})}>\n"]
    _emit_body(graph, out, weights)
    out.append("</net>\n")
    return "".join(out).encode("utf-8"), weights


def serialize_tree(graph: Graph) -> tuple[bytes, WeightsWriter]:
    """The same bytes as `serialize_streaming`, through an ElementTree (the reference it is tested against)."""
    weights = WeightsWriter()
    net = ET.Element("net", {"name": graph.name, "version": IR_VERSION})
    write_body(graph, net, weights)
    pieces = ['<?xml version="1.0"?>\n']
    _render(net, 0, pieces)
    return "".join(pieces).encode("utf-8"), weights


def _attributes(attributes: dict[str, str]) -> str:
    return "".join(f' {key}="{str(value).translate(_ATTRIBUTE_ESCAPES)}"' for key, value in attributes.items())


def _emit_body(graph: Graph, out: list[str], weights: WeightsWriter) -> None:
    """`write_body` of the top-level graph (depth 1), as text."""
    nodes = graph.nodes()
    layer_ids = {id(node): index for index, node in enumerate(nodes)}
    names = _unique_layer_names(nodes)
    edges: list[tuple[int, int, int, int]] = []
    append = out.append
    append("\t<layers>\n")
    for node in nodes:
        layer_id = layer_ids[id(node)]
        inputs = node.inputs
        if node.bodies:
            layer = ET.Element("layer", {"id": str(layer_id), "name": names[id(node)], "type": node.op.type, "version": node.op.version})
            _fill_layer(layer, node, weights)
            _render(layer, 2, out)
        else:
            data = _data_attributes(node, weights)
            append(f'\t\t<layer id="{layer_id}" name="{names[id(node)].translate(_ATTRIBUTE_ESCAPES)}" type="{node.op.type.translate(_ATTRIBUTE_ESCAPES)}" version="{node.op.version.translate(_ATTRIBUTE_ESCAPES)}">\n')
            if data:
                append(f"\t\t\t<data{_attributes(data)} />\n")
            if node.rt_info:
                append("\t\t\t<rt_info>\n")
                for name in sorted(node.rt_info):
                    append(f"\t\t\t\t<attribute{_attributes({'name': name, **node.rt_info[name]})} />\n")
                append("\t\t\t</rt_info>\n")
            if inputs:
                append("\t\t\t<input>\n")
                for port, value in enumerate(inputs):
                    _emit_port(out, port, value, with_names=False)
                append("\t\t\t</input>\n")
            if node.outputs:
                append("\t\t\t<output>\n")
                first = len(inputs)
                for value in node.outputs:
                    _emit_port(out, first + value.index, value, with_names=True)
                append("\t\t\t</output>\n")
            append("\t\t</layer>\n")
        for port, value in enumerate(inputs):
            producer = value.producer
            edges.append((layer_ids[id(producer)], len(producer.inputs) + value.index, layer_id, port))

    taken = set(names.values())
    for position, value in enumerate(graph.outputs):
        layer_id = len(nodes) + position
        tensor = value.names[0] if value.names else f"{names[id(value.producer)]}:{value.index}"
        name = _unique(f"{tensor}/sink_port_0", taken)
        attributes = {"id": str(layer_id), "name": name, "type": "Result", "version": "opset1"}
        if value.names:
            attributes["output_names"] = escape_names(value.names)
        append(f"\t\t<layer{_attributes(attributes)}>\n\t\t\t<input>\n")
        _emit_port(out, 0, value, with_names=False)
        append("\t\t\t</input>\n\t\t</layer>\n")
        producer = value.producer
        edges.append((layer_ids[id(producer)], len(producer.inputs) + value.index, layer_id, 0))
    append("\t</layers>\n")
    if not edges:
        append("\t<edges />\n")
        return
    append("\t<edges>\n")
    for from_layer, from_port, to_layer, to_port in sorted(edges, key=lambda e: (e[2], e[3])):
        append(f'\t\t<edge from-layer="{from_layer}" from-port="{from_port}" to-layer="{to_layer}" to-port="{to_port}" />\n')
    append("\t</edges>\n")


def _emit_port(out: list[str], port_id: int, value: Value, with_names: bool) -> None:
    names = f' names="{escape_names(value.names).translate(_ATTRIBUTE_ESCAPES)}"' if with_names and value.names else ""
    out.append(f'\t\t\t\t<port id="{port_id}" precision="{value.element_type.precision}"{names}{_port_rest(value.shape.dims)}')


@functools.lru_cache(maxsize=4096)
def _port_rest(dims: tuple[int | None, ...] | None) -> str:
    """What follows a port's attributes: its dims and its end tag (most ports share a few shapes)."""
    if not dims:
        return " />\n"
    return ">\n" + "".join(f"\t\t\t\t\t<dim>{'-1' if dim is None else dim}</dim>\n" for dim in dims) + "\t\t\t\t</port>\n"


_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#09;"})
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _render(element: ET.Element, depth: int, out: list[str]) -> None:
    """Tab-indented XML, one element per line, byte for byte what ElementTree's indent +
    tostring give (about four times faster on large graphs)."""
    indent = "\t" * depth
    attributes = "".join(f' {key}="{str(value).translate(_ATTRIBUTE_ESCAPES)}"' for key, value in element.attrib.items())
    children = list(element)
    if children:
        out.append(f"{indent}<{element.tag}{attributes}>\n")
        for child in children:
            _render(child, depth + 1, out)
        out.append(f"{indent}</{element.tag}>\n")
    elif element.text:
        out.append(f"{indent}<{element.tag}{attributes}>{element.text.translate(_TEXT_ESCAPES)}</{element.tag}>\n")
    else:
        out.append(f"{indent}<{element.tag}{attributes} />\n")


def write_ir(graph: Graph, xml_path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write NAME.xml and NAME.bin atomically: temporary files, then rename."""
    xml, weights = serialize_streaming(graph)
    return write_serialized(xml, weights, xml_path)


def write_serialized(xml: bytes, weights: bytes | WeightsWriter, xml_path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write already-serialized IR atomically (bin first, then xml); weights stream from arrays.

    Each file is replaced whole or not at all. The xml goes last so that a failure while
    streaming the weights leaves any previous IR untouched.
    """
    xml_path = Path(xml_path)
    bin_path = xml_path.with_suffix(".bin")
    xml_path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(weights, WeightsWriter):
        atomic_write(bin_path, weights.write_to)
    else:
        atomic_write_bytes(bin_path, weights)
    atomic_write_bytes(xml_path, xml)
    return xml_path, bin_path


def write_body(graph: Graph, parent: ET.Element, weights: WeightsWriter) -> dict[int, int]:
    """Append `<layers>` and `<edges>` for the graph; return node id -> layer id.

    Result layers follow the nodes, one per graph output, in output order.
    """
    layers = ET.SubElement(parent, "layers")
    nodes = graph.nodes()
    layer_ids = {id(node): index for index, node in enumerate(nodes)}
    names = _unique_layer_names(nodes)
    edges: list[tuple[int, int, int, int]] = []

    for node in nodes:
        layer_id = layer_ids[id(node)]
        layer = ET.SubElement(
            layers,
            "layer",
            {"id": str(layer_id), "name": names[id(node)], "type": node.op.type, "version": node.op.version},
        )
        _fill_layer(layer, node, weights)
        for port, value in enumerate(node.inputs):
            producer = value.producer
            edges.append((layer_ids[id(producer)], len(producer.inputs) + value.index, layer_id, port))

    taken = set(names.values())
    for position, value in enumerate(graph.outputs):
        layer_id = len(nodes) + position
        tensor = value.names[0] if value.names else f"{names[id(value.producer)]}:{value.index}"
        name = _unique(f"{tensor}/sink_port_0", taken)
        attributes = {"id": str(layer_id), "name": name, "type": "Result", "version": "opset1"}
        if value.names:
            attributes["output_names"] = escape_names(value.names)
        layer = ET.SubElement(layers, "layer", attributes)
        inputs = ET.SubElement(layer, "input")
        _write_port(inputs, 0, value, with_names=False)
        producer = value.producer
        edges.append((layer_ids[id(producer)], len(producer.inputs) + value.index, layer_id, 0))

    edges_element = ET.SubElement(parent, "edges")
    for from_layer, from_port, to_layer, to_port in sorted(edges, key=lambda e: (e[2], e[3])):
        ET.SubElement(
            edges_element,
            "edge",
            {"from-layer": str(from_layer), "from-port": str(from_port), "to-layer": str(to_layer), "to-port": str(to_port)},
        )
    return layer_ids


def _fill_layer(layer: ET.Element, node: Node, weights: WeightsWriter) -> None:
    """A layer's data, rt_info, bodies and ports (not its edges)."""
    data = _data_attributes(node, weights)
    if data:
        ET.SubElement(layer, "data", data)
    _write_rt_info(layer, node.rt_info)
    for key, body in node.bodies.items():
        _write_nested_body(layer, key, node, body, weights)
    if node.inputs:
        inputs = ET.SubElement(layer, "input")
        for port, value in enumerate(node.inputs):
            _write_port(inputs, port, value, with_names=False)
    if node.outputs:
        outputs = ET.SubElement(layer, "output")
        for value in node.outputs:
            _write_port(outputs, len(node.inputs) + value.index, value, with_names=True)


def _data_attributes(node: Node, weights: WeightsWriter) -> dict[str, str]:
    if node.op.type == "Const":
        array = node.attrs["value"]
        offset, size = weights.add(array)
        return {
            "element_type": node.outputs[0].element_type.value,
            "shape": format_static_shape(tuple(array.shape)),
            "offset": str(offset),
            "size": str(size),
        }
    if node.op.type == "Parameter":
        return {
            "shape": format_partial_shape(node.attrs["shape"]),
            "element_type": node.attrs["element_type"].value,
        }
    return {attr.name: format_attr(attr, node.attrs[attr.name]) for attr in node.op.attrs}


def _write_rt_info(layer: ET.Element, rt_info: dict[str, dict[str, str]]) -> None:
    if not rt_info:
        return
    element = ET.SubElement(layer, "rt_info")
    for name in sorted(rt_info):
        ET.SubElement(element, "attribute", {"name": name, **rt_info[name]})


def _write_port(parent: ET.Element, port_id: int, value: Value, with_names: bool) -> None:
    attributes = {"id": str(port_id), "precision": value.element_type.precision}
    if with_names and value.names:
        attributes["names"] = escape_names(value.names)
    port = ET.SubElement(parent, "port", attributes)
    for dim in value.shape.dims or ():
        ET.SubElement(port, "dim").text = "-1" if dim is None else str(dim)


def _write_nested_body(layer: ET.Element, key: str, node: Node, body: Graph, weights: WeightsWriter) -> None:
    from converter.serialize.bodies import write_port_map  # control-flow layers only

    element = ET.SubElement(layer, key)
    body_ids = write_body(body, element, weights)
    write_port_map(layer, key, node, body, body_ids)


def _unique_layer_names(nodes: list[Node]) -> dict[int, str]:
    taken: set[str] = set()
    names: dict[int, str] = {}
    for index, node in enumerate(nodes):
        base = node.name or f"{node.op.type}_{index}"
        names[id(node)] = _unique(base, taken)
    return names


def _unique(base: str, taken: set[str]) -> str:
    name = base
    suffix = 1
    while name in taken:
        name = f"{base}_{suffix}"
        suffix += 1
    taken.add(name)
    return name
