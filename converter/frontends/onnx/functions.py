"""Ops without a handler whose ONNX schema defines a function body get expanded.

Many ONNX ops (Celu, LayerNormalization, Range, ...) are defined as a function
of simpler ops. When irforge has no handler for such an op, the body from the
installed onnx package — for the model's opset, with the node's attributes and,
for context-dependent functions, its input types — is converted instead. The
onnx package (its schema registry) is imported only when a model needs this.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from converter.frontends.onnx import proto
from converter.ir.graph import Value

if TYPE_CHECKING:
    from onnx.defs import OpSchema


@functools.cache
def _schema(op_type: str, opset: int) -> OpSchema | None:
    from onnx import defs

    try:
        return defs.get_schema(op_type, opset, "")
    except defs.SchemaError:
        return None


def can_expand(op_type: str, opset: int) -> bool:
    schema = _schema(op_type, opset)
    return schema is not None and (schema.has_function or schema.has_context_dependent_function)


def function_body(node: proto.NodeProto, opset: int, inputs: list[Value | None]) -> proto.FunctionProto | None:
    """The FunctionProto defining `node` at `opset`, or None when there is none."""
    schema = _schema(node.op_type, opset)
    if schema is None:
        return None
    if schema.has_function:
        version = max(v for v in schema.function_opset_versions if v <= opset) if schema.function_opset_versions else opset
        return proto.FunctionProto.FromString(schema.get_function_with_opset_version(version))
    if schema.has_context_dependent_function:
        versions = [v for v in schema.context_dependent_function_opset_versions if v <= opset]
        version = max(versions) if versions else opset
        types = [_type_proto(value).SerializeToString() for value in inputs]
        payload = schema.get_context_dependent_function_with_opset_version(version, node.SerializeToString(), types)
        return proto.FunctionProto.FromString(payload) if payload else None
    return None


def bind_attributes(body: proto.FunctionProto, node: proto.NodeProto, opset: int) -> list[proto.NodeProto]:
    """The body's nodes with attribute references (`ref_attr_name`) replaced by the node's values,
    else the function's defaults, else the op schema's defaults."""
    given = {a.name: a for a in node.attribute}
    defaults = _schema_defaults(node.op_type, opset)
    defaults.update({a.name: a for a in body.attribute_proto})
    bound = []
    for inner in body.node:
        copy = proto.NodeProto()
        copy.CopyFrom(inner)
        del copy.attribute[:]
        for attribute in inner.attribute:
            if not attribute.ref_attr_name:
                copy.attribute.append(attribute)
                continue
            source = given.get(attribute.ref_attr_name) or defaults.get(attribute.ref_attr_name)
            if source is None:
                continue  # not given and no default: the inner op's own default applies
            replacement = proto.AttributeProto()
            replacement.CopyFrom(source)
            replacement.name = attribute.name
            copy.attribute.append(replacement)
        bound.append(copy)
    return bound


def _schema_defaults(op_type: str, opset: int) -> dict[str, proto.AttributeProto]:
    schema = _schema(op_type, opset)
    if schema is None:
        return {}
    return {
        name: proto.as_ours(attribute.default_value)
        for name, attribute in schema.attributes.items()
        if attribute.default_value.name  # an unset default is an empty AttributeProto
    }


def body_opset(body: proto.FunctionProto, fallback: int) -> int:
    for entry in body.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return entry.version
    return fallback


def _type_proto(value: Value | None) -> proto.TypeProto:
    from converter.frontends.onnx.tensors import ONNX_ELEMENT_TYPES

    if value is None:
        return proto.TypeProto()
    dims = value.shape.dims
    return proto.tensor_type(ONNX_ELEMENT_TYPES[value.element_type], None if dims is None else list(dims))
