"""ONNX element-wise ops → IR element-wise ops."""

from __future__ import annotations

from converter.frontends.onnx.converter import OnnxContext
from converter.ir.graph import Value
from converter.ops import elementwise as ew


def Add(ctx: OnnxContext, a: Value, b: Value) -> Value:
    return ew.Add(a, b)


def Sub(ctx: OnnxContext, a: Value, b: Value) -> Value:
    return ew.Subtract(a, b)


def Mul(ctx: OnnxContext, a: Value, b: Value) -> Value:
    return ew.Multiply(a, b)


def Exp(ctx: OnnxContext, x: Value) -> Value:
    return ew.Exp(x)


def Sqrt(ctx: OnnxContext, x: Value) -> Value:
    return ew.Sqrt(x)


HANDLERS = {"Add": Add, "Sub": Sub, "Mul": Mul, "Exp": Exp, "Sqrt": Sqrt}
