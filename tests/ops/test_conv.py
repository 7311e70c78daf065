"""ONNX Conv / ConvTranspose → IR (Group)Convolution(BackpropData), checked on both runtimes."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter import convert_model, save_model
from converter.errors import NodeConversionError
from converter.validate import compare, run_ir, run_onnxruntime


def conv_model(
    op: str,
    x_shape: list,
    w_shape: list[int],
    bias: bool = False,
    weights_as_input: bool = False,
    opset: int = 22,
    seed: int = 0,
    **attrs,
) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal(w_shape).astype(np.float32)
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)]
    initializers = []
    if weights_as_input:
        inputs.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, w_shape))
    else:
        initializers.append(numpy_helper.from_array(weights, "w"))
    names = ["x", "w"]
    if bias:
        channels = w_shape[0] if op == "Conv" else w_shape[1] * attrs.get("group", 1)
        initializers.append(numpy_helper.from_array(rng.standard_normal(channels).astype(np.float32), "b"))
        names.append("b")
    node = helper.make_node(op, names, ["y"], **attrs)
    graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


CONV_CASES = [
    ("1d", [1, 3, 9], [4, 3, 3], {}),
    ("2d_default", [2, 3, 7, 8], [5, 3, 3, 3], {}),
    ("3d", [1, 2, 5, 6, 4], [3, 2, 3, 3, 2], {"pads": [1, 0, 1, 1, 1, 0]}),
    ("strides_pads", [1, 3, 9, 9], [4, 3, 3, 3], {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("asymmetric_pads", [1, 3, 7, 7], [4, 3, 3, 3], {"strides": [2, 1], "pads": [1, 0, 2, 1]}),
    ("dilations", [1, 2, 10, 10], [3, 2, 3, 3], {"dilations": [2, 3]}),
    ("same_upper", [1, 3, 7, 8], [4, 3, 2, 3], {"auto_pad": "SAME_UPPER", "strides": [2, 2]}),
    ("same_lower", [1, 3, 7, 8], [4, 3, 2, 3], {"auto_pad": "SAME_LOWER", "strides": [2, 1]}),
    ("valid", [1, 3, 7, 8], [4, 3, 3, 3], {"auto_pad": "VALID", "strides": [2, 2]}),
    ("group", [1, 4, 6, 6], [6, 2, 3, 3], {"group": 2, "pads": [1, 1, 1, 1]}),
    ("depthwise", [1, 4, 6, 6], [4, 1, 3, 3], {"group": 4, "strides": [2, 2]}),
    ("depthwise_multiplier", [1, 3, 6, 6], [6, 1, 3, 3], {"group": 3}),
    ("kernel_shape_attr", [1, 3, 6, 6], [2, 3, 1, 2], {"kernel_shape": [1, 2]}),
]


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("name,x_shape,w_shape,attrs", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv(check_onnx, name, x_shape, w_shape, attrs, bias):
    check_onnx(conv_model("Conv", x_shape, w_shape, bias=bias, **attrs))


@pytest.mark.parametrize("group", [1, 2])
def test_conv_weights_as_input(check_onnx, group):
    check_onnx(conv_model("Conv", [1, 4, 6, 6], [4, 4 // group, 3, 3], bias=True, weights_as_input=True, group=group))


@pytest.mark.parametrize("auto_pad,pads", [("SAME_UPPER", [1, 2, 2, 2]), ("SAME_LOWER", [2, 2, 1, 2])])
def test_conv_same_with_dilations(tmp_path, auto_pad, pads):
    """onnxruntime refuses dilated SAME convolutions: the expected values come from explicit pads."""
    data = np.random.default_rng(1).standard_normal((1, 3, 9, 8)).astype(np.float32)
    same = conv_model("Conv", [1, 3, 9, 8], [4, 3, 2, 3], bias=True, auto_pad=auto_pad, dilations=[3, 2])
    explicit = conv_model("Conv", [1, 3, 9, 8], [4, 3, 2, 3], bias=True, pads=pads, dilations=[3, 2])
    expected = run_onnxruntime(explicit, [data])
    save_model(convert_model(same), tmp_path / "model.xml")
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, run_ir(tmp_path / "model.xml", [data], backend), 1e-4, 1e-5)
        assert result.ok, f"{backend}: {result.detail}"


def test_conv_dynamic_dims(check_onnx):
    model = conv_model("Conv", ["N", 3, "H", "W"], [4, 3, 3, 3], bias=True, auto_pad="SAME_UPPER", strides=[2, 2])
    check_onnx(model, [np.random.default_rng(1).standard_normal((2, 3, 9, 7)).astype(np.float32)])


def test_conv_dynamic_spatial_explicit(check_onnx):
    model = conv_model("Conv", [1, 2, "H", "W"], [2, 1, 3, 3], group=2, pads=[1, 2, 0, 1], strides=[1, 2])
    check_onnx(model, [np.random.default_rng(1).standard_normal((1, 2, 6, 9)).astype(np.float32)])


@pytest.mark.parametrize("opset", [7, 11])
def test_conv_old_opsets(check_onnx, opset):
    check_onnx(conv_model("Conv", [1, 3, 6, 6], [4, 3, 3, 3], bias=True, opset=opset, pads=[1, 1, 1, 1]))


def test_conv_fp16(check_onnx):
    model = conv_model("Conv", [1, 3, 6, 6], [4, 3, 3, 3], pads=[1, 1, 1, 1])
    weights = numpy_helper.to_array(model.graph.initializer[0]).astype(np.float16)
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(weights, "w"))
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT16
    model.graph.output[0].type.tensor_type.elem_type = TensorProto.FLOAT16
    check_onnx(model, rtol=1e-2, atol=1e-2)


def test_conv_bad_group_rejected():
    with pytest.raises(NodeConversionError, match="divisible"):
        convert_model(conv_model("Conv", [1, 4, 6, 6], [5, 2, 3, 3], group=2))


def test_conv_bad_auto_pad_rejected():
    with pytest.raises(NodeConversionError, match="auto_pad"):
        convert_model(conv_model("Conv", [1, 3, 6, 6], [4, 3, 3, 3], auto_pad="SAME"))


TRANSPOSE_CASES = [
    ("1d", [1, 2, 5], [2, 3, 3], {}),
    ("2d_default", [1, 2, 4, 5], [2, 3, 3, 3], {}),
    ("3d", [1, 2, 3, 4, 3], [2, 2, 3, 2, 2], {"strides": [2, 1, 2]}),
    ("strides", [1, 2, 4, 4], [2, 3, 3, 3], {"strides": [3, 2]}),
    ("pads", [1, 2, 4, 4], [2, 3, 3, 3], {"strides": [2, 2], "pads": [1, 0, 1, 2]}),
    ("output_padding", [1, 2, 4, 4], [2, 3, 3, 3], {"strides": [3, 2], "output_padding": [1, 1]}),
    ("dilations", [1, 2, 4, 4], [2, 3, 3, 2], {"dilations": [2, 3]}),
    ("output_shape", [1, 2, 3, 3], [2, 3, 3, 3], {"strides": [3, 2], "output_shape": [10, 8]}),
    ("output_shape_crop", [1, 2, 4, 4], [2, 3, 3, 3], {"strides": [2, 2], "output_shape": [8, 7]}),
    ("output_shape_same_upper", [1, 2, 4, 4], [2, 3, 3, 3], {"strides": [2, 2], "output_shape": [8, 7], "auto_pad": "SAME_UPPER"}),
    ("same_upper", [1, 2, 3, 4], [2, 3, 3, 3], {"strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ("same_lower", [1, 2, 3, 4], [2, 3, 3, 2], {"strides": [2, 2], "auto_pad": "SAME_LOWER"}),
    ("valid", [1, 2, 3, 4], [2, 3, 3, 3], {"strides": [2, 2], "auto_pad": "VALID"}),
    ("group", [1, 4, 3, 3], [4, 2, 3, 3], {"group": 2, "strides": [2, 2]}),
    ("depthwise", [1, 3, 3, 3], [3, 1, 2, 2], {"group": 3, "strides": [2, 2], "pads": [0, 1, 0, 1]}),
    ("group_everything", [1, 4, 3, 4], [4, 3, 3, 2], {"group": 2, "strides": [2, 3], "dilations": [2, 1], "output_padding": [1, 2], "pads": [1, 0, 0, 1]}),
    ("same_upper_dilations", [1, 2, 3, 4], [2, 3, 3, 3], {"strides": [2, 2], "dilations": [2, 1], "auto_pad": "SAME_UPPER"}),
]


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("name,x_shape,w_shape,attrs", TRANSPOSE_CASES, ids=[c[0] for c in TRANSPOSE_CASES])
def test_conv_transpose(check_onnx, name, x_shape, w_shape, attrs, bias):
    check_onnx(conv_model("ConvTranspose", x_shape, w_shape, bias=bias, **attrs))


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER"])
def test_conv_transpose_same_dynamic_spatial(check_onnx, auto_pad):
    model = conv_model("ConvTranspose", [1, 2, "H", "W"], [2, 3, 3, 3], bias=True, strides=[2, 2], auto_pad=auto_pad)
    check_onnx(model, [np.random.default_rng(1).standard_normal((1, 2, 3, 4)).astype(np.float32)])


@pytest.mark.parametrize("output_shape", [[8, 7], [10, 9]])
def test_conv_transpose_output_shape_dynamic_spatial(check_onnx, output_shape):
    model = conv_model("ConvTranspose", [1, 2, "H", "W"], [2, 3, 3, 3], strides=[2, 2], output_shape=output_shape)
    check_onnx(model, [np.random.default_rng(1).standard_normal((1, 2, 4, 4)).astype(np.float32)])


def test_conv_transpose_weights_as_input(check_onnx):
    check_onnx(conv_model("ConvTranspose", ["N", 4, 3, 3], [4, 2, 3, 3], weights_as_input=True, group=2, strides=[2, 2]))


def deform_model(x_shape: list[int], w_shape: list[int], out_hw: list[int], bias: bool, mask: bool, offset_group: int, **attrs) -> tuple[onnx.ModelProto, list[np.ndarray]]:
    rng = np.random.default_rng(0)
    kernel = int(np.prod(w_shape[2:]))
    arrays = {
        "x": rng.standard_normal(x_shape).astype(np.float32),
        "w": rng.standard_normal(w_shape).astype(np.float32),
        "offset": (1.5 * rng.standard_normal([x_shape[0], 2 * offset_group * kernel, *out_hw])).astype(np.float32),
    }
    if bias:
        arrays["b"] = rng.standard_normal(w_shape[0]).astype(np.float32)
    if mask:
        arrays["mask"] = rng.random([x_shape[0], offset_group * kernel, *out_hw]).astype(np.float32)
    names = ["x", "w", "offset", "b" if bias else "", "mask" if mask else ""]
    while not names[-1]:
        names.pop()
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape) for n, a in arrays.items() if n not in ("w", "b")]
    initializers = [numpy_helper.from_array(arrays[n], n) for n in ("w", "b") if n in arrays]
    node = helper.make_node("DeformConv", names, ["y"], offset_group=offset_group, **attrs)
    graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    return model, [a for n, a in arrays.items() if n not in ("w", "b")]


@pytest.mark.parametrize("bias,mask", [(False, False), (True, True), (True, False)])
@pytest.mark.parametrize("group,offset_group", [(1, 1), (2, 2), (2, 1)])
def test_deform_conv(check_onnx, bias, mask, group, offset_group):
    model, inputs = deform_model([1, 4, 5, 6], [4, 4 // group, 3, 3], [5, 6], bias, mask, offset_group, group=group, pads=[1, 1, 1, 1])
    check_onnx(model, inputs)


def test_deform_conv_strides_dilations(check_onnx):
    model, inputs = deform_model([2, 2, 7, 7], [3, 2, 2, 2], [3, 3], True, True, 1, strides=[2, 2], dilations=[2, 2], pads=[0, 0, 1, 1])
    check_onnx(model, inputs)
