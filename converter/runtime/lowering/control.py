"""Lowerings for If-8 and Loop-5 to ONNX If and Loop.

ONNX subgraphs read outer tensors by name, so a body Parameter simply takes the
ONNX name of the node input it is fed from. Each body is lowered with its own
context whose names carry a unique scope prefix, keeping names unique across
the whole model.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType, Shape
from converter.ops import control as ops
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, LoweringContext, LoweringFn

INT64 = onnx.TensorProto.INT64
BOOL = onnx.TensorProto.BOOL
INT64_MAX = int(np.iinfo(np.int64).max)


class BodyContext(LoweringContext):
    """A lowering context for one subgraph: names are prefixed with a scope unique in the model."""

    def __init__(self, scope: str):
        super().__init__()
        self.scope = scope

    def fresh(self, prefix: str = "t") -> str:
        return f"{self.scope}/{super().fresh(prefix)}"


def _value_info(name: str, value: Value) -> onnx.ValueInfoProto:
    dims = value.shape.dims
    return helper.make_tensor_value_info(name, ONNX_ELEMENT_TYPE[value.element_type], None if dims is None else list(dims))


def _lower_body(
    ctx: LoweringContext,
    body: Graph,
    names: dict[int, str],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[Value],
    prelude: list[onnx.NodeProto] | None = None,
) -> tuple[onnx.GraphProto, BodyContext]:
    """Lower `body` with its parameters already named in `names`; graph outputs are `outputs` (body values)."""
    from converter.runtime.lowering import lower_graph  # the package imports this module

    body_ctx = BodyContext(ctx.fresh("body"))
    body_ctx.nodes.extend(prelude or [])
    lower_graph(Graph(body.parameters, outputs, body.name), body_ctx, names)
    output_infos = []
    for value in outputs:
        name = body_ctx.emit1("Identity", [names[id(value)]])
        output_infos.append(_value_info(name, value))
    graph = helper.make_graph(body_ctx.nodes, body_ctx.fresh("graph"), inputs, output_infos, body_ctx.initializers)
    return graph, body_ctx


def lower_if(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    branches = {}
    for key, prefix in (("then_body", "then"), ("else_body", "else")):
        body = node.bodies[key]
        names = {id(p.outputs[0]): inputs[external] for p, external in zip(body.parameters, node.attrs[f"{prefix}_inputs"])}
        branches[key], _ = _lower_body(ctx, body, names, [], body.outputs)
    cond = inputs[0]
    if node.inputs[0].shape.dims != ():
        cond = ctx.emit1("Reshape", [cond, ctx.int64s([])])
    return ctx.emit("If", [cond], len(node.outputs), then_branch=branches["then_body"], else_branch=branches["else_body"])


# ---------------------------------------------------------------- Loop


def lower_loop(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    """OV Loop → ONNX Loop.

    Merged body parameters (with a back edge) become ONNX loop-carried values,
    invariant ones read the outer tensor by name, the current-iteration
    parameter is ONNX's iteration number. Every OV output that is not the last
    value of a loop-carried result becomes an ONNX scan output, from which the
    last slice or the concatenation along `axis` is rebuilt.
    """
    body = node.bodies["body"]
    attrs = node.attrs
    names: dict[int, str] = {}
    body_ctx_scope = ctx.fresh("loop")
    iteration_name = f"{body_ctx_scope}/iteration"
    condition_name = f"{body_ctx_scope}/condition"
    carried = [i for i, r in enumerate(attrs["back_edges"]) if r != -1]
    for index, parameter in enumerate(body.parameters):
        value = parameter.outputs[0]
        if index == attrs["current_iteration"]:
            names[id(value)] = iteration_name  # cast below if the body wants another type
        elif index in carried:
            names[id(value)] = f"{body_ctx_scope}/carried_{index}"
        else:
            names[id(value)] = inputs[attrs["body_inputs"][index]]

    final_of_result = {attrs["back_edges"][i]: k for k, i in enumerate(carried)}
    scans: list[int] = []  # body results given out per iteration
    for result, axis, *_ in attrs["outputs"]:
        if (axis is not ops.CONCAT_NONE or result not in final_of_result) and result not in scans:
            scans.append(result)

    body_outputs = [_condition_output(body, attrs)] + [body.outputs[attrs["back_edges"][i]] for i in carried]
    body_outputs += [body.outputs[r] for r in scans]
    body_inputs = [helper.make_tensor_value_info(iteration_name, INT64, []), helper.make_tensor_value_info(condition_name, BOOL, [])]
    body_inputs += [_value_info(names[id(body.parameters[i].outputs[0])], body.parameters[i].outputs[0]) for i in carried]

    iteration_value = body.parameters[attrs["current_iteration"]].outputs[0] if attrs["current_iteration"] != -1 else None
    pre_nodes = _iteration_cast(iteration_value, names, iteration_name)
    if body_outputs[0] is None:
        body_outputs[0] = _condition_passthrough(names, condition_name)
    graph, _ = _lower_body(ctx, body, names, body_inputs, body_outputs, pre_nodes)  # type: ignore[arg-type]

    trip_count = _trip_count(ctx, node, inputs[0])
    condition = inputs[1]
    if node.inputs[1].shape.dims != ():
        condition = ctx.emit1("Reshape", [condition, ctx.int64s([])])
    initial = [inputs[attrs["body_inputs"][i]] for i in carried]
    results = ctx.emit("Loop", [trip_count, condition, *initial], len(carried) + len(scans), body=graph)
    finals, scanned = results[: len(carried)], dict(zip(scans, results[len(carried) :]))

    outputs = []
    for result, axis, start, end, stride, part_size in attrs["outputs"]:
        if axis is ops.CONCAT_NONE:
            if result in final_of_result:
                outputs.append(finals[final_of_result[result]])
            else:
                last = ctx.emit1("Gather", [scanned[result], ctx.int64s([-1])], axis=0)
                outputs.append(ctx.emit1("Squeeze", [last, ctx.int64s([0])]))
            continue
        if (start, end, stride, part_size) != (0, -1, 1, 1):
            raise NotImplementedError("Loop outputs sliced with start/end/stride/part_size are not lowered to ONNX")
        outputs.append(_concatenate(ctx, scanned[result], axis, body.outputs[result]))
    return outputs


def _condition_output(body: Graph, attrs: dict) -> Value | None:
    index = attrs["condition_output"]
    return None if index == -1 else body.outputs[index]


def _condition_passthrough(names: dict[int, str], condition_name: str) -> Value:
    """A stand-in value named like the body's incoming condition."""
    from converter.ops.core import parameter

    stand_in = parameter(condition_name, ElementType.boolean, Shape.of())
    names[id(stand_in.outputs[0])] = condition_name
    return stand_in.outputs[0]


