"""ONNX vision/signal ops (GridSample, Unique, Col2Im, RoiAlign, DFT, STFT) → IR; the IR ops' kernels
and their ONNX lowerings, also for IR attributes the frontend never emits (run against OpenVINO)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter import convert_model, save_model
from converter.errors import NodeConversionError
from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, Shape
from converter.ops import vision_signal as ops
from converter.ops.core import const, parameter
from converter.ops.spec import OpSpec
from converter.validate import compare, run_ir
from models import model_of

FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64
INT32 = TensorProto.INT32

Input = tuple[str, int, "list | None"]
RNG = np.random.default_rng(7)


def single(op: str, inputs: Sequence[Input], input_names: Sequence[str], outputs: Sequence[str] = ("y",), opset: int = 21, initializers=None, **attrs) -> onnx.ModelProto:
    node = helper.make_node(op, list(input_names), list(outputs), **attrs)
    return model_of([node], inputs, outputs, opset, initializers)


def rejected(model: onnx.ModelProto, words: str) -> None:
    with pytest.raises(NodeConversionError, match=words):
        convert_model(model)


# ---------------------------------------------------------------- GridSample


def _grid(shape: Sequence[int]) -> np.ndarray:
    return RNG.uniform(-1.3, 1.3, shape).astype(np.float32)  # also outside [-1, 1]: padding matters


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [0, 1])
@pytest.mark.parametrize("mode, opset", [("bilinear", 16), ("bicubic", 16), ("nearest", 16), ("linear", 20), ("cubic", 22)])
def test_grid_sample(check_onnx, mode, opset, padding_mode, align_corners):
    model = single(
        "GridSample",
        [("x", FLOAT, [2, 3, 5, 6]), ("grid", FLOAT, [2, 4, 7, 2])],
        ["x", "grid"],
        opset=opset,
        mode=mode,
        padding_mode=padding_mode,
        align_corners=align_corners,
    )
    x = RNG.standard_normal((2, 3, 5, 6)).astype(np.float32)
    check_onnx(model, [x, _grid((2, 4, 7, 2))])


def test_grid_sample_defaults_dynamic_dims(check_onnx):
    model = single("GridSample", [("x", FLOAT, ["n", 2, "h", "w"]), ("grid", FLOAT, ["n", "ho", "wo", 2])], ["x", "grid"], opset=16)
    check_onnx(model, [RNG.standard_normal((1, 2, 4, 5)).astype(np.float32), _grid((1, 3, 2, 2))])


def test_grid_sample_rejects_volumetric():
    model = single("GridSample", [("x", FLOAT, [1, 1, 3, 2, 2]), ("grid", FLOAT, [1, 2, 4, 2, 3])], ["x", "grid"], opset=22)
    rejected(model, "3-D spatial")


# ---------------------------------------------------------------- Unique


@pytest.mark.parametrize("sorted_", [0, 1])
@pytest.mark.parametrize("axis, shape", [(None, [4, 5]), (None, [7]), (0, [6, 3]), (1, [3, 6]), (-1, [2, 3, 5]), (1, [2, 4, 2])])
def test_unique(check_onnx, sorted_, axis, shape):
    data = RNG.integers(0, 2, shape).astype(np.float32)  # many duplicate elements and slices
    attrs = {"sorted": sorted_} if axis is None else {"sorted": sorted_, "axis": axis}
    model = single("Unique", [("x", FLOAT, shape)], ["x"], ["y", "indices", "inverse", "counts"], **attrs)
    check_onnx(model, [data])


def test_unique_int64_default_sorted(check_onnx):
    model = single("Unique", [("x", INT64, ["n"])], ["x"], ["y", "indices", "inverse", "counts"], opset=11)
    check_onnx(model, [np.array([5, -2, 5, 7, -2, 0, 5], dtype=np.int64)])


@pytest.mark.parametrize("axis", [0, 1])
def test_unique_int8_slices(check_onnx, axis):
    model = single("Unique", [("x", TensorProto.INT8, [5, 5])], ["x"], ["y", "indices", "inverse", "counts"], axis=axis, sorted=0)
    check_onnx(model, [RNG.integers(-1, 1, (5, 5)).astype(np.int8)])


def test_unique_kernel_matches_onnxruntime():
    data = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 1], [2, 2, 2]], dtype=np.int64)
    for axis, sorted_ in [(None, True), (None, False), (0, True), (0, False), (1, False)]:
        inputs = [data] if axis is None else [data, np.array(axis)]
        attrs = {"sorted": sorted_, "index_element_type": ElementType.i64, "count_element_type": ElementType.i64}
        result = ops.Unique.kernel(inputs, attrs)
        onnx_attrs = {"sorted": int(sorted_)} | ({} if axis is None else {"axis": axis})
        expected = _ort_single("Unique", [data], 4, **onnx_attrs)
        for got, want in zip(result, expected):
            np.testing.assert_array_equal(got, want.reshape(got.shape))


# ---------------------------------------------------------------- Col2Im


@pytest.mark.parametrize(
    "attrs, image, block, columns",
    [
        ({}, [5, 5], [1, 5], [1, 5, 5]),
        ({"strides": [2, 2]}, [5, 5], [3, 3], [1, 9, 4]),
        ({"pads": [0, 1, 0, 1]}, [5, 5], [1, 5], [1, 5, 15]),
        ({"dilations": [1, 5]}, [6, 6], [2, 2], [1, 4, 5]),
        ({"strides": [1, 2], "pads": [1, 0, 2, 1], "dilations": [2, 1]}, [4, 5], [2, 3], [2, 12, 10]),
    ],
)
def test_col2im(check_onnx, attrs, image, block, columns):
    model = single(
        "Col2Im",
        [("x", FLOAT, columns)],
        ["x", "image_shape", "block_shape"],
        opset=18,
        initializers={"image_shape": np.array(image, dtype=np.int64), "block_shape": np.array(block, dtype=np.int64)},
        **attrs,
    )
    check_onnx(model, [RNG.standard_normal(columns).astype(np.float32)])


def test_col2im_runtime_shapes(check_onnx):
    model = single("Col2Im", [("x", FLOAT, ["n", 9, 4]), ("image", INT64, [2]), ("block", INT64, [2])], ["x", "image", "block"], opset=18, strides=[2, 2])
    check_onnx(model, [RNG.standard_normal((2, 9, 4)).astype(np.float32), np.array([5, 5]), np.array([3, 3])])


def test_col2im_rejects_3d():
    model = single("Col2Im", [("x", FLOAT, [1, 10, 12]), ("image", INT64, [3]), ("block", INT64, [3])], ["x", "image", "block"], opset=18)
    rejected(model, "2-D only")


def test_col2im_kernel_matches_onnxruntime():
    data = RNG.standard_normal((2, 12, 10)).astype(np.float32)
    image, block = np.array([4, 5]), np.array([2, 3])
    attrs = {"strides": (1, 2), "dilations": (2, 1), "pads_begin": (1, 0), "pads_end": (2, 1)}
    (result,) = ops.Col2Im.kernel([data, image, block], attrs)
    (expected,) = _ort_single("Col2Im", [data, image, block], strides=[1, 2], dilations=[2, 1], pads=[1, 0, 2, 1])
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)
    (unbatched,) = ops.Col2Im.kernel([data[1], image, block], attrs)
    np.testing.assert_allclose(unbatched, expected[1], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- RoiAlign

ROIS = np.array([[0, 0, 9, 9], [0, 5, 4, 9], [5, 5, 9, 9], [1.3, 2.2, 3.1, 7.7], [2, 2, 2.4, 2.3], [-2, 1, 12, 11.5]], dtype=np.float32)


@pytest.mark.parametrize("transform", ["half_pixel", "output_half_pixel", None])
@pytest.mark.parametrize("sampling_ratio, spatial_scale", [(2, 1.0), (0, 0.5), (1, 2.0)])
def test_roi_align(check_onnx, transform, sampling_ratio, spatial_scale):
    attrs = {"output_height": 3, "output_width": 4, "sampling_ratio": sampling_ratio, "spatial_scale": spatial_scale}
    if transform is not None:
        attrs["coordinate_transformation_mode"] = transform
    model = single("RoiAlign", [("x", FLOAT, [2, 3, 10, 10]), ("rois", FLOAT, ["r", 4]), ("batch", INT64, ["r"])], ["x", "rois", "batch"], opset=16, **attrs)
    batch = np.array([0, 1, 0, 1, 1, 0], dtype=np.int64)
    check_onnx(model, [RNG.random((2, 3, 10, 10), dtype=np.float32), ROIS, batch])


def test_roi_align_opset10_has_no_half_pixel_shift(check_onnx):
    model = single("RoiAlign", [("x", FLOAT, [1, 2, 10, 10]), ("rois", FLOAT, [6, 4]), ("batch", INT64, [6])], ["x", "rois", "batch"], opset=10, output_height=2, output_width=2)
    check_onnx(model, [RNG.random((1, 2, 10, 10), dtype=np.float32), ROIS, np.zeros(6, dtype=np.int64)])


def test_roi_align_rejects_onnx_max():
    model = single("RoiAlign", [("x", FLOAT, [1, 1, 10, 10]), ("rois", FLOAT, [3, 4]), ("batch", INT64, [3])], ["x", "rois", "batch"], opset=16, mode="max")
    rejected(model, "max")


# ---------------------------------------------------------------- DFT


def _signal(shape: Sequence[int]) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


DFT_TOLERANCE = {"rtol": 1e-4, "atol": 2e-5}


# (last dim, inverse, onesided): a onesided DFT takes real input, a onesided inverse complex input.
DFT_FORMS = [(1, 0, 0), (2, 0, 0), (1, 1, 0), (2, 1, 0), (1, 0, 1), (2, 1, 1)]


@pytest.mark.parametrize("last, inverse, onesided", DFT_FORMS)
@pytest.mark.parametrize("opset, axis", [(17, 1), (17, 2), (20, 1), (20, 2), (20, -2)])
def test_dft(check_onnx, opset, last, inverse, onesided, axis):
    shape = [2, 6, 5, last]
    if opset >= 20:
        model = single("DFT", [("x", FLOAT, shape)], ["x", "", "axis"], opset=opset, initializers={"axis": np.array(axis, dtype=np.int64)}, inverse=inverse, onesided=onesided)
    else:
        model = single("DFT", [("x", FLOAT, shape)], ["x"], opset=opset, axis=axis, inverse=inverse, onesided=onesided)
    check_onnx(model, [_signal(shape)], **DFT_TOLERANCE)


@pytest.mark.parametrize("inverse, onesided, last, length", [(0, 0, 1, 4), (0, 0, 2, 9), (1, 0, 2, 3), (0, 1, 1, 9), (0, 1, 1, 4), (1, 1, 2, 8), (1, 1, 2, 10)])
def test_dft_length(check_onnx, inverse, onesided, last, length):
    shape = [3, 6, last]
    model = single(
        "DFT", [("x", FLOAT, shape)], ["x", "length", "axis"], opset=20, initializers={"length": np.array(length, dtype=np.int64), "axis": np.array(1, dtype=np.int64)}, inverse=inverse, onesided=onesided
    )
    check_onnx(model, [_signal(shape)], **DFT_TOLERANCE)


@pytest.mark.parametrize("inverse, onesided, last", [(0, 0, 1), (1, 0, 2), (0, 1, 1), (1, 1, 2)])
def test_dft_runtime_axis(check_onnx, inverse, onesided, last):
    shape = [1, 6, 6, last]
    model = single("DFT", [("x", FLOAT, ["b", 6, 6, last]), ("axis", INT64, [])], ["x", "", "axis"], opset=20, inverse=inverse, onesided=onesided)
    for axis in (2, -3):
        check_onnx(model, [_signal(shape), np.array(axis, dtype=np.int64)], **DFT_TOLERANCE)


def test_dft_rejects_onesided_complex_forward():
    rejected(single("DFT", [("x", FLOAT, [1, 8, 2])], ["x"], opset=17, onesided=1), "real input")


# ---------------------------------------------------------------- STFT


@pytest.mark.parametrize("with_window, with_length", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("frame_step", [4, 8])
def test_stft(check_onnx, with_window, with_length, frame_step):
    names = ["signal", "step", "window" if with_window else "", "length" if with_length else ""]
    initializers = {"step": np.array(frame_step, dtype=np.int64)}
    if with_window:
        initializers["window"] = np.hanning(16).astype(np.float32)
    if with_length:
        initializers["length"] = np.array(16, dtype=np.int64)
    while not names[-1]:
        names.pop()
    model = single("STFT", [("signal", FLOAT, ["b", 64, 1])], names, opset=17, initializers=initializers)
    check_onnx(model, [_signal((2, 64, 1))], **DFT_TOLERANCE)


def test_stft_runtime_step_and_length(check_onnx):
    model = single("STFT", [("signal", FLOAT, [1, 128, 1]), ("step", INT64, []), ("length", INT64, [])], ["signal", "step", "", "length"], opset=17)
    check_onnx(model, [_signal((1, 128, 1)), np.array(8, dtype=np.int64), np.array(16, dtype=np.int64)], **DFT_TOLERANCE)


@pytest.mark.parametrize("attrs, last", [({"onesided": 0}, 1), ({}, 2)])
def test_stft_rejects_full_or_complex(attrs, last):
    model = single("STFT", [("signal", FLOAT, [1, 64, last])], ["signal", "step", "", "length"], opset=17, initializers={"step": np.array(8), "length": np.array(16)}, **attrs)
    rejected(model, "STFT")


# ---------------------------------------------------------------- IR ops the frontend does not emit: kernel, OpenVINO, lowering


def run_ir_op(tmp_path: Path, build, arrays: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Build a one-op IR over Parameters for `arrays`, save it, run it on OpenVINO and through the ONNX lowering."""
    params = [parameter(f"in{i}", ElementType.from_numpy(a.dtype), Shape(tuple(a.shape))) for i, a in enumerate(arrays)]
    outputs = build(*[p.outputs[0] for p in params])
    outputs = outputs if isinstance(outputs, list) else [outputs]
    for index, value in enumerate(outputs):
        value.names.append(f"out{index}")
    xml_path = tmp_path / "op.xml"
    save_model(Graph(params, outputs, "op"), xml_path)
    return [run_ir(xml_path, list(arrays), backend) for backend in ("openvino", "onnxruntime")]


