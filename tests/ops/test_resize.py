"""ONNX Resize / Upsample → IR Interpolate-11, and Interpolate's ONNX lowering
(the IR read back from disk also runs in onnxruntime)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter import convert_model, save_model
from converter.errors import NodeConversionError
from converter.ir.types import ElementType, Shape
from converter.ops import resize as ops
from converter.ops.core import const, parameter
from converter.validate import run_ir

FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64


def resize_model(
    shape: list,
    scales: Sequence[float] | None = None,
    sizes: Sequence[int] | None = None,
    opset: int = 19,
    runtime: bool = False,
    roi: Sequence[float] | None = None,
    **attrs,
) -> onnx.ModelProto:
    """Resize of input x; scales/sizes are initializers, or graph inputs when `runtime`."""
    inputs = [helper.make_tensor_value_info("x", FLOAT, shape)]
    initializers = []
    names = ["x", "roi" if roi is not None else "", "", ""]
    if roi is not None:
        initializers.append(numpy_helper.from_array(np.array(roi, dtype=np.float32), "roi"))
    for index, (name, values, dtype) in enumerate((("scales", scales, np.float32), ("sizes", sizes, np.int64))):
        if values is None:
            continue
        names[2 + index] = name
        if runtime:
            inputs.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), [len(values)]))
        else:
            initializers.append(numpy_helper.from_array(np.array(values, dtype=dtype), name))
    while names[-1] == "":
        names.pop()
    node = helper.make_node("Resize", names, ["y"], **attrs)
    graph = helper.make_graph([node], "g", inputs, [helper.make_value_info("y", onnx.TypeProto())], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def runtime_inputs(shape: Sequence[int], scales=None, sizes=None, seed: int = 0) -> list[np.ndarray]:
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    extra = [np.array(scales, dtype=np.float32)] if scales is not None else []
    extra += [np.array(sizes, dtype=np.int64)] if sizes is not None else []
    return [data, *extra]


COORDINATE_MODES = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"]


@pytest.mark.parametrize("coordinate_mode", COORDINATE_MODES)
@pytest.mark.parametrize("nearest_mode", ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"])
@pytest.mark.parametrize("scales", [[1, 1, 2, 2], [1, 1, 0.5, 1.5]])
def test_resize_nearest_scales(check_onnx, coordinate_mode, nearest_mode, scales):
    model = resize_model([1, 2, 4, 6], scales=scales, mode="nearest", coordinate_transformation_mode=coordinate_mode, nearest_mode=nearest_mode)
    check_onnx(model)


@pytest.mark.parametrize("coordinate_mode", COORDINATE_MODES)
@pytest.mark.parametrize("scales", [[1, 1, 2, 2], [1, 1, 0.6, 1.7], [1, 1, 3, 1]])
def test_resize_linear_scales(check_onnx, coordinate_mode, scales):
    check_onnx(resize_model([2, 3, 5, 4], scales=scales, mode="linear", coordinate_transformation_mode=coordinate_mode))


@pytest.mark.parametrize("coordinate_mode", COORDINATE_MODES)
@pytest.mark.parametrize("sizes", [[1, 2, 8, 3], [1, 2, 3, 9]])
def test_resize_cubic_sizes(check_onnx, coordinate_mode, sizes):
    model = resize_model([1, 2, 5, 6], sizes=sizes, mode="cubic", coordinate_transformation_mode=coordinate_mode, cubic_coeff_a=-0.5)
    check_onnx(model, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_resize_runtime_scales(check_onnx, mode):
    scales = [1, 1, 1.5, 2.5]
    model = resize_model(["N", 3, 4, 4], scales=scales, runtime=True, mode=mode)
    check_onnx(model, inputs=runtime_inputs([2, 3, 4, 4], scales=scales), atol=1e-4)


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_resize_runtime_sizes(check_onnx, mode):
    sizes = [2, 3, 7, 3]
    model = resize_model(["N", 3, 4, 4], sizes=sizes, runtime=True, mode=mode)
    check_onnx(model, inputs=runtime_inputs([2, 3, 4, 4], sizes=sizes), atol=1e-4)
    assert convert_model(model).op_histogram()["Interpolate"] == 1


@pytest.mark.parametrize("mode, antialias", [("nearest", 0), ("linear", 0), ("linear", 1), ("cubic", 1)])
def test_resize_sizes_from_input_shape_pytorch_export_form(check_onnx, mode, antialias):
    # PyTorch's F.interpolate(size=...) exports sizes computed from the input shape: the
    # resized sizes are constants, the others are the input's own (dynamic) dims.
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Slice", ["shape", "zero", "two"], ["batch_channels"]),
        helper.make_node("Concat", ["batch_channels", "hw"], ["sizes"], axis=0),
        helper.make_node(
            "Resize", ["x", "", "", "sizes"], ["y"], mode=mode, antialias=antialias, coordinate_transformation_mode="pytorch_half_pixel"
        ),
    ]
    initializers = {"zero": np.array([0]), "two": np.array([2]), "hw": np.array([4, 3])}
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", FLOAT, ["N", 3, "H", "W"] if not antialias else ["N", 3, 5, 6])],
        [helper.make_value_info("y", onnx.TypeProto())],
        [numpy_helper.from_array(v, k) for k, v in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    check_onnx(model, inputs=[np.random.default_rng(0).standard_normal((2, 3, 5, 6)).astype(np.float32)], atol=1e-4)
    ops_used = convert_model(model).op_histogram()
    assert "ShapeOf" not in ops_used  # the sizes became constants
    assert ("Interpolate" in ops_used) != bool(antialias)


@pytest.mark.parametrize("axes", [[2, 3], [3, 2], [-1], [1]])
def test_resize_axes_attribute(check_onnx, axes):
    scales = [2.0, 1.5][: len(axes)]
    check_onnx(resize_model([1, 3, 4, 5], scales=scales, mode="linear", axes=axes))


@pytest.mark.parametrize("rank", [3, 5])
def test_resize_linear_other_ranks(check_onnx, rank):
    shape = [2, 3, 4, 5, 6][:rank]
    scales = [1.0, 1.0, 2.0, 0.5, 1.5][:rank]
    check_onnx(resize_model(shape, scales=scales, mode="linear"))


def test_resize_scale_one_is_identity():
    model = resize_model([1, 3, 4, 5], scales=[1, 1, 1, 1], mode="linear")
    assert convert_model(model).op_histogram().get("Interpolate") is None


def test_resize_empty_scales_with_sizes(check_onnx):
    # Opsets 11-12 ask for an (empty) scales input next to sizes.
    model = resize_model([1, 1, 3, 3], scales=[], sizes=[1, 1, 6, 5], opset=11, roi=[], mode="nearest")
    check_onnx(model)


@pytest.mark.parametrize("policy, sizes", [("not_larger", [7, 8]), ("not_smaller", [7, 8]), ("not_larger", [3, 1])])
def test_resize_keep_aspect_ratio(check_onnx, policy, sizes):
    model = resize_model([1, 1, 4, 4], sizes=sizes, mode="nearest", axes=[2, 3], keep_aspect_ratio_policy=policy)
    check_onnx(model)


def test_resize_half_pixel_symmetric_with_exact_sizes(check_onnx):
    check_onnx(resize_model([1, 1, 4, 6], scales=[1, 1, 2, 0.5], mode="linear", coordinate_transformation_mode="half_pixel_symmetric"))


def test_resize_tf_half_pixel_for_nn(check_onnx):
    model = resize_model([1, 2, 3, 4], scales=[1, 1, 2, 1.5], opset=11, roi=[], mode="nearest", coordinate_transformation_mode="tf_half_pixel_for_nn")
    check_onnx(model)


@pytest.mark.parametrize(
    "attrs",
    [
        {"mode": "cubic", "exclude_outside": 1, "cubic_coeff_a": -0.5},
        {"mode": "linear", "antialias": 1},
        {"mode": "cubic", "antialias": 1},
        {"mode": "cubic", "antialias": 1, "exclude_outside": 1},
        {"mode": "linear", "coordinate_transformation_mode": "half_pixel_symmetric"},
        {"mode": "nearest", "coordinate_transformation_mode": "half_pixel_symmetric"},
    ],
)
@pytest.mark.parametrize("scales", [[1, 1, 0.62, 0.45], [1, 1, 1.7, 2.5]])
def test_resize_beyond_interpolate_by_constant_taps(check_onnx, attrs, scales):
    model = resize_model([2, 3, 7, 9], scales=scales, **attrs)
    check_onnx(model, atol=1e-4)
    antialias_only = attrs.get("antialias") and not attrs.get("exclude_outside")
    upsampling = min(scales) >= 1
    # Antialiasing changes nothing when upsampling: that stays an Interpolate.
    assert ("Interpolate" in convert_model(model).op_histogram()) == bool(antialias_only and upsampling)


@pytest.mark.parametrize("extrapolation_value", [0.0, -3.5])
@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_resize_tf_crop_and_resize_constant_roi(check_onnx, mode, extrapolation_value):
    model = resize_model(
        [1, 2, 6, 5],
        sizes=[1, 2, 4, 7],
        roi=[0, 0, 0.2, -0.3, 1, 1, 0.9, 1.2],
        mode=mode,
        coordinate_transformation_mode="tf_crop_and_resize",
        extrapolation_value=extrapolation_value,
    )
    check_onnx(model, atol=1e-4)


def test_resize_keep_aspect_ratio_rounding_up(check_onnx):
    # scale min(5/4, 9/3) = 1.25: the 3-long axis becomes round(3.75) = 4, one more than floor.
    model = resize_model([1, 1, 4, 3], sizes=[5, 9], mode="linear", axes=[2, 3], keep_aspect_ratio_policy="not_larger")
    check_onnx(model)


@pytest.mark.parametrize(
    "attrs, message",
    [
        ({"mode": "cubic", "exclude_outside": 1}, "exclude_outside.*not constant"),
        ({"mode": "linear", "antialias": 1}, "antialias"),
        ({"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize"}, "tf_crop_and_resize"),
        ({"mode": "nearest", "nearest_mode": "bogus"}, "nearest_mode"),
        ({"mode": "area"}, "mode"),
    ],
)
def test_resize_rejections_with_runtime_scales(attrs, message):
    model = resize_model([1, 1, 4, 4], scales=[1, 1, 0.6, 0.6], runtime=True, **attrs)
    with pytest.raises(NodeConversionError, match=message):
        convert_model(model)


def test_resize_tf_crop_and_resize_runtime_roi_is_rejected():
    model = resize_model([1, 1, 4, 4], sizes=[1, 1, 3, 3], mode="linear", coordinate_transformation_mode="tf_crop_and_resize")
    model.graph.input.append(helper.make_tensor_value_info("roi", FLOAT, [8]))
    model.graph.node[0].input[1] = "roi"
    with pytest.raises(NodeConversionError, match="roi is not constant"):
        convert_model(model)


def test_resize_antialias_when_upsampling_is_plain(check_onnx):
    check_onnx(resize_model([1, 1, 3, 4], scales=[1, 1, 2, 3], mode="linear", antialias=1))


@pytest.mark.parametrize("scales", [[1, 1, 2, 3], [1, 1, 0.5, 2], [1, 1, 0.5, 0.4]])
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_opset_10(check_onnx, scales, mode):
    check_onnx(_resize10(scales, mode))


def _resize10(scales: list[float], mode: str) -> onnx.ModelProto:
    node = helper.make_node("Resize", ["x", "scales"], ["y"], mode=mode)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", FLOAT, [1, 2, 4, 5])],
        [helper.make_value_info("y", onnx.TypeProto())],
        [numpy_helper.from_array(np.array(scales, dtype=np.float32), "scales")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 10)])
    model.ir_version = 8
    return model


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_upsample_7_scales_attribute(check_onnx, mode):
    node = helper.make_node("Upsample", ["x"], ["y"], mode=mode, scales=[1.0, 1.0, 2.0, 3.0])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", FLOAT, [1, 2, 3, 3])], [helper.make_value_info("y", onnx.TypeProto())])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 7)])
    model.ir_version = 8
    check_onnx(model)


@pytest.mark.parametrize("scales", [[1, 1, 2, 2], [1, 1, 1.5, 3]])
def test_upsample_9_runtime_scales(check_onnx, scales):
    node = helper.make_node("Upsample", ["x", "scales"], ["y"], mode="nearest")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", FLOAT, [1, 2, 4, 4]), helper.make_tensor_value_info("scales", FLOAT, [4])],
        [helper.make_value_info("y", onnx.TypeProto())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 8
    check_onnx(model, inputs=runtime_inputs([1, 2, 4, 4], scales=scales))


# ---------------------------------------------------------------- the IR op itself


def test_interpolate_infer_scales_and_sizes():
    x = parameter("x", ElementType.f32, Shape.of(None, 3, 10, 7)).outputs[0]
    scaled = ops.Interpolate(x, const(np.array([0.6, 1.5], dtype=np.float32)), const(np.array([2, 3])), mode="nearest", shape_calculation_mode="scales")
    assert scaled.shape.dims == (None, 3, 6, 10)
    sized = ops.Interpolate(x, const(np.array([4, 9])), const(np.array([3, 0])), mode="linear", shape_calculation_mode="sizes")
    assert sized.shape.dims == (9, 3, 10, 4)
    padded = ops.Interpolate(x, const(np.array([2.0], dtype=np.float32)), const(np.array([2])), mode="nearest", shape_calculation_mode="scales", pads_begin=(0, 0, 1, 0), pads_end=(0, 0, 1, 2))
    assert padded.shape.dims == (None, 3, 24, 9)


def test_interpolate_pads_simple_mode_lowering(tmp_path):
    """An IR with pads and nearest_mode=simple (not produced by the ONNX frontend) runs the same in both backends."""
    from converter.ir.graph import Graph

    node = parameter("x", ElementType.f32, Shape.of(1, 2, 5, 4))
    x = node.outputs[0]
    y = ops.Interpolate(
        x,
        const(np.array([0.5, 2.0], dtype=np.float32)),
        const(np.array([2, 3])),
        mode="nearest",
        shape_calculation_mode="scales",
        nearest_mode="simple",
        coordinate_transformation_mode="half_pixel",
        pads_begin=(0, 0, 1, 0),
        pads_end=(0, 0, 2, 1),
    )
    y.names.append("y")
    save_model(Graph([node], [y]), tmp_path / "model.xml")
    data = np.random.default_rng(0).standard_normal((1, 2, 5, 4)).astype(np.float32)
    openvino, onnxruntime = (run_ir(tmp_path / "model.xml", [data], backend)[0] for backend in ("openvino", "onnxruntime"))
    assert openvino.shape == (1, 2, 4, 10)
    np.testing.assert_array_equal(onnxruntime, openvino)


@pytest.mark.parametrize(
    "shape, axes, scales, mode",
    [
        ((2, 3, 5, 4), (1, 2, 3), (2.0, 1.5, 0.5), "linear_onnx"),
        ((2, 3, 5, 4), (0, 3), (2.0, 1.5), "linear"),
        ((2, 3, 4, 5, 3), (1, 4), (2.0, 1.5), "linear"),
        ((2, 3, 9), (2,), (1.5,), "cubic"),
        ((2, 3, 9), (1, 2), (2.0, 0.5), "cubic"),
        ((2, 3, 5, 4), (3, 1), (1.5, 2.0), "cubic"),
        ((2, 3, 5, 4), (0, 1, 2, 3), (1.0, 1.0, 2.0, 1.0), "cubic"),
    ],
)
def test_interpolate_lowering_for_axes_onnxruntime_does_not_take(tmp_path, shape, axes, scales, mode):
    """onnxruntime's Resize only interpolates some axis patterns; the lowering moves the axes."""
    from converter.ir.graph import Graph

    node = parameter("x", ElementType.f32, Shape(shape))
    y = ops.Interpolate(node.outputs[0], const(np.array(scales, dtype=np.float32)), const(np.array(axes)), mode=mode, shape_calculation_mode="scales")
    y.names.append("y")
    save_model(Graph([node], [y]), tmp_path / "model.xml")
    data = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    openvino, onnxruntime = (run_ir(tmp_path / "model.xml", [data], backend)[0] for backend in ("openvino", "onnxruntime"))
    assert openvino.shape == y.shape.static
    np.testing.assert_allclose(onnxruntime, openvino, rtol=1e-4, atol=1e-5)
