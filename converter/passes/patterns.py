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