def _check_backends(results: list[list[np.ndarray]], expected: Sequence[np.ndarray], rtol: float = 1e-4, atol: float = 2e-5) -> None:
    for backend, actual in zip(("openvino", "onnxruntime"), results):
        outcome = compare(list(expected), actual, rtol, atol)
        assert outcome.ok, f"{backend}: {outcome.detail}"


def _i64(values) -> Value:
    return const(np.array(values, dtype=np.int64))


@pytest.mark.parametrize(
    "op, shape, axes, sizes",
    [
        (ops.DFT, [3, 4, 6, 2], [0, 2], None),
        (ops.DFT, [3, 4, 6, 2], [-1, 1], [-1, 7]),
        (ops.IDFT, [3, 4, 6, 2], [2, 1], [3, -1]),
        (ops.RDFT, [3, 4, 6], [0, 2], None),
        (ops.RDFT, [3, 4, 6], [2, -2], [5, 3]),
        (ops.IRDFT, [3, 4, 4, 2], [0, 2], None),
        (ops.IRDFT, [3, 4, 4, 2], [1, -1], [3, 6]),
        (ops.IRDFT, [3, 5, 4, 2], [1], [8]),
        (ops.IRDFT, [3, 5, 4, 2], [-2], [7]),
    ],
)
def test_dft_family_kernel_backends(tmp_path, op: OpSpec, shape, axes, sizes):
    data = _signal(shape)
    extra = [] if sizes is None else [np.array(sizes, dtype=np.int64)]
    (expected,) = op.kernel([data, np.array(axes, dtype=np.int64), *extra], {})
    results = run_ir_op(tmp_path, lambda x: op(x, _i64(axes), *([] if sizes is None else [_i64(sizes)])), [data])
    _check_backends(results, [expected])
    inferred = op(const(data), _i64(axes), *([] if sizes is None else [_i64(sizes)])).shape.dims
    assert inferred == expected.shape


