"""fuse_mvn and fuse_normalize_l2: decomposed LayerNorm and L2 normalization → MVN-6, NormalizeL2-1.

fuse_mvn matches d / sqrt(var + eps) → MVN(x, axes, normalize_variance, eps, inside_sqrt) (eps 0
when there is no + eps) and d / (sqrt(var) + eps) → MVN(..., outside_sqrt), where
    mean = ReduceMean(x, axes, keep_dims)   d = x - mean
    var  = ReduceMean(d * d | Power(d, 2) | SquaredDifference(x, mean), axes, keep_dims)
and the division is any spelling `patterns.quotient` / `patterns.divided_by_sqrt` know
(Divide, * Reciprocal, * Power(·, -0.5)). A trailing * gamma + beta is left to the Multiply/Add.
TensorFlow's spellings, which scale before they center (x * s + (-mean * s) [+ beta] with
s = rsqrt(var + eps) [* gamma]: Keras 3's LayerNormalization, tf.nn.batch_normalization), and
(x - mean) * s, become MVN [* gamma] [+ beta] too.

fuse_normalize_l2 matches, with ss = ReduceSum(x * x | Power(x, 2), axes, keep_dims):
    x / sqrt(max(ss, eps))                  → NormalizeL2(x, axes, eps, "max")
    x / sqrt(ss + eps)                      → NormalizeL2(x, axes, eps, "add")
    x / max(sqrt(ss) | ReduceL2(x), eps)    → NormalizeL2(x, axes, e, "max") with sqrt(e) == eps
and the unguarded x / sqrt(ss), x / ReduceL2(x) (CLIP's x / x.norm(dim=-1, keepdim=True)) with
eps 0. The max after the sqrt is PyTorch's F.normalize (written as Maximum or Clip(min=eps), the
norm possibly expanded to x's shape). max(sqrt(s), eps) == sqrt(max(s, e)) for every s exactly when the
float32 e has sqrt(e) == eps, so the pass looks for such an e and refuses when there is none.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from converter.ir.graph import Graph, Node, Value
from converter.ops.core import const
from converter.ops.elementwise import Add, Multiply
from converter.ops.normalization import MVN, NormalizeL2
from converter.ops.spec import const_ints, normalize_axis
from converter.passes.patterns import (
    Users,
    divided_by_sqrt,
    is_scalar,
    only_read_by,
    producer,
    quotient,
    scalar,
    square_of,
    square_root,
)


def fuse_mvn(graph: Graph) -> Graph:
    return _rewrite_all(graph, _match_mvn, ("Divide", "Multiply", "Add", "Subtract"))


def fuse_normalize_l2(graph: Graph) -> Graph:
    return _rewrite_all(graph, _match_normalize_l2)


Matcher = Callable[[Node, Users, Graph], "Value | None"]


def _rewrite_all(graph: Graph, match: Matcher, kinds: tuple[str, ...] = ("Divide", "Multiply")) -> Graph:
    users = graph.users()
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if node.op.type in kinds and node.outputs[0].element_type.is_float:
            fused = match(node, users, graph)
            if fused is not None and fused.type == node.outputs[0].type:
                mapping[node.outputs[0]] = fused
    graph.replace_values(mapping)
    return graph


class _Pattern:
    """The values a match swallows; each must be read only by the pattern's own nodes."""

    def __init__(self, last: Node):
        self.last = last
        self.values: list[Value] = []

    def take(self, *values: Value) -> None:
        self.values.extend(values)

    def closed(self, users: Users, graph: Graph) -> bool:
        nodes = [self.last, *(value.producer for value in self.values)]
        return only_read_by(users, graph, self.values, nodes)


def _reduce_axes(node: Node, data: Value) -> tuple[int, ...] | None:
    """The sorted, non-negative axes of a keep_dims reduction over `data`, or None."""
    rank = data.shape.rank
    axes = const_ints(node.inputs[1])
    if not node.attrs["keep_dims"] or node.inputs[0] is not data or axes is None or rank is None:
        return None
    normalized = {normalize_axis(axis, rank) for axis in axes}
    if not normalized or any(not 0 <= axis < rank for axis in normalized):
        return None
    return tuple(sorted(normalized))


