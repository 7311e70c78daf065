"""fuse_linear: fold constant Multiply/Add chains into convolution and MatMul weights.

Rules, applied to a fixed point in one topological sweep per round:
- x - c → x + (-c) and x / c → x * (1/c) for float constants (so chains merge);
- (x * a) * b → x * (a·b) and (x + a) + b → x + (a+b);
- (x + b) * s → x * s + b·s (moves scales next to the convolution);
- conv(x, W) * s → conv(x, W·s) for a per-output-channel or scalar s, for
  Convolution, GroupConvolution, ConvolutionBackpropData and
  GroupConvolutionBackpropData; MatMul(x, W) * s likewise for s along W's columns;
- conv(x * s, W) → conv(x, W·s) for a per-input-channel or scalar s, the same four
  convolutions (exact with padding too: padded zeros stay zero), as a BatchNorm after
  a ReLU leaves it before the next convolution;
A rule fires only when the intermediate value has no other reader.
"""

from __future__ import annotations

import numpy as np

from converter.ir.graph import Graph, Node, Value
from converter.ir.types import Shape
from converter.ops.core import const
from converter.ops.elementwise import Add, Multiply
from converter.ops.spec import broadcast_dims, const_ints, normalize_axis
from converter.passes.patterns import Users, producer, single_use, split_constant

CONVOLUTIONS = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData")


def fuse_linear(graph: Graph) -> Graph:
    while _sweep(graph):
        pass
    return graph


def _sweep(graph: Graph) -> bool:
    users = graph.users()
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if mapping and not mapping.keys().isdisjoint(node.inputs):
            continue  # its inputs changed this round: look again next round
        replacement = _rewrite(node, users, graph)
        if replacement is not None:
            mapping[node.outputs[0]] = replacement
    graph.replace_values(mapping)
    return bool(mapping)


def _rewrite(node: Node, users: Users, graph: Graph) -> Value | None:
    kind = node.op.type
    if kind == "MatMul":
        return _absorb_input_affine(node, users, graph)
    if kind in ("Transpose", "Gather"):
        return _sink_affine(node, users, graph)
    if kind in CONVOLUTIONS:
        return _absorb_input_scale(node, users, graph)
    if kind not in ("Add", "Subtract", "Multiply", "Divide") or not node.outputs[0].element_type.is_float:
        return None
    split = split_constant(node)
    if split is None:
        return None
    x, c = split
    out = node.outputs[0]
    if kind == "Subtract" and node.inputs[1].const is not None:
        return Add(x, const(np.negative(c)), name=node.name)
    if kind == "Divide" and node.inputs[1].const is not None and np.all(c != 0):
        return Multiply(x, const((1.0 / c.astype(np.float64)).astype(c.dtype)), name=node.name)
    if kind not in ("Add", "Multiply") or not single_use(users, graph, x):
        return None
    inner = x.producer
    if inner.op.type == kind and (inner_split := split_constant(inner)) is not None:
        y, d = inner_split
        merged = np.add(c, d) if kind == "Add" else np.multiply(c, d)
        if _keeps_shape(y, merged, out):
            op = Add if kind == "Add" else Multiply
            return op(y, const(merged.astype(c.dtype)), name=node.name)
    if kind == "Multiply" and inner.op.type == "Add" and (inner_split := split_constant(inner)) is not None:
        y, bias = inner_split
        if _keeps_shape(y, c, out) and _keeps_shape(y, bias * c, out):
            return Add(Multiply(y, const(c), name=f"{node.name}/scale"), const((bias * c).astype(c.dtype)), name=node.name)
    if kind == "Multiply":
        return _scale_weights(inner, c, out)
    return None