@pytest.mark.parametrize("aligned_mode", ["asymmetric", "half_pixel_for_nn", "half_pixel"])
@pytest.mark.parametrize("mode", ["avg", "max"])
def test_roi_align_ir_modes(tmp_path, aligned_mode, mode):
    data = RNG.random((2, 3, 10, 10), dtype=np.float32)
    batch = np.array([0, 1, 0, 1, 1, 0], dtype=np.int32)

    def build(x: Value, rois: Value, indices: Value) -> Value:
        return ops.ROIAlign(x, rois, indices, pooled_h=3, pooled_w=2, sampling_ratio=2, spatial_scale=0.75, mode=mode, aligned_mode=aligned_mode)

    openvino, lowered = run_ir_op(tmp_path, build, [data, ROIS, batch])
    _check_backends([lowered], openvino)


@pytest.mark.parametrize("transpose_frames", [False, True])
@pytest.mark.parametrize("batched, window_length", [(True, 16), (False, 11), (True, 10)])
def test_stft_ir_forms(tmp_path, transpose_frames, batched, window_length):
    signal = _signal((2, 60) if batched else (60,))
    window = np.hanning(window_length).astype(np.float32)

    def build(x: Value, w: Value) -> Value:
        return ops.STFT(x, w, const(np.int64(16)), const(np.int64(5)), transpose_frames=transpose_frames)

    openvino, lowered = run_ir_op(tmp_path, build, [signal, window])
    _check_backends([lowered], openvino)
    frames, bins = (60 - 16) // 5 + 1, 9
    inner = (bins, frames) if transpose_frames else (frames, bins)
    assert openvino[0].shape == ((2,) if batched else ()) + inner + (2,)


