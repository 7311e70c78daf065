"""The state shared by IR → ONNX lowering functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from converter.frontends.onnx.tensors import ONNX_ELEMENT_TYPES
from converter.ir.graph import Node

ONNX_OPSET = 21
"""Default-domain opset of the lowered model (what onnxruntime runs)."""

ONNX_ELEMENT_TYPE = ONNX_ELEMENT_TYPES
"""IR element type → ONNX TensorProto data type (the ONNX frontend's table, read backwards)."""


class LoweringContext:
    """Collects ONNX nodes and initializers; hands out fresh, unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._counter = 0
        self._constants: dict[tuple[str, bytes, tuple[int, ...]], str] = {}

    def fresh(self, prefix: str = "t") -> str:
        self._counter += 1
        return f"{prefix}_{self._counter}"

    def emit(self, op_type: str, inputs: Sequence[str], num_outputs: int = 1, **attrs: Any) -> list[str]:
        """Append one ONNX node; return its output names. Empty input name = omitted."""
        outputs = [self.fresh(op_type.lower()) for _ in range(num_outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), outputs, name=self.fresh("n"), **attrs))
        return outputs

    def emit1(self, op_type: str, inputs: Sequence[str], **attrs: Any) -> str:
        return self.emit(op_type, inputs, 1, **attrs)[0]

    def constant(self, value: Any, dtype: Any = None) -> str:
        """An initializer holding `value`; identical constants are shared."""
        array = np.asarray(value, dtype=dtype)
        key = (str(array.dtype), array.tobytes(), tuple(array.shape))
        name = self._constants.get(key)
        if name is None:
            name = self.fresh("c")
            self.initializers.append(numpy_helper.from_array(array, name))
            self._constants[key] = name
        return name

    def int64s(self, values: Sequence[int]) -> str:
        return self.constant(np.array(list(values), dtype=np.int64))


LoweringFn = Callable[[LoweringContext, Node, list[str]], list[str]]
"""(context, IR node, ONNX names of its inputs) -> ONNX names of its outputs."""


def onnx_op(op_type: str, **fixed: Any) -> LoweringFn:
    """A lowering for IR ops that are one ONNX op with no attributes to translate."""

    def lower(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
        return ctx.emit(op_type, inputs, len(node.outputs), **fixed)

    return lower
