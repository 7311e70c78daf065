"""ONNX misc ops (Constant, ConstantOfShape, Identity, Dropout, Cast, CastLike, Range, TopK,
ArgMax/ArgMin, OneHot, NonZero, CumSum, EyeLike, NonMaxSuppression) → IR; the IR ops' kernels
and their ONNX lowerings (the IR read back from disk also runs in onnxruntime)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter import convert_model, save_model
from converter.errors import NodeConversionError
from converter.ir.types import ElementType
from converter.ops import misc as ops
from converter.validate import run_ir
from models import model_of

FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64
INT32 = TensorProto.INT32
BOOL = TensorProto.BOOL

Input = tuple[str, int, "list | None"]


def single(op: str, inputs: Sequence[Input], outputs: Sequence[str] = ("y",), opset: int = 21, initializers=None, input_names=None, **attrs) -> onnx.ModelProto:
    names = input_names if input_names is not None else [name for name, _, _ in inputs] + list(initializers or {})
    node = helper.make_node(op, names, list(outputs), **attrs)
    return model_of([node], inputs, outputs, opset, initializers)


def op_types(model: onnx.ModelProto) -> dict[str, int]:
    return convert_model(model).op_histogram()


def ort_run(model: onnx.ModelProto, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in model.graph.input]
    return list(session.run(None, dict(zip(names, inputs))))


# ---------------------------------------------------------------- Constant


@pytest.mark.parametrize(
    "attribute",
    [
        {"value": numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3))},
        {"value_float": 2.5},
        {"value_floats": [1.0, -2.0, 3.5]},
    ],
)
def test_constant_float_forms(check_onnx, attribute):
    nodes = [helper.make_node("Constant", [], ["c"], **attribute), helper.make_node("Add", ["x", "c"], ["y"])]
    check_onnx(model_of(nodes, [("x", FLOAT, [2, 3])]))


@pytest.mark.parametrize("attribute", [{"value_int": 7}, {"value_ints": [1, -2, 3]}, {"value": numpy_helper.from_array(np.array([[4, 5, 6]], dtype=np.int64))}])
def test_constant_int_forms(check_onnx, attribute):
    nodes = [helper.make_node("Constant", [], ["c"], **attribute), helper.make_node("Add", ["x", "c"], ["y"])]
    check_onnx(model_of(nodes, [("x", INT64, [2, 3])]))


def test_constant_sparse_value(check_onnx):
    values = numpy_helper.from_array(np.array([5.0, -1.0, 2.0], dtype=np.float32), "v")
    indices = numpy_helper.from_array(np.array([1, 4, 7], dtype=np.int64), "i")
    sparse = helper.make_sparse_tensor(values, indices, [3, 3])
    nodes = [helper.make_node("Constant", [], ["c"], sparse_value=sparse), helper.make_node("Add", ["x", "c"], ["y"])]
    check_onnx(model_of(nodes, [("x", FLOAT, [3, 3])]))


def test_constant_bool_as_graph_output(check_onnx):
    nodes = [
        helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.array([True, False, True]))),
        helper.make_node("Identity", ["x"], ["y"]),
    ]
    check_onnx(model_of(nodes, [("x", FLOAT, [2])], outputs=("y", "c")))


def test_constant_string_is_rejected():
    nodes = [helper.make_node("Constant", [], ["y"], value_string="hello")]
    with pytest.raises(NodeConversionError, match="string"):
        convert_model(model_of(nodes, []))


# ---------------------------------------------------------------- ConstantOfShape


@pytest.mark.parametrize(
    "value, shape",
    [
        (None, [2, 3]),
        (numpy_helper.from_array(np.array([1.5], dtype=np.float32)), [4]),
        (numpy_helper.from_array(np.array([7], dtype=np.int32)), [2, 1, 3]),
        (numpy_helper.from_array(np.array([True])), [3]),
        (numpy_helper.from_array(np.array([2], dtype=np.int64)), []),
    ],
)
def test_constant_of_shape_constant_shape(check_onnx, value, shape):
    attrs = {} if value is None else {"value": value}
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["c"], **attrs), helper.make_node("Identity", ["x"], ["y"])]
    model = model_of(nodes, [("x", FLOAT, [1])], outputs=("y", "c"), initializers={"s": np.array(shape, dtype=np.int64)})
    check_onnx(model)
    assert "Broadcast" not in op_types(model)


def test_constant_of_shape_large_stays_broadcast(check_onnx):
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["c"]), helper.make_node("Add", ["x", "c"], ["y"])]
    model = model_of(nodes, [("x", FLOAT, [1])], initializers={"s": np.array([256, 256], dtype=np.int64)})
    check_onnx(model)
    assert op_types(model).get("Broadcast") == 1


def test_constant_of_shape_runtime_shape(check_onnx):
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("ConstantOfShape", ["s"], ["y"], value=numpy_helper.from_array(np.array([3], dtype=np.int64))),
    ]
    check_onnx(model_of(nodes, [("x", FLOAT, ["N", 3])]))


# ---------------------------------------------------------------- Identity, Dropout


def test_identity_of_input_is_graph_output(check_onnx):
    check_onnx(single("Identity", [("x", FLOAT, ["N", 4])]))


def test_identity_chain(check_onnx):
    nodes = [helper.make_node("Identity", ["x"], ["a"]), helper.make_node("Identity", ["a"], ["b"]), helper.make_node("Mul", ["b", "x"], ["y"])]
    model = model_of(nodes, [("x", FLOAT, [2, 3])])
    check_onnx(model)
    assert "Identity" not in op_types(model)


@pytest.mark.parametrize("opset", [12, 13, 22])
def test_dropout_inference_with_mask(check_onnx, opset):
    model = single("Dropout", [("x", FLOAT, ["N", 5])], outputs=("y", "mask"), opset=opset)
    check_onnx(model, inputs=[np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)])


@pytest.mark.parametrize("opset, mask_type", [(7, np.float32), (10, np.bool_)])
def test_dropout_before_opset_12_keeps_everything(tmp_path, opset, mask_type):
    # onnxruntime answers an all-zero mask here; ONNX's reference (and opset 12+) keep every element.
    model = single("Dropout", [("x", FLOAT, ["N", 5])], outputs=("y", "mask"), opset=opset, ratio=0.3)
    data = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    save_model(convert_model(model), tmp_path / "model.xml")
    for backend in ("openvino", "onnxruntime"):
        output, mask = run_ir(tmp_path / "model.xml", [data], backend)
        np.testing.assert_array_equal(output, data)
        np.testing.assert_array_equal(mask, np.ones((3, 5), dtype=mask_type))
        assert mask.dtype == mask_type


def test_dropout_static_mask_and_inputs(check_onnx):
    model = single(
        "Dropout",
        [("x", FLOAT, [2, 3])],
        outputs=("y", "mask"),
        opset=13,
        initializers={"r": np.array(0.5, dtype=np.float32), "t": np.array(False)},
    )
    check_onnx(model)


def test_dropout_training_mode_is_rejected():
    model = single("Dropout", [("x", FLOAT, [2, 3])], opset=13, initializers={"r": np.array(0.5, dtype=np.float32), "t": np.array(True)})
    with pytest.raises(NodeConversionError, match="training"):
        convert_model(model)


def test_dropout_training_with_zero_ratio_is_identity(check_onnx):
    model = single("Dropout", [("x", FLOAT, [2, 3])], opset=13, initializers={"r": np.array(0.0, dtype=np.float32), "t": np.array(True)})
    check_onnx(model)


def test_dropout_runtime_training_mode_is_rejected():
    model = single("Dropout", [("x", FLOAT, [2, 3]), ("r", FLOAT, []), ("t", BOOL, [])], opset=13)
    with pytest.raises(NodeConversionError, match="training_mode"):
        convert_model(model)


# ---------------------------------------------------------------- Cast, CastLike

CAST_VALUES = np.array([[-2.7, -0.5, 0.0, 0.4, 1.5, 3.9], [100.2, -100.7, 7.0, 0.999, -0.999, 2.5]], dtype=np.float32)


@pytest.mark.parametrize(
    "source, target",
    [
        (FLOAT, TensorProto.FLOAT16),
        (FLOAT, TensorProto.DOUBLE),
        (FLOAT, INT32),
        (FLOAT, INT64),
        (FLOAT, TensorProto.INT8),
        (FLOAT, BOOL),
        (TensorProto.FLOAT16, FLOAT),
        (INT64, FLOAT),
        (INT32, INT64),
        (BOOL, FLOAT),
        (TensorProto.UINT8, FLOAT),
        (FLOAT, FLOAT),
    ],
)
def test_cast(check_onnx, source, target):
    dtype = helper.tensor_dtype_to_np_dtype(source)
    data = CAST_VALUES.astype(dtype) if dtype != np.bool_ else CAST_VALUES > 0.2
    if np.dtype(dtype).kind == "u":
        data = np.abs(CAST_VALUES).astype(dtype)
    check_onnx(single("Cast", [("x", source, [2, 6])], to=target), inputs=[data])


def run_both(model: onnx.ModelProto, inputs: Sequence[np.ndarray], tmp_path) -> list[list[np.ndarray]]:
    """The IR's outputs on OpenVINO and on onnxruntime (for models onnxruntime itself cannot run)."""
    save_model(convert_model(model), tmp_path / "model.xml")
    return [run_ir(tmp_path / "model.xml", inputs, backend) for backend in ("openvino", "onnxruntime")]


