"""`--input NAME[shape]{type}` and `--batch N`: an input's shape and element type set, the graph's
types inferred again from there (an op that cannot take the new shape is named in the error)."""

from __future__ import annotations

from converter.errors import ConverterError
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType, Shape
from converter.ops.core import Convert, parameter
from converter.ops.spec import set_output_types
from converter.prepare.grammar import InputRequest


def describe(dims) -> str:
    return "[?]" if dims is None else "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def set_input_shape(node: Node, request: InputRequest, source: str) -> None:
    """The Parameter `node` takes the shape of `request` (its rank must agree with the model's)."""
    if request.shape is None:
        return
    old = node.outputs[0].shape.dims
    if old is not None and len(old) != len(request.shape):
        raise ConverterError(
            f"{source}: --input {request.text()}: rank {len(request.shape)}, but input {request.name!r} has rank {len(old)} {describe(old)}"
        )
    node.attrs["shape"] = Shape(tuple(request.shape))
    set_output_types(node)


def set_batch(graph: Graph, batch: int, batch_axes: dict[str, int], source: str) -> None:
    """Every input's batch dim (`batch_axes[name]`, else 0) set to `batch`; scalars have none."""
    for node in graph.parameters:
        dims = node.outputs[0].shape.dims
        if dims is None:
            raise ConverterError(f"{source}: --batch {batch}: input {node.name!r} has an unknown rank; give its shape with --input")
        if not dims:
            continue
        axis = batch_axes.get(node.name, 0)
        node.attrs["shape"] = Shape(tuple(batch if i == axis else d for i, d in enumerate(dims)))
        set_output_types(node)


def retype_input(graph: Graph, node: Node, element_type: str) -> Node:
    """The application feeds `element_type`: a new Parameter of that type, converted to the model's."""
    wanted = ElementType(element_type)
    value = node.outputs[0]
    if wanted == value.element_type:
        return node
    new = parameter(node.name, wanted, value.shape)
    new.rt_info = dict(node.rt_info)
    converted = Convert(new.outputs[0], destination_type=value.element_type, name=f"{node.name}/convert")
    names = list(value.names)
    graph.replace_values({value: converted})
    converted.names.clear()
    new.outputs[0].names[:] = names
    graph.parameters[graph.parameters.index(node)] = new
    return new


def infer_again(graph: Graph, changed: str, source: str) -> None:
    """Types re-inferred through the whole graph after its inputs changed. An If's bodies take the
    types of what their Parameters read; a Loop's body keeps its own (a carried value may change
    shape from one iteration to the next)."""
    for node in graph.nodes():
        if node.op.type in ("Parameter", "Const"):
            continue
        try:
            if node.op.type == "If":
                _retype_if_bodies(node, changed, source)
            set_output_types(node)
        except ConverterError as error:
            raise ConverterError(f"{source}: {changed}: node {node.name!r} ({node.op.type}) does not take it: {error}") from None
        except (ValueError, IndexError, TypeError, KeyError) as error:
            inputs = ", ".join(describe(v.shape.dims) for v in node.inputs)
            raise ConverterError(f"{source}: {changed}: node {node.name!r} ({node.op.type}) does not take inputs {inputs}: {error}") from None
    graph.forget()


def _retype_if_bodies(node: Node, changed: str, source: str) -> None:
    for key in ("then", "else"):
        body = node.bodies[f"{key}_body"]
        retyped = False
        for parameter_node, port in zip(body.parameters, node.attrs[f"{key}_inputs"]):
            outer = node.inputs[port].type
            if parameter_node.outputs[0].type != outer:
                parameter_node.attrs["shape"] = outer.shape
                parameter_node.attrs["element_type"] = outer.element_type
                set_output_types(parameter_node)
                retyped = True
        if retyped:
            infer_again(body, changed, source)


def static_count(value: Value) -> int | None:
    dims = value.shape.dims
    if dims is None or any(d is None for d in dims):
        return None
    count = 1
    for d in dims:
        count *= d
    return count
