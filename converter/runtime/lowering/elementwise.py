"""Lowerings for element-wise ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import ElementType
from converter.ops import elementwise as ops
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, LoweringContext, LoweringFn, onnx_op

UNSIGNED_OF = {
    ElementType.i8: ElementType.u8,
    ElementType.i16: ElementType.u16,
    ElementType.i32: ElementType.u32,
    ElementType.i64: ElementType.u64,
}

E = ElementType
FLOATS = frozenset({E.f16, E.f32, E.f64})
FLOAT32 = frozenset({E.f16, E.f32})
ORDERED = frozenset({E.i8, E.u8, E.i32, E.u32, E.i64, E.u64}) | FLOATS
"""Types onnxruntime's Max/Min accept."""

_STAND_INS: dict[ElementType, tuple[ElementType, ...]] = {
    E.boolean: (E.u8, E.i32),
    E.i8: (E.i32, E.i64),
    E.u8: (E.i32, E.i64),
    E.i16: (E.i32, E.i64),
    E.u16: (E.i32, E.i64),
    E.u32: (E.i64,),
    E.bf16: (E.f32,),
    E.f16: (E.f32,),
    E.f64: (E.f32,),
}


def emit_as(
    ctx: LoweringContext,
    op_type: str,
    inputs: list[str],
    element_type: ElementType,
    supported: frozenset[ElementType],
    cast: tuple[int, ...] | None = None,
    output_cast: bool = True,
    **attrs: Any,
) -> str:
    """Emit `op_type`; where onnxruntime lacks a kernel for `element_type`, run it in a
    wider stand-in type (f64 → f32: the precision OpenVINO's CPU plugin uses too).

    `cast` lists the input indices holding `element_type` (default: all).
    """
    if element_type in supported:
        return ctx.emit1(op_type, inputs, **attrs)
    stand_in = next((t for t in _STAND_INS.get(element_type, ()) if t in supported), None)
    if stand_in is None:
        raise NotImplementedError(f"onnxruntime has no {op_type} for {element_type.value}")
    indices = range(len(inputs)) if cast is None else cast
    widened = [_cast(ctx, name, stand_in) if i in indices and name else name for i, name in enumerate(inputs)]
    result = ctx.emit1(op_type, widened, **attrs)
    return _cast(ctx, result, element_type) if output_cast else result