def test_cast_with_saturate_attribute(tmp_path):
    # onnxruntime refuses `saturate` unless the target is a float8 type; it changes nothing here.
    model = single("Cast", [("x", FLOAT, [2, 6])], opset=19, to=TensorProto.FLOAT16, saturate=0)
    for (result,) in run_both(model, [CAST_VALUES], tmp_path):
        np.testing.assert_array_equal(result, CAST_VALUES.astype(np.float16))


@pytest.mark.parametrize("target", [TensorProto.STRING, TensorProto.FLOAT8E4M3FNUZ, TensorProto.INT2])
def test_cast_to_unsupported_type_is_rejected(target):
    with pytest.raises(NodeConversionError, match="not supported"):
        convert_model(single("Cast", [("x", FLOAT, [2])], to=target))


@pytest.mark.parametrize("target", [INT32, TensorProto.FLOAT16, FLOAT])
def test_cast_like(check_onnx, target):
    model = single("CastLike", [("x", FLOAT, [2, 6]), ("like", target, [1])])
    like = np.zeros(1, dtype=helper.tensor_dtype_to_np_dtype(target))
    check_onnx(model, inputs=[CAST_VALUES, like])


# ---------------------------------------------------------------- Range


@pytest.mark.parametrize(
    "dtype, start, limit, delta",
    [
        (np.float32, 1.0, 5.5, 0.75),
        (np.float32, 3.0, -2.0, -1.5),
        (np.int32, 10, 1, -3),
        (np.int64, 0, 7, 2),
        (np.int64, 5, 5, 1),
    ],
)
def test_range_runtime_inputs(check_onnx, dtype, start, limit, delta):
    onnx_type = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    model = single("Range", [(name, onnx_type, []) for name in ("a", "b", "c")])
    check_onnx(model, inputs=[np.array(v, dtype=dtype) for v in (start, limit, delta)])


