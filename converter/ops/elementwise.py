"""Element-wise math: unary functions, binary arithmetic, comparisons, logic, Select."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from converter.ir.types import ElementType
from converter.ops.spec import Attr, AttrKind, OpSpec, elementwise_binary, same_as_input

AUTO_BROADCAST = Attr("auto_broadcast", AttrKind.STR, "numpy")


def _binary(type_: str, function: Callable[[np.ndarray, np.ndarray], np.ndarray], version: str = "opset1") -> OpSpec:
    def kernel(inputs: list[np.ndarray], attrs: dict) -> list[np.ndarray]:
        a, b = inputs
        return [np.asarray(function(a, b)).astype(a.dtype, copy=False)]

    return OpSpec(type_, version, (AUTO_BROADCAST,), elementwise_binary(), kernel)


def _unary(type_: str, function: Callable[[np.ndarray], np.ndarray], version: str = "opset1") -> OpSpec:
    def kernel(inputs: list[np.ndarray], attrs: dict) -> list[np.ndarray]:
        return [np.asarray(function(inputs[0])).astype(inputs[0].dtype, copy=False)]

    return OpSpec(type_, version, (), same_as_input(), kernel)


Add = _binary("Add", np.add)
Subtract = _binary("Subtract", np.subtract)
Multiply = _binary("Multiply", np.multiply)
Divide = OpSpec(
    "Divide",
    "opset1",
    (AUTO_BROADCAST, Attr("m_pythondiv", AttrKind.BOOL, True)),
    elementwise_binary(),
    lambda inputs, attrs: [np.asarray(inputs[0] / inputs[1]).astype(inputs[0].dtype)],
)

Exp = _unary("Exp", np.exp)
Sqrt = _unary("Sqrt", np.sqrt)

OPS: tuple[OpSpec, ...] = (Add, Subtract, Multiply, Divide, Exp, Sqrt)
