import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def test_add_relu_with_dynamic_batch(check_onnx):
    weight = np.random.default_rng(0).random((1, 3, 1, 1), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["a"]), helper.make_node("Relu", ["a"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    check_onnx(model)