def _iteration_cast(value: Value | None, names: dict[int, str], iteration_name: str) -> list[onnx.NodeProto]:
    """ONNX's iteration number is int64 []; cast/reshape it when the body parameter differs."""
    if value is None:
        return []
    nodes = []
    current = iteration_name
    if value.element_type is not ElementType.i64:
        cast = f"{iteration_name}/cast"
        nodes.append(helper.make_node("Cast", [current], [cast], to=ONNX_ELEMENT_TYPE[value.element_type]))
        current = cast
    if value.shape.dims is not None and len(value.shape.dims) == 1:
        shaped = f"{iteration_name}/as_vector"
        axes = f"{iteration_name}/axes"
        nodes.append(helper.make_node("Constant", [], [axes], value=helper.make_tensor(axes, INT64, [1], [0])))
        nodes.append(helper.make_node("Unsqueeze", [current, axes], [shaped]))
        current = shaped
    names[id(value)] = current
    return nodes


def _trip_count(ctx: LoweringContext, node: Node, name: str) -> str:
    """OV: a negative trip count means no limit; ONNX: an empty M does."""
    value = node.inputs[0]
    array = value.const
    if array is not None and int(array.reshape(-1)[0]) < 0:
        return ""
    count = name if value.element_type is ElementType.i64 else ctx.emit1("Cast", [name], to=INT64)
    if value.shape.dims != ():
        count = ctx.emit1("Reshape", [count, ctx.int64s([])])
    negative = ctx.emit1("Less", [count, ctx.constant(np.array(0, dtype=np.int64))])
    return ctx.emit1("Where", [negative, ctx.constant(np.array(INT64_MAX, dtype=np.int64)), count])


def _concatenate(ctx: LoweringContext, stacked: str, axis: int, value: Value) -> str:
    """[iterations, *S] → S's axis `axis` holding every iteration's part in turn."""
    rank = value.shape.rank
    if rank is None:
        raise NotImplementedError("Loop concatenated outputs of unknown rank are not lowered to ONNX")
    axis = axis + rank if axis < 0 else axis
    order = list(range(1, axis + 1)) + [0] + list(range(axis + 1, rank + 1))
    moved = ctx.emit1("Transpose", [stacked], perm=order) if axis else stacked
    shape = ctx.emit1("Shape", [moved])
    pieces = []
    if axis:
        pieces.append(ctx.emit1("Slice", [shape, ctx.int64s([0]), ctx.int64s([axis])]))
    pieces.append(ctx.int64s([-1]))
    if axis + 2 <= rank:
        pieces.append(ctx.emit1("Slice", [shape, ctx.int64s([axis + 2]), ctx.int64s([rank + 1])]))
    target = ctx.emit1("Concat", pieces, axis=0) if len(pieces) > 1 else pieces[0]
    return ctx.emit1("Reshape", [moved, target])


LOWERINGS: dict[OpSpec, LoweringFn] = {ops.If: lower_if, ops.Loop: lower_loop}
