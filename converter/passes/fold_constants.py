"""fold_constants: evaluate nodes whose inputs are all constant.

Uses the op's numpy kernel, or runs the single node in onnxruntime when the op
has none. ShapeOf of a statically shaped tensor folds too. A result that would
grow the .bin (larger than `max_new_bytes` and than its inputs together, e.g. a
big Broadcast of a scalar) is left as it is, for the runtime to compute: when the output's
shape is known it is never evaluated at all, so a ConstantOfShape of 10^12 elements stays one op. So is OpenVINO's compressed-weight
pattern, `Const i8 → Convert f32 → Subtract / Multiply` (dequantized weights).
"""

from __future__ import annotations

import math

import numpy as np

from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType
from converter.ops.core import const
from converter.ops.spec import set_output_types

MAX_NEW_BYTES = 64 * 1024

COMPRESSED_WEIGHT_TYPES = frozenset(
    {ElementType.i8, ElementType.u8, ElementType.i16, ElementType.u16, ElementType.f8e4m3, ElementType.f8e5m2,
     ElementType.i4, ElementType.u4, ElementType.f4e2m1}
)


def fold_constants(graph: Graph, max_new_bytes: int = MAX_NEW_BYTES) -> Graph:
    mapping: dict[Value, Value] = {}
    users = graph.users()
    for node in graph.nodes():
        if node.op.type in ("Parameter", "Const") or node.bodies or "decompression" in node.rt_info:
            continue
        inputs = [mapping.get(v, v) for v in node.inputs]
        if any(new is not old for new, old in zip(inputs, node.inputs)):
            node.inputs = inputs
            set_output_types(node)  # constant inputs may make output shapes static
        if _decompresses_weight(node, users):
            continue
        if node.op.type == "ShapeOf" and inputs[0].shape.is_static:
            folded = [np.array(inputs[0].shape.static, dtype=node.outputs[0].element_type.numpy)]
        elif inputs and all(v.const is not None for v in inputs):
            arrays = [v.const for v in inputs]
            input_bytes = sum(a.nbytes for a in {id(a): a for a in arrays}.values())
            declared = _declared_bytes(node)
            if declared is None:
                declared = _value_dependent_bytes(node, arrays)
            if declared is not None and declared > max_new_bytes and declared > input_bytes:
                continue  # known before evaluating: a fill or broadcast of 10^12 elements is never materialized
            folded = evaluate(node, inputs, arrays)
            output_bytes = sum(a.nbytes for a in folded)
            if output_bytes > max_new_bytes and output_bytes > input_bytes:
                continue
        else:
            continue
        for value, array in zip(node.outputs, folded):
            mapping[value] = const(_as_declared(node, value, array), name=node.name)
    graph.replace_values(mapping)
    return graph


def _declared_bytes(node: Node) -> int | None:
    """Bytes of the node's outputs as their inferred types declare them (None: not all static)."""
    total = 0
    for value in node.outputs:
        if not value.shape.is_static:
            return None
        total += math.prod(value.shape.static) * value.element_type.numpy.itemsize
    return total


def _value_dependent_bytes(node: Node, arrays: list[np.ndarray]) -> int | None:
    """Output bytes of the ops whose output size their input values decide, computed from those
    values (exactly, in Python integers) so that, e.g., Range(0, 10^12, 1) is never evaluated."""
    try:
        itemsize = node.outputs[0].element_type.numpy.itemsize
    except (ValueError, TypeError, AttributeError):
        itemsize = 8
    try:
        if node.op.type == "Range" and len(arrays) == 3:
            start, stop, step = (float(np.asarray(a).reshape(-1)[0]) for a in arrays)
            if step == 0 or not all(math.isfinite(v) for v in (start, stop, step)):
                return None
            return max(0, math.ceil((stop - start) / step)) * itemsize
        if node.op.type == "Broadcast" and len(arrays) >= 2:
            target = math.prod(abs(int(d)) for d in np.asarray(arrays[1]).reshape(-1))
            return max(target, arrays[0].size) * itemsize  # at least the target's size
        if node.op.type == "Tile" and len(arrays) == 2:
            repeats = [abs(int(r)) for r in np.asarray(arrays[1]).reshape(-1)]
            return math.prod(repeats) * max(arrays[0].nbytes, itemsize)
    except (ValueError, OverflowError, IndexError):
        return None
    return None


def _decompresses_weight(node: Node, users: dict[Value, list[tuple[Node, int]]]) -> bool:
    """A Convert from a small integer (or float8) Const to a float type whose only readers are
    Subtract / Multiply: the dequantization of a compressed weight, kept as OpenVINO keeps it."""
    if node.op.type != "Convert" or not node.attrs["destination_type"].is_float:
        return False
    source = node.inputs[0]
    if source.producer.op.type != "Const" or source.element_type not in COMPRESSED_WEIGHT_TYPES:
        return False
    readers = users.get(node.outputs[0], [])
    return bool(readers) and all(reader.op.type in ("Subtract", "Multiply") for reader, _ in readers)


def evaluate(node: Node, inputs: list[Value], arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Outputs of `node` on constant inputs: its kernel, else onnxruntime on the lone node."""
    if node.op.kernel is not None:
        return [np.asarray(a) for a in node.op.kernel(arrays, node.attrs)]
    from converter.runtime.onnxruntime_backend import OnnxRuntimeExecutable

    clone = Node(node.op, inputs, node.attrs, node.name)
    set_output_types(clone)
    return OnnxRuntimeExecutable(Graph([], clone.outputs, "fold"))([])


def _as_declared(node: Node, value: Value, array: np.ndarray) -> np.ndarray:
    dtype = value.element_type.numpy
    if array.dtype != dtype:
        array = array.astype(dtype)
    dims = value.shape.dims
    if dims is not None and (len(dims) != array.ndim or any(d is not None and d != a for d, a in zip(dims, array.shape))):
        raise ValueError(f"{node}: folded to shape {array.shape}, but its output is declared {value.shape}")
    return np.ascontiguousarray(array).reshape(array.shape)  # ascontiguousarray makes 0-d arrays 1-d
