"""MXNet FullyConnected, dot and batch_dot → IR MatMul.

FullyConnected: y = x·Wᵀ + b with W [num_hidden, K]; `flatten` (the default) first makes x
[N, K] from all its trailing axes, otherwise W applies along the last axis. dot contracts the
last axis of lhs with the first of rhs (transpose_a: the first axis of lhs; transpose_b: the
last of rhs) for inputs of any rank, as MXNet does on their 2-D views (dot-inl.h DotShape);
two vectors give a [1]. batch_dot multiplies the matrices of the last two axes, batch by batch.
"""

from __future__ import annotations

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.frontends.mxnet.ops.common import dim, dims, i64, known_rank, same_type, shape_vector
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.matmul import MatMul
from converter.ops.shape import Reshape


def FullyConnected(
    ctx: MXNetContext,
    data: Value,
    weight: Value,
    bias: Value | None = None,
    *,
    num_hidden: int = 0,
    no_bias: bool = False,
    flatten: bool = True,
) -> Value:
    rank = known_rank(data, "FullyConnected")
    x = data
    if flatten and rank != 2:
        x = Reshape(data, i64([0, -1]), special_zero=True)
    y = MatMul(x, same_type(weight, x), transpose_a=False, transpose_b=True)
    if bias is not None and not no_bias:
        y = ew.Add(y, same_type(bias, y))
    return y


def dot(
    ctx: MXNetContext, lhs: Value, rhs: Value, *, transpose_a: bool = False, transpose_b: bool = False, forward_stype: str | None = None
) -> Value:
    left, right = known_rank(lhs, "dot"), known_rank(rhs, "dot")
    rhs = same_type(rhs, lhs)
    if left == 1 and right == 1:
        if transpose_a or transpose_b:
            raise Unsupported("transposed vectors")
        return Reshape(MatMul(lhs, rhs, transpose_a=False, transpose_b=False), i64([1]), special_zero=False)
    a = _matrix(lhs, left, keep_last=not transpose_a)
    b = _matrix(rhs, right, keep_last=transpose_b)
    product = MatMul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
    if left <= 2 and right <= 2 and left + right == 4:
        return product
    free_left = [] if left == 1 else [dims(lhs, 1, left) if transpose_a else dims(lhs, 0, left - 1)]
    free_right = [] if right == 1 else [dims(rhs, 0, right - 1) if transpose_b else dims(rhs, 1, right)]
    return Reshape(product, shape_vector([*free_left, *free_right]), special_zero=False)


def _matrix(x: Value, rank: int, keep_last: bool) -> Value:
    """The 2-D view MXNet multiplies: [prod(all but last), last] or [first, prod(the rest)]."""
    if rank == 1:
        return Reshape(x, i64([1, -1] if keep_last else [-1, 1]), special_zero=False)
    if rank == 2:
        return x
    if keep_last:
        return Reshape(x, shape_vector([-1, dim(x, rank - 1)]), special_zero=False)
    return Reshape(x, shape_vector([dim(x, 0), -1]), special_zero=False)


def batch_dot(
    ctx: MXNetContext, lhs: Value, rhs: Value, *, transpose_a: bool = False, transpose_b: bool = False, forward_stype: str | None = None
) -> Value:
    if known_rank(lhs, "batch_dot") < 3 or known_rank(rhs, "batch_dot") < 3:
        raise Unsupported("batch_dot takes inputs of rank 3 or more")
    return MatMul(lhs, same_type(rhs, lhs), transpose_a=transpose_a, transpose_b=transpose_b)


HANDLERS: dict[str, Handler] = {"FullyConnected": FullyConnected, "dot": dot, "batch_dot": batch_dot}