def _absorb_input_affine(node: Node, users: Users, graph: Graph) -> Value | None:
    """MatMul(x · g, W) → MatMul(x, g·W); MatMul(x + b, W) → MatMul(x, W) + b·W.

    For g and b constant along the reduced (K) axis only, as LayerNorm's gamma and beta are
    before a projection. The new bias then merges with the projection's own (rule above).
    """
    source, weights = node.inputs
    if weights.const is None or node.attrs["transpose_a"] or not source.element_type.is_float:
        return None
    inner = producer(source, "Multiply", "Add")
    if inner is None or not single_use(users, graph, source) or (split := split_constant(inner)) is None:
        return None
    x, c = split
    rank = x.shape.rank
    if rank is None or rank < 2 or source.shape.dims != x.shape.dims:
        return None
    vector = _per_channel(c, x, axis=rank - 1)
    w = weights.const.astype(np.float64)
    if vector is None or w.ndim != 2:
        return None
    k_axis = 1 if node.attrs["transpose_b"] else 0
    if vector.size not in (1, w.shape[k_axis]):
        return None
    if inner.op.type == "Multiply":
        factor = vector.reshape((1, -1) if k_axis == 1 else (-1, 1))
        return node.op(x, const((w * factor).astype(weights.const.dtype)), name=node.name, **node.attrs)
    shift = np.broadcast_to(vector, (w.shape[k_axis],)) @ (w.T if k_axis == 1 else w)
    product = node.op(x, weights, name=f"{node.name}/matmul", **node.attrs)
    return Add(product, const(shift.astype(weights.const.dtype)), name=node.name)


def _absorb_input_scale(node: Node, users: Users, graph: Graph) -> Value | None:
    """conv(x * s, W) → conv(x, W · s over W's input-channel axis)."""
    source, weights = node.inputs[0], node.inputs[1].const
    inner = producer(source, "Multiply")
    if weights is None or inner is None or not source.element_type.is_float or not single_use(users, graph, source):
        return None
    split = split_constant(inner)
    if split is None:
        return None
    x, c = split
    vector = _per_channel(c, x, axis=1)
    if vector is None or x.shape.dims != source.shape.dims:
        return None
    kind = node.op.type
    # Input channels: axis 1 of Convolution [O, C, k…]; axis 0 of ConvolutionBackpropData [C, O, k…];
    # (G, C/G) axes of GroupConvolution [G, O/G, C/G, k…] and GroupConvolutionBackpropData [G, C/G, O/G, k…].
    axes = {"Convolution": (1,), "ConvolutionBackpropData": (0,), "GroupConvolution": (0, 2), "GroupConvolutionBackpropData": (0, 1)}[kind]
    channels = int(np.prod([weights.shape[a] for a in axes]))
    if vector.size not in (1, channels):
        return None
    shape = [1] * weights.ndim
    for a in axes:
        shape[a] = weights.shape[a]
    factor = np.broadcast_to(vector, (channels,)).reshape(shape)
    scaled = _scaled(weights, factor)
    clone = node.op.node(x, const(scaled), *node.inputs[2:], name=node.name, **node.attrs)
    return clone.outputs[0]


def _sink_affine(node: Node, users: Users, graph: Graph) -> Value | None:
    """Transpose/Gather(x ⊙ c) → Transpose/Gather(x) ⊙ c for c constant along the last axis,
    when the last axis stays last: brings LayerNorm's affine next to the MatMul that absorbs it."""
    inner = producer(node.inputs[0], "Multiply", "Add")
    if inner is None or not single_use(users, graph, node.inputs[0]) or (split := split_constant(inner)) is None:
        return None
    x, c = split
    rank = x.shape.rank
    if rank is None or rank < 2 or node.inputs[0].shape.dims != x.shape.dims or not x.element_type.is_float:
        return None
    if _dequantized_constant(x):
        return None  # the scale of an int8 table (a QDQ model's embeddings): OpenVINO gathers int8 rows only with it in place
    vector = _per_channel(c, x, axis=rank - 1)
    if vector is None:
        return None
    if node.op.type == "Transpose":
        order = const_ints(node.inputs[1])
        if not order or order[-1] != rank - 1:
            return None
    else:
        axis = const_ints(node.inputs[2])
        if axis is None or normalize_axis(axis[0], rank) == rank - 1 or node.attrs["batch_dims"]:
            return None
    moved = node.op(x, *node.inputs[1:], name=f"{node.name}/moved", **node.attrs)
    if moved.shape.rank is None or moved.shape[-1] != x.shape[-1]:
        return None
    return inner.op(moved, const(vector.astype(c.dtype)), name=node.name, **inner.attrs)


def _dequantized_constant(x: Value) -> bool:
    """x is Convert(integer Const) or Subtract(Convert(integer Const), zero point)."""
    subtract = producer(x, "Subtract")
    convert = producer(subtract.inputs[0] if subtract is not None else x, "Convert")
    return convert is not None and convert.inputs[0].const is not None and not convert.inputs[0].element_type.is_float


