"""Lowerings for element-wise ops."""

from __future__ import annotations

from converter.ops import elementwise as ops
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import LoweringFn, onnx_op

LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.Add: onnx_op("Add"),
    ops.Subtract: onnx_op("Sub"),
    ops.Multiply: onnx_op("Mul"),
    ops.Divide: onnx_op("Div"),
    ops.Exp: onnx_op("Exp"),
    ops.Sqrt: onnx_op("Sqrt"),
}
