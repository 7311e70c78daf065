"""TF MatMul and BatchMatMul (V1, V2, V3) → IR MatMul. For real types the adjoint is the transpose."""

from __future__ import annotations

from converter.frontends.tensorflow.graph import Handler, TFContext
from converter.frontends.tensorflow.tensors import element_type
from converter.ir.graph import Value
from converter.ops import matmul as ops
from converter.ops.core import Convert


def MatMul(
    ctx: TFContext,
    a: Value,
    b: Value,
    *,
    transpose_a: bool = False,
    transpose_b: bool = False,
    grad_a: bool = False,
    grad_b: bool = False,
) -> Value:
    return ops.MatMul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)


def BatchMatMul(
    ctx: TFContext, x: Value, y: Value, *, adj_x: bool = False, adj_y: bool = False, grad_x: bool = False, grad_y: bool = False
) -> Value:
    return ops.MatMul(x, y, transpose_a=adj_x, transpose_b=adj_y)


def BatchMatMulV3(
    ctx: TFContext,
    x: Value,
    y: Value,
    *,
    Tout: int,
    adj_x: bool = False,
    adj_y: bool = False,
    grad_x: bool = False,
    grad_y: bool = False,
) -> Value:
    """V3 may multiply narrow types into a wider result (int8 × int8 → int32): widen first."""
    result = element_type(Tout)
    x, y = (v if v.element_type is result else Convert(v, destination_type=result) for v in (x, y))
    return ops.MatMul(x, y, transpose_a=adj_x, transpose_b=adj_y)


HANDLERS: dict[str, Handler] = {
    "MatMul": MatMul,
    "BatchMatMul": BatchMatMul,
    "BatchMatMulV2": BatchMatMul,
    "BatchMatMulV3": BatchMatMulV3,
}
