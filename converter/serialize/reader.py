"""Read OpenVINO IR (v10/v11) back into a graph, checking it as it goes."""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as SafeET
import numpy as np

from converter.errors import InvalidModelError
from converter.ir.graph import Graph, Node, Value
from converter.ir.packing import unpack_nibbles
from converter.ir.types import ElementType, Shape, TensorType
from converter.ops import ALL_OPS
from converter.ops.core import Const
from converter.ops.spec import REQUIRED, set_output_types
from converter.serialize.attributes import parse_attr, parse_partial_shape, unescape_names

SUPPORTED_VERSIONS = ("10", "11")


def read_ir(xml_path: str | os.PathLike[str], bin_path: str | os.PathLike[str] | None = None) -> Graph:
    xml_path = Path(xml_path)
    bin_path = Path(bin_path) if bin_path is not None else xml_path.with_suffix(".bin")
    try:
        xml = xml_path.read_bytes()
    except OSError as error:
        raise InvalidModelError(f"{xml_path}: cannot read: {error.strerror}") from None
    weights = bin_path.read_bytes() if bin_path.exists() else b""
    return parse_ir(xml, weights, source=str(xml_path), bin_source=str(bin_path))


def parse_ir(xml: bytes, weights: bytes, source: str = "<memory>", bin_source: str = "<memory>") -> Graph:
    try:
        net = SafeET.fromstring(xml)
    except ET.ParseError as error:
        raise InvalidModelError(f"{source}: malformed XML: {error}") from None
    except Exception as error:  # defusedxml refuses entity tricks with its own errors
        raise InvalidModelError(f"{source}: refused XML: {error}") from None
    if net.tag != "net":
        raise InvalidModelError(f"{source}: root element is <{net.tag}>, expected <net>")
    version = net.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise InvalidModelError(f"{source}: IR version {version!r} is not supported (10 or 11)")
    context = _Reader(source, bin_source, np.frombuffer(weights, dtype=np.uint8))
    return context.read_body(net, net.get("name", "model"))