def _scaled(weights: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """weights · factor rounded once to the weights' type. One IEEE multiply is correctly rounded, so
    when the factor is exact in that type the product is computed there (no float64 copy of the weights)."""
    narrow = factor.astype(weights.dtype)
    if np.issubdtype(weights.dtype, np.floating) and np.array_equal(narrow, factor):
        return weights * narrow
    # The float64 product, a buffered block at a time, rounded into the result: no float64 copies of
    # the weights (two of them before: 0.4 GB for ResNet-50's folded BatchNorms), the same bits.
    scaled = np.empty(np.broadcast_shapes(weights.shape, factor.shape), dtype=weights.dtype)
    buffer = np.setbufsize(1 << 16)  # 64 Ki elements a block: a third faster than numpy's default 8 Ki here
    try:
        np.multiply(weights, factor, out=scaled, dtype=np.float64, casting="unsafe")
    finally:
        np.setbufsize(buffer)
    return scaled


def _keeps_shape(x: Value, constant_value: np.ndarray, out: Value) -> bool:
    """x ⊙ constant still has exactly the original output's shape."""
    try:
        result = broadcast_dims(x.shape, Shape(tuple(constant_value.shape)))
    except ValueError:
        return False
    return result.dims == out.shape.dims


def _scale_weights(node: Node, scale: np.ndarray, out: Value) -> Value | None:
    """conv(x, W) * s → conv(x, W·s); MatMul(x, W) * s → MatMul(x, W·s)."""
    if node.op.type in CONVOLUTIONS:
        return _scale_convolution(node, scale, out)
    if node.op.type == "MatMul":
        return _scale_matmul(node, scale, out)
    return None


def _per_channel(scale: np.ndarray, out: Value, axis: int) -> np.ndarray | None:
    """The scale as a vector over `axis` of `out` (length 1 for a scalar), or None."""
    rank = out.shape.rank
    if rank is None or scale.ndim > rank:
        return None
    padded = scale.reshape((1,) * (rank - scale.ndim) + scale.shape)
    if any(size != 1 for position, size in enumerate(padded.shape) if position != axis):
        return None
    return padded.reshape(-1)


def _scale_convolution(node: Node, scale: np.ndarray, out: Value) -> Value | None:
    weights = node.inputs[1].const
    vector = _per_channel(scale, out, axis=1)
    if weights is None or vector is None:
        return None
    kind = node.op.type
    # Where the output channels sit in each weight layout.
    if kind == "Convolution":
        shape = (-1,) + (1,) * (weights.ndim - 1)
        groups_shape = None
    elif kind == "ConvolutionBackpropData":
        shape = (1, -1) + (1,) * (weights.ndim - 2)
        groups_shape = None
    elif kind == "GroupConvolution":
        groups_shape = (weights.shape[0], weights.shape[1]) + (1,) * (weights.ndim - 2)
    else:  # GroupConvolutionBackpropData: [G, C_in/G, C_out/G, k...]
        groups_shape = (weights.shape[0], 1, weights.shape[2]) + (1,) * (weights.ndim - 3)
    if groups_shape is not None:
        channels = int(np.prod(groups_shape))
        factor = np.broadcast_to(vector, (channels,)).reshape(groups_shape) if vector.size in (1, channels) else None
    else:
        factor = vector.reshape(shape)
    if factor is None:
        return None
    try:
        scaled = _scaled(weights, factor)
    except ValueError:
        return None
    if scaled.shape != weights.shape:
        return None
    clone = node.op.node(node.inputs[0], const(scaled), *node.inputs[2:], name=node.name, **node.attrs)
    return clone.outputs[0]


def _scale_matmul(node: Node, scale: np.ndarray, out: Value) -> Value | None:
    weights = node.inputs[1].const
    rank = out.shape.rank
    if weights is None or rank is None or weights.ndim < 2:
        return None
    vector = _per_channel(scale, out, axis=rank - 1)
    if vector is None:
        return None
    column_axis = -2 if node.attrs["transpose_b"] else -1
    factor_shape = [1] * weights.ndim
    factor_shape[column_axis] = -1 if vector.size > 1 else 1
    try:
        scaled = _scaled(weights, vector.reshape(factor_shape))
    except ValueError:
        return None
    if scaled.shape != weights.shape:
        return None
    return node.op(node.inputs[0], const(scaled), name=node.name, **node.attrs)
