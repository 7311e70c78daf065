"""Small ONNX models built in the tests (onnx.helper), shared by several test modules."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tiny_add_relu(batch: int | str = "N") -> onnx.ModelProto:
    weight = np.random.default_rng(0).random((1, 3, 1, 1), dtype=np.float32)
    bias = np.random.default_rng(1).random((1, 3, 1, 1), dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["x", "w"], ["a"], name="add"),
            helper.make_node("Mul", ["a", "b"], ["m"], name="mul"),
            helper.make_node("Relu", ["m"], ["y"], name="relu"),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def with_unknown_ops() -> onnx.ModelProto:
    graph = helper.make_graph(
        [
            helper.make_node("Relu", ["x"], ["a"], name="relu"),
            helper.make_node("FrobnicateA", ["a"], ["b"], name="frob1"),
            helper.make_node("FrobnicateA", ["b"], ["c"], name="frob2"),
            helper.make_node("Twiddle", ["c"], ["y"], name="twiddle", domain="com.example"),
        ],
        "unknown_ops",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]
    )
