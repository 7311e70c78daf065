"""ONNX MatMul, Gemm, Einsum → IR MatMul-1 (+ Multiply/Add), Einsum-7."""

from __future__ import annotations

import numpy as np

from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops import matmul as ops
from converter.ops.core import const


def MatMul(ctx: OnnxContext, a: Value, b: Value) -> Value:
    return ops.MatMul(a, b, transpose_a=False, transpose_b=False)


def _scaled(value: Value, factor: float) -> Value:
    """value * factor; folded into the array when value is a constant."""
    dtype = value.element_type.numpy
    array = value.const
    if array is not None:
        return const((array * np.asarray(factor, dtype=dtype)).astype(dtype))
    return ew.Multiply(value, const(np.array(factor, dtype=dtype)))


def Gemm(
    ctx: OnnxContext,
    a: Value,
    b: Value,
    c: Value | None = None,
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    broadcast: int = 0,
    transA: int = 0,
    transB: int = 0,
) -> Value:
    for name, value in (("A", a), ("B", b)):
        if value.shape.rank not in (None, 2):
            raise Unsupported(f"Gemm input {name} has rank {value.shape.rank}, expected 2")
    if alpha != 1.0 and b.const is not None:
        b, alpha = _scaled(b, alpha), 1.0
    y = ops.MatMul(a, b, transpose_a=bool(transA), transpose_b=bool(transB))
    if alpha != 1.0:
        y = _scaled(y, alpha)
    if c is not None and beta != 0.0:
        y = ew.Add(y, c if beta == 1.0 else _scaled(c, beta))
    return y


def Einsum(ctx: OnnxContext, *inputs: Value, equation: str) -> Value:
    if not inputs:
        raise Unsupported("Einsum without inputs")
    try:
        ops.parse_equation(equation, len(inputs))
    except ValueError as error:
        raise Unsupported(str(error)) from None
    return ops.Einsum(*inputs, equation=equation.replace(" ", ""))


HANDLERS: dict[str, Handler] = {"MatMul": MatMul, "Gemm": Gemm, "Einsum": Einsum}
