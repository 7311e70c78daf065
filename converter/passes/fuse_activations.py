"""Decomposed activation functions → one IR op each.

Passes (each a `Graph -> Graph`, each matching every spelling listed):
- fuse_softplus: Log(Exp(x) + 1) → SoftPlus(x).
- fuse_mish:     x * Tanh(SoftPlus(x)) (SoftPlus also as Log(Exp(x) + 1)) → Mish(x).
- fuse_hsigmoid: relu6(x + 3) / 6 or * (1/6), relu6 as Clamp(0, 6), Minimum(Relu(·), 6),
                 Minimum(Maximum(·, 0), 6) or Maximum(Minimum(·, 6), 0); clip(x/6 + 0.5, 0, 1);
                 HardSigmoid(x, 1/6, 0.5) → HSigmoid(x).
- fuse_hswish:   x * hsigmoid(x) in any spelling above, the 1/6 anywhere in the product → HSwish(x).
- fuse_gelu:     0.5 * x * (1 + Erf(x / √2)) → Gelu(ERF);
                 0.5 * x * (1 + Tanh(√(2/π) * (x + 0.044715 * x³))) → Gelu(TANH),
                 in any association; the argument of Erf/Tanh may be any polynomial spelling
                 (x / √2, x * (1/√2), Power(x, 3), x*x*x, the constant distributed, ...);
                 also 0.5 * x * (1 - Erf(-x / √2)) (TF's Erfc(-x/√2), Keras 3's exact gelu on TF)
                 and 0.5 * x * (1 - Tanh(-u)).
- fuse_swish:    x * Sigmoid(x) → Swish(x); x * Sigmoid(β * x) with scalar β ≥ 0 → Swish(x, β).
                 (x * Sigmoid(1.702 * x), the "sigmoid GELU", is such a Swish: not a Gelu.)
- fuse_clamp:    Minimum(Maximum(x, lo), hi), Maximum(Minimum(x, hi), lo), Minimum(Relu(x), hi),
                 Relu(Minimum(x, hi)), scalar lo ≤ hi → Clamp(x, lo, hi).

`fuse_activations` runs them in ORDER. Every pass reads all spellings of its pattern, including
the ones another pass produces (fuse_mish reads SoftPlus and Log(Exp(x) + 1), fuse_hswish reads
HSigmoid, HardSigmoid and the decomposed forms, fuse_hsigmoid reads Clamp and Minimum/Maximum),
so for the spellings above the result does not depend on the order. ORDER runs the passes that
make a sub-pattern first (SoftPlus → Mish, HSigmoid → HSwish) and the most general one, Clamp,
last, so that it only takes the Minimum/Maximum pairs no activation claimed.

A constant must equal the pattern's up to the rounding of its element type (at least float32's);
anything further off is a different function and is left alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType
from converter.ops import activation as act
from converter.ops.core import const
from converter.ops.spec import OpSpec
from converter.passes.patterns import Users, product_factors, scalar, single_use

SQRT_HALF = 1 / math.sqrt(2)
SQRT_TWO_OVER_PI = math.sqrt(2 / math.pi)
GELU_CUBIC = 0.044715
MAX_DEGREE = 4
MAX_POLYNOMIAL_NODES = 16


@dataclass(frozen=True)
class Fusion:
    """What a matched pattern becomes: `op(source, *parameters, **attrs)`."""

    op: OpSpec
    source: Value
    parameters: tuple[Value, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict)


Matcher = Callable[[Node, Users, Graph], Fusion | None]


def _fuse(graph: Graph, match: Matcher, roots: frozenset[str]) -> Graph:
    """Replace every node `match` recognizes by the fused op, named like the node. `roots`: the op
    types a match can end in (`match` is asked about those nodes only)."""
    users = graph.users()
    mapping: dict[Value, Value] = {}
    for node in [node for node in graph.nodes() if node.op.type in roots]:
        if len(node.outputs) != 1 or not node.outputs[0].element_type.is_float:
            continue
        fusion = match(node, users, graph)
        if fusion is None or fusion.source.shape.rank is None:
            continue
        fused = fusion.op(fusion.source, *fusion.parameters, name=node.name, **fusion.attrs)
        # Size-1 constants of higher rank broadcast the pattern's output to a higher rank.
        if fused.type == node.outputs[0].type:
            mapping[node.outputs[0]] = fused
    # A fused node may read a value fused earlier in this sweep (SoftPlus of a SoftPlus).
    graph.replace_values(mapping)
    return graph


# ------------------------------------------------------------------ constants


def _rtol(element_type: ElementType) -> float:
    """Two units of rounding of `element_type` (at least float32): one for storing the
    constant, one for an exporter that folded a product of two constants."""
    epsilon = max(float(element_type.finfo().eps), float(np.finfo(np.float32).eps))
    return 2 * epsilon


def _close(number: float | None, expected: float, element_type: ElementType) -> bool:
    return number is not None and abs(number - expected) <= _rtol(element_type) * abs(expected)


def _is_constant(value: Value, expected: float, element_type: ElementType) -> bool:
    return _close(scalar(value), expected, element_type)


def _binary_with_constant(node: Node, expected: float) -> Value | None:
    """For `v op c` or `c op v` with scalar constant c ≈ expected: v."""
    a, b = node.inputs
    element_type = node.outputs[0].element_type
    if _is_constant(b, expected, element_type) and a.const is None:
        return a
    if _is_constant(a, expected, element_type) and b.const is None:
        return b
    return None


def _operand_pairs(node: Node) -> list[tuple[Value, Value]]:
    a, b = node.inputs
    return [(a, b), (b, a)]


# ------------------------------------------------------------------ polynomials

Polynomial = dict[int, float]
"""Degree → coefficient, of a polynomial in one symbol."""


def polynomial(value: Value, symbol: Value, users: Users, graph: Graph) -> Polynomial | None:
    """`value` as a polynomial in `symbol`, if it is one built from Add, Subtract, Multiply,
    Negative, Divide by a scalar constant and Power by a small integer constant, every
    intermediate read only here. Any association or order of the terms gives the same result."""
    budget = [MAX_POLYNOMIAL_NODES]
    return _polynomial(value, symbol, users, graph, budget)


def _polynomial(value: Value, symbol: Value, users: Users, graph: Graph, budget: list[int]) -> Polynomial | None:
    if value is symbol:
        return {1: 1.0}
    number = scalar(value)
    if number is not None:
        return {0: number}
    budget[0] -= 1
    if value.const is not None or budget[0] < 0 or not single_use(users, graph, value):
        return None
    node = value.producer
    kind = node.op.type

    def operand(index: int) -> Polynomial | None:
        return _polynomial(node.inputs[index], symbol, users, graph, budget)

    if kind == "Negative":
        inner = operand(0)
        return None if inner is None else _scaled(inner, -1.0)
    if kind in ("Add", "Subtract", "Multiply"):
        left, right = operand(0), operand(1)
        if left is None or right is None:
            return None
        if kind == "Multiply":
            return _product(left, right)
        return _sum(left, right if kind == "Add" else _scaled(right, -1.0))
    if kind == "Divide":
        divisor = scalar(node.inputs[1])
        inner = operand(0)
        return None if inner is None or not divisor else _scaled(inner, 1 / divisor)
    if kind == "Power":
        exponent = scalar(node.inputs[1])
        inner = operand(0)
        if inner is None or exponent is None or exponent != int(exponent) or not 1 <= exponent <= MAX_DEGREE:
            return None
        result: Polynomial | None = inner
        for _ in range(int(exponent) - 1):
            result = _product(result, inner) if result is not None else None
        return result
    return None


def _scaled(p: Polynomial, factor: float) -> Polynomial:
    return {degree: coefficient * factor for degree, coefficient in p.items()}


def _sum(p: Polynomial, q: Polynomial) -> Polynomial:
    result = dict(p)
    for degree, coefficient in q.items():
        result[degree] = result.get(degree, 0.0) + coefficient
    return result


def _product(p: Polynomial, q: Polynomial) -> Polynomial | None:
    result: Polynomial = {}
    for i, a in p.items():
        for j, b in q.items():
            if a * b != 0 and i + j > MAX_DEGREE:
                return None
            result[i + j] = result.get(i + j, 0.0) + a * b
    return result


def _polynomial_is(p: Polynomial | None, expected: Polynomial, element_type: ElementType) -> bool:
    if p is None:
        return False
    return all(
        _close(p.get(degree, 0.0), expected.get(degree, 0.0), element_type)
        for degree in set(p) | set(expected)
    )


# ------------------------------------------------------------------ clamp spellings


@dataclass(frozen=True)
class Bounds:
    source: Value
    low: float
    high: float


def clamp_bounds(value: Value, users: Users, graph: Graph) -> Bounds | None:
    """`value` = clamp(source, low, high) with low ≤ high, spelled as Clamp, Minimum(Maximum),
    Maximum(Minimum), Minimum(Relu) or Relu(Minimum); the inner node read only here."""
    node = value.producer
    kind = node.op.type
    if kind == "Clamp":
        low, high = node.attrs["min"], node.attrs["max"]
        return Bounds(node.inputs[0], low, high) if low <= high else None
    if kind == "ReLU":
        inner = _bound_by(node.inputs[0], "Minimum", users, graph)
        if inner is None:
            return None
        source, high = inner
        return Bounds(source, 0.0, high) if high >= 0 else None
    if kind not in ("Minimum", "Maximum"):
        return None
    outer = _bound_by(value, kind, users, graph, is_root=True)
    if outer is None:
        return None
    inner_value, outer_bound = outer
    if kind == "Minimum" and (relu := inner_value.producer).op.type == "ReLU" and single_use(users, graph, inner_value):
        return Bounds(relu.inputs[0], 0.0, outer_bound) if outer_bound >= 0 else None
    inner = _bound_by(inner_value, "Maximum" if kind == "Minimum" else "Minimum", users, graph)
    if inner is None:
        return None
    source, inner_bound = inner
    low, high = (inner_bound, outer_bound) if kind == "Minimum" else (outer_bound, inner_bound)
    return Bounds(source, low, high) if low <= high else None


def _bound_by(value: Value, kind: str, users: Users, graph: Graph, is_root: bool = False) -> tuple[Value, float] | None:
    """For value = kind(v, c) or kind(c, v) with a scalar constant c: (v, c)."""
    node = value.producer
    if node.op.type != kind or not (is_root or single_use(users, graph, value)):
        return None
    for operand, bound in _operand_pairs(node):
        number = scalar(bound)
        if number is not None and operand.const is None:
            return operand, number
    return None


# ------------------------------------------------------------------ hard sigmoid spellings


def _relu6_of_shift(value: Value, users: Users, graph: Graph) -> Value | None:
    """x if `value` = clamp(x + 3, 0, 6)."""
    bounds = clamp_bounds(value, users, graph)
    if bounds is None or bounds.low != 0.0 or not _close(bounds.high, 6.0, value.element_type):
        return None
    shifted = bounds.source
    add = shifted.producer
    if add.op.type != "Add" or not single_use(users, graph, shifted):
        return None
    return _binary_with_constant(add, 3.0)


def hsigmoid_source(value: Value, users: Users, graph: Graph) -> Value | None:
    """x if `value` computes HSigmoid(x) = clamp(x + 3, 0, 6) / 6 in one of its spellings."""
    node = value.producer
    element_type = value.element_type
    kind = node.op.type
    if kind == "HSigmoid":
        return node.inputs[0]
    if kind == "HardSigmoid":
        x, alpha, beta = node.inputs
        if _is_constant(alpha, 1 / 6, element_type) and _is_constant(beta, 0.5, element_type):
            return x
        return None
    if kind in ("Multiply", "Divide"):
        product = product_factors(value, users, graph)
        if product is None or len(product[0]) != 1 or not _close(product[1], 1 / 6, element_type):
            return None
        clamped = product[0][0]
        return _relu6_of_shift(clamped, users, graph) if single_use(users, graph, clamped) else None
    return _clipped_linear_source(value, users, graph)


def _clipped_linear_source(value: Value, users: Users, graph: Graph) -> Value | None:
    """x if `value` = clamp(x / 6 + 0.5, 0, 1) (Keras/TF's hard_sigmoid spelling)."""
    bounds = clamp_bounds(value, users, graph)
    element_type = value.element_type
    if bounds is None or bounds.low != 0.0 or not _close(bounds.high, 1.0, element_type):
        return None
    linear = bounds.source
    if linear.producer.op.type != "Add" or not single_use(users, graph, linear):
        return None
    for scaled, offset in _operand_pairs(linear.producer):
        if _is_constant(offset, 0.5, element_type) and single_use(users, graph, scaled):
            source = _divided_by_six(scaled)
            if source is not None:
                return source
    return None


def _divided_by_six(value: Value) -> Value | None:
    """x if `value` = x / 6, x * (1/6) or (1/6) * x."""
    node = value.producer
    if node.op.type == "Multiply":
        return _binary_with_constant(node, 1 / 6)
    if node.op.type == "Divide" and _is_constant(node.inputs[1], 6.0, value.element_type):
        return node.inputs[0]
    return None


# ------------------------------------------------------------------ matchers


def _softplus_source(value: Value, users: Users, graph: Graph) -> Value | None:
    """x if `value` = SoftPlus(x) or Log(Exp(x) + 1)."""
    node = value.producer
    if node.op.type == "SoftPlus":
        return node.inputs[0]
    if node.op.type != "Log":
        return None
    total = node.inputs[0]
    if total.producer.op.type != "Add" or not single_use(users, graph, total):
        return None
    exponential = _binary_with_constant(total.producer, 1.0)
    if exponential is None or exponential.producer.op.type != "Exp" or not single_use(users, graph, exponential):
        return None
    return exponential.producer.inputs[0]


def _match_softplus(node: Node, users: Users, graph: Graph) -> Fusion | None:
    if node.op.type != "Log":
        return None
    source = _softplus_source(node.outputs[0], users, graph)
    return None if source is None else Fusion(act.SoftPlus, source)


def _match_mish(node: Node, users: Users, graph: Graph) -> Fusion | None:
    if node.op.type != "Multiply":
        return None
    for x, activation in _operand_pairs(node):
        tanh = activation.producer
        if tanh.op.type != "Tanh" or not single_use(users, graph, activation):
            continue
        softplus = tanh.inputs[0]
        if single_use(users, graph, softplus) and _softplus_source(softplus, users, graph) is x:
            return Fusion(act.Mish, x)
    return None


def _match_hsigmoid(node: Node, users: Users, graph: Graph) -> Fusion | None:
    if node.op.type == "HSigmoid":
        return None
    source = hsigmoid_source(node.outputs[0], users, graph)
    return None if source is None else Fusion(act.HSigmoid, source)


def _match_hswish(node: Node, users: Users, graph: Graph) -> Fusion | None:
    if node.op.type not in ("Multiply", "Divide"):
        return None
    two_factors = _two_factors(node, users, graph)
    if two_factors is None:
        return None
    (a, b), scale = two_factors
    element_type = node.outputs[0].element_type
    for x, gate in ((a, b), (b, a)):
        if not single_use(users, graph, gate):
            continue
        if _close(scale, 1.0, element_type) and hsigmoid_source(gate, users, graph) is x:
            return Fusion(act.HSwish, x)
        if _close(scale, 1 / 6, element_type) and _relu6_of_shift(gate, users, graph) is x:
            return Fusion(act.HSwish, x)
    return None


def _two_factors(node: Node, users: Users, graph: Graph) -> tuple[tuple[Value, Value], float] | None:
    """The product tree at `node` as (a, b) times a scalar, when it has two non-constant factors."""
    product = product_factors(node.outputs[0], users, graph)
    if product is None or len(product[0]) != 2:
        return None
    factors, scale, _ = product
    return (factors[0], factors[1]), scale


def _match_gelu(node: Node, users: Users, graph: Graph) -> Fusion | None:
    """x * S * scale where S = a + b·f(u): Gelu when scale·a = 1/2, scale·b = ±1/2 and f(u) is
    Erf(±x/√2) or Tanh(±√(2/π)·(x + 0.044715·x³)), the signs alike. Erf and Tanh are odd, so
    1/2 - 1/2·f(-u) is 1/2 + 1/2·f(u): TF's exact gelu is 0.5·x·Erfc(-x/√2) = 0.5·x·(1 - Erf(-x/√2))."""
    if node.op.type not in ("Multiply", "Divide"):
        return None
    two_factors = _two_factors(node, users, graph)
    if two_factors is None:
        return None
    (a, b), scale = two_factors
    element_type = node.outputs[0].element_type
    for x, half_sum in ((a, b), (b, a)):
        function = _only_transcendental(half_sum, ("Erf", "Tanh"), users, graph)
        if function is None or not single_use(users, graph, function):
            continue
        affine = polynomial(half_sum, function, users, graph)
        if affine is None:
            continue
        sign = 1.0 if affine.get(1, 0.0) * scale >= 0 else -1.0
        if not _polynomial_is(_scaled(affine, scale), {0: 0.5, 1: 0.5 * sign}, element_type):
            continue
        argument = polynomial(function.producer.inputs[0], x, users, graph)
        if function.producer.op.type == "Erf" and _polynomial_is(argument, {1: sign * SQRT_HALF}, element_type):
            return Fusion(act.Gelu, x, attrs={"approximation_mode": "ERF"})
        tanh_argument = {1: sign * SQRT_TWO_OVER_PI, 3: sign * SQRT_TWO_OVER_PI * GELU_CUBIC}
        if function.producer.op.type == "Tanh" and _polynomial_is(argument, tanh_argument, element_type):
            return Fusion(act.Gelu, x, attrs={"approximation_mode": "TANH"})
    return None


def _only_transcendental(value: Value, kinds: tuple[str, ...], users: Users, graph: Graph) -> Value | None:
    """The one output of a `kinds` node among the non-constant leaves of the arithmetic
    (Add/Subtract/Multiply/Divide/Negative) tree at `value`, if there is exactly one leaf."""
    leaves: list[Value] = []
    pending = [value]
    while pending and len(leaves) <= 1:
        current = pending.pop()
        node = current.producer
        if current.const is not None:
            continue
        if node.op.type in ("Add", "Subtract", "Multiply", "Divide", "Negative") and single_use(users, graph, current):
            pending.extend(node.inputs)
        else:
            leaves.append(current)
    if len(leaves) != 1 or leaves[0].producer.op.type not in kinds:
        return None
    return leaves[0]


def _match_swish(node: Node, users: Users, graph: Graph) -> Fusion | None:
    if node.op.type != "Multiply":
        return None
    for x, activation in _operand_pairs(node):
        sigmoid = activation.producer
        if sigmoid.op.type != "Sigmoid" or not single_use(users, graph, activation) or x.const is not None:
            continue
        argument = sigmoid.inputs[0]
        if argument is x:
            return Fusion(act.Swish, x)
        if not single_use(users, graph, argument):
            continue
        product = product_factors(argument, users, graph)
        if product is None or product[0] != [x] or product[1] < 0:
            continue
        beta = np.array(product[1], dtype=x.element_type.numpy)
        if beta == 1:
            return Fusion(act.Swish, x)
        return Fusion(act.Swish, x, (const(beta),))
    return None


def _match_clamp(node: Node, users: Users, graph: Graph) -> Fusion | None:
    if node.op.type not in ("Minimum", "Maximum", "ReLU"):
        return None
    bounds = clamp_bounds(node.outputs[0], users, graph)
    if bounds is None:
        return None
    return Fusion(act.Clamp, bounds.source, attrs={"min": bounds.low, "max": bounds.high})


# ------------------------------------------------------------------ passes


def fuse_softplus(graph: Graph) -> Graph:
    return _fuse(graph, _match_softplus, frozenset({"Log"}))


def fuse_mish(graph: Graph) -> Graph:
    return _fuse(graph, _match_mish, frozenset({"Multiply"}))


def fuse_hsigmoid(graph: Graph) -> Graph:
    return _fuse(graph, _match_hsigmoid, frozenset({"HardSigmoid", "Multiply", "Divide", "Clamp", "ReLU", "Minimum", "Maximum"}))


def fuse_hswish(graph: Graph) -> Graph:
    return _fuse(graph, _match_hswish, frozenset({"Multiply", "Divide"}))


def fuse_gelu(graph: Graph) -> Graph:
    return _fuse(graph, _match_gelu, frozenset({"Multiply", "Divide"}))


def fuse_swish(graph: Graph) -> Graph:
    return _fuse(graph, _match_swish, frozenset({"Multiply"}))


def fuse_clamp(graph: Graph) -> Graph:
    return _fuse(graph, _match_clamp, frozenset({"Minimum", "Maximum", "ReLU"}))


ORDER: tuple[Callable[[Graph], Graph], ...] = (
    fuse_softplus,
    fuse_mish,
    fuse_hsigmoid,
    fuse_hswish,
    fuse_gelu,
    fuse_swish,
    fuse_clamp,
)


def fuse_activations(graph: Graph) -> Graph:
    """Every activation fusion, in ORDER (see the module docstring for why this order)."""
    for fuse in ORDER:
        graph = fuse(graph)
    return graph
