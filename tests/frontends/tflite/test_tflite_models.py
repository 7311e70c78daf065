"""Whole .tflite models from TensorFlow's TFLite converter — float, FP16 weights, int8 — converted by
irforge and run in OpenVINO, against the TFLite interpreter on the same file."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tflite_support import check, from_keras, op_types, random, run_ir, tf, write  # noqa: E402

from converter.api import optimize  # noqa: E402
from converter.frontends.tflite import convert_tflite, load_tflite  # noqa: E402
from converter.frontends.tflite.reference import TFLiteReference  # noqa: E402
from converter.ir.types import ElementType  # noqa: E402
from converter.passes.compress_fp16 import compress_fp16  # noqa: E402

keras = tf.keras


def cnn() -> keras.Model:
    """conv + relu, depthwise (multiplier 2), pools, dense, softmax."""
    inputs = keras.Input((16, 16, 3), batch_size=1)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(10)(x)
    return keras.Model(inputs, keras.layers.Softmax()(x))


def separable() -> keras.Model:
    """Depthwise-separable blocks with hard-swish; the batch is dynamic."""
    inputs = keras.Input((12, 12, 4))
    x = keras.layers.SeparableConv2D(8, 3, padding="same", depth_multiplier=2)(inputs)
    x = keras.layers.Activation("hard_silu")(x)
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="valid")(x)
    x = keras.layers.Activation("hard_silu")(x)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


def upsampler() -> keras.Model:
    """Fully convolutional: bilinear resize and a strided transposed convolution, NHWC in and out."""
    inputs = keras.Input((8, 8, 3), batch_size=1)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.UpSampling2D(2, interpolation="bilinear")(x)
    x = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")(x)
    return keras.Model(inputs, keras.layers.Conv2D(2, 1)(x))


def calibration(shape, count: int = 16):
    return [[random(*shape, seed=i, low=0.0, high=1.0)] for i in range(count)]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Each test model as a .tflite file, built once."""
    folder = tmp_path_factory.mktemp("tflite")
    tf.keras.utils.set_random_seed(0)
    net, sep, up = cnn(), separable(), upsampler()
    built = {
        "float": from_keras(net),
        "fp16": from_keras(net, fp16=True),
        "int8": from_keras(net, representative=calibration((1, 16, 16, 3)), integer_io=True),
        "int8_float_io": from_keras(net, representative=calibration((1, 16, 16, 3))),
        "uint8_io": from_keras(net, representative=calibration((1, 16, 16, 3)), integer_io=tf.uint8),
        "int16x8": from_keras(net, representative=calibration((1, 16, 16, 3)), integer_io=tf.int16),
        "separable": from_keras(sep),
        "upsampler": from_keras(up),
        "upsampler_int8": from_keras(up, representative=calibration((1, 8, 8, 3)), integer_io=True),
    }
    return {name: write(data, folder / f"{name}.tflite") for name, data in built.items()}


def test_float_cnn(tmp_path, models):
    graph = check(tmp_path, models["float"], expect_ops=["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"])
    # NHWC → NCHW once at the input, back once before the flatten: no pairs around the convolutions
    assert op_types(graph).count("Transpose") == 2


def test_dynamic_batch(tmp_path, models):
    graph = convert_tflite(models["separable"])
    assert graph.inputs[0].shape.dims == (None, 12, 12, 4)
    reference = TFLiteReference(models["separable"])
    x = random(3, 12, 12, 4)
    want = reference.run({reference.input_specs()[0].name: x})
    got = run_ir(optimize(graph)[0], tmp_path, {reference.input_specs()[0].name: x}, reference)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-4, atol=1e-5)


def test_names_are_tensor_and_signature_names(models):
    graph = convert_tflite(models["float"])
    reference = TFLiteReference(models["float"])
    assert graph.inputs[0].names[0] == reference.input_specs()[0].name
    assert graph.outputs[0].names[0] == reference.output_specs()[0].name
    model, _ = load_tflite(models["float"])
    (signature,) = model.signature_defs
    assert signature.inputs[0].name in graph.inputs[0].names
    assert signature.outputs[0].name in graph.outputs[0].names