@pytest.mark.parametrize("dtype", [np.float16])
def test_range_half_precision(tmp_path, dtype):
    # onnxruntime has no f16 Range: compare with the definition, start + i * delta rounded once.
    model = single("Range", [(name, TensorProto.FLOAT16, []) for name in ("a", "b", "c")])
    inputs = [np.array(v, dtype=dtype) for v in (0.1, 300.0, 0.7)]
    start, limit, delta = (np.float32(v) for v in inputs)
    length = int(np.ceil((limit - start) / delta))
    expected = (start + np.arange(length, dtype=np.float32) * delta).astype(dtype)
    for (result,) in run_both(model, inputs, tmp_path):
        np.testing.assert_array_equal(result, expected)


def test_range_constant_inputs_infers_length(check_onnx):
    model = single("Range", [("x", FLOAT, [1])], initializers={k: np.array(v, dtype=np.float32) for k, v in (("a", 0), ("b", 3), ("c", 0.5))}, input_names=["a", "b", "c"])
    check_onnx(model)
    graph = convert_model(model)
    assert graph.outputs[0].shape.dims == (6,)


# ---------------------------------------------------------------- TopK, ArgMax, ArgMin


@pytest.mark.parametrize("axis, largest", [(-1, 1), (0, 1), (1, 0), (-2, 0)])
def test_topk_input_k(check_onnx, axis, largest):
    model = single("TopK", [("x", FLOAT, [4, 5, 6])], outputs=("v", "i"), opset=11, initializers={"k": np.array([3], dtype=np.int64)}, axis=axis, largest=largest)
    check_onnx(model)


