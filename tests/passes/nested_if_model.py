"""An ONNX model with nested If nodes whose branches compute differently, and differ in rank
where the other branch cannot run for the model's inputs (as PyTorch exports `x.squeeze(0)`)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F, I64 = TensorProto.FLOAT, TensorProto.INT64


def _graph(name: str, nodes: list[onnx.NodeProto], outputs: list[str], initializers=()) -> onnx.GraphProto:
    return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(o, F, None) for o in outputs], list(initializers))


def _const(name: str, value) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value), name))


def nested_if_model() -> onnx.ModelProto:
    """x [N, 4], mode (int64 scalar) → y [4, N].

    mode == 1: If(sum(x) > 0, relu(x) * 2, |x| + sin(x)), transposed (data-dependent: stays an If).
    else:      If(N == 1, squeeze(x, 0), x) — the squeezed rank-1 branch cannot reach the
               Transpose(perm [1, 0]) after it, so only `x` is reachable — transposed, then
               tanh(W @ .) + If(mode > 5, 3·., . − 1) (an If nested in the else branch, chosen by
               the outer input mode).
    """
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32) * 0.5, "w")
    data_then = _graph("relu_twice", [_const("two", np.float32(2)), helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Mul", ["r", "two"], ["a_then"])], ["a_then"])
    data_else = _graph("abs_sin", [helper.make_node("Abs", ["x"], ["ab"]), helper.make_node("Sin", ["x"], ["si"]), helper.make_node("Add", ["ab", "si"], ["a_else"])], ["a_else"])
    mode_one = _graph("mode_one", [
        helper.make_node("ReduceSum", ["x"], ["total"], keepdims=0),
        _const("zero", np.float32(0)),
        helper.make_node("Greater", ["total", "zero"], ["positive"]),
        helper.make_node("If", ["positive"], ["a"], then_branch=data_then, else_branch=data_else, name="by_sign"),
        helper.make_node("Transpose", ["a"], ["y_one"], perm=[1, 0]),
    ], ["y_one"])
    squeeze = _graph("squeezed", [_const("axis0", np.array([0], np.int64)), helper.make_node("Squeeze", ["x", "axis0"], ["sq"])], ["sq"])
    keep = _graph("kept", [helper.make_node("Identity", ["x"], ["kept_x"])], ["kept_x"])
    times_three = _graph("times_three", [_const("three", np.float32(3)), helper.make_node("Mul", ["h", "three"], ["m3"])], ["m3"])
    minus_one = _graph("minus_one", [_const("one_f", np.float32(1)), helper.make_node("Sub", ["h", "one_f"], ["s1"])], ["s1"])
    mode_other = _graph("mode_other", [
        helper.make_node("Shape", ["x"], ["shape"]),
        _const("index0", np.array(0, np.int64)),
        helper.make_node("Gather", ["shape", "index0"], ["n"], axis=0),
        _const("one", np.array(1, np.int64)),
        helper.make_node("Equal", ["n", "one"], ["single"]),
        helper.make_node("If", ["single"], ["b"], then_branch=squeeze, else_branch=keep, name="squeeze_if_single"),
        helper.make_node("Transpose", ["b"], ["bt"], perm=[1, 0]),
        helper.make_node("MatMul", ["w", "bt"], ["wb"]),
        helper.make_node("Tanh", ["wb"], ["h"]),
        _const("five", np.array(5, np.int64)),
        helper.make_node("Greater", ["mode", "five"], ["large"]),
        helper.make_node("If", ["large"], ["y_other"], then_branch=times_three, else_branch=minus_one, name="by_mode"),
    ], ["y_other"], [w])
    graph = helper.make_graph(
        [_const("mode_1", np.array(1, np.int64)), helper.make_node("Equal", ["mode", "mode_1"], ["is_one"]),
         helper.make_node("If", ["is_one"], ["y"], then_branch=mode_one, else_branch=mode_other, name="by_mode_one")],
        "nested_if",
        [helper.make_tensor_value_info("x", F, ["N", 4]), helper.make_tensor_value_info("mode", I64, [])],
        [helper.make_tensor_value_info("y", F, [4, "N"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model
