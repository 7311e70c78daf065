"""4-bit element types (i4, u4, f4e2m1): packed two to a byte in the .bin, low nibble first, as
OpenVINO reads them; read back exactly; OpenVINO's runtime and onnxruntime agree on the values."""

from __future__ import annotations

from pathlib import Path

import ml_dtypes
import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from converter import convert_model, read_model, save_model
from converter.errors import InvalidModelError
from converter.ir.graph import Graph
from converter.ir.packing import pack_nibbles, unpack_nibbles
from converter.ir.types import ElementType, Shape
from converter.ops.core import Convert, const, parameter
from converter.ops.elementwise import Add
from converter.runtime import execute
from converter.serialize.reader import parse_ir
from converter.serialize.writer import serialize

VALUES = {
    ElementType.i4: np.array([-8, -1, 0, 7, 3], dtype=ml_dtypes.int4),
    ElementType.u4: np.array([0, 15, 1, 8, 9], dtype=ml_dtypes.uint4),
    ElementType.f4e2m1: np.array([0.5, -6, 1.5, -0.0, 3], dtype=ml_dtypes.float4_e2m1fn),
}


@pytest.mark.parametrize("element_type", list(VALUES), ids=lambda t: t.value)
def test_const_packed_in_bin_low_nibble_first(element_type: ElementType) -> None:
    values = VALUES[element_type]
    x = parameter("x", ElementType.f32, Shape.of(5))
    y = Add(x.outputs[0], Convert(const(values), destination_type=ElementType.f32))
    xml, blob = serialize(Graph([x], [y]))
    codes = values.view(np.uint8) & 0x0F
    expected = bytes([codes[0] | codes[1] << 4, codes[2] | codes[3] << 4, codes[4]])
    assert blob == expected  # 5 elements in 3 bytes, the last high nibble zero
    assert f'element_type="{element_type.value}" shape="5" offset="0" size="3"'.encode() in xml
    assert f'precision="{element_type.precision}"'.encode() in xml
    read = parse_ir(xml, blob)
    const_node = next(n for n in read.nodes() if n.op.type == "Const")
    assert const_node.attrs["value"].dtype == values.dtype
    np.testing.assert_array_equal(const_node.attrs["value"].astype(np.float32), values.astype(np.float32))
    assert serialize(read) == (xml, blob)  # read → write is byte-identical
    feeds = [np.zeros(5, dtype=np.float32)]
    for backend in ("openvino", "onnxruntime"):
        if backend == "onnxruntime" and element_type is ElementType.f4e2m1:
            continue  # float4 needs Cast-23, above the lowering's opset
        np.testing.assert_array_equal(execute(read, feeds, backend=backend)[0], values.astype(np.float32))


def test_reader_rejects_unpacked_size() -> None:
    x = parameter("x", ElementType.f32, Shape.of(5))
    y = Add(x.outputs[0], Convert(const(VALUES[ElementType.i4]), destination_type=ElementType.f32))
    xml, blob = serialize(Graph([x], [y]))
    with pytest.raises(InvalidModelError, match="does not match i4"):
        parse_ir(xml.replace(b'size="3"', b'size="5"'), blob + b"\0\0")


def test_pack_unpack_round_trip_every_code() -> None:
    for dtype in (ml_dtypes.int4, ml_dtypes.uint4, ml_dtypes.float4_e2m1fn):
        codes = np.arange(16, dtype=np.uint8).view(dtype)
        for count in (0, 1, 15, 16):
            array = codes[:count].reshape(count)
            packed = pack_nibbles(array)
            assert packed.size == (count + 1) // 2
            back = unpack_nibbles(packed, np.dtype(dtype), (count,))
            assert back.view(np.uint8).tolist() == array.view(np.uint8).tolist()


@pytest.mark.parametrize(
    "onnx_type, values, expected",
    [
        # a float truncates toward zero, then keeps its low 4 bits (ONNX's reference; OpenVINO's
        # Convert straight from f32 to u4 would clamp negatives to 0)
        (onnx.TensorProto.UINT4, [-9.0, -2.5, 3.7, 16.0, 17.0], [7, 14, 3, 0, 1]),
        (onnx.TensorProto.INT4, [-9.0, -2.5, 3.7, 8.0, 7.0], [7, -2, 3, -8, 7]),
        # round half to even, saturate at ±6 (infinities too), NaN → -0
        (onnx.TensorProto.FLOAT4E2M1, [0.25, 2.5, 5.0, 1e6, -np.inf, np.nan, 0.75], [0, 2, 4, 6, -6, -0.0, 1]),
    ],
    ids=["uint4", "int4", "float4e2m1"],
)
def test_cast_to_4_bits_in_openvino(tmp_path: Path, onnx_type: int, values: list[float], expected: list[float]) -> None:
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [len(values)])
    y = helper.make_tensor_value_info("y", onnx_type, [len(values)])
    model = helper.make_model(
        helper.make_graph([helper.make_node("Cast", ["x"], ["y"], to=onnx_type)], "g", [x], [y]),
        opset_imports=[helper.make_opsetid("", 23)],
    )
    save_model(convert_model(model), tmp_path / "m.xml")
    out = execute(read_model(tmp_path / "m.xml"), [np.array(values, dtype=np.float32)], backend="openvino")[0]
    dtype = onnx.helper.tensor_dtype_to_np_dtype(onnx_type)
    assert out.dtype == dtype
    assert out.view(np.uint8).tolist() == np.array(expected, dtype=np.float32).astype(dtype).view(np.uint8).tolist()


def test_int4_initializer_dequantized(tmp_path: Path) -> None:
    """An int4 weight with a per-channel scale (OpenVINO's int4 weight-compression pattern) stays
    packed in the .bin and dequantizes exactly."""
    weights = np.array([[-8, 7, 3], [1, -1, 0]], dtype=ml_dtypes.int4)
    scale = np.array([0.5, 2.0], dtype=np.float32)
    nodes = [
        helper.make_node("DequantizeLinear", ["w", "s"], ["wf"], axis=0),
        helper.make_node("Add", ["x", "wf"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(scale, "s")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    save_model(convert_model(model), tmp_path / "m.xml")
    assert b'element_type="i4"' in (tmp_path / "m.xml").read_bytes()
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    expected = x + weights.astype(np.float32) * scale[:, None]
    for backend in ("openvino", "onnxruntime"):
        np.testing.assert_array_equal(execute(read_model(tmp_path / "m.xml"), [x], backend=backend)[0], expected)