@pytest.mark.parametrize("opset", [7, 9])
def test_topk_attribute_k(check_onnx, opset):
    check_onnx(single("TopK", [("x", FLOAT, [3, 5])], outputs=("v", "i"), opset=opset, k=2))


def test_topk_runtime_k_and_dynamic_dims(check_onnx):
    model = single("TopK", [("x", FLOAT, ["N", 7]), ("k", INT64, [1])], outputs=("v", "i"), opset=11)
    check_onnx(model, inputs=[np.random.default_rng(2).standard_normal((3, 7)).astype(np.float32), np.array([4], dtype=np.int64)])


@pytest.mark.parametrize("largest", [0, 1])
def test_topk_ties_keep_index_order(check_onnx, largest):
    data = np.array([[3, 1, 3, 2, 1, 3, 2, 2]], dtype=np.int32)
    model = single("TopK", [("x", INT32, [1, 8])], outputs=("v", "i"), opset=11, initializers={"k": np.array([5], dtype=np.int64)}, largest=largest)
    check_onnx(model, inputs=[data])


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("axis, keepdims", [(0, 1), (1, 0), (-1, 1), (-2, 0)])
def test_arg_extreme(check_onnx, op, axis, keepdims):
    check_onnx(single(op, [("x", FLOAT, [3, 4, 5])], opset=13, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("shape", [[3, 6], ["N", "M"]])
def test_arg_extreme_select_last_index(check_onnx, op, shape):
    data = np.array([[1, 5, 5, 0, 0, 5], [2, 2, 2, 2, 2, 2], [9, 0, 9, 0, 9, 0]], dtype=np.float32)
    check_onnx(single(op, [("x", FLOAT, shape)], opset=13, axis=1, keepdims=0, select_last_index=1), inputs=[data])


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_arg_extreme_first_index_on_ties_before_opset_12(check_onnx, op):
    data = np.array([[1, 5, 5, 0, 0, 5], [2, 2, 2, 2, 2, 2]], dtype=np.float32)
    check_onnx(single(op, [("x", FLOAT, [2, 6])], opset=11, axis=1), inputs=[data])


# ---------------------------------------------------------------- OneHot


@pytest.mark.parametrize("axis", [-1, 0, 1, -2])
def test_one_hot_axis_and_negative_indices(check_onnx, axis):
    indices = np.array([[0, 3, -1], [-4, 5, -5]], dtype=np.int64)  # 5 and -5 are out of range: all off
    model = single(
        "OneHot",
        [("i", INT64, [2, 3])],
        opset=11,
        initializers={"d": np.array(4, dtype=np.int64), "v": np.array([-1.0, 2.5], dtype=np.float32)},
        axis=axis,
    )
    check_onnx(model, inputs=[indices])


def test_one_hot_float_indices_int_values(check_onnx):
    indices = np.array([0.0, 2.0, -1.0, 2.0], dtype=np.float32)
    model = single("OneHot", [("i", FLOAT, [4]), ("d", INT64, [1]), ("v", INT64, [2])], opset=11)
    check_onnx(model, inputs=[indices, np.array([3]), np.array([0, 7])])


def test_one_hot_float_depth(check_onnx):
    indices = np.array([[0.0, 2.0], [1.0, 3.0]], dtype=np.float32)
    model = single("OneHot", [("i", FLOAT, [2, 2]), ("d", FLOAT, []), ("v", FLOAT, [2])], opset=11, axis=0)
    check_onnx(model, inputs=[indices, np.array(3.0, dtype=np.float32), np.array([0.5, 1.5], dtype=np.float32)])


# ---------------------------------------------------------------- NonZero, CumSum, EyeLike


@pytest.mark.parametrize("dtype", [FLOAT, INT32, BOOL])
def test_non_zero(check_onnx, dtype):
    data = np.array([[0, 1, 0], [2, 0, 3]], dtype=helper.tensor_dtype_to_np_dtype(dtype))
    check_onnx(single("NonZero", [("x", dtype, [2, 3])]), inputs=[data])


@pytest.mark.parametrize("exclusive, reverse", [(0, 0), (1, 0), (0, 1), (1, 1)])
@pytest.mark.parametrize("axis", [0, -1])
def test_cum_sum(check_onnx, exclusive, reverse, axis):
    model = single("CumSum", [("x", FLOAT, [3, 4])], initializers={"a": np.array(axis, dtype=np.int64)}, exclusive=exclusive, reverse=reverse)
    check_onnx(model)


def test_cum_sum_int32_runtime_axis(check_onnx):
    model = single("CumSum", [("x", INT32, ["N", 4]), ("a", INT32, [1])])
    check_onnx(model, inputs=[np.arange(12, dtype=np.int32).reshape(3, 4), np.array([1], dtype=np.int32)])


@pytest.mark.parametrize("k", [0, 1, -2, 9])
@pytest.mark.parametrize("shape", [[3, 5], ["R", "C"]])
def test_eye_like(check_onnx, k, shape):
    model = single("EyeLike", [("x", FLOAT, shape)], k=k)
    check_onnx(model, inputs=[np.zeros((3, 5), dtype=np.float32)])


def test_eye_like_with_dtype(check_onnx):
    check_onnx(single("EyeLike", [("x", FLOAT, [4, 4])], dtype=INT32, k=-1))


# ---------------------------------------------------------------- NonMaxSuppression

BOXES = np.array(
    [[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11], [0, 10.1, 1, 11.1], [0, 100, 1, 101]]], dtype=np.float32
)
SCORES = np.array([[[0.9, 0.75, 0.6, 0.95, 0.5, 0.3], [0.1, 0.2, 0.8, 0.4, 0.05, 0.7]]], dtype=np.float32)


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"m": np.array([2], dtype=np.int64)},
        {"m": np.array([3], dtype=np.int64), "iou": np.array([0.5], dtype=np.float32)},
        {"m": np.array([3], dtype=np.int64), "iou": np.array([0.5], dtype=np.float32), "s": np.array([0.35], dtype=np.float32)},
    ],
)
def test_non_max_suppression_constant_thresholds(check_onnx, extra):
    model = single("NonMaxSuppression", [("b", FLOAT, [1, 6, 4]), ("sc", FLOAT, [1, 2, 6])], initializers=extra)
    check_onnx(model, inputs=[BOXES, SCORES])


