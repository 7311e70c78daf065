"""fuse_attention: softmax(Q·Kᵀ · scale + mask)·V → ScaledDotProductAttention-13.

Matches MatMul(probs, V) where probs = Softmax(scores, last axis) and
scores = MatMul(Q', K') · c [+ mask]:
- K' is K with transpose_b, Transpose(K, swap last two), or any Transpose chain that ends
  in K's [.., E, S] layout: the key becomes one Transpose (or none) giving [.., S, E];
- the scale is the product of every scalar Multiply / Divide on the scores, on Q and on K
  (PyTorch's SDPA export puts sqrt(scale) on both Q and K); it is passed explicitly unless it
  equals the op's default 1/sqrt(E);
- the mask is a float additive tensor of Q's type that does not widen the scores' shape;
- V may be given transposed as well (transpose_b or a Transpose).
Q, K and V must have one static rank >= 3. The result keeps causal=false.
"""

from __future__ import annotations

import math

import numpy as np

from converter.ir.graph import Graph, Node, Value
from converter.ops.attention import ScaledDotProductAttention
from converter.ops.core import const
from converter.ops.shape import Transpose, Unsqueeze
from converter.ops.spec import const_ints, normalize_axis
from converter.passes.patterns import Users, producer, single_use, strip_scale

SOFTMAX = ("SoftMax", "Softmax")


def fuse_attention(graph: Graph) -> Graph:
    users = graph.users()
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if node.op.type == "MatMul":
            fused = _fuse(node, users, graph)
            if fused is not None:
                mapping[node.outputs[0]] = fused
    graph.replace_values(mapping)
    return graph


class _Operand:
    """A MatMul operand seen as Transpose(base, order) * scale."""

    def __init__(self, base: Value, order: list[int], scale: float):
        self.base, self.order, self.scale = base, order, scale

    def value(self, name: str) -> Value:
        if self.order == sorted(self.order):
            return self.base
        return Transpose(self.base, const(np.array(self.order, np.int64)), name=name)


def _operand(value: Value, transposed: bool, users: Users, graph: Graph, scaled: bool) -> _Operand | None:
    """Peel scalar scales (if `scaled`) read only here; `transposed` swaps the last two dims.

    While a transpose is pending, Transposes read only here are merged into it, so a key
    written as Transpose(k, [0, 2, 3, 1]) becomes Transpose(k, [0, 2, 1, 3]).
    """
    rank = value.shape.rank
    if rank is None or rank < 3:
        return None
    order = list(range(rank))
    if transposed:
        order[-2:] = order[-1], order[-2]
    scale = 1.0
    while True:
        if scaled:
            value, factor, _ = strip_scale(value, users, graph)
            scale *= factor
        transpose = producer(value, "Transpose")
        inner = const_ints(transpose.inputs[1]) if transpose is not None else None
        if order == sorted(order) or inner is None or len(inner) != rank or not single_use(users, graph, value):
            return _Operand(value, order, scale)
        # Transpose(Transpose(x, inner), order) == Transpose(x, [inner[i] for i in order])
        order = [normalize_axis(inner[axis], rank) for axis in order]
        value = transpose.inputs[0]  # type: ignore[union-attr]


def _fuse(output: Node, users: Users, graph: Graph) -> Value | None:
    probs, value_input = output.inputs
    softmax = producer(probs, *SOFTMAX)
    if output.attrs["transpose_a"] or softmax is None or not single_use(users, graph, probs):
        return None
    logits = softmax.inputs[0]
    rank = logits.shape.rank
    if rank is None or rank < 3 or normalize_axis(softmax.attrs["axis"], rank) != rank - 1 or not single_use(users, graph, logits):
        return None
    match = _scores(logits, users, graph)
    if match is None:
        return None
    scores, mask, outer_scale = match
    query = _operand(scores.inputs[0], scores.attrs["transpose_a"], users, graph, scaled=True)
    key = _operand(scores.inputs[1], not scores.attrs["transpose_b"], users, graph, scaled=True)
    value = _operand(value_input, output.attrs["transpose_b"], users, graph, scaled=False)
    if query is None or key is None or value is None or not len(query.order) == len(key.order) == len(value.order) == rank:
        return None
    element_type = output.outputs[0].element_type
    if not element_type.is_float or mask is not None and mask.element_type is not element_type:
        return None
    scale = outer_scale * query.scale * key.scale
    inputs = [query.value(f"{output.name}/query"), key.value(f"{output.name}/key"), value.value(f"{output.name}/value")]
    extra = _mask_and_scale(inputs[0], mask, scale, output.name)
    if extra is None:
        return None
    fused = ScaledDotProductAttention(*inputs, *extra, causal=False, name=output.name)
    return fused if fused.type == output.outputs[0].type else None


def _scores(logits: Value, users: Users, graph: Graph) -> tuple[Node, Value | None, float] | None:
    """(the Q·K MatMul, the additive mask or None, the scalar scale applied to its product)."""
    candidates: list[tuple[Value, Value | None]] = [(logits, None)]
    add = producer(logits, "Add")
    if add is not None:
        a, b = add.inputs
        candidates = [(a, b), (b, a)]
    for scaled, mask in candidates:
        product, scale, _ = strip_scale(scaled, users, graph)
        matmul = producer(product, "MatMul")
        if matmul is None or not single_use(users, graph, product):
            continue
        if mask is not None and product.shape.dims != logits.shape.dims:
            continue  # the mask would widen the scores
        return matmul, mask, scale
    return None


def _mask_and_scale(query: Value, mask: Value | None, scale: float, name: str) -> list[Value] | None:
    """The optional inputs: the mask (rank >= 2), then the scale when it is not 1/sqrt(E)."""
    dtype = query.element_type.numpy
    depth = query.shape.dims[-1] if query.shape.dims else None
    default = depth is not None and math.isclose(scale, 1.0 / math.sqrt(depth), rel_tol=1e-6)
    extra: list[Value] = []
    if mask is not None:
        rank = mask.shape.rank
        if rank is None:
            return None
        if rank < 2:
            mask = Unsqueeze(mask, const(np.arange(2 - rank, dtype=np.int64)), name=f"{name}/mask")
        extra.append(mask)
    if not default:
        if not extra:
            extra.append(const(np.array(0, dtype)))  # a scalar 0 mask means "no mask"
        extra.append(const(np.array(scale, dtype)))
    return extra
