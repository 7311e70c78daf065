"""The ONNX frontend reads models without the onnx package (converter/frontends/onnx/proto.py,
tensors.py): its embedded schema is onnx's, and every value it decodes equals what onnx's own
helpers decode from the same bytes."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from onnx.external_data_helper import ExternalDataInfo

from converter.frontends.onnx import proto
from converter.frontends.onnx.tensors import ELEMENT_TYPES, ExternalData, attribute_value, numpy_dtype, sparse_to_dense, to_array

TP = onnx.TensorProto


def _layout(descriptor) -> dict:
    """Every message's fields (number, type, label) and every enum's values, by full name."""
    layout = {}

    def message(m):
        layout[m.full_name] = {f.name: (f.number, f.type, f.is_repeated, f.message_type.full_name if f.message_type else None) for f in m.fields}
        for nested in m.nested_types:
            message(nested)
        for e in m.enum_types:
            layout[e.full_name] = {v.name: v.number for v in e.values}

    for m in descriptor.message_types_by_name.values():
        message(m)
    for e in descriptor.enum_types_by_name.values():
        layout[e.full_name] = {v.name: v.number for v in e.values}
    return layout


def test_the_embedded_schema_is_the_installed_onnx_schema():
    """Exactly onnx's when the versions match; with a newer onnx every message, field and enum
    value irforge knows must still be there unchanged (new ones only cost irforge their data)."""
    from onnx import onnx_ml_pb2

    from converter.frontends.onnx.onnx_ml_descriptor import ONNX_VERSION, SCHEMA

    theirs = _layout(onnx_ml_pb2.DESCRIPTOR)
    for name, entries in _layout(proto.ModelProto.DESCRIPTOR.file).items():
        assert name in theirs, name
        assert {key: theirs[name].get(key) for key in entries} == entries, name
    if onnx.__version__ == ONNX_VERSION:
        assert SCHEMA == onnx_ml_pb2.DESCRIPTOR.serialized_pb, "regenerate: python -m converter.frontends.onnx.proto"


def test_messages_cross_between_onnx_classes_and_ours_unchanged():
    model = helper.make_model(
        helper.make_graph(
            [helper.make_node("Relu", ["x"], ["y"], name="relu")],
            "g",
            [helper.make_tensor_value_info("x", TP.FLOAT, ["n", 3])],
            [helper.make_tensor_value_info("y", TP.FLOAT, ["n", 3])],
            [numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "w")],
        )
    )
    ours = proto.as_ours(model)
    assert type(ours) is proto.ModelProto and proto.is_model(ours) and proto.is_model(model)
    assert not proto.is_model(model.graph) and not proto.is_model(b"\x08\x07")
    assert proto.as_ours(ours) is ours
    assert ours.SerializeToString() == model.SerializeToString()
    assert proto.as_onnx(ours) == model
    assert ours.graph.node[0].op_type == "Relu" and ours.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "n"


def test_enum_values_and_names_are_onnx_s():
    for name, code in TP.DataType.items():
        assert getattr(proto.TensorProto, name) == code
        assert proto.data_type_name(code) == name
    for name, code in onnx.AttributeProto.AttributeType.items():
        assert getattr(proto.AttributeProto, name) == code
    assert proto.data_type_name(999) == "data type 999"


@pytest.mark.parametrize("code", [code for name, code in TP.DataType.items() if name != "UNDEFINED"])
def test_numpy_dtype_is_onnx_s(code):
    assert numpy_dtype(code) == helper.tensor_dtype_to_np_dtype(code)


def test_numpy_dtype_of_an_unknown_type_is_a_value_error():
    with pytest.raises(ValueError, match="UNDEFINED"):
        numpy_dtype(TP.UNDEFINED)


def test_every_ir_element_type_has_its_onnx_type():
    from converter.ir.types import ElementType

    assert set(ELEMENT_TYPES.values()) == set(ElementType)
    for code, element_type in ELEMENT_TYPES.items():
        assert numpy_dtype(code) == element_type.numpy


def _values(code: int, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(code)
    dtype = helper.tensor_dtype_to_np_dtype(code)
    if code == TP.STRING:
        return np.array([f"s{i}é" for i in range(int(np.prod(shape)))], dtype=object).reshape(shape)
    if code == TP.BOOL:
        return rng.integers(0, 2, shape).astype(bool)
    if code in (TP.COMPLEX64, TP.COMPLEX128):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    if dtype in (np.float16, np.float32, np.float64):
        return (rng.standard_normal(shape) * 100).astype(dtype)
    return rng.integers(0, 2, shape).astype(np.float32).astype(dtype)  # ml_dtypes' narrow types hold 0 and 1


_STORED = [name for name in TP.DataType.keys() if name not in ("UNDEFINED",)]


@pytest.mark.parametrize("name", _STORED)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 5)])
@pytest.mark.parametrize("raw", [True, False])
def test_to_array_decodes_what_onnx_decodes(name, shape, raw):
    code = getattr(TP, name)
    if raw and code == TP.STRING:
        pytest.skip("strings have no raw_data form")
    values = _values(code, shape)
    if raw:
        tensor = numpy_helper.from_array(values, "t")
        assert tensor.HasField("raw_data")
    else:
        stored = [v.encode() for v in values.flatten()] if code == TP.STRING else values.flatten().tolist()
        tensor = helper.make_tensor("t", code, shape, stored)
    expected = numpy_helper.to_array(tensor)
    got = to_array(proto.as_ours(tensor))
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes() if got.dtype != object else got.tolist() == expected.tolist()


def test_to_array_of_raw_data_shares_the_buffer_read_only():
    tensor = proto.as_ours(numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(3, 4), "w"))
    array = to_array(tensor)
    assert not array.flags.writeable and array.base is not None


def test_a_segmented_tensor_is_refused_as_onnx_refuses_it():
    tensor = numpy_helper.from_array(np.arange(4, dtype=np.float32), "w")
    tensor.segment.begin = 0
    tensor.segment.end = 4
    with pytest.raises(ValueError, match="segment"):
        to_array(proto.as_ours(tensor))


def test_sparse_to_dense_linear_and_coordinate_indices():
    values = numpy_helper.from_array(np.array([1.5, -2.0], np.float32), "v")
    linear = helper.make_sparse_tensor(values, numpy_helper.from_array(np.array([1, 5], np.int64), "i"), [2, 3])
    coords = helper.make_sparse_tensor(values, numpy_helper.from_array(np.array([[0, 1], [1, 2]], np.int64), "i"), [2, 3])
    expected = np.array([[0, 1.5, 0], [0, 0, -2.0]], np.float32)
    np.testing.assert_array_equal(sparse_to_dense(proto.as_ours(linear)), expected)
    np.testing.assert_array_equal(sparse_to_dense(proto.as_ours(coords)), expected)


def _attributes() -> list[onnx.AttributeProto]:
    graph = helper.make_graph([], "body", [], [helper.make_tensor_value_info("o", TP.FLOAT, [1])])
    tensor = numpy_helper.from_array(np.ones((2,), np.float32), "t")
    sparse = helper.make_sparse_tensor(tensor, numpy_helper.from_array(np.array([0, 1], np.int64), "i"), [4])
    type_proto = helper.make_tensor_type_proto(TP.FLOAT, [2, None])
    return [
        helper.make_attribute("f", 0.25),
        helper.make_attribute("i", -7),
        helper.make_attribute("s", "text"),
        helper.make_attribute("t", tensor),
        helper.make_attribute("g", graph),
        helper.make_attribute("sp", sparse),
        helper.make_attribute("tp", type_proto),
        helper.make_attribute("floats", [1.0, 2.5]),
        helper.make_attribute("ints", [3, -4]),
        helper.make_attribute("strings", ["a", "b"]),
        helper.make_attribute("tensors", [tensor, tensor]),
        helper.make_attribute("graphs", [graph]),
        helper.make_attribute("sparses", [sparse]),
        helper.make_attribute("tps", [type_proto]),
        helper.make_attribute("empty_ints", [], attr_type=onnx.AttributeProto.INTS),
    ]


@pytest.mark.parametrize("attribute", _attributes(), ids=lambda a: a.name)
def test_attribute_value_is_onnx_s(attribute):
    expected = helper.get_attribute_value(attribute)
    got = attribute_value(proto.as_ours(attribute))
    if isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected)
        pairs = zip(got, expected)
    else:
        pairs = [(got, expected)]
    for ours, theirs in pairs:
        if hasattr(theirs, "SerializeToString"):
            assert ours.SerializeToString() == theirs.SerializeToString()
        else:
            assert ours == theirs and type(ours) is type(theirs)


def test_an_attribute_without_a_type_is_a_value_error():
    attribute = proto.AttributeProto(name="nothing")
    with pytest.raises(ValueError, match="nothing"):
        attribute_value(attribute)


@pytest.mark.parametrize(
    "entries",
    [
        {"location": "w.bin"},
        {"location": "w.bin", "offset": "128", "length": "64"},
        {"location": "w.bin", "length": "0"},
        {"location": "sub/w.bin", "checksum": "abc", "offset": "0"},
        {},
    ],
)
def test_external_data_reads_the_entries_as_onnx_does(entries):
    tensor = TP(name="w", data_type=TP.FLOAT, dims=[16], data_location=TP.EXTERNAL)
    for key, value in entries.items():
        tensor.external_data.add(key=key, value=value)
    info = ExternalDataInfo(tensor)
    ours = ExternalData.of(proto.as_ours(tensor))
    assert (ours.location, ours.offset or None, ours.length or None) == (info.location, info.offset or None, info.length or None)


@pytest.mark.parametrize("offset", ["twelve", ""])
def test_external_data_with_a_non_integer_offset_is_a_value_error(offset):
    tensor = proto.TensorProto(name="w")
    tensor.external_data.add(key="offset", value=offset)
    with pytest.raises(ValueError):
        ExternalDataInfo(proto.as_onnx(tensor))
    with pytest.raises(ValueError, match="offset"):
        ExternalData.of(tensor)


@pytest.mark.parametrize("dims", [None, [], [1, None, 3], [0]])
def test_tensor_type_is_make_tensor_type_proto(dims):
    assert proto.tensor_type(TP.FLOAT16, dims).SerializeToString() == helper.make_tensor_type_proto(TP.FLOAT16, dims).SerializeToString()
