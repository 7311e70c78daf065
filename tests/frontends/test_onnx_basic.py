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


def test_external_data_is_memory_mapped_not_copied(tmp_path):
    import numpy as np
    import onnx

    from converter import convert_model
    from converter.runtime import execute
    from models import tiny_add_relu

    model = tiny_add_relu()
    onnx.save_model(model, tmp_path / "m.onnx", save_as_external_data=True, all_tensors_to_one_file=True, location="weights.data", size_threshold=0)
    graph = convert_model(tmp_path / "m.onnx", passes=[])
    weights = [n.attrs["value"] for n in graph.nodes() if n.op.type == "Const"]
    assert weights and all(isinstance(w, np.memmap) or isinstance(w.base, np.memmap) for w in weights)
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    from converter.validate import run_onnxruntime

    assert np.allclose(execute(graph, [x])[0], run_onnxruntime(tmp_path / "m.onnx", [x])[0], atol=1e-6)


def test_truncated_external_data_is_a_clear_error(tmp_path):
    import onnx
    import pytest

    from converter import InvalidModelError, convert_model
    from models import tiny_add_relu

    onnx.save_model(tiny_add_relu(), tmp_path / "m.onnx", save_as_external_data=True, all_tensors_to_one_file=True, location="weights.data", size_threshold=0)
    data = tmp_path / "weights.data"
    data.write_bytes(data.read_bytes()[:-4])
    with pytest.raises(InvalidModelError, match="weights.data"):
        convert_model(tmp_path / "m.onnx")