def test_non_max_suppression_runtime_thresholds_and_center_boxes(check_onnx):
    inputs = [("b", FLOAT, ["B", 6, 4]), ("sc", FLOAT, ["B", 2, 6]), ("m", INT64, [1]), ("iou", FLOAT, [1]), ("s", FLOAT, [1])]
    model = single("NonMaxSuppression", inputs, center_point_box=1)
    centers = np.concatenate([BOXES, BOXES + 0.05], axis=0)
    centers[..., 2:] = 1.0
    scores = np.concatenate([SCORES, SCORES[:, ::-1]], axis=0)
    check_onnx(model, inputs=[centers, scores, np.array([3]), np.array([0.25], dtype=np.float32), np.array([0.0], dtype=np.float32)])


def test_non_max_suppression_iou_equal_to_threshold_is_kept(check_onnx):
    boxes = np.array([[[0, 0, 1, 1], [0.5, 0.5, 1.5, 1.5]]], dtype=np.float32)
    scores = np.array([[[0.9, 0.8]]], dtype=np.float32)
    threshold = np.array([np.float32(0.25) / np.float32(1.75)], dtype=np.float32)
    runtime = single("NonMaxSuppression", [("b", FLOAT, [1, 2, 4]), ("sc", FLOAT, [1, 1, 2]), ("m", INT64, [1]), ("iou", FLOAT, [1])])
    check_onnx(runtime, inputs=[boxes, scores, np.array([3]), threshold])
    constant = single("NonMaxSuppression", [("b", FLOAT, [1, 2, 4]), ("sc", FLOAT, [1, 1, 2])], initializers={"m": np.array([3]), "iou": threshold})
    check_onnx(constant, inputs=[boxes, scores])


