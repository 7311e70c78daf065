"""IR → a standard ONNX model (`irforge export-onnx`).

Each IR op is lowered by the runtime's lowering (`converter.runtime.lowering`, one function per
OpenVINO op, the exact inverse of its semantics: MVN, Gelu, HSwish, Interpolate, auto_pad
convolutions, NormalizeL2, DetectionOutput... become ONNX subgraphs), so what onnxruntime runs
when it executes an IR and what is exported are the same model. This module adds what a file
for other tools needs: the IR's own input and output names, symbolic dims (`name_dimK`) for the
dynamic dims of the inputs (an output dim proven equal to one gets its name),
decompressed f16 weights as f16 initializers + Cast (the IR's
`Const f16 → Convert f32`; `fold_decompression=True` stores them as f32 instead), one check of
every op before lowering (all unsupported ops reported at once), and `onnx.checker` with
full_check. The default-domain opset is `ONNX_OPSET` (21), ir_version 10.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnx import helper

from converter.errors import InvalidModelError, UnsupportedOpsError
from converter.ir.graph import Graph, Node, Value
from converter.ops.core import const
from converter.runtime.lowering import LOWERINGS, lower_graph
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, ONNX_OPSET, LoweringContext

IR_VERSION = 10
EXTERNAL_DATA_BYTES = 2**31 - 2**20
"""Past this many bytes of initializers the weights go to an external data file (protobuf's 2 GB limit)."""


def unsupported_ops(graph: Graph) -> dict[str, list[str]]:
    """IR ops (bodies included) without an ONNX lowering: {"Type-opsetN": [node names]}."""
    missing: dict[str, list[str]] = {}
    for node in _all_nodes(graph):
        if node.op.type not in ("Parameter", "Const") and node.op not in LOWERINGS:
            missing.setdefault(f"{node.op.type}-{node.op.version}", []).append(node.name)
    return missing


def _all_nodes(graph: Graph) -> Iterator[Node]:
    for node in graph.nodes():
        yield node
        for body in node.bodies.values():
            yield from _all_nodes(body)


def export_onnx(graph: Graph, source: str = "<graph>", fold_decompression: bool = False) -> onnx.ModelProto:
    """The graph as an ONNX model that passes `onnx.checker.check_model(full_check=True)`."""
    missing = unsupported_ops(graph)
    if missing:
        raise UnsupportedOpsError(source, missing, "no ONNX lowering for these IR ops")
    unranked = list(dict.fromkeys(v.name for v in [*graph.inputs, *graph.outputs] if v.shape.rank is None))
    if unranked:
        raise InvalidModelError(f"{source}: the rank of {', '.join(unranked)} is unknown; an ONNX model's inputs and outputs need one")
    if fold_decompression:
        graph = _fold_decompression(graph.copy())
    taken: set[str] = set()
    input_names = [_unique(_interface_name(p.outputs[0], "input", i), taken) for i, p in enumerate(graph.parameters)]
    output_names = [_unique(_interface_name(v, "output", i), taken) for i, v in enumerate(graph.outputs)]
    ctx = _ExportContext(taken)
    names: dict[int, str] = {}
    for parameter, name in zip(graph.parameters, input_names):
        names[id(parameter.outputs[0])] = name
    produced = lower_graph(graph, ctx, names)
    for value, onnx_name, name in zip(graph.outputs, produced, output_names):
        ctx.nodes.append(helper.make_node("Identity", [onnx_name], [name], name=f"{name}/result"))
    _drop_unused_initializers(ctx)
    dim_names = _dim_names(graph, input_names)
    inputs = [_value_info(name, p.outputs[0], dim_names) for p, name in zip(graph.parameters, input_names)]
    outputs = [_value_info(name, value, dim_names) for value, name in zip(graph.outputs, output_names)]
    onnx_graph = helper.make_graph(ctx.nodes, graph.name, inputs, outputs, ctx.initializers)
    model = helper.make_model(
        onnx_graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)], producer_name="irforge", ir_version=IR_VERSION
    )
    return model