def _eps_sum(value: Value) -> tuple[Value, float] | None:
    """(v, eps) when `value` is v + eps for a scalar constant eps >= 0."""
    add = producer(value, "Add")
    if add is None:
        return None
    for term, eps in (add.inputs, add.inputs[::-1]):
        number = scalar(eps)
        if number is not None and number >= 0 and term.const is None:
            return term, number
    return None


def _axes_const(axes: tuple[int, ...]) -> Value:
    return const(np.array(axes, np.int64))


# ------------------------------------------------------------------ MVN


def _match_mvn(node: Node, users: Users, graph: Graph) -> Value | None:
    if node.op.type in ("Add", "Subtract"):
        return _match_affine_mvn(node, users, graph)
    scaled = _match_scaled_mvn(node, users, graph)
    if scaled is not None:
        return scaled
    pattern = _Pattern(node)
    inside = divided_by_sqrt(node)
    if inside is not None:
        centered, radicand, inner = inside
        variance, eps = _eps_sum(radicand) or (radicand, 0.0)
        pattern.take(*inner, radicand)
        mode = "inside_sqrt"
    else:
        parts = quotient(node)
        if parts is None:
            return None
        centered, denominator, inner = parts
        eps_sum = _eps_sum(denominator)
        root = square_root(eps_sum[0]) if eps_sum is not None else None
        if eps_sum is None or root is None:
            return None
        variance, eps = root, eps_sum[1]
        pattern.take(*inner, denominator, eps_sum[0])
        mode = "outside_sqrt"
    matched = _centered_variance(centered, variance, pattern)
    if matched is None or not pattern.closed(users, graph):
        return None
    x, axes = matched
    return MVN(x, _axes_const(axes), normalize_variance=True, eps=eps, eps_mode=mode, name=node.name)


def _centered(value: Value) -> tuple[Value, Node] | None:
    """(x, the ReduceMean node) when `value` is x - ReduceMean(x, ...)."""
    subtract = producer(value, "Subtract")
    if subtract is None:
        return None
    x, mean = subtract.inputs
    reduce_mean = producer(mean, "ReduceMean")
    if reduce_mean is None or reduce_mean.inputs[0] is not x:
        return None
    return x, reduce_mean


def _centered_variance(centered: Value, variance: Value, pattern: _Pattern) -> tuple[Value, tuple[int, ...]] | None:
    """(x, axes) when `centered` is x - mean(x) and `variance` is mean((x - mean(x))²) over the same axes.

    The variance may compute its own copy of the mean (Keras' K.var does).
    """
    numerator = _centered(centered)
    reduce_var = producer(variance, "ReduceMean")
    if numerator is None or reduce_var is None:
        return None
    x, reduce_mean = numerator
    axes = _reduce_axes(reduce_mean, x)
    squared = reduce_var.inputs[0]
    difference = producer(squared, "SquaredDifference")
    if difference is not None:
        data, mean = difference.inputs if difference.inputs[0] is x else difference.inputs[::-1]
        inner_mean = producer(mean, "ReduceMean")
    else:
        base = square_of(squared)
        inner = _centered(base) if base is not None else None
        if inner is None:
            return None
        data, inner_mean = inner
        pattern.take(base)  # type: ignore[arg-type]
    if axes is None or data is not x or inner_mean is None or _reduce_axes(inner_mean, x) != axes or _reduce_axes(reduce_var, squared) != axes:
        return None
    pattern.take(centered, reduce_mean.outputs[0], inner_mean.outputs[0], squared, variance)
    return x, axes


# ------------------------------------------------------------------ MVN, TensorFlow's spellings
#
# TF (tf.nn.batch_normalization, Keras 3's LayerNormalization) scales before it centers:
#     s = rsqrt(var + eps) [* gamma]        y = x * s + (-mean * s) [+ beta]
# with the shift also written -(mean * s), beta - mean * s, or y = x * s - mean * s. Since
# x * s - mean * s == (x - mean) * s, that is MVN(x) [* gamma] [+ beta]; so is (x - mean) * s.