def test_col2im_ir_unbatched(tmp_path):
    data = _signal((12, 10))
    attrs = {"strides": (1, 2), "dilations": (2, 1), "pads_begin": (1, 0), "pads_end": (2, 1)}
    (expected,) = ops.Col2Im.kernel([data, np.array([4, 5]), np.array([2, 3])], attrs)
    results = run_ir_op(tmp_path, lambda x: ops.Col2Im(x, _i64([4, 5]), _i64([2, 3]), **attrs), [data])
    _check_backends(results, [expected])


@pytest.mark.parametrize("dtype", [np.int32, np.uint16, np.float32])
def test_unique_ir_types_and_kernel(tmp_path, dtype):
    data = np.array([[3, 1, 3], [1, 1, 0], [3, 1, 3]], dtype=dtype)
    for axis in (None, 0):
        attrs = {"sorted": False, "index_element_type": ElementType.i32, "count_element_type": ElementType.i64}
        axis_inputs = [] if axis is None else [_i64(axis)]
        expected = ops.Unique.kernel([data] + ([] if axis is None else [np.array(axis)]), attrs)
        results = run_ir_op(tmp_path, lambda x: list(ops.Unique.node(x, *axis_inputs, **attrs).outputs), [data])
        _check_backends(results, expected)


# ---------------------------------------------------------------- helpers