def test_fp16_weights(tmp_path, models):
    path = models["fp16"]
    graph = check(tmp_path, path, expect_ops=["DEQUANTIZE", "CONV_2D"])
    constants = [node.outputs[0] for node in graph.nodes() if node.op.type == "Const"]
    assert all(v.element_type is not ElementType.f16 for v in constants), "the FP32 IR holds f32 weights"
    # The FP16 IR stores exactly the file's float16 weights (rearranged to OIHW), decompressed on load.
    model, _ = load_tflite(path)
    stored = [
        np.sort(model.buffer_array(t.buffer, np.dtype("<f2"), int(np.prod(t.shape)))).tobytes()
        for t in model.subgraphs[0].tensors
        if t.type_name == "FLOAT16"
    ]
    half = compress_fp16(graph.copy())
    compressed = [n for n in half.nodes() if n.op.type == "Const" and n.outputs[0].element_type is ElementType.f16]
    assert len(compressed) == 3 == len([n for n in half.nodes() if "decompression" in n.rt_info])  # conv, depthwise, dense
    assert all(np.sort(n.attrs["value"].reshape(-1)).tobytes() in stored for n in compressed)
    reference = TFLiteReference(path)
    x = random(1, 16, 16, 3, low=0.0)
    want = reference.run({reference.input_specs()[0].name: x})
    from converter.api import save_model
    from converter.validate.runners import IrRunner

    xml, _ = save_model(graph, tmp_path / "fp16" / "model.xml", compress_to_fp16=True)
    got = IrRunner(xml, "openvino").run({reference.input_specs()[0].name: x})
    np.testing.assert_allclose(got[0], want[0], rtol=1e-4, atol=1e-5)


def test_int8_cnn(tmp_path, models):
    feeds = None
    graph = check(tmp_path, models["int8"], feeds, quantized=True)
    types = op_types(graph)
    assert types.count("FakeQuantize") >= 4 and "Transpose" in types
    weights = [n for n in graph.nodes() if n.op.type == "Const" and n.outputs[0].element_type is ElementType.i8]
    assert len(weights) >= 3, "int8 weights stay int8 in the IR"
    assert graph.inputs[0].element_type is ElementType.i8 and graph.outputs[0].element_type is ElementType.i8


def test_int8_cnn_with_float_inputs_and_outputs(tmp_path, models):
    graph = check(tmp_path, models["int8_float_io"], expect_ops=["QUANTIZE", "DEQUANTIZE"], quantized=True)
    assert graph.inputs[0].element_type is ElementType.f32


def test_uint8_inputs_and_outputs(tmp_path, models):
    graph = check(tmp_path, models["uint8_io"], expect_ops=["QUANTIZE"], quantized=True)
    assert graph.inputs[0].element_type is ElementType.u8 and graph.outputs[0].element_type is ElementType.u8


def test_int16_activations(tmp_path, models):
    """16-bit activations, 8-bit weights. TFLite's int16 kernels requantize with the multiplier cut
    to 16 bits, which moves some results by a step of the 65536."""
    graph = check(tmp_path, models["int16x8"], quantized=True, steps=2)
    assert graph.inputs[0].element_type is ElementType.i16
    assert "FakeQuantize" not in op_types(graph)  # OpenVINO's CPU plugin runs 65536-level ones imprecisely


def test_separable_hard_swish(tmp_path, models):
    check(tmp_path, models["separable"], expect_ops=["HARD_SWISH", "DEPTHWISE_CONV_2D", "CONV_2D", "MEAN"])


def test_resize_bilinear_and_transpose_conv(tmp_path, models):
    graph = check(tmp_path, models["upsampler"], expect_ops=["RESIZE_BILINEAR", "TRANSPOSE_CONV"])
    assert op_types(graph).count("Transpose") == 2  # one at the input, one at the output


def test_int8_resize_bilinear_and_transpose_conv(tmp_path, models):
    """Four quantized layers. TFLite requantizes a convolution's int32 sum with two roundings
    (round(round(sum · M0 / 2³¹) / 2^shift)): where the exact product lies within a hair of
    a half step the FakeQuantize rounds the other way, and the next layers may grow that one step."""
    check(tmp_path, models["upsampler_int8"], expect_ops=["RESIZE_BILINEAR", "TRANSPOSE_CONV"], quantized=True, steps=2)
