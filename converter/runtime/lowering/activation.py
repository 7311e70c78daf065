"""Lowerings for activation functions."""

from __future__ import annotations

import numpy as np

from converter.ir.graph import Node, Value
from converter.ops import activation as ops
from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import LoweringContext, LoweringFn
from converter.runtime.lowering.elementwise import FLOAT32, FLOATS, emit_as, typed


def _scalar(ctx: LoweringContext, node: Node, value: float) -> str:
    return ctx.constant(np.array(value, node.inputs[0].element_type.numpy))


def _const_scalar(value: Value) -> float | None:
    array = value.const
    if array is None or array.size != 1:
        return None
    return float(array.reshape(-1)[0])


def relu(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    element_type = node.inputs[0].element_type
    if element_type.is_float:
        return [emit_as(ctx, "Relu", inputs, element_type, FLOATS)]
    return [ctx.emit1("Max", [inputs[0], _scalar(ctx, node, 0)])]


def prelu(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    x, slope = inputs
    data_shape = node.inputs[0].shape.dims
    slope_shape = node.inputs[1].shape.dims
    if slope_shape is None or (len(slope_shape) == 1 and slope_shape[0] != 1 and _channel_rule_unknown(slope_shape[0], data_shape)):
        raise NotImplementedError("PReLU: cannot tell statically whether the slope is per channel")
    if data_shape is not None and ops.prelu_channel_slope(slope_shape, data_shape):
        slope = ctx.emit1("Reshape", [slope, ctx.int64s([-1] + [1] * (len(data_shape) - 2))])
    negative = ctx.emit1("Less", [x, _scalar(ctx, node, 0)])
    return [ctx.emit1("Where", [negative, ctx.emit1("Mul", [x, slope]), x])]


def _channel_rule_unknown(length: int | None, data_shape: tuple[int | None, ...] | None) -> bool:
    if data_shape is None:
        return True
    if len(data_shape) < 3:
        return False  # rank 1: numpy; rank 2: channel == last dim, both rules agree
    return length is None or data_shape[1] is None


def elu(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [emit_as(ctx, "Elu", inputs, node.inputs[0].element_type, FLOAT32, alpha=node.attrs["alpha"])]


def clamp(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    dtype = node.inputs[0].element_type.numpy
    low: float | int = node.attrs["min"]
    high: float | int = node.attrs["max"]
    if dtype.kind in "iu":
        low, high = ops.integer_clamp_bounds(dtype, low, high)
    low_name = ctx.constant(np.array(low).astype(dtype))
    high_name = ctx.constant(np.array(high).astype(dtype))
    # Clamp is min(max(x, low), high), also when low > high
    return [ctx.emit1("Min", [ctx.emit1("Max", [inputs[0], low_name]), high_name])]


def hsigmoid(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    shifted = ctx.emit1("Add", [inputs[0], _scalar(ctx, node, 3)])
    limited = ctx.emit1("Min", [ctx.emit1("Max", [shifted, _scalar(ctx, node, 0)]), _scalar(ctx, node, 6)])
    return [ctx.emit1("Div", [limited, _scalar(ctx, node, 6)])]


def hswish(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    return [ctx.emit1("Mul", [inputs[0], hsigmoid(ctx, node, inputs)[0]])]


def hard_sigmoid(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    x, alpha, beta = inputs
    linear = ctx.emit1("Add", [ctx.emit1("Mul", [x, alpha]), beta])
    return [ctx.emit1("Max", [ctx.emit1("Min", [linear, _scalar(ctx, node, 1)]), _scalar(ctx, node, 0)])]


def gelu(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    approximate = "tanh" if node.attrs["approximation_mode"] == "TANH" else "none"
    return [emit_as(ctx, "Gelu", inputs, node.inputs[0].element_type, FLOAT32, approximate=approximate)]


def swish(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    x = inputs[0]
    scaled = ctx.emit1("Mul", [x, inputs[1]]) if len(inputs) > 1 else x
    return [ctx.emit1("Mul", [x, emit_as(ctx, "Sigmoid", [scaled], node.inputs[0].element_type, FLOATS)])]


def selu(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    alpha, lambda_ = _const_scalar(node.inputs[1]), _const_scalar(node.inputs[2])
    if alpha is not None and lambda_ is not None:
        return [emit_as(ctx, "Selu", inputs[:1], node.inputs[0].element_type, FLOAT32, alpha=alpha, gamma=lambda_)]
    x = inputs[0]
    negative = ctx.emit1("Mul", [inputs[1], ctx.emit1("Sub", [ctx.emit1("Exp", [x]), _scalar(ctx, node, 1)])])
    positive = ctx.emit1("Greater", [x, _scalar(ctx, node, 0)])
    return [ctx.emit1("Mul", [inputs[2], ctx.emit1("Where", [positive, x, negative])])]


def softmax(onnx_type: str) -> LoweringFn:
    def lower(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
        return [emit_as(ctx, onnx_type, inputs, node.inputs[0].element_type, FLOATS, axis=node.attrs["axis"])]

    return lower


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.Relu: relu,
    ops.PRelu: prelu,
    ops.Elu: elu,
    ops.Clamp: clamp,
    ops.Sigmoid: typed("Sigmoid", FLOATS),
    ops.Tanh: typed("Tanh", FLOATS),
    ops.HSigmoid: hsigmoid,
    ops.HSwish: hswish,
    ops.HardSigmoid: hard_sigmoid,
    ops.Gelu: gelu,
    ops.SoftPlus: typed("Softplus", FLOAT32),
    ops.SoftSign: typed("Softsign", FLOAT32),
    ops.Mish: typed("Mish", FLOAT32),
    ops.Swish: swish,
    ops.Selu: selu,
    ops.Softmax: softmax("Softmax"),
    ops.LogSoftmax: softmax("LogSoftmax"),
}
