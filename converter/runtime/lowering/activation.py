"""Lowerings for activation functions."""

from __future__ import annotations

from converter.ops import activation as ops
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import LoweringFn, onnx_op

LOWERINGS: dict[OpSpec, LoweringFn] = {ops.Relu: onnx_op("Relu")}
