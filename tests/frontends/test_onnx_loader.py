"""load_onnx leaves the large initializers of a large .onnx in the file (external data pointing
into the model itself) instead of parsing and copying them: the converted graph must be exactly
the one a whole parse gives, and anything unusual must fall back to the whole parse."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import models  # noqa: E402
from converter.errors import InvalidModelError  # noqa: E402
from converter.frontends.onnx import convert  # noqa: E402
from converter.frontends.onnx import loader  # noqa: E402
from converter.serialize.writer import serialize  # noqa: E402


@pytest.fixture
def leave_everything(monkeypatch):
    """Thresholds low enough that the small test models take the scanning path."""
    monkeypatch.setattr(loader, "LEAVE_IN_FILE_FROM", 0)
    monkeypatch.setattr(loader, "LEAVE_TENSOR_FROM", 16)


def _whole(path: Path) -> tuple[bytes, bytes]:
    original = loader.LEAVE_IN_FILE_FROM
    loader.LEAVE_IN_FILE_FROM = 1 << 62
    try:
        return serialize(convert(path))
    finally:
        loader.LEAVE_IN_FILE_FROM = original


@pytest.mark.parametrize("build", [models.cnn, models.transformer, models.resnet, models.recurrent])
def test_weights_left_in_the_file_convert_to_the_same_ir(build, tmp_path: Path, leave_everything) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(build(), path)
    model = loader.load_onnx(path)
    left = [t for t in model.graph.initializer if t.data_location == TensorProto.EXTERNAL]
    assert left and all(entry.value == "m.onnx" for t in left for entry in t.external_data if entry.key == "location")
    assert all(not t.raw_data for t in left)
    assert serialize(convert(path)) == _whole(path)
    arrays = [a for a in (n.attrs.get("value") for n in convert(path).nodes()) if isinstance(a, np.ndarray)]
    assert not any(isinstance(a, np.memmap) or isinstance(a.base, np.memmap) for a in arrays)  # read into memory


def test_the_rest_of_the_model_is_untouched(tmp_path: Path, leave_everything) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(models.transformer(), path)
    ours, whole = loader.load_onnx(path), onnx.load(path)
    for model in (ours, whole):
        del model.graph.initializer[:]
    assert ours.SerializeToString() == whole.SerializeToString()


def _model_with(tensor: TensorProto) -> onnx.ModelProto:
    graph = helper.make_graph([helper.make_node("Add", ["x", tensor.name], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [64])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [tensor])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_tensors_not_in_raw_data_stay_as_they_are(tmp_path: Path, leave_everything) -> None:
    values = np.arange(64, dtype=np.float32)
    typed = helper.make_tensor("w", TensorProto.FLOAT, [64], values.tolist())  # float_data, not raw_data
    path = tmp_path / "m.onnx"
    onnx.save(_model_with(typed), path)
    model = loader.load_onnx(path)
    assert model.graph.initializer[0].data_location == TensorProto.DEFAULT
    assert np.array_equal(numpy_helper.to_array(model.graph.initializer[0]), values)


def test_garbage_and_truncated_files_still_fail_as_invalid(tmp_path: Path, leave_everything) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(models.cnn(), path)
    data = path.read_bytes()
    for name, payload in (("truncated", data[: len(data) // 2]), ("garbage", bytes(range(256)) * 64), ("varints", b"\xff" * 4096)):
        bad = tmp_path / f"{name}.onnx"
        bad.write_bytes(payload)
        with pytest.raises(InvalidModelError):
            loader.load_onnx(bad)


def test_two_graph_fields_fall_back_to_the_whole_parse(tmp_path: Path, leave_everything) -> None:
    """Protobuf merges a repeated message field; the scan does not try to: it lets protobuf parse."""
    model = _model_with(numpy_helper.from_array(np.ones(64, np.float32), "w"))
    data = model.SerializeToString()
    extra = helper.make_graph([], "", [], []).SerializeToString()
    path = tmp_path / "m.onnx"
    path.write_bytes(data + b"\x3a" + bytes([len(extra)]) + extra)  # field 7 (graph) again
    with open(path, "rb") as handle:
        assert loader._weights_left_in_file(memoryview(handle.read()), "m.onnx") is None
    assert len(loader.load_onnx(path).graph.initializer) == 1


def test_an_input_dim_of_minus_one_is_dynamic_and_other_negatives_are_refused(check_onnx) -> None:
    """paddle2onnx writes dim_value -1 for a dynamic dim (PP-OCR's classifier), which OpenVINO reads as dynamic."""
    def relu_model(dims: list[int]) -> onnx.ModelProto:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
        graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    graph = convert(relu_model([-1, 3, 4]))
    assert graph.inputs[0].shape.dims == (None, 3, 4)
    check_onnx(relu_model([-1, 3, 4]), inputs=[np.linspace(-1, 1, 24, dtype=np.float32).reshape(2, 3, 4)])
    with pytest.raises(InvalidModelError, match="input 'x' has a negative dimension"):
        convert(relu_model([-2, 3, 4]))