def _inverse_std(value: Value, pattern: _Pattern) -> tuple[Value, float, str, Value | None] | None:
    """(variance, eps, eps_mode, gamma or None) when `value` is [gamma *] 1 / sqrt(variance [+ eps])
    (or 1 / (sqrt(variance) + eps)), in any spelling `quotient`/`divided_by_sqrt` know, gamma
    being a factor of a Multiply or the numerator of a Divide."""
    node = value.producer
    candidates: list[tuple[Value, Value | None]] = [(value, None)]
    if node.op.type == "Multiply":
        a, b = node.inputs
        candidates += [(a, b), (b, a)]
    for root, gamma in candidates:
        found = _reciprocal_std(root)
        if found is None:
            continue
        variance, eps, mode, numerator, inner = found
        if gamma is not None and numerator is not None:
            continue
        gamma = gamma if gamma is not None else numerator
        if gamma is not None and gamma is root:
            continue
        pattern.take(*inner)
        if root is not value:
            pattern.take(root)
        return variance, eps, mode, gamma
    return None


def _reciprocal_std(value: Value) -> tuple[Value, float, str, Value | None, list[Value]] | None:
    """(variance, eps, eps_mode, numerator or None, inner values) when `value` is
    n / sqrt(variance [+ eps]) or n / (sqrt(variance) + eps), n being 1 (None) or anything else."""
    node = value.producer
    if node.op.type == "Power" and is_scalar(node.inputs[1], -0.5, rtol=0.0):
        radicand = node.inputs[0]
        variance, eps = _eps_sum(radicand) or (radicand, 0.0)
        return variance, eps, "inside_sqrt", None, ([radicand] if radicand is not variance else [])
    if node.op.type != "Divide" or not node.outputs[0].element_type.is_float:
        return None
    numerator, denominator = node.inputs
    numerator_value: Value | None = None if is_scalar(numerator, 1.0, rtol=0.0) else numerator
    radicand = square_root(denominator)
    if radicand is not None:
        variance, eps = _eps_sum(radicand) or (radicand, 0.0)
        inner = [denominator] + ([radicand] if radicand is not variance else [])
        return variance, eps, "inside_sqrt", numerator_value, inner
    eps_sum = _eps_sum(denominator)
    root = square_root(eps_sum[0]) if eps_sum is not None else None
    if eps_sum is None or root is None:
        return None
    return root, eps_sum[1], "outside_sqrt", numerator_value, [denominator, eps_sum[0]]


def _variance_around(variance: Value, x: Value, axes: tuple[int, ...], pattern: _Pattern) -> bool:
    """Whether `variance` is ReduceMean((x - m)², axes, keep_dims) with m = ReduceMean(x, axes, keep_dims)
    (squared as SquaredDifference, d * d or Power(d, 2))."""
    reduce_var = producer(variance, "ReduceMean")
    if reduce_var is None:
        return False
    squared = reduce_var.inputs[0]
    difference = producer(squared, "SquaredDifference")
    inner: list[Value] = []
    if difference is not None:
        if x not in difference.inputs:
            return False
        data, mean = difference.inputs if difference.inputs[0] is x else difference.inputs[::-1]
    else:
        base = square_of(squared)
        centered = _centered(base) if base is not None else None
        if centered is None:
            return False
        data, reduce_mean = centered
        mean = reduce_mean.outputs[0]
        inner = [base]  # type: ignore[list-item]
    inner_mean = producer(mean, "ReduceMean")
    if data is not x or inner_mean is None or _reduce_axes(inner_mean, x) != axes or _reduce_axes(reduce_var, squared) != axes:
        return False
    pattern.take(*inner, mean, squared, variance)
    return True


def _normalized(x: Value, mean: Value, scale: Value, pattern: _Pattern, name: str) -> Value | None:
    """MVN(x) [* gamma] for (x - mean) * scale, once mean and scale are proven to be x's."""
    reduce_mean = producer(mean, "ReduceMean")
    axes = _reduce_axes(reduce_mean, x) if reduce_mean is not None else None
    inverse = _inverse_std(scale, pattern) if axes is not None else None
    if inverse is None:
        return None
    variance, eps, mode, gamma = inverse
    if not _variance_around(variance, x, axes, pattern):  # type: ignore[arg-type]
        return None
    pattern.take(mean, scale)
    mvn = MVN(x, _axes_const(axes), normalize_variance=True, eps=eps, eps_mode=mode, name=name if gamma is None else f"{name}/mvn")  # type: ignore[arg-type]
    return mvn if gamma is None else Multiply(mvn, gamma, name=name)


