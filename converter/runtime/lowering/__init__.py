"""Lower an IR graph to an ONNX model that onnxruntime runs.

One lowering function per IR op, in one module per op family (the same
families as `converter.ops`). Each table is listed here by hand.
"""

from __future__ import annotations

import onnx
from onnx import helper

from converter.ir.graph import Graph, Value
from converter.ops.spec import OpSpec
from converter.runtime.lowering import (
    activation,
    attention,
    control,
    conv,
    core,
    detection,
    elementwise,
    indexing,
    matmul,
    misc,
    normalization,
    pooling,
    quantization,
    reduction,
    resize,
    rnn,
    shape,
    vision_signal,
)
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, ONNX_OPSET, LoweringContext, LoweringFn

FAMILIES = (core, elementwise, activation, conv, pooling, normalization, matmul, reduction, shape, indexing, resize, rnn, attention, control, misc, vision_signal, detection, quantization)

LOWERINGS: dict[OpSpec, LoweringFn] = {op: fn for family in FAMILIES for op, fn in family.LOWERINGS.items()}


class LoweringError(Exception):
    """An IR op has no ONNX lowering (the onnxruntime backend cannot run it)."""


def value_info(name: str, value: Value) -> onnx.ValueInfoProto:
    dims = value.shape.dims
    return helper.make_tensor_value_info(name, ONNX_ELEMENT_TYPE[value.element_type], None if dims is None else list(dims))


def lower_graph(graph: Graph, ctx: LoweringContext, names: dict[int, str]) -> list[str]:
    """Emit the nodes of `graph` into ctx; `names` maps id(Value) -> ONNX name."""
    missing = sorted({f"{n.op.type}-{n.op.version}" for n in graph.nodes() if n.op not in LOWERINGS and n.op.type not in ("Parameter", "Const")})
    if missing:
        raise LoweringError(f"no ONNX lowering for: {', '.join(missing)}")
    for node in graph.nodes():
        if node.op.type == "Parameter":
            continue
        if node.op.type == "Const":
            names[id(node.outputs[0])] = ctx.constant(node.attrs["value"])
            continue
        outputs = LOWERINGS[node.op](ctx, node, [names[id(v)] for v in node.inputs])
        for value, onnx_name in zip(node.outputs, outputs):
            names[id(value)] = onnx_name
    return [names[id(v)] for v in graph.outputs]


def lower_to_onnx(graph: Graph) -> tuple[onnx.ModelProto, list[str], list[str]]:
    """Return (model, input names, output names); names follow the graph's order."""
    ctx = LoweringContext()
    names: dict[int, str] = {}
    input_names: list[str] = []
    inputs = []
    for index, parameter in enumerate(graph.parameters):
        value = parameter.outputs[0]
        name = f"input_{index}"
        names[id(value)] = name
        input_names.append(name)
        inputs.append(value_info(name, value))
    produced = lower_graph(graph, ctx, names)
    outputs = []
    output_names = []
    for index, (value, onnx_name) in enumerate(zip(graph.outputs, produced)):
        name = f"output_{index}"
        ctx.nodes.append(helper.make_node("Identity", [onnx_name], [name]))
        output_names.append(name)
        outputs.append(value_info(name, value))
    onnx_graph = helper.make_graph(ctx.nodes, graph.name, inputs, outputs, ctx.initializers)
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)])
    model.ir_version = 10
    return model, input_names, output_names
