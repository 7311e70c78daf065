"""ONNX activation ops → IR activation ops."""

from __future__ import annotations

from converter.frontends.onnx.converter import OnnxContext
from converter.ir.graph import Value
from converter.ops import activation as act


def Relu(ctx: OnnxContext, x: Value) -> Value:
    return act.Relu(x)


HANDLERS = {"Relu": Relu}
