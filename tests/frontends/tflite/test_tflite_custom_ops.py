"""TFLite custom ops (frontends/tflite/ops/custom.py) in .tflite files the tests write: MediaPipe's
Convolution2DTransposeBias against its TRANSPOSE_CONV + ADD twin in the interpreter;
MaxPoolingWithArgmax2D and MaxUnpooling2D, which the interpreter does not know, against numpy loops
doing what MediaPipe's kernels do (and the values against MAX_POOL_2D); TFLite_Detection_PostProcess
against the interpreter, which runs it. The IR runs in OpenVINO (written and reloaded) and on
onnxruntime (lowered)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from flatbuffers import flexbuffers  # noqa: E402
from tflite_custom import (  # noqa: E402
    add_tensor,
    new_model,
    opcode,
    operator,
    pack,
    pool_options,
    schema,
    transpose_conv_bias_twin,
    transpose_conv_options,
    unpack,
)
from tflite_support import from_function, random, run_ir, tf, write  # noqa: E402

from converter.api import optimize  # noqa: E402
from converter.errors import NodeConversionError, UnsupportedOpsError  # noqa: E402
from converter.frontends.tflite import convert_tflite  # noqa: E402
from converter.frontends.tflite.reference import TFLiteReference  # noqa: E402
from converter.ir.graph import Graph  # noqa: E402
from converter.validate.runners import GraphRunner, IrRunner, align_outputs  # noqa: E402


def ir_outputs(graph: Graph, folder: Path, feeds: dict[str, np.ndarray], names: list[str]) -> list[list[np.ndarray]]:
    """The graph's outputs named `names`, from OpenVINO (the IR written and reloaded) and onnxruntime."""
    from converter.api import save_model

    xml, _ = save_model(graph, folder / "model.xml")
    results = []
    for runner in (IrRunner(xml, "openvino"), GraphRunner(graph, "onnxruntime")):
        outputs = runner.run(feeds)
        results.append([outputs[i] for i in align_outputs(names, runner.output_names)])
    return results


# ---------------------------------------------------------------- Convolution2DTransposeBias


def transpose_conv_bias_model(shape: list[int], weights: np.ndarray, bias: np.ndarray, padding: str, stride_w: int, stride_h: int) -> bytes:
    """input → RELU → Convolution2DTransposeBias(weights OHWI, bias) → output."""
    model = new_model()
    subgraph = model.subgraphs[0]
    x = add_tensor(model, "input", shape)
    relu = add_tensor(model, "relu", shape)
    w = add_tensor(model, "weights", weights.shape, data=weights)
    b = add_tensor(model, "bias", bias.shape, data=bias)
    sizes = []
    for size, kernel, stride in ((shape[1], weights.shape[1], stride_h), (shape[2], weights.shape[2], stride_w)):
        pad = max(0, kernel - (size - 1) % stride - 1) if padding == "SAME" else 0
        sizes.append(stride * (size - 1) + kernel - pad)
    y = add_tensor(model, "output", [shape[0], *sizes, weights.shape[0]])
    subgraph.operators = [
        operator(model, opcode(model, schema.BuiltinOperator.RELU), [x], [relu]),
        operator(model, opcode(model, custom="Convolution2DTransposeBias"), [relu, w, b], [y], custom=transpose_conv_options(padding, stride_w, stride_h)),
    ]
    subgraph.inputs, subgraph.outputs = [x], [y]
    return pack(model)


@pytest.mark.parametrize(
    "padding, strides, kernel, size",
    [("SAME", (2, 2), 2, 8), ("SAME", (2, 2), 3, 5), ("SAME", (2, 2), 4, 6), ("VALID", (2, 2), 3, 5), ("SAME", (1, 1), 3, 6),
     ("VALID", (3, 3), 2, 4), ("SAME", (2, 1), 3, 5), ("SAME", (3, 2), 5, 7)],
)  # fmt: skip
def test_convolution_2d_transpose_bias_matches_its_twin(tmp_path, padding, strides, kernel, size):
    stride_h, stride_w = strides
    weights, bias = random(4, kernel, kernel + 1, 3, seed=1), random(4, seed=2)  # OHWI, a non-square kernel
    data = transpose_conv_bias_model([1, size, size + 1, 3], weights, bias, padding, stride_w, stride_h)
    reference = TFLiteReference(write(transpose_conv_bias_twin(data), tmp_path / "twin.tflite"))
    feeds = {"input": random(1, size, size + 1, 3, seed=3)}
    (expected,) = reference.run(feeds)
    graph, _ = optimize(convert_tflite(write(data, tmp_path / "custom.tflite")))
    assert "ConvolutionBackpropData" in [n.op.type for n in graph.nodes()]
    for got in ir_outputs(graph, tmp_path / "ir", feeds, ["output"]):
        assert got[0].shape == expected.shape
        np.testing.assert_allclose(got[0], expected, rtol=1e-4, atol=1e-5)


