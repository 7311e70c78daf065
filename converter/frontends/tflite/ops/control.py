"""TFLite WHILE and IF → IR Loop-5 and If-8, their subgraphs converted as bodies.

WHILE(v...) runs `body` (a subgraph from the loop variables to their next values) while `cond`
(a subgraph from the loop variables to one bool) holds, and returns the last values. One Loop
does it: `cond` converted on the initial values outside is the Loop's execution condition; the
body is `body` converted on Parameters, then `cond` on its results (the condition output);
every variable has a back edge. A variable whose shape changes between iterations gets a
Parameter with those dims dynamic (the body is converted again until the types settle).

IF(c, v...) runs `then` or `else` on the values: the chosen subgraph inlined when the condition
is a constant, else an If whose bodies read every value.

Subgraphs take and give real values (a quantized tensor is carried as its real value, see
tensors.py), so bodies need no dequantization at their edges.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.tflite.model import Handler, TFLiteContext, call_subgraph
from converter.frontends.tflite.ops.common import i64
from converter.frontends.tflite.tensors import Unsupported
from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, TensorType
from converter.ops import control
from converter.ops.core import const, parameter
from converter.ops.shape import Reshape

MAX_ATTEMPTS = 6  # body conversions per loop while loop-carried shapes are relaxed


def _scalar_condition(condition: Value, what: str) -> Value:
    if condition.element_type is not ElementType.boolean:
        raise Unsupported(f"{what} is {condition.element_type.value}, not bool")
    dims = condition.shape.dims
    if dims is not None and any(d not in (1, None) for d in dims):
        raise Unsupported(f"{what} has shape {condition.shape}, not one element")
    if condition.shape.rank == 0:
        return condition
    if condition.const is not None:
        return const(np.asarray(condition.const).reshape(()))
    return Reshape(condition, i64([]), special_zero=False)


def _constant_condition(condition: Value) -> bool | None:
    if condition.const is None or np.asarray(condition.const).size != 1:
        return None
    return bool(np.asarray(condition.const).reshape(-1)[0])


def _parameters(types: Sequence[TensorType], prefix: str) -> list[Value]:
    return [parameter(f"{prefix}/{i}", t.element_type, t.shape).outputs[0] for i, t in enumerate(types)]


def WHILE(ctx: TFLiteContext, *initial: Value, cond_subgraph_index: int = 0, body_subgraph_index: int = 0) -> list[Value]:
    first = _scalar_condition(call_subgraph(ctx, cond_subgraph_index, initial)[0], "the loop condition")
    if len(ctx.output_tensors) != len(initial):
        raise Unsupported(f"WHILE with {len(initial)} loop variables and {len(ctx.output_tensors)} outputs")
    if _constant_condition(first) is False:
        return list(initial)  # the body never runs

    types = [v.type for v in initial]
    for _ in range(MAX_ATTEMPTS):
        parameters = _parameters(types, f"{ctx.node_name}/body")
        results = call_subgraph(ctx, body_subgraph_index, parameters)
        if len(results) != len(initial):
            raise Unsupported(f"the loop body gives {len(results)} values for {len(initial)} loop variables")
        merged = [control.merge_types(t, r.type) for t, r in zip(types, results)]
        if any(r.element_type is not t.element_type for r, t in zip(results, types)):
            raise Unsupported("the loop body changes a loop variable's element type")
        if merged == types:
            break
        types = merged
    else:
        raise Unsupported("the loop variables' shapes do not settle")
    again = _scalar_condition(call_subgraph(ctx, cond_subgraph_index, results)[0], "the loop condition")
    body = Graph([p.producer for p in parameters], [again, *results], "body")
    count = len(initial)
    node = control.loop_node(
        const(np.array(-1, dtype=np.int64)),
        first,
        list(initial),
        body,
        body_inputs=list(range(count)),
        back_edges=[1 + i for i in range(count)],
        current_iteration=-1,
        condition_output=0,
        outputs=[(1 + i, control.CONCAT_NONE, 0, -1, 1, 1) for i in range(count)],
    )
    return list(node.outputs)


def IF(ctx: TFLiteContext, condition: Value, *values: Value, then_subgraph_index: int = 0, else_subgraph_index: int = 0) -> list[Value]:
    condition = _scalar_condition(condition, "the condition")
    chosen = _constant_condition(condition)
    if chosen is not None:
        return call_subgraph(ctx, then_subgraph_index if chosen else else_subgraph_index, values)
    bodies = []
    for index, name in ((then_subgraph_index, "then_body"), (else_subgraph_index, "else_body")):
        parameters = _parameters([v.type for v in values], f"{ctx.node_name}/{name}")
        results = call_subgraph(ctx, index, parameters)
        if len(results) != len(ctx.output_tensors):
            raise Unsupported(f"{name} gives {len(results)} values for {len(ctx.output_tensors)} outputs")
        bodies.append(Graph([p.producer for p in parameters], results, name))
    mapping = list(range(len(values)))
    node = control.if_node(condition, list(values), bodies[0], mapping, bodies[1], mapping)
    return list(node.outputs)


HANDLERS: dict[str, Handler] = {"WHILE": WHILE, "IF": IF}
GRID_PRESERVING: frozenset[str] = frozenset()
