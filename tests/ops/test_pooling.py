"""ONNX pooling → IR MaxPool-8/14, AvgPool-1/14, Reduce*; and the IR ops' own ONNX lowerings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from converter import convert_model, save_model
from converter.errors import NodeConversionError
from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops import pooling as ops
from converter.ops.core import parameter
from converter.validate import compare, run_ir


def pool_model(op: str, x_shape: list, outputs: int = 1, opset: int = 22, dtype: int = TensorProto.FLOAT, **attrs) -> onnx.ModelProto:
    names = ["y", "indices"][:outputs]
    node = helper.make_node(op, ["x"], names, **attrs)
    output_infos = [helper.make_tensor_value_info("y", dtype, None)]
    if outputs > 1:
        output_infos.append(helper.make_tensor_value_info("indices", TensorProto.INT64, None))
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", dtype, x_shape)], output_infos)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


WINDOW_CASES = [
    ("1d", [1, 3, 9], {"kernel_shape": [3]}),
    ("2d", [2, 3, 6, 7], {"kernel_shape": [2, 2]}),
    ("3d", [1, 2, 5, 6, 4], {"kernel_shape": [2, 3, 2], "strides": [1, 2, 2]}),
    ("strides", [1, 2, 9, 9], {"kernel_shape": [3, 3], "strides": [2, 3]}),
    ("pads", [1, 2, 7, 7], {"kernel_shape": [3, 3], "pads": [1, 0, 2, 1]}),
    ("ceil", [1, 2, 7, 8], {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}),
    ("ceil_pads", [1, 2, 6, 5], {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 0, 0], "ceil_mode": 1}),
    ("ceil_last_window_on_pad", [1, 1, 4, 4], {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1}),
    ("same_upper", [1, 2, 7, 6], {"kernel_shape": [3, 2], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ("same_lower", [1, 2, 7, 6], {"kernel_shape": [3, 2], "strides": [2, 2], "auto_pad": "SAME_LOWER"}),
    ("valid", [1, 2, 7, 6], {"kernel_shape": [3, 2], "strides": [2, 2], "auto_pad": "VALID"}),
]
DILATION_CASES = [
    ("dilations", [1, 2, 8, 8], {"kernel_shape": [2, 2], "dilations": [2, 3]}),
    ("dilations_pads_ceil", [1, 2, 8, 9], {"kernel_shape": [2, 3], "dilations": [2, 2], "strides": [2, 2], "pads": [1, 0, 1, 2], "ceil_mode": 1}),
    ("dilations_3d", [1, 1, 6, 6, 7], {"kernel_shape": [2, 2, 2], "dilations": [2, 1, 3], "strides": [1, 2, 1]}),
]


@pytest.mark.parametrize("name,x_shape,attrs", WINDOW_CASES + DILATION_CASES, ids=[c[0] for c in WINDOW_CASES + DILATION_CASES])
def test_max_pool(check_onnx, name, x_shape, attrs):
    check_onnx(pool_model("MaxPool", x_shape, **attrs))


@pytest.mark.parametrize("storage_order", [0, 1])
@pytest.mark.parametrize("name,x_shape,attrs", WINDOW_CASES[:6] + DILATION_CASES[:1], ids=[c[0] for c in WINDOW_CASES[:6] + DILATION_CASES[:1]])
def test_max_pool_indices(check_onnx, name, x_shape, attrs, storage_order):
    check_onnx(pool_model("MaxPool", x_shape, outputs=2, storage_order=storage_order, **attrs))


@pytest.mark.parametrize("opset", [7, 8, 10, 12])
def test_max_pool_old_opsets(check_onnx, opset):
    outputs = 2 if opset >= 8 else 1
    check_onnx(pool_model("MaxPool", [1, 2, 6, 6], outputs=outputs, opset=opset, kernel_shape=[2, 2], strides=[2, 2]))


def test_max_pool_uint8(check_onnx):
    x = np.random.default_rng(0).integers(0, 255, (1, 2, 5, 5)).astype(np.uint8)
    check_onnx(pool_model("MaxPool", [1, 2, 5, 5], dtype=TensorProto.UINT8, kernel_shape=[2, 2]), [x])


def test_max_pool_dynamic(check_onnx):
    model = pool_model("MaxPool", ["N", 2, "H", "W"], outputs=2, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    check_onnx(model, [np.random.default_rng(0).standard_normal((2, 2, 8, 7)).astype(np.float32)])


@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("name,x_shape,attrs", WINDOW_CASES + DILATION_CASES, ids=[c[0] for c in WINDOW_CASES + DILATION_CASES])
def test_average_pool(check_onnx, name, x_shape, attrs, count_include_pad):
    check_onnx(pool_model("AveragePool", x_shape, count_include_pad=count_include_pad, **attrs))


def test_average_pool_dynamic(check_onnx):
    model = pool_model("AveragePool", ["N", 3, "H", "W"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    check_onnx(model, [np.random.default_rng(0).standard_normal((2, 3, 8, 7)).astype(np.float32)])


def test_average_pool_dilations_dynamic_rejected():
    model = pool_model("AveragePool", [1, 2, "H", "W"], kernel_shape=[2, 2], dilations=[2, 2])
    with pytest.raises(NodeConversionError, match="static spatial"):
        convert_model(model)


@pytest.mark.parametrize("opset", [7, 10, 11, 19])
def test_average_pool_opsets(check_onnx, opset):
    attrs = {"ceil_mode": 1} if opset >= 10 else {}
    check_onnx(pool_model("AveragePool", [1, 2, 7, 7], opset=opset, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], **attrs))


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("name,x_shape,attrs", WINDOW_CASES[:7] + WINDOW_CASES[8:] + DILATION_CASES[:1], ids=[c[0] for c in WINDOW_CASES[:7] + WINDOW_CASES[8:] + DILATION_CASES[:1]])
def test_lp_pool(check_onnx, name, x_shape, attrs, p):
    check_onnx(pool_model("LpPool", x_shape, p=p, **attrs), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize("x_shape", [[2, 3, 5], [1, 3, 4, 5], ["N", 3, "H", "W"], [1, 2, 3, 4, 2]])
def test_global_pool(check_onnx, op, x_shape):
    check_onnx(pool_model(op, x_shape))


@pytest.mark.parametrize("p", [1, 2, 3])
def test_global_lp_pool(check_onnx, p):
    check_onnx(pool_model("GlobalLpPool", [1, 3, 4, 5], opset=18, p=p), atol=1e-4)  # onnxruntime lacks GlobalLpPool-22


# ---------------------------------------------------------------- the IR ops' own lowerings


def run_both(graph: Graph, inputs: list[np.ndarray], tmp_path: Path) -> None:
    path = tmp_path / "model.xml"
    save_model(graph, path)
    expected = run_ir(path, inputs, "openvino")
    actual = run_ir(path, inputs, "onnxruntime")
    result = compare(expected, actual, 1e-5, 1e-5)
    assert result.ok, result.detail


@pytest.mark.parametrize("rounding_type", ["floor", "ceil", "ceil_torch"])
@pytest.mark.parametrize("exclude_pad", [False, True])
@pytest.mark.parametrize("pads", [(0, 0), (1, 0), (1, 1)])
def test_avg_pool_lowering(tmp_path, rounding_type, exclude_pad, pads):
    x = parameter("x", ElementType.f32, Shape.of(1, 2, 7, 6))
    op = ops.AvgPool1 if rounding_type != "ceil_torch" else ops.AvgPool14
    y = op(x.outputs[0], strides=(2, 2), pads_begin=(pads[0], pads[0]), pads_end=(pads[1], pads[1]), kernel=(3, 3), rounding_type=rounding_type, **{"exclude-pad": exclude_pad})
    assert y.shape.is_static
    inputs = [np.random.default_rng(0).standard_normal((1, 2, 7, 6)).astype(np.float32)]
    run_both(Graph([x], [y]), inputs, tmp_path)


@pytest.mark.parametrize("rounding_type", ["floor", "ceil", "ceil_torch"])
@pytest.mark.parametrize("axis,index_type", [(0, ElementType.i64), (1, ElementType.i32), (2, ElementType.i64), (-2, ElementType.i32)])
def test_max_pool_lowering(tmp_path, rounding_type, axis, index_type):
    x = parameter("x", ElementType.f32, Shape.of(2, 3, 7, 6))
    node = ops.MaxPool14.node(
        x.outputs[0],
        strides=(2, 2),
        dilations=(1, 2),
        pads_begin=(1, 0),
        pads_end=(1, 1),
        kernel=(3, 2),
        rounding_type=rounding_type,
        index_element_type=index_type,
        axis=axis,
    )
    inputs = [np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(np.float32)]
    run_both(Graph([x], node.outputs), inputs, tmp_path)


def test_ceil_window_in_padding_not_lowered(tmp_path):
    x = parameter("x", ElementType.f32, Shape.of(1, 2, 7, 6))
    y = ops.AvgPool1(x.outputs[0], strides=(3, 3), pads_begin=(0, 0), pads_end=(0, 0), kernel=(2, 2), rounding_type="ceil", **{"exclude-pad": True})
    save_model(Graph([x], [y]), tmp_path / "model.xml")
    with pytest.raises(NotImplementedError, match="end padding"):
        run_ir(tmp_path / "model.xml", [np.zeros((1, 2, 7, 6), np.float32)], "onnxruntime")


UNPOOL_CASES = [
    ([2, 3, 6, 8], {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ([2, 3, 7, 8], {"kernel_shape": [3, 2], "strides": [2, 1], "pads": [1, 0, 1, 1]}),
]


def unpool_model(x_shape: list, window: dict, output_shape: list[int] | None) -> onnx.ModelProto:
    """MaxPool then MaxUnpool of its values and indices (optionally to a larger output_shape)."""
    nodes = [helper.make_node("MaxPool", ["x"], ["pooled", "indices"], **window)]
    initializers = []
    unpool_inputs = ["pooled", "indices"]
    if output_shape is not None:
        initializers.append(onnx.numpy_helper.from_array(np.array(output_shape, np.int64), "shape"))
        unpool_inputs.append("shape")
    nodes.append(helper.make_node("MaxUnpool", unpool_inputs, ["y"], **window))
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)]
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])


@pytest.mark.parametrize("dynamic", [False, True])
@pytest.mark.parametrize("x_shape,window", UNPOOL_CASES)
def test_max_unpool(check_onnx, x_shape, window, dynamic):
    data = np.random.default_rng(0).standard_normal(x_shape).astype(np.float32)
    check_onnx(unpool_model(["N", 3, "H", "W"] if dynamic else x_shape, window, None), [data])


@pytest.mark.parametrize("dynamic", [False, True])
@pytest.mark.parametrize("x_shape,window", UNPOOL_CASES)
def test_max_unpool_output_shape(tmp_path, x_shape, window, dynamic):
    """ONNX's reference places the values as in the default shape and pads the end with zeros.

    onnxruntime instead reads the indices in the output_shape layout; we follow the reference.
    """
    data = np.random.default_rng(0).standard_normal(x_shape).astype(np.float32)
    output_shape = [x_shape[0], x_shape[1], x_shape[2] + 1, x_shape[3] + 2]
    model = unpool_model(["N", 3, "H", "W"] if dynamic else x_shape, window, output_shape)
    expected = ReferenceEvaluator(model).run(None, {"x": data})
    save_model(convert_model(model), tmp_path / "model.xml")
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, run_ir(tmp_path / "model.xml", [data], backend), 1e-6, 1e-6)
        assert result.ok, f"{backend}: {result.detail}"
