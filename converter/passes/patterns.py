"""Small helpers that fusion passes share: look at producers, constants and users.

Passes read like the math they match: `mul = producer(v, "Multiply")`, then
`scalar(mul.inputs[1])`. A pass computes `graph.users()` once and asks
`single_use(users, graph, value)` before it swallows an intermediate value
(fusing a value that others still read would compute it twice).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from converter.ir.graph import Graph, Node, Value

Users = dict[Value, list[tuple[Node, int]]]


def producer(value: Value, *op_types: str) -> Node | None:
    """The node that makes `value` if its op type is one of `op_types`."""
    node = value.producer
    return node if node.op.type in op_types else None


def constant(value: Value) -> np.ndarray | None:
    return value.const


def scalar(value: Value) -> float | None:
    """The value of a constant that holds one number (any shape of size 1), else None."""
    array = value.const
    if array is None or array.size != 1:
        return None
    return float(array.reshape(-1)[0])


def is_scalar(value: Value, expected: float, rtol: float = 1e-4) -> bool:
    number = scalar(value)
    return number is not None and bool(np.isclose(number, expected, rtol=rtol, atol=0.0))


def single_use(users: Users, graph: Graph, value: Value) -> bool:
    """True when exactly one node reads `value` and it is not a graph output."""
    return len(users.get(value, ())) == 1 and all(v is not value for v in graph.outputs)


def other_input(node: Node, value: Value) -> Value | None:
    """For a binary node reading `value`, its other input."""
    a, b = node.inputs[:2]
    if a is value:
        return b
    if b is value:
        return a
    return None


def split_constant(node: Node) -> tuple[Value, np.ndarray] | None:
    """For a binary node with one constant input: (the other input, the constant)."""
    a, b = node.inputs[:2]
    if b.const is not None and a.const is None:
        return a, b.const
    if a.const is not None and b.const is None:
        return b, a.const
    return None


def product_factors(value: Value, users: Users, graph: Graph, limit: int = 8) -> tuple[list[Value], float, list[Node]] | None:
    """Flatten a tree of Multiply (and Divide by a constant) into factors.

    Returns (non-constant factors, the product of scalar constants, the nodes
    the tree consists of). Inner nodes must be used once; a non-scalar
    constant factor stops the flattening (returns None).
    """
    factors: list[Value] = []
    nodes: list[Node] = []
    scale = 1.0
    pending = [(value, True)]
    while pending:
        current, is_root = pending.pop()
        node = current.producer
        expandable = node.op.type in ("Multiply", "Divide") and (is_root or single_use(users, graph, current))
        if node.op.type == "Divide" and scalar(node.inputs[1]) is None:
            expandable = False
        if not expandable:
            number = scalar(current)
            if number is not None:
                scale *= number
            elif current.const is not None:
                return None
            else:
                factors.append(current)
            continue
        nodes.append(node)
        if len(nodes) > limit:
            return None
        if node.op.type == "Divide":
            scale /= scalar(node.inputs[1])  # type: ignore[operator]
            pending.append((node.inputs[0], False))
        else:
            pending.extend((v, False) for v in node.inputs)
    return factors, scale, nodes


def same_values(values: Iterable[Value]) -> bool:
    values = list(values)
    return all(v is values[0] for v in values)


def only_read_by(users: Users, graph: Graph, values: Iterable[Value], nodes: Iterable[Node]) -> bool:
    """True when no value in `values` is a graph output or read by a node outside `nodes`.

    For patterns whose intermediates have several readers inside the pattern
    (LayerNorm's centered x feeds both the square and the division).
    """
    inside = {id(node) for node in nodes}
    outputs = {id(value) for value in graph.outputs}
    return all(
        id(value) not in outputs and all(id(reader) in inside for reader, _ in users.get(value, ()))
        for value in values
    )


def strip_scale(value: Value, users: Users, graph: Graph) -> tuple[Value, float, list[Node]]:
    """Peel Multiply / Divide by scalar constants off `value`: (base, product of the scalars, nodes peeled).

    A node is peeled only when the value it makes is read once, so nothing is computed twice.
    """
    scale = 1.0
    peeled: list[Node] = []
    while single_use(users, graph, value):
        node = value.producer
        if node.op.type == "Divide" and (divisor := scalar(node.inputs[1])) not in (None, 0.0) and node.inputs[0].const is None:
            scale /= divisor  # type: ignore[operator]
            value = node.inputs[0]
        elif node.op.type == "Multiply" and (split := split_constant(node)) is not None and split[1].size == 1:
            scale *= float(split[1].reshape(-1)[0])
            value = split[0]
        else:
            break
        peeled.append(node)
    return value, scale, peeled


def square_root(value: Value) -> Value | None:
    """r when `value` is Sqrt(r) or Power(r, 0.5)."""
    node = value.producer
    if node.op.type == "Sqrt":
        return node.inputs[0]
    if node.op.type == "Power" and is_scalar(node.inputs[1], 0.5, rtol=0.0):
        return node.inputs[0]
    return None


def square_of(value: Value) -> Value | None:
    """a when `value` is Multiply(a, a) or Power(a, 2)."""
    node = value.producer
    if node.op.type == "Multiply" and node.inputs[0] is node.inputs[1]:
        return node.inputs[0]
    if node.op.type == "Power" and is_scalar(node.inputs[1], 2.0, rtol=0.0):
        return node.inputs[0]
    return None


def quotient(node: Node) -> tuple[Value, Value, list[Value]] | None:
    """(n, d, inner values) when `node` computes n / d.

    Spellings: Divide(n, d); n * Divide(1, d) and n * Power(d, -1) in either operand order
    (ONNX Reciprocal becomes Divide(1, d)). The inner values are the reciprocals swallowed.
    """
    if node.op.type == "Divide" and node.outputs[0].element_type.is_float:
        return node.inputs[0], node.inputs[1], []
    if node.op.type != "Multiply":
        return None
    for factor, other in (node.inputs, node.inputs[::-1]):
        inner = factor.producer
        if inner.op.type == "Divide" and is_scalar(inner.inputs[0], 1.0, rtol=0.0):
            return other, inner.inputs[1], [factor]
        if inner.op.type == "Power" and is_scalar(inner.inputs[1], -1.0, rtol=0.0):
            return other, inner.inputs[0], [factor]
    return None


def divided_by_sqrt(node: Node) -> tuple[Value, Value, list[Value]] | None:
    """(n, r, inner values) when `node` computes n / sqrt(r).

    Spellings: any `quotient` whose denominator is a `square_root`, and n * Power(r, -0.5).
    """
    if node.op.type == "Multiply":
        for factor, other in (node.inputs, node.inputs[::-1]):
            inner = factor.producer
            if inner.op.type == "Power" and is_scalar(inner.inputs[1], -0.5, rtol=0.0):
                return other, inner.inputs[0], [factor]
    parts = quotient(node)
    if parts is None:
        return None
    numerator, denominator, inner_values = parts
    radicand = square_root(denominator)
    if radicand is None:
        return None
    return numerator, radicand, [*inner_values, denominator]