def test_convolution_2d_transpose_bias_refuses_unknown_padding_and_short_options():
    weights, bias = random(2, 2, 2, 3), random(2)
    model = unpack(transpose_conv_bias_model([1, 4, 4, 3], weights, bias, "SAME", 2, 2))
    (op,) = [op for op in model.subgraphs[0].operators if op.customOptions is not None]
    op.customOptions = list(np.array([0, 2, 2], "<i4").tobytes())
    with pytest.raises(NodeConversionError, match="padding 0"):
        convert_tflite(pack(model))
    op.customOptions = list(np.array([1, 2], "<i4").tobytes())
    with pytest.raises(NodeConversionError, match="8 bytes"):
        convert_tflite(pack(model))


# ---------------------------------------------------------------- MaxPoolingWithArgmax2D, MaxUnpooling2D


def pool_geometry(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int]:
    out = -(-size // stride) if padding == "SAME" else (size - kernel + stride) // stride
    return out, max(((out - 1) * stride + kernel - size) // 2, 0)


def max_pool_argmax(x: np.ndarray, padding: str, strides: tuple[int, int], kernel: tuple[int, int], activation: int) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's MaxPoolArgmax: the first strict maximum of each window (clipped to the input),
    its position in the window as row · filter_width + column + 0.1f."""
    batch, height, width, channels = x.shape
    (out_h, top), (out_w, left) = (pool_geometry(s, k, st, padding) for s, k, st in zip((height, width), kernel, strides))
    values = np.zeros((batch, out_h, out_w, channels), np.float32)
    indices = np.zeros_like(values)
    for oy in range(out_h):
        for ox in range(out_w):
            y0, x0 = oy * strides[0] - top, ox * strides[1] - left
            best = np.full((batch, channels), np.finfo(np.float32).min, np.float32)
            where = np.zeros((batch, channels), np.int64)
            for fy in range(max(0, -y0), min(kernel[0], height - y0)):
                for fx in range(max(0, -x0), min(kernel[1], width - x0)):
                    current = x[:, y0 + fy, x0 + fx, :]
                    larger = current > best
                    best, where = np.where(larger, current, best), np.where(larger, fy * kernel[1] + fx, where)
            values[:, oy, ox, :], indices[:, oy, ox, :] = best, where.astype(np.float32) + np.float32(0.1)
    low, high = {0: (-np.inf, np.inf), 1: (0, np.inf), 2: (-1, 1), 3: (0, 6)}.get(activation, (-np.inf, np.inf))
    return np.clip(values, low, high), indices


def max_unpool(x: np.ndarray, indices: np.ndarray, strides: tuple[int, int], kernel: tuple[int, int]) -> np.ndarray:
    """MediaPipe's MaxUnpooling: zeros of input · filter size, each value written (in raster order)
    at the flat offset of its window's position."""
    batch, height, width, channels = x.shape
    out_h, out_w = height * kernel[0], width * kernel[1]
    top = max(((height - 1) * strides[0] + kernel[0] - out_h) // 2, 0)
    left = max(((width - 1) * strides[1] + kernel[1] - out_w) // 2, 0)
    out = np.zeros(batch * out_h * out_w * channels, np.float32)
    for b, y, x_, c in np.ndindex(x.shape):
        position = int(indices[b, y, x_, c])
        out_y = y * strides[0] - top + position // kernel[1]
        out_x = x_ * strides[1] - left + position % kernel[1]
        out[((b * out_h + out_y) * out_w + out_x) * channels + c] = x[b, y, x_, c]
    return out.reshape(batch, out_h, out_w, channels)


def pool_unpool_model(shape: list[int], padding: str, strides: tuple[int, int], kernel: tuple[int, int], activation: int) -> bytes:
    """input → MaxPoolingWithArgmax2D → (values, indices) → MaxUnpooling2D → unpooled; all three are outputs."""
    model = new_model()
    subgraph = model.subgraphs[0]
    (out_h, _), (out_w, _) = (pool_geometry(s, k, st, padding) for s, k, st in zip(shape[1:3], kernel, strides))
    x = add_tensor(model, "input", shape)
    values = add_tensor(model, "values", [shape[0], out_h, out_w, shape[3]])
    indices = add_tensor(model, "indices", [shape[0], out_h, out_w, shape[3]])
    unpooled = add_tensor(model, "unpooled", [shape[0], out_h * kernel[0], out_w * kernel[1], shape[3]])
    options = pool_options(padding, strides[1], strides[0], kernel[1], kernel[0], activation)
    subgraph.operators = [
        operator(model, opcode(model, custom="MaxPoolingWithArgmax2D"), [x], [values, indices], custom=options),
        operator(model, opcode(model, custom="MaxUnpooling2D"), [values, indices], [unpooled], custom=options),
    ]
    subgraph.inputs, subgraph.outputs = [x], [values, indices, unpooled]
    return pack(model)


@pytest.mark.parametrize(
    "padding, strides, kernel, size, activation",
    [("SAME", (2, 2), (2, 2), 8, 0), ("SAME", (2, 2), (3, 3), 7, 0), ("VALID", (2, 2), (2, 2), 9, 0),
     ("SAME", (2, 2), (2, 2), 7, 3), ("VALID", (1, 2), (2, 3), 6, 1), ("SAME", (1, 1), (3, 3), 5, 2)],
)  # fmt: skip
def test_max_pooling_with_argmax_and_unpooling(tmp_path, padding, strides, kernel, size, activation):
    shape = [2, size, size + 1, 3]
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, shape).astype(np.float32)  # few values: ties in most windows
    data = pool_unpool_model(shape, padding, strides, kernel, activation)
    values, indices = max_pool_argmax(x, padding, strides, kernel, activation)
    expected = [values, indices, max_unpool(values, indices, strides, kernel)]
    graph, _ = optimize(convert_tflite(write(data, tmp_path / "pooling.tflite")))
    for got in ir_outputs(graph, tmp_path / "ir", {"input": x}, ["values", "indices", "unpooled"]):
        for name, want, have in zip(("values", "indices", "unpooled"), expected, got):
            assert have.shape == want.shape, name
            np.testing.assert_array_equal(have, want, err_msg=name)


def test_max_pooling_values_match_max_pool_2d(tmp_path):
    """The interpreter's MAX_POOL_2D, with the same window, gives the same values."""
    data = from_function(lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME"), [tf.TensorSpec([1, 9, 8, 4], tf.float32)])
    reference = TFLiteReference(write(data, tmp_path / "max_pool.tflite"))
    x = random(1, 9, 8, 4, seed=5)
    (expected,) = reference.run({reference.input_specs()[0].name: x})
    graph, _ = optimize(convert_tflite(pool_unpool_model([1, 9, 8, 4], "SAME", (2, 2), (3, 3), 0)))
    for got in ir_outputs(graph, tmp_path / "ir", {"input": x}, ["values"]):
        np.testing.assert_array_equal(got[0], expected)


# ---------------------------------------------------------------- TFLite_Detection_PostProcess

GRID, PER_CELL, CLASS_COLUMNS = 4, 2, 6
BOXES = GRID * GRID * PER_CELL


def anchors() -> np.ndarray:
    """Two anchors per cell of a 4 × 4 grid (y, x, h, w): large, so that many boxes overlap."""
    rows = []
    for i in range(GRID):
        for j in range(GRID):
            for size in (0.4, 0.7):
                rows.append([(i + 0.5) / GRID, (j + 0.5) / GRID, size, size * 0.8])
    return np.array(rows, np.float32)


def detection_model(options: dict) -> bytes:
    """A tiny SSD head from TensorFlow's converter (conv → box encodings [1, 32, 4] and sigmoid
    class scores [1, 32, 6]) with TFLite_Detection_PostProcess written after it."""
    w = random(3, 3, 3, PER_CELL * (4 + CLASS_COLUMNS), seed=3, low=-0.6, high=0.6)

    def head(x):
        features = tf.reshape(tf.nn.conv2d(x, w, 2, "SAME"), [1, BOXES, 4 + CLASS_COLUMNS])
        return {"boxes": features[:, :, :4], "scores": tf.sigmoid(features[:, :, 4:])}

    model = unpack(from_function(head, [tf.TensorSpec([1, 2 * GRID, 2 * GRID, 3], tf.float32)]))
    subgraph = model.subgraphs[0]
    boxes, scores = sorted(subgraph.outputs, key=lambda index: subgraph.tensors[index].shape[-1] != 4)
    detections = options["max_detections"] * options["max_classes_per_detection"]
    outputs = [
        add_tensor(model, "detection_boxes", [1, detections, 4]),
        add_tensor(model, "detection_classes", [1, detections]),
        add_tensor(model, "detection_scores", [1, detections]),
        add_tensor(model, "num_detections", [1]),
    ]
    inputs = [boxes, scores, add_tensor(model, "anchors", [BOXES, 4], data=anchors())]
    code = opcode(model, custom="TFLite_Detection_PostProcess")
    subgraph.operators.append(operator(model, code, inputs, outputs, custom=bytes(flexbuffers.Dumps(options))))
    subgraph.outputs, model.signatureDefs = outputs, []
    return pack(model)


def detection_options(**changes) -> dict:
    options = dict(
        max_detections=10, max_classes_per_detection=1, detections_per_class=100, use_regular_nms=False,
        nms_score_threshold=0.75, nms_iou_threshold=0.2, num_classes=CLASS_COLUMNS - 1,
        y_scale=10.0, x_scale=10.0, h_scale=5.0, w_scale=5.0,
    )  # fmt: skip
    options.update(changes)
    return options


DETECTION_CASES = {
    "fast": detection_options(),
    "fast, 3 classes each": detection_options(max_classes_per_detection=3, max_detections=6, nms_score_threshold=0.5, nms_iou_threshold=0.1),
    "fast, more classes than there are": detection_options(max_classes_per_detection=7, max_detections=4, nms_iou_threshold=0.05),
    "fast, no background": detection_options(num_classes=CLASS_COLUMNS, nms_iou_threshold=0.1),
    "regular": detection_options(use_regular_nms=True, detections_per_class=4, nms_iou_threshold=0.1),
    "regular, no background, 2 columns": detection_options(use_regular_nms=True, num_classes=CLASS_COLUMNS, max_classes_per_detection=2, nms_score_threshold=0.5),
    "regular, fewer than max": detection_options(use_regular_nms=True, max_detections=20),
    "regular, no suppression": detection_options(use_regular_nms=True, nms_iou_threshold=1.0, nms_score_threshold=0.6),
    "nothing above the threshold": detection_options(nms_score_threshold=0.999),
    "defaults": {k: v for k, v in detection_options().items() if k not in ("detections_per_class", "use_regular_nms")},
}


@pytest.mark.parametrize("case", sorted(DETECTION_CASES))
def test_detection_post_process(tmp_path, case):
    options = DETECTION_CASES[case]
    path = write(detection_model(options), tmp_path / "ssd.tflite")
    reference = TFLiteReference(path)
    names = [spec.name for spec in reference.output_specs()]
    assert names == ["detection_boxes", "detection_classes", "detection_scores", "num_detections"]
    graph, _ = optimize(convert_tflite(path))
    assert "NonMaxSuppression" in [n.op.type for n in graph.nodes()]
    columns = options["max_classes_per_detection"]
    written = min(columns, options["num_classes"])
    for seed in range(3):
        feeds = {reference.input_specs()[0].name: random(1, 2 * GRID, 2 * GRID, 3, seed=seed, low=0.0, high=1.0)}
        boxes, classes, scores, count = reference.run(feeds)
        assert 0 < count[0] <= options["max_detections"] or case == "nothing above the threshold"
        detected = int(count[0])
        for got_boxes, got_classes, got_scores, got_count in ir_outputs(graph, tmp_path / f"ir{seed}", feeds, names):
            np.testing.assert_array_equal(got_count, count)
            assert got_boxes.shape == boxes.shape and got_classes.shape == classes.shape and got_scores.shape == scores.shape
            if options.get("use_regular_nms"):  # the kernel writes zeros past the detections
                rows = options["max_detections"]
                np.testing.assert_allclose(got_boxes[:, :rows], boxes[:, :rows], rtol=1e-4, atol=1e-5)
                np.testing.assert_array_equal(got_classes[:, :rows], classes[:, :rows])
                np.testing.assert_allclose(got_scores[:, :rows], scores[:, :rows], rtol=1e-6)
                assert not got_scores[:, rows:].any()
                continue
            # the fast kernel writes detection i's classes at rows i · columns + j, j < written
            mask = np.zeros((options["max_detections"], columns), bool)
            mask[:detected, :written] = True
            flat = mask.reshape(-1)
            np.testing.assert_allclose(got_boxes[0, flat], boxes[0, flat], rtol=1e-4, atol=1e-5)
            np.testing.assert_array_equal(got_classes[0, flat], classes[0, flat])
            np.testing.assert_allclose(got_scores[0, flat], scores[0, flat], rtol=1e-6)
            assert not got_boxes[0, ~flat].any() and not got_classes[0, ~flat].any() and not got_scores[0, ~flat].any()


def test_detection_post_process_options_are_checked():
    options = detection_options()
    del options["y_scale"]
    with pytest.raises(NodeConversionError, match="y_scale"):
        convert_tflite(detection_model(options))


def test_other_custom_ops_stay_in_the_unsupported_report():
    model = unpack(transpose_conv_bias_model([1, 4, 4, 3], random(2, 2, 2, 3), random(2), "SAME", 2, 2))
    for code in model.operatorCodes:
        if code.customCode is not None:
            code.customCode = "Convolution2DTransposeBiasV2"
    with pytest.raises(UnsupportedOpsError) as caught:
        convert_tflite(pack(model))
    assert caught.value.unsupported == {"Convolution2DTransposeBiasV2": ["output"]}