def save_onnx(model: onnx.ModelProto, path: str | os.PathLike[str], check: bool = True) -> Path:
    """Write the model (weights as external data `NAME.onnx.data` past 2 GB); check it first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    large = _initializer_bytes(model.graph) > EXTERNAL_DATA_BYTES
    if check and not large:
        onnx.checker.check_model(model, full_check=True)
    temporary = path.with_name(path.name + ".partial")
    if large:
        onnx.save_model(model, temporary, save_as_external_data=True, all_tensors_to_one_file=True, location=path.name + ".data")
    else:
        onnx.save_model(model, temporary)
    os.replace(temporary, path)
    if check and large:
        onnx.checker.check_model(str(path), full_check=True)
    return path


def _initializer_bytes(graph: onnx.GraphProto) -> int:
    total = sum(len(t.raw_data) for t in graph.initializer)
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                total += _initializer_bytes(attribute.g)
    return total


def _dim_names(graph: Graph, input_names: list[str]) -> dict[tuple[Value, int], str]:
    """A symbolic name for every dynamic dim of the inputs (`NAME_dimK`), and the same name for
    an output dim proven equal to it (`simplify_shapes.dim_origins`: a batch dim in and out)."""
    from converter.passes.simplify_shapes import dim_origins

    origins = dim_origins(graph)
    by_origin: dict[object, str] = {}
    names: dict[tuple[Value, int], str] = {}
    for parameter, input_name in zip(graph.parameters, input_names):
        value = parameter.outputs[0]
        for axis, dim in enumerate(value.shape.dims or ()):
            if dim is None:
                names[(value, axis)] = f"{input_name}_dim{axis}"
                origin = (origins.get(value) or [None] * (axis + 1))[axis]
                if isinstance(origin, tuple):
                    by_origin.setdefault(origin, names[(value, axis)])
    for value in graph.outputs:
        for axis, origin in enumerate(origins.get(value) or ()):
            if isinstance(origin, tuple) and origin in by_origin and (value, axis) not in names:
                names[(value, axis)] = by_origin[origin]
    return names


def _value_info(name: str, value: Value, dim_names: dict[tuple[Value, int], str]) -> onnx.ValueInfoProto:
    dims = value.shape.dims
    shape = None if dims is None else [d if d is not None else dim_names.get((value, axis)) for axis, d in enumerate(dims)]
    return helper.make_tensor_value_info(name, ONNX_ELEMENT_TYPE[value.element_type], shape)


def _unique(name: str, taken: set[str]) -> str:
    candidate, suffix = name, 1
    while candidate in taken:
        candidate, suffix = f"{name}_{suffix}", suffix + 1
    taken.add(candidate)
    return candidate


def _interface_name(value: Value, kind: str, index: int) -> str:
    return value.names[0] if value.names else f"{kind}_{index}"


class _ExportContext(LoweringContext):
    """The lowering's fresh names (`t_1`, `conv_3`...) never take an input's or output's name."""

    def __init__(self, reserved: set[str]):
        super().__init__()
        self.reserved = reserved

    def fresh(self, prefix: str = "t") -> str:
        name = super().fresh(prefix)
        while name in self.reserved:
            name = super().fresh(prefix)
        return name


def _drop_unused_initializers(ctx: LoweringContext) -> None:
    """The lowering makes a constant for every IR Const, also those it then reads otherwise."""
    used: set[str] = set()

    def collect(nodes) -> None:  # type: ignore[no-untyped-def]
        for node in nodes:
            used.update(node.input)
            for attribute in node.attribute:
                if attribute.type == onnx.AttributeProto.GRAPH:
                    collect(attribute.g.node)
                    used.update(o.name for o in attribute.g.output)

    collect(ctx.nodes)
    ctx.initializers[:] = [t for t in ctx.initializers if t.name in used]


def _fold_decompression(graph: Graph) -> Graph:
    """`Const f16 → Convert(decompression) → f32` becomes one f32 Const (bodies included)."""
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        for body in node.bodies.values():
            _fold_decompression(body)
        if "decompression" in node.rt_info and node.op.type == "Convert" and node.inputs[0].const is not None:
            array = np.asarray(node.inputs[0].const).astype(node.outputs[0].element_type.numpy)
            mapping[node.outputs[0]] = const(array, name=node.name)
    graph.replace_values(mapping)
    return graph