def _ort_single(op: str, arrays: Sequence[np.ndarray], outputs: int = 1, **attrs) -> list[np.ndarray]:
    import onnxruntime

    names = [f"in{i}" for i in range(len(arrays))]
    out_names = [f"out{i}" for i in range(outputs)]
    types = [helper.np_dtype_to_tensor_dtype(a.dtype) for a in arrays]
    model = model_of([helper.make_node(op, names, out_names, **attrs)], [(n, t, list(a.shape)) for n, t, a in zip(names, types, arrays)], out_names)
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return list(session.run(None, dict(zip(names, arrays))))


# ---------------------------------------------------------------- AffineGrid


@pytest.mark.parametrize("align_corners", [0, 1])
@pytest.mark.parametrize(
    "size",
    [[2, 3, 5, 6], [3, 1, 1, 4], [2, 3, 4, 5, 6], [1, 2, 1, 3, 1]],
    ids=["2d", "2d-single-row", "3d", "3d-single-depth-and-width"],
)
@pytest.mark.parametrize("size_given", ["input", "initializer"])
def test_affine_grid(tmp_path: Path, size: list[int], align_corners: int, size_given: str) -> None:
    """Against ONNX's reference, the sizes a run-time input (the batch dynamic) or a constant;
    a spatial length of 1 (align_corners: the coordinate is -1 alone, not 0 / 0)."""
    from onnx.reference import ReferenceEvaluator

    spatial = len(size) - 2
    theta = RNG.uniform(-2, 2, (size[0], spatial, spatial + 1)).astype(np.float32)
    sizes = np.array(size, dtype=np.int64)
    inputs: list[Input] = [("theta", FLOAT, [None, spatial, spatial + 1])]
    initializers = None
    if size_given == "input":
        inputs.append(("size", INT64, [len(size)]))
    else:
        initializers = {"size": sizes}
    model = single("AffineGrid", inputs, ["theta", "size"], opset=20, initializers=initializers, align_corners=align_corners)
    feeds = [theta, sizes] if size_given == "input" else [theta]
    expected = ReferenceEvaluator(model).run(None, dict(zip(["theta", "size"], feeds)))
    assert expected[0].shape == (size[0], *size[2:], spatial)
    xml_path = tmp_path / "m.xml"
    save_model(convert_model(model), xml_path)
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, run_ir(xml_path, feeds, backend), rtol=1e-5, atol=1e-5)
        assert result.ok, f"{backend}: {result.detail}"


def test_affine_grid_needs_a_known_size_length() -> None:
    rejected(single("AffineGrid", [("theta", FLOAT, [2, 2, 3]), ("size", INT64, [None])], ["theta", "size"], opset=20), "4 or 5 elements")