def typed(op_type: str, supported: frozenset[ElementType], **fixed: Any) -> LoweringFn:
    """One ONNX op, computed in a stand-in type where onnxruntime lacks the IR type."""

    def lower(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
        return [emit_as(ctx, op_type, inputs, node.inputs[0].element_type, supported, **fixed)]

    return lower


def _is_signed_integer(element_type: ElementType) -> bool:
    return element_type in UNSIGNED_OF


def divide(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    a, b = inputs
    if not (node.attrs["m_pythondiv"] and _is_signed_integer(node.inputs[0].element_type)):
        return [ctx.emit1("Div", [a, b])]
    # ONNX Div truncates; floor division is exact on a - (a mod b), whose remainder is 0
    remainder = ctx.emit1("Mod", [a, b], fmod=0)
    return [ctx.emit1("Div", [ctx.emit1("Sub", [a, remainder]), b])]


def squared_difference(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    difference = ctx.emit1("Sub", inputs)
    return [ctx.emit1("Mul", [difference, difference])]


def floor_mod(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    a, b = inputs
    if node.inputs[0].element_type.is_integer:
        return [ctx.emit1("Mod", [a, b], fmod=0)]
    # ONNX forbids fmod=0 on floats before opset 28: shift the C remainder onto the divisor's sign
    remainder = ctx.emit1("Mod", [a, b], fmod=1)
    zero = ctx.constant(np.zeros((), node.inputs[0].element_type.numpy))
    nonzero = ctx.emit1("Not", [ctx.emit1("Equal", [remainder, zero])])
    signs_differ = ctx.emit1("Xor", [ctx.emit1("Less", [remainder, zero]), ctx.emit1("Less", [b, zero])])
    adjust = ctx.emit1("And", [nonzero, signs_differ])
    return [ctx.emit1("Where", [adjust, ctx.emit1("Add", [remainder, b]), remainder])]


def not_equal(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [ctx.emit1("Not", [ctx.emit1("Equal", inputs)])]


def bitwise(bitwise_op: str, logical_op: str) -> LoweringFn:
    """Bitwise ops on booleans are the logical ones (ONNX Bitwise* rejects bool)."""

    def lower(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
        if node.inputs[0].element_type is ElementType.boolean:
            return [ctx.emit1(logical_op, inputs)]
        return [ctx.emit1(bitwise_op, inputs)]

    return lower


def _cast(ctx: LoweringContext, name: str, element_type: ElementType) -> str:
    return ctx.emit1("Cast", [name], to=ONNX_ELEMENT_TYPE[element_type])


def shift_left(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    element_type = node.inputs[0].element_type
    if not _is_signed_integer(element_type):
        return [ctx.emit1("BitShift", inputs, direction="LEFT")]
    a, b = (_cast(ctx, name, UNSIGNED_OF[element_type]) for name in inputs)
    return [_cast(ctx, ctx.emit1("BitShift", [a, b], direction="LEFT"), element_type)]


def shift_right(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    element_type = node.inputs[0].element_type
    if not _is_signed_integer(element_type):
        return [ctx.emit1("BitShift", inputs, direction="RIGHT")]
    # arithmetic shift: negative x (mask all ones) shifts as ~((~x) >>> n) = mask ^ ((mask ^ x) >>> n)
    unsigned = UNSIGNED_OF[element_type]
    a, b = (_cast(ctx, name, unsigned) for name in inputs)
    negative = ctx.emit1("Less", [inputs[0], ctx.constant(np.zeros((), element_type.numpy))])
    mask = ctx.emit1("Sub", [ctx.constant(np.zeros((), unsigned.numpy)), _cast(ctx, negative, unsigned)])
    shifted = ctx.emit1("BitShift", [ctx.emit1("BitwiseXor", [a, mask]), b], direction="RIGHT")
    return [_cast(ctx, ctx.emit1("BitwiseXor", [shifted, mask]), element_type)]


def float_only(onnx_type: str, integer_identity: bool = False, supported: frozenset[ElementType] = FLOATS) -> LoweringFn:
    """An ONNX op defined on floats only; on integers the IR op is the identity or unsupported."""

    def lower(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
        element_type = node.inputs[0].element_type
        if element_type.is_float:
            return [emit_as(ctx, onnx_type, inputs, element_type, supported)]
        if integer_identity:
            return [ctx.emit1("Identity", inputs)]
        raise NotImplementedError(f"{node.op.type} on {element_type.value} has no ONNX lowering")

    return lower


def select(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    where_types = frozenset({E.i8, E.u8, E.i32, E.u32, E.i64}) | FLOATS
    element_type = node.inputs[1].element_type
    if element_type is E.u64:  # choosing values only moves bits: i64 carries them unchanged
        then, otherwise = (_cast(ctx, name, E.i64) for name in inputs[1:])
        return [_cast(ctx, ctx.emit1("Where", [inputs[0], then, otherwise]), E.u64)]
    return [emit_as(ctx, "Where", inputs, element_type, where_types, cast=(1, 2))]


def round_(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    element_type = node.inputs[0].element_type
    if not element_type.is_float:
        return [ctx.emit1("Identity", inputs)]
    if node.attrs["mode"] == "half_to_even":
        return [ctx.emit1("Round", inputs)]
    x = inputs[0]
    half = ctx.constant(np.array(0.5, element_type.numpy))
    magnitude = ctx.emit1("Floor", [ctx.emit1("Add", [ctx.emit1("Abs", [x]), half])])
    return [ctx.emit1("Mul", [ctx.emit1("Sign", [x]), magnitude])]


def is_inf(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [
        ctx.emit1(
            "IsInf",
            inputs,
            detect_negative=int(node.attrs["detect_negative"]),
            detect_positive=int(node.attrs["detect_positive"]),
        )
    ]


def is_finite(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    not_finite = ctx.emit1("Or", [ctx.emit1("IsNaN", inputs), ctx.emit1("IsInf", inputs)])
    return [ctx.emit1("Not", [not_finite])]


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.Add: onnx_op("Add"),
    ops.Subtract: onnx_op("Sub"),
    ops.Multiply: onnx_op("Mul"),
    ops.Divide: divide,
    ops.Power: typed("Pow", frozenset({E.i32, E.i64}) | FLOATS),
    ops.Maximum: typed("Max", ORDERED),
    ops.Minimum: typed("Min", ORDERED),
    ops.SquaredDifference: squared_difference,
    ops.Mod: onnx_op("Mod", fmod=1),
    ops.FloorMod: floor_mod,
    ops.Equal: onnx_op("Equal"),
    ops.NotEqual: not_equal,
    ops.Greater: onnx_op("Greater"),
    ops.GreaterEqual: onnx_op("GreaterOrEqual"),
    ops.Less: onnx_op("Less"),
    ops.LessEqual: onnx_op("LessOrEqual"),
    ops.LogicalAnd: onnx_op("And"),
    ops.LogicalOr: onnx_op("Or"),
    ops.LogicalXor: onnx_op("Xor"),
    ops.LogicalNot: onnx_op("Not"),
    ops.Select: select,
    ops.BitwiseAnd: bitwise("BitwiseAnd", "And"),
    ops.BitwiseOr: bitwise("BitwiseOr", "Or"),
    ops.BitwiseXor: bitwise("BitwiseXor", "Xor"),
    ops.BitwiseNot: bitwise("BitwiseNot", "Not"),
    ops.BitwiseLeftShift: shift_left,
    ops.BitwiseRightShift: shift_right,
    ops.Abs: onnx_op("Abs"),
    ops.Negative: onnx_op("Neg"),
    ops.Floor: float_only("Floor", integer_identity=True),
    ops.Ceiling: float_only("Ceil", integer_identity=True),
    ops.Sign: onnx_op("Sign"),
    ops.Sqrt: float_only("Sqrt"),
    ops.Exp: float_only("Exp"),
    ops.Log: float_only("Log"),
    ops.Sin: float_only("Sin"),
    ops.Cos: float_only("Cos"),
    ops.Tan: float_only("Tan"),
    ops.Asin: float_only("Asin"),
    ops.Acos: float_only("Acos"),
    ops.Atan: float_only("Atan"),
    ops.Sinh: float_only("Sinh"),
    ops.Cosh: float_only("Cosh"),
    ops.Asinh: float_only("Asinh"),
    ops.Acosh: float_only("Acosh"),
    ops.Atanh: float_only("Atanh"),
    ops.Erf: float_only("Erf", supported=FLOAT32),
    ops.Round: round_,
    ops.IsNaN: onnx_op("IsNaN"),
    ops.IsFinite: is_finite,
    ops.IsInf: is_inf,
}
