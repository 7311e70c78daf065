"""Lowerings for matrix products: IR MatMul-1 → ONNX (Transpose +) MatMul, Einsum-7 → Einsum."""

from __future__ import annotations

from converter.ir.graph import Node, Value
from converter.ir.types import ElementType
from converter.ops import matmul as ops
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, LoweringContext, LoweringFn


def _swap_last_two(ctx: LoweringContext, name: str, value: Value) -> str:
    rank = value.shape.rank
    if rank is None:
        raise NotImplementedError("MatMul with a transpose flag on an input of unknown rank cannot be lowered to ONNX")
    if rank < 2:
        return name  # OpenVINO ignores the flag for 1-D inputs
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    return ctx.emit1("Transpose", [name], perm=perm)


def matmul(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    a, b = inputs
    if node.attrs["transpose_a"]:
        a = _swap_last_two(ctx, a, node.inputs[0])
    if node.attrs["transpose_b"]:
        b = _swap_last_two(ctx, b, node.inputs[1])
    return [ctx.emit1("MatMul", [a, b])]


def einsum(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    terms, output = ops.parse_equation(node.attrs["equation"], len(inputs))
    equation = ",".join(terms) + "->" + output
    if node.inputs[0].element_type is not ElementType.bf16:
        return [ctx.emit1("Einsum", inputs, equation=equation)]
    # onnxruntime has no bfloat16 Einsum: compute in float32.
    widened = [ctx.emit1("Cast", [name], to=ONNX_ELEMENT_TYPE[ElementType.f32]) for name in inputs]
    result = ctx.emit1("Einsum", widened, equation=equation)
    return [ctx.emit1("Cast", [result], to=ONNX_ELEMENT_TYPE[ElementType.bf16])]


LOWERINGS: dict[OpSpec, LoweringFn] = {ops.MatMul: matmul, ops.Einsum: einsum}