# ---------------------------------------------------------------- kernels


def _ort_single(op: str, arrays: Sequence[np.ndarray], opset: int = 21, outputs: int = 1, **attrs) -> list[np.ndarray]:
    inputs = [(f"i{n}", helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape)) for n, a in enumerate(arrays)]
    return ort_run(single(op, inputs, outputs=[f"o{n}" for n in range(outputs)], opset=opset, **attrs), arrays)


@pytest.mark.parametrize("mode", ["max", "min"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_topk_kernel_matches_onnxruntime(mode, dtype):
    rng = np.random.default_rng(3)
    data = rng.integers(-4, 5, (3, 9, 4)).astype(dtype)  # many ties
    k = np.array([5], dtype=np.int64)
    values, indices = ops.TopK.kernel([data, k.reshape(())], {"axis": 1, "mode": mode, "sort": "value", "index_element_type": ElementType.i64, "stable": True})
    expected = _ort_single("TopK", [data, k], outputs=2, axis=1, largest=int(mode == "max"))
    np.testing.assert_array_equal(values, expected[0])
    np.testing.assert_array_equal(indices, expected[1])


def test_topk_kernel_sort_by_index():
    data = np.array([1.0, 9.0, 3.0, 7.0, 5.0], dtype=np.float32)
    values, indices = ops.TopK.kernel([data, np.array(3)], {"axis": 0, "mode": "max", "sort": "index", "index_element_type": ElementType.i32, "stable": True})
    np.testing.assert_array_equal(indices, np.array([1, 3, 4], dtype=np.int32))
    np.testing.assert_array_equal(values, np.array([9.0, 7.0, 5.0], dtype=np.float32))


@pytest.mark.parametrize("start, stop, step, dtype", [(0, 10, 3, np.int64), (5, -3, -2, np.int32), (0.5, 2.0, 0.25, np.float32)])
def test_range_kernel_matches_onnxruntime(start, stop, step, dtype):
    arrays = [np.array(v, dtype=dtype) for v in (start, stop, step)]
    (result,) = ops.Range.kernel(arrays, {"output_type": ElementType.from_numpy(dtype)})
    np.testing.assert_array_equal(result, _ort_single("Range", arrays)[0])


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot_kernel_matches_onnxruntime(axis):
    indices = np.array([[0, -1, 2], [5, -3, 1]], dtype=np.int64)
    depth, values = np.array(3, dtype=np.int64), np.array([0.5, 4.0], dtype=np.float32)
    (result,) = ops.OneHot.kernel([indices, depth, values[1:], values[:1]], {"axis": axis, "negative_indices_mode": "normalize"})
    np.testing.assert_array_equal(result, _ort_single("OneHot", [indices, depth, values], axis=axis)[0])


def test_one_hot_kernel_ignores_negative_indices():
    (result,) = ops.OneHot.kernel(
        [np.array([-1, 1]), np.array(2), np.array(1.0, dtype=np.float32), np.array(0.0, dtype=np.float32)], {"axis": -1, "negative_indices_mode": "ignore_negative"}
    )
    np.testing.assert_array_equal(result, np.array([[0, 0], [0, 1]], dtype=np.float32))


def test_non_zero_kernel():
    data = np.random.default_rng(4).integers(0, 2, (3, 4, 2)).astype(np.float32)
    (result,) = ops.NonZero.kernel([data], {"output_type": ElementType.i32})
    np.testing.assert_array_equal(result, np.array(np.nonzero(data), dtype=np.int32))


@pytest.mark.parametrize("exclusive, reverse", [(False, False), (True, False), (False, True), (True, True)])
def test_cum_sum_kernel_matches_onnxruntime(exclusive, reverse):
    data = np.random.default_rng(5).standard_normal((3, 4, 5)).astype(np.float32)
    axis = np.array(1, dtype=np.int64)
    (result,) = ops.CumSum.kernel([data, axis], {"exclusive": exclusive, "reverse": reverse})
    expected = _ort_single("CumSum", [data, axis], exclusive=int(exclusive), reverse=int(reverse))[0]
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)


def test_eye_kernel_with_batch():
    inputs = [np.array(2), np.array(3), np.array(1), np.array([2, 1])]
    (result,) = ops.Eye.kernel(inputs, {"output_type": ElementType.f32})
    assert result.shape == (2, 1, 2, 3)
    np.testing.assert_array_equal(result[1, 0], np.eye(2, 3, 1, dtype=np.float32))


# ---------------------------------------------------------------- CumProd


def _cumprod_reference(x: np.ndarray, axis: int, exclusive: int, reverse: int) -> np.ndarray:
    data = np.flip(x, axis) if reverse else x
    out = np.cumprod(data, axis=axis, dtype=x.dtype)
    if exclusive:
        ones = np.ones_like(np.take(out, [0], axis=axis))
        out = np.concatenate([ones, np.delete(out, -1, axis=axis)], axis=axis)
    return np.flip(out, axis) if reverse else out


@pytest.mark.parametrize("exclusive, reverse", [(0, 0), (1, 0), (0, 1), (1, 1)])
@pytest.mark.parametrize("axis_given", ["constant", "input"])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_cumprod(tmp_path, exclusive, reverse, axis_given, axis, dtype) -> None:
    """Against numpy, zeros and negative values included; the axis a constant or a run-time input."""
    elem = TensorProto.FLOAT if dtype is np.float32 else TensorProto.INT32
    x = np.array([[1, -2, 3, 0.5, 2], [0, 4, -1, 2, 3], [2, 2, 2, -2, 1]], dtype=np.float32).astype(dtype)
    axis_array = np.array(axis, dtype=np.int64)
    initializers = {"axis": axis_array} if axis_given == "constant" else None
    inputs = [("x", elem, list(x.shape))] + ([("axis", TensorProto.INT64, [])] if axis_given == "input" else [])
    model = single("CumProd", inputs, opset=26, initializers=initializers, input_names=["x", "axis"], exclusive=exclusive, reverse=reverse)
    save_model(convert_model(model), tmp_path / "m.xml")
    feeds = [x] if axis_given == "constant" else [x, axis_array]
    expected = _cumprod_reference(x, axis, exclusive, reverse)
    for backend in ("openvino", "onnxruntime"):
        out = run_ir(tmp_path / "m.xml", feeds, backend)[0]
        assert out.dtype == x.dtype
        np.testing.assert_array_equal(out, expected)


def test_cumprod_needs_a_static_axis_length() -> None:
    model = single("CumProd", [("x", TensorProto.FLOAT, [2, None])], opset=26, initializers={"axis": np.array(1, np.int64)}, input_names=["x", "axis"])
    with pytest.raises(NodeConversionError, match="dynamic axis"):
        convert_model(model)
