"""TFLite builtin ops, one family at a time: a model built by TensorFlow's TFLite converter (or
edited, for options it does not emit) → irforge IR → OpenVINO, against the TFLite interpreter."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tflite_support import check, edit, from_function, ops_of, random, rename_op, tf  # noqa: E402

from converter.api import optimize  # noqa: E402
from converter.errors import NodeConversionError  # noqa: E402
from converter.frontends.tflite import convert_tflite  # noqa: E402
from converter.validate.runners import GraphRunner  # noqa: E402


def spec(*shape: int, dtype=tf.float32) -> tf.TensorSpec:
    return tf.TensorSpec(shape, dtype)


# ---------------------------------------------------------------- convolutions


@pytest.mark.parametrize(
    "strides, padding, dilations, size",
    [(1, "SAME", 1, 9), (2, "VALID", 1, 9), (2, "SAME", 1, 10), (1, "SAME", 2, 9), (1, "VALID", 2, 9)],
)
def test_conv_2d(tmp_path, strides, padding, dilations, size):
    w, b = random(3, 3, 3, 5, seed=1), random(5, seed=2)

    def f(x):
        return tf.nn.relu6(tf.nn.conv2d(x, w, strides=strides, padding=padding, dilations=dilations) + b)

    check(tmp_path, from_function(f, [spec(1, size, size, 3)]), expect_ops=["CONV_2D"])


def test_grouped_conv_2d(tmp_path):
    w = random(3, 3, 2, 6, seed=1)  # 4 input channels in 2 groups

    def f(x):
        return tf.nn.conv2d(x, w, strides=1, padding="SAME")

    check(tmp_path, from_function(f, [spec(1, 7, 7, 4)]), expect_ops=["CONV_2D"])


@pytest.mark.parametrize("strides, dilations, padding", [(1, 1, "SAME"), (2, 1, "VALID"), (1, 2, "SAME")])
def test_depthwise_conv_2d(tmp_path, strides, dilations, padding):
    w, b = random(3, 3, 4, 2, seed=1), random(8, seed=2)  # channel multiplier 2

    def f(x):
        return tf.nn.relu(tf.nn.depthwise_conv2d(x, w, [1, strides, strides, 1], padding, dilations=[dilations, dilations]) + b)

    check(tmp_path, from_function(f, [spec(1, 9, 9, 4)]), expect_ops=["DEPTHWISE_CONV_2D"])


@pytest.mark.parametrize("padding, size, out", [("SAME", 5, 10), ("SAME", 5, 9), ("VALID", 4, 9), ("VALID", 4, 10)])
def test_transpose_conv(tmp_path, padding, size, out):
    w, b = random(3, 3, 4, 3, seed=1), random(4, seed=2)  # [H, W, out, in]

    def f(x):
        return tf.nn.conv2d_transpose(x, w, [1, out, out, 4], strides=2, padding=padding) + b

    graph = check(tmp_path, from_function(f, [spec(1, size, size, 3)]), expect_ops=["TRANSPOSE_CONV"])
    assert "ConvolutionBackpropData" in [n.op.type for n in graph.nodes()]


def test_fully_connected(tmp_path):
    w, b = random(16, 6, seed=1), random(6, seed=2)

    def f(x):
        return tf.nn.relu(tf.matmul(x, w) + b)

    check(tmp_path, from_function(f, [spec(3, 16)]), expect_ops=["FULLY_CONNECTED"])


def test_fully_connected_keep_num_dims(tmp_path):
    dense = tf.keras.layers.Dense(6, kernel_initializer=tf.keras.initializers.RandomNormal(seed=1))
    dense.build((None, 16))

    def f(x):
        return dense(x)

    check(tmp_path, from_function(f, [spec(2, 5, 16)]), expect_ops=["FULLY_CONNECTED"])


def test_fully_connected_folds_leading_axes(tmp_path):
    """Without keep_num_dims, every axis but the last folds into the rows."""
    data = from_function(lambda x: tf.matmul(tf.reshape(x, [-1, 8]), random(8, 3, seed=1)), [spec(2, 3, 8)])
    graph = check(tmp_path, data, expect_ops=["FULLY_CONNECTED"])
    assert graph.inputs[0].shape.dims == (2, 3, 8) and graph.outputs[0].shape.dims == (6, 3)


# ---------------------------------------------------------------- element-wise


def test_binary_ops_broadcast_with_fused_activations(tmp_path):
    c = random(4, seed=3)

    def f(a, b):
        return {
            "add": tf.nn.relu(a + b),
            "sub": tf.nn.relu6(a - c),
            "mul": a * b,
            "div": a / (b * b + 0.5),
            "max": tf.maximum(a, b),
            "min": tf.minimum(a, c),
        }

    check(
        tmp_path,
        from_function(f, [spec(2, 3, 4), spec(2, 1, 4)]),
        expect_ops=["ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM"],
    )


@pytest.mark.parametrize("activation", ["RELU_N1_TO_1", "TANH", "SIGN_BIT"])
def test_fused_activation_functions(tmp_path, activation):
    """TFLite's ADD kernel clamps to the activation's range: TANH and SIGN_BIT, which have none, leave it as is."""
    from tensorflow.lite.python import schema_py_generated as schema

    data = from_function(lambda a, b: a + b, [spec(2, 3, 4), spec(2, 3, 4)])

    def fuse(model):
        (op,) = ops_of(model, "ADD")
        op.builtinOptions.fusedActivationFunction = getattr(schema.ActivationFunctionType, activation)

    check(tmp_path, edit(data, fuse), expect_ops=["ADD"])


def test_fully_connected_refuses_tanh(tmp_path):
    from tensorflow.lite.python import schema_py_generated as schema

    data = from_function(lambda x: tf.matmul(x, random(4, 3)), [spec(2, 4)])

    def fuse(model):
        ops_of(model, "FULLY_CONNECTED")[0].builtinOptions.fusedActivationFunction = schema.ActivationFunctionType.TANH

    with pytest.raises(NodeConversionError, match="TANH"):
        convert_tflite(edit(data, fuse))


def test_integer_division_truncates(tmp_path):
    check(
        tmp_path,
        from_function(lambda a, b: tf.raw_ops.Div(x=a, y=b), [spec(6, dtype=tf.int32), spec(6, dtype=tf.int32)]),
        feeds={
            "serving_default_a:0": np.array([7, -7, 7, -7, 0, 9], np.int32),
            "serving_default_b:0": np.array([2, 2, -2, -2, 3, 4], np.int32),
        },
        expect_ops=["DIV"],
    )


# ---------------------------------------------------------------- activations


def test_activations(tmp_path):
    def f(x):
        return {
            "relu": tf.nn.relu(x),
            "relu6": tf.nn.relu6(x),
            "relu_n1_to_1": tf.clip_by_value(x, -1.0, 1.0),
            "leaky": tf.nn.leaky_relu(x, 0.3),
            "elu": tf.nn.elu(x),
            "hard_swish": x * tf.nn.relu6(x + 3.0) / 6.0,
            "logistic": tf.sigmoid(x),
            "tanh": tf.tanh(x),
            "gelu": tf.nn.gelu(x, approximate=True),
            "softmax": tf.nn.softmax(x),
            "log_softmax": tf.nn.log_softmax(x),
        }

    x = random(1, 4, 4, 3, low=-4, high=4)
    check(
        tmp_path,
        from_function(f, [spec(1, 4, 4, 3)]),
        feeds={"serving_default_x:0": x},
        expect_ops=["RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "ELU", "HARD_SWISH", "LOGISTIC", "TANH", "GELU", "SOFTMAX", "LOG_SOFTMAX"],
    )


@pytest.mark.parametrize("slope", [(3,), (1, 1, 3), (4, 1, 3)])
def test_prelu(tmp_path, slope):
    """alpha broadcasts numpy-style against the channels-last input."""
    alpha = random(*slope, low=0.1, high=0.5, seed=1)
    data = from_function(lambda x: x * alpha, [spec(1, 4, 4, 3)])

    def to_prelu(model):
        (op,) = ops_of(model, "MUL")
        op.builtinOptionsType, op.builtinOptions = 0, None
        rename_op(model, "MUL", "PRELU")

    check(tmp_path, edit(data, to_prelu), feeds={"serving_default_x:0": random(1, 4, 4, 3, low=-3, high=3)}, expect_ops=["PRELU"])


def test_relu_0_to_1_exact_gelu_and_softmax_beta(tmp_path):
    data = from_function(lambda x: {"a": tf.nn.relu(x), "b": tf.nn.softmax(x), "c": tf.nn.gelu(x, approximate=True)}, [spec(2, 5)])

    def change(model):
        rename_op(model, "RELU", "RELU_0_TO_1")
        ops_of(model, "SOFTMAX")[0].builtinOptions.beta = 2.5
        ops_of(model, "GELU")[0].builtinOptions.approximate = False

    feeds = {"serving_default_x:0": random(2, 5, low=-2, high=2)}
    check(tmp_path, edit(data, change), feeds=feeds, expect_ops=["RELU_0_TO_1", "SOFTMAX", "GELU"])


# ---------------------------------------------------------------- pools


@pytest.mark.parametrize("padding, stride", [("SAME", 2), ("VALID", 2), ("SAME", 1)])
def test_pools(tmp_path, padding, stride):
    def f(x):
        return {
            "max": tf.nn.max_pool2d(x, 3, stride, padding),
            "avg": tf.nn.avg_pool2d(x, 3, stride, padding),
        }

    check(tmp_path, from_function(f, [spec(1, 8, 8, 3)]), expect_ops=["MAX_POOL_2D", "AVERAGE_POOL_2D"])


def test_l2_pool_2d_with_fused_relu6(tmp_path):
    data = from_function(lambda x: tf.nn.avg_pool2d(x, 2, 2, "SAME"), [spec(1, 7, 7, 3)])

    def to_l2(model):
        rename_op(model, "AVERAGE_POOL_2D", "L2_POOL_2D")
        ops_of(model, "L2_POOL_2D")[0].builtinOptions.fusedActivationFunction = 3  # RELU6

    check(tmp_path, edit(data, to_l2), feeds={"serving_default_x:0": random(1, 7, 7, 3, low=-5, high=5)}, expect_ops=["L2_POOL_2D"])


# ---------------------------------------------------------------- reductions


@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(tmp_path, keepdims):
    def f(x):
        return {
            "mean": tf.reduce_mean(x, [1, 2], keepdims=keepdims),
            "sum": tf.reduce_sum(x, -1, keepdims=keepdims),
            "max": tf.reduce_max(x, [0, 3], keepdims=keepdims),
        }

    check(tmp_path, from_function(f, [spec(2, 4, 5, 3)]), expect_ops=["MEAN", "SUM", "REDUCE_MAX"])


# ---------------------------------------------------------------- shapes and slices


def test_shape_ops(tmp_path):
    def f(x, y):
        return {
            "reshape": tf.reshape(x, [-1, 4]) * 2.0,
            "squeeze": tf.squeeze(y) * 2.0,
            "expand": tf.expand_dims(x, -1) * 2.0,
            "concat": tf.concat([x, x * 3.0], axis=-1),
            "pad": tf.pad(x, [[0, 1], [2, 0], [1, 1]]),
            "padv2": tf.pad(x, [[1, 0], [0, 0], [0, 2]], constant_values=1.5),
            "transpose": tf.transpose(x, [2, 0, 1]) * 2.0,
        }

    def squeeze_dims(model):
        ops_of(model, "SQUEEZE")[0].builtinOptions.squeezeDims = [2]

    data = from_function(f, [spec(None, 3, 4), spec(None, 5, 1, 2)])  # dynamic batches keep SQUEEZE and EXPAND_DIMS
    check(tmp_path, data, expect_ops=["RESHAPE", "SQUEEZE", "EXPAND_DIMS", "CONCATENATION", "PAD", "PADV2", "TRANSPOSE"])
    check(tmp_path / "dims", edit(data, squeeze_dims), expect_ops=["SQUEEZE"])


def test_reshape_by_option(tmp_path):
    data = from_function(lambda x: tf.reshape(x, [3, 8]) + 1.0, [spec(2, 3, 4)])

    def to_option(model):
        (op,) = ops_of(model, "RESHAPE")
        from tensorflow.lite.python import schema_py_generated as schema

        options = schema.ReshapeOptionsT()
        options.newShape = [4, -1]
        op.builtinOptionsType, op.builtinOptions = schema.BuiltinOptions.ReshapeOptions, options
        op.inputs = op.inputs[:1]

    graph = check(tmp_path, edit(data, to_option), expect_ops=["RESHAPE"])
    assert graph.outputs[0].shape.dims == (4, 6)


def test_strided_slice_and_slice(tmp_path):
    def f(x):
        return {
            "masks": x[:, 1:, ::2, 1] * 2.0,  # begin mask, end mask, stride, shrink
            "new_axis": x[tf.newaxis, 0, ..., :3] * 2.0,  # new axis, shrink, ellipsis
            "negative": x[:, -2::-1, 1:-1] * 2.0,
            "slice": tf.slice(x, [0, 1, 0, 1], [-1, 2, 3, -1]) * 2.0,
        }

    check(tmp_path, from_function(f, [spec(2, 4, 5, 6)]), expect_ops=["STRIDED_SLICE", "SLICE"])


def test_strided_slice_offset(tmp_path):
    """With offset, end counts from begin (the interpreter crashes on such a model: numpy is the reference)."""
    data = from_function(lambda x: x[:, 1:3] * 2.0, [spec(3, 6)])

    def to_offset(model):
        ops_of(model, "STRIDED_SLICE")[0].builtinOptions.offset = True  # [1, 3) becomes [1, 4)

    graph, _ = optimize(convert_tflite(edit(data, to_offset)))
    x = random(3, 6)
    (got,) = GraphRunner(graph, "openvino").run([x])
    np.testing.assert_allclose(got, x[:, 1:4] * 2.0, rtol=1e-6)


# ---------------------------------------------------------------- resize


@pytest.mark.parametrize("align_corners, half_pixel_centers", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("size", [[13, 11], [5, 6]])
def test_resize(tmp_path, align_corners, half_pixel_centers, size):
    def f(x):
        return {
            "bilinear": tf.raw_ops.ResizeBilinear(images=x, size=size, align_corners=align_corners, half_pixel_centers=half_pixel_centers),
            "nearest": tf.raw_ops.ResizeNearestNeighbor(
                images=x, size=size, align_corners=align_corners, half_pixel_centers=half_pixel_centers
            ),
        }

    check(tmp_path, from_function(f, [spec(1, 8, 7, 3)]), expect_ops=["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])


# ---------------------------------------------------------------- quantized ops


def test_int8_ops(tmp_path):
    """Element-wise, concat, pad, mean, resize and slices on int8 tensors, each within one step."""
    w = random(3, 3, 3, 4, seed=1)

    def f(x):
        y = tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME"))
        z = tf.concat([y, x * 0.5 + 0.25], axis=-1)
        z = tf.pad(z, [[0, 0], [1, 1], [1, 1], [0, 0]])
        up = tf.image.resize(z, [12, 12], method="nearest")
        return {
            "mean": tf.reduce_mean(up, [1, 2]),
            "slice": tf.nn.avg_pool2d(up[:, 2:10, 1:9, :], 2, 2, "VALID"),
            "max": tf.maximum(y, 0.3) - tf.minimum(y, 0.6),
        }

    samples = [[random(1, 6, 6, 3, seed=i)] for i in range(16)]
    check(tmp_path, from_function(f, [spec(1, 6, 6, 3)], representative=samples, integer_io=True), quantized=True)


def test_requantize_int8_to_other_parameters(tmp_path):
    """Concatenating tensors of different scales requantizes them to the output's (QUANTIZE int8 → int8)."""

    def f(x):
        return tf.concat([x * 4.0, x], axis=-1)

    samples = [[random(1, 8, seed=i)] for i in range(16)]
    data = from_function(f, [spec(1, 8)], representative=samples, integer_io=True)
    check(tmp_path, data, quantized=True)
    assert convert_tflite(data).outputs[0].element_type.value == "i8"