def _match_scaled_mvn(node: Node, users: Users, graph: Graph) -> Value | None:
    """(x - mean) * s with s = gamma / sqrt(var + eps) (or gamma * rsqrt(...)), gamma not 1."""
    if node.op.type != "Multiply":
        return None
    for centered, scale in (node.inputs, node.inputs[::-1]):
        parts = _centered(centered)
        if parts is None or producer(scale, "Multiply", "Divide") is None:
            continue
        pattern = _Pattern(node)
        pattern.take(centered)
        fused = _normalized(parts[0], parts[1].outputs[0], scale, pattern, node.name)
        if fused is not None and fused.producer.op.type == "Multiply" and pattern.closed(users, graph):
            return fused
    return None


def _match_affine_mvn(node: Node, users: Users, graph: Graph) -> Value | None:
    """x * s + shift (Add, either order) or x * s - mean * s [+ beta] (Subtract)."""
    orders = [node.inputs, node.inputs[::-1]] if node.op.type == "Add" else [node.inputs]
    for scaled, shift in orders:
        product = producer(scaled, "Multiply")
        if product is None:
            continue
        for x, scale in (product.inputs, product.inputs[::-1]):
            pattern = _Pattern(node)
            pattern.take(scaled)
            found = _shift(shift, scale, node.op.type == "Subtract", pattern)
            if found is None or x.const is not None:
                continue
            mean, beta = found
            fused = _normalized(x, mean, scale, pattern, node.name if beta is None else f"{node.name}/scaled")
            if fused is None or not pattern.closed(users, graph):
                continue
            return fused if beta is None else Add(fused, beta, name=node.name)
    return None


def _shift(value: Value, scale: Value, subtracted: bool, pattern: _Pattern) -> tuple[Value, Value | None] | None:
    """(mean, beta or None) when `value` is the shift -mean * scale [+ beta] (subtracted: mean * scale [- beta])."""

    def mean_times_scale(v: Value, negated: bool) -> Value | None:
        product = producer(v, "Multiply")
        if product is not None and scale in product.inputs and not (product.inputs[0] is scale and product.inputs[1] is scale):
            other = product.inputs[1] if product.inputs[0] is scale else product.inputs[0]
            if negated:
                negative = producer(other, "Negative")
                if negative is None:
                    return None
                pattern.take(other)
                other = negative.inputs[0]
            pattern.take(v)
            return other
        negative = producer(v, "Negative")
        if negated and negative is not None:
            inner = mean_times_scale(negative.inputs[0], False)
            if inner is not None:
                pattern.take(v)
            return inner
        return None

    if subtracted:  # x * s - (mean * s [- beta])
        mean = mean_times_scale(value, False)
        if mean is not None:
            return mean, None
        difference = producer(value, "Subtract")
        if difference is not None and (mean := mean_times_scale(difference.inputs[0], False)) is not None:
            pattern.take(value)
            return mean, difference.inputs[1]
        return None
    mean = mean_times_scale(value, True)
    if mean is not None:
        return mean, None
    add = producer(value, "Add")
    if add is not None:
        for term, beta in (add.inputs, add.inputs[::-1]):
            mean = mean_times_scale(term, True)
            if mean is not None:
                pattern.take(value)
                return mean, beta
    difference = producer(value, "Subtract")
    if difference is not None and (mean := mean_times_scale(difference.inputs[1], False)) is not None:
        pattern.take(value)
        return mean, difference.inputs[0]
    return None


# ------------------------------------------------------------------ NormalizeL2


def _match_normalize_l2(node: Node, users: Users, graph: Graph) -> Value | None:
    for matcher in (_l2_max_before_sqrt, _l2_max_after_sqrt):
        pattern = _Pattern(node)
        matched = matcher(node, pattern)
        if matched is not None:
            break
    else:
        return None
    if not pattern.closed(users, graph):
        return None
    x, axes, eps, mode = matched
    return NormalizeL2(x, _axes_const(axes), eps=eps, eps_mode=mode, name=node.name)