class _Reader:
    def __init__(self, source: str, bin_source: str, weights: np.ndarray):
        self.source = source
        self.bin_source = bin_source
        self.weights = weights

    def fail(self, message: str) -> InvalidModelError:
        return InvalidModelError(f"{self.source}: {message}")

    def read_body(self, element: ET.Element, name: str) -> Graph:
        layers_element = element.find("layers")
        edges_element = element.find("edges")
        if layers_element is None or edges_element is None:
            raise self.fail("missing <layers> or <edges>")
        layers: dict[int, ET.Element] = {}
        for layer in layers_element.findall("layer"):
            layer_id = self._int(layer, "id")
            if layer_id in layers:
                raise self.fail(f"duplicate layer id {layer_id}")
            layers[layer_id] = layer

        incoming: dict[int, dict[int, tuple[int, int]]] = {layer_id: {} for layer_id in layers}
        for edge in edges_element.findall("edge"):
            source, source_port = self._int(edge, "from-layer"), self._int(edge, "from-port")
            target, target_port = self._int(edge, "to-layer"), self._int(edge, "to-port")
            if source not in layers or target not in layers:
                raise self.fail(f"edge {source}:{source_port} -> {target}:{target_port} names a missing layer")
            incoming[target][target_port] = (source, source_port)

        unknown = sorted(
            {f"{l.get('type')}-{l.get('version')}" for l in layers.values()
             if l.get("type") != "Result" and (l.get("type"), l.get("version")) not in ALL_OPS}
        )
        if unknown:
            raise self.fail(f"unsupported layer types: {', '.join(unknown)}")

        produced: dict[tuple[int, int], Value] = {}
        parameters: list[tuple[int, Node]] = []
        outputs: list[tuple[int, Value]] = []
        for layer_id in self._topological(layers, incoming):
            layer = layers[layer_id]
            ports = incoming[layer_id]
            inputs: list[Value] = []
            for port in sorted(ports):
                if ports[port] not in produced:
                    raise self.fail(f"layer {layer_id} reads port {ports[port]} that no layer produces")
                inputs.append(produced[ports[port]])
            if layer.get("type") == "Result":
                if len(inputs) != 1:
                    raise self.fail(f"Result layer {layer_id} must have exactly one input")
                names = unescape_names(layer.get("output_names", ""))
                for tensor_name in names:
                    if tensor_name not in inputs[0].names:
                        inputs[0].names.append(tensor_name)
                outputs.append((layer_id, inputs[0]))
                continue
            node = self._make_node(layer, inputs)
            output_ports = layer.find("output")
            port_elements = output_ports.findall("port") if output_ports is not None else []
            if len(port_elements) != len(node.outputs):
                raise self.fail(
                    f"layer {layer.get('name')!r} ({node.op.type}) declares {len(port_elements)} outputs, "
                    f"the op has {len(node.outputs)}"
                )
            for value, port_element in zip(node.outputs, port_elements):
                try:
                    value.type = _merge_declared_type(value.type, port_element)
                except ValueError:
                    raise self.fail(f"layer {layer.get('name')!r}: a <dim> of output port {port_element.get('id')} is not an integer") from None
                value.names = unescape_names(port_element.get("names", ""))
                produced[(layer_id, self._int(port_element, "id"))] = value
            if node.op.type == "Parameter":
                parameters.append((layer_id, node))

        return Graph(
            [node for _, node in sorted(parameters, key=lambda p: p[0])],
            [value for _, value in sorted(outputs, key=lambda o: o[0])],
            name,
        )

    def _make_node(self, layer: ET.Element, inputs: list[Value]) -> Node:
        op = ALL_OPS[(layer.get("type"), layer.get("version"))]
        name = layer.get("name", "")
        data = layer.find("data")
        attributes = dict(data.attrib) if data is not None else {}
        rt_element = layer.find("rt_info")
        rt_info = {
            a.get("name", ""): {k: v for k, v in a.attrib.items() if k != "name"}
            for a in (rt_element.findall("attribute") if rt_element is not None else [])
        }
        if op is Const:
            return self._make_const(name, attributes, rt_info)
        values = {}
        for attr in op.attrs:
            if attr.name in attributes:
                try:
                    values[attr.name] = parse_attr(attr, attributes[attr.name])
                except ValueError as error:
                    raise self.fail(f"layer {name!r} ({op.type}): bad attribute {attr.name}: {error}") from None
            elif attr.default is REQUIRED:
                raise self.fail(f"layer {name!r} ({op.type}): missing attribute {attr.name!r}")
        bodies = {}
        for child in layer:
            if child.tag.endswith("body"):
                bodies[child.tag] = self.read_body(child, child.tag)
        try:
            if bodies:
                from converter.serialize.bodies import make_control_node  # control flow only

                node = make_control_node(op, inputs, values, name, bodies, layer)
            else:
                node = op.node(*inputs, name=name, **values)
        except (ValueError, TypeError, IndexError, KeyError, ArithmeticError) as error:
            raise self.fail(f"layer {name!r} ({op.type}): {type(error).__name__}: {error}") from None
        node.rt_info = rt_info
        return node

    def _make_const(self, name: str, attributes: dict[str, str], rt_info: dict[str, dict[str, str]]) -> Node:
        try:
            element_type = ElementType(attributes["element_type"])
            shape = parse_partial_shape(attributes.get("shape", ""))
            offset, size = int(attributes["offset"]), int(attributes["size"])
        except (KeyError, ValueError) as error:
            raise self.fail(f"Const layer {name!r}: bad or missing attribute ({error})") from None
        if not shape.is_static:
            raise self.fail(f"Const layer {name!r}: shape must be static")
        count = math.prod(shape.static)  # exact (an int64 product wraps); no element is narrower than a bit
        if count > 8 * self.weights.size:
            raise InvalidModelError(f"{self.bin_source}: Const layer {name!r} of shape {shape} holds {count} elements, more than the file's {self.weights.size} bytes can")
        expected = element_type.storage_bytes(int(np.prod(shape.static, dtype=np.int64)))
        if size != expected:
            raise self.fail(f"Const layer {name!r}: size {size} does not match {element_type.value}{shape} ({expected} bytes)")
        if offset < 0 or offset + size > self.weights.size:
            raise InvalidModelError(
                f"{self.bin_source}: too short for Const layer {name!r}: needs bytes "
                f"[{offset}, {offset + size}), the file has {self.weights.size}"
            )
        if element_type.bitwidth == 4:  # packed two to a byte in the file, a byte each in memory
            array = unpack_nibbles(self.weights[offset : offset + size], element_type.numpy, shape.static)
        else:
            array = self.weights[offset : offset + size].view(element_type.numpy).reshape(shape.static)
        node = Node(Const, [], {"value": array}, name, rt_info)
        node.outputs = []
        set_output_types(node)
        return node

    def _topological(self, layers: dict[int, ET.Element], incoming: dict[int, dict[int, tuple[int, int]]]) -> list[int]:
        order: list[int] = []
        state: dict[int, int] = {}
        for root in sorted(layers):
            stack = [(root, False)]
            while stack:
                layer_id, done = stack.pop()
                if done:
                    state[layer_id] = 2
                    order.append(layer_id)
                    continue
                if state.get(layer_id) == 2:
                    continue
                if state.get(layer_id) == 1:
                    raise self.fail(f"the graph has a cycle through layer {layer_id}")
                state[layer_id] = 1
                stack.append((layer_id, True))
                for port in sorted(incoming[layer_id], reverse=True):
                    source = incoming[layer_id][port][0]
                    if state.get(source) != 2:
                        if state.get(source) == 1:
                            raise self.fail(f"the graph has a cycle through layer {source}")
                        stack.append((source, False))
        return order

    def _int(self, element: ET.Element, key: str) -> int:
        try:
            return int(element.get(key, ""))
        except ValueError:
            raise self.fail(f"<{element.tag}> has no integer {key!r}") from None


def _merge_declared_type(inferred: TensorType, port: ET.Element) -> TensorType:
    """Keep inferred static dims; fill dynamic ones from the port's declared dims."""
    dims = [int(d.text or "-1") for d in port.findall("dim")]
    if inferred.shape.dims is None or len(dims) != len(inferred.shape.dims):
        return inferred
    merged = tuple(
        i if i is not None else (None if d < 0 else d) for i, d in zip(inferred.shape.dims, dims)
    )
    return TensorType(inferred.element_type, Shape(merged))