def _sum_of_squares(value: Value, pattern: _Pattern) -> tuple[Value, tuple[int, ...]] | None:
    """(x, axes) when `value` is ReduceSum(x², axes, keep_dims)."""
    reduce_sum = producer(value, "ReduceSum")
    if reduce_sum is None:
        return None
    squared = reduce_sum.inputs[0]
    x = square_of(squared)
    axes = _reduce_axes(reduce_sum, squared) if x is not None else None
    if x is None or axes is None:
        return None
    pattern.take(squared, value)
    return x, axes


def _l2_norm(value: Value, pattern: _Pattern) -> tuple[Value, tuple[int, ...]] | None:
    """(x, axes) when `value` is sqrt(ReduceSum(x², axes)) or ReduceL2(x, axes), keep_dims."""
    reduce_l2 = producer(value, "ReduceL2")
    if reduce_l2 is not None:
        axes = _reduce_axes(reduce_l2, reduce_l2.inputs[0])
        if axes is None:
            return None
        pattern.take(value)
        return reduce_l2.inputs[0], axes
    radicand = square_root(value)
    matched = _sum_of_squares(radicand, pattern) if radicand is not None else None
    if matched is not None:
        pattern.take(value)
    return matched


def _l2_max_before_sqrt(node: Node, pattern: _Pattern) -> tuple[Value, tuple[int, ...], float, str] | None:
    """x / sqrt(max(ss, eps)) or x / sqrt(ss + eps)."""
    parts = divided_by_sqrt(node)
    if parts is None:
        return None
    numerator, radicand, inner = parts
    total, eps = _max_with_scalar(radicand) or _eps_sum(radicand) or (radicand, 0.0)
    mode = "add" if producer(radicand, "Add") is not None else "max"
    matched = _sum_of_squares(total, pattern)
    if matched is None or matched[0] is not numerator:
        return None
    pattern.take(*inner, radicand)
    return numerator, matched[1], eps, mode


def _l2_max_after_sqrt(node: Node, pattern: _Pattern) -> tuple[Value, tuple[int, ...], float, str] | None:
    """x / max(||x||, eps), PyTorch's F.normalize; the max may be expanded to x's shape."""
    parts = quotient(node)
    if parts is None:
        return None
    numerator, denominator, inner = parts
    expanded = _expanded_to(denominator, numerator)
    guarded = expanded if expanded is not None else denominator
    norm, eps = _max_with_scalar(guarded) or (guarded, 0.0)
    squared_eps = _squared_threshold(eps)
    matched = _l2_norm(norm, pattern)
    if matched is None or matched[0] is not numerator or squared_eps is None:
        return None
    pattern.take(*inner, denominator)
    if expanded is not None:
        pattern.take(expanded)
    return numerator, matched[1], squared_eps, "max"


def _max_with_scalar(value: Value) -> tuple[Value, float] | None:
    """(v, eps) when `value` is Maximum(v, eps) or Clamp(v, min=eps, max=inf), eps >= 0."""
    clamp = producer(value, "Clamp")
    if clamp is not None:
        if clamp.attrs["max"] == math.inf and clamp.attrs["min"] >= 0:
            return clamp.inputs[0], float(clamp.attrs["min"])
        return None
    maximum = producer(value, "Maximum")
    if maximum is None:
        return None
    for term, eps in (maximum.inputs, maximum.inputs[::-1]):
        number = scalar(eps)
        if number is not None and number >= 0 and term.const is None:
            return term, number
    return None


def _expanded_to(value: Value, like: Value) -> Value | None:
    """v when `value` is Broadcast(v, ShapeOf(like)): dividing by it is dividing by v."""
    broadcast = producer(value, "Broadcast")
    shape_of = producer(broadcast.inputs[1], "ShapeOf") if broadcast is not None and len(broadcast.inputs) == 2 else None
    if shape_of is None or shape_of.inputs[0] is not like:
        return None
    return broadcast.inputs[0]  # type: ignore[union-attr]


def _squared_threshold(eps: float) -> float | None:
    """A float32 e with sqrt(e) == eps in float32, so max(sqrt(s), eps) == sqrt(max(s, e)) for all s."""
    target = np.float32(eps)
    guess = np.float32(target * target)
    for candidate in (guess, np.nextafter(guess, np.float32(np.inf)), np.nextafter(guess, np.float32(0))):
        if np.sqrt(candidate) == target:
            return float(candidate)
    return None
