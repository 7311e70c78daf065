"""int8 .tflite models run in OpenVINO's DEFAULT CPU configuration — no precision hint, so bf16
inference on CPUs with bf16 instructions — as an application that sets nothing runs them: every IR
must compile, run its quantized layers in int8 and agree with the TFLite interpreter within one
quantization step of each output. (The other TFLite tests compile in f32, where the CPU plugin
picks other kernels: an int8 input dequantized as `Convert → Subtract(zero point) → Multiply`
compiled there and failed here with "No suitable implementations".)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("openvino")

from tflite_support import feeds_for, from_keras, output_steps, random, tf, write  # noqa: E402

from converter.api import optimize, save_model  # noqa: E402
from converter.frontends.tflite import convert_tflite  # noqa: E402
from converter.frontends.tflite.reference import TFLiteReference  # noqa: E402
from converter.runtime.openvino_backend import compile_with_defaults  # noqa: E402
from converter.validate.runners import IrRunner, align_outputs  # noqa: E402

keras = tf.keras
ZOO_INT8 = Path(__file__).resolve().parents[3] / "examples" / "zoo" / "tflite" / "cnn_int8.tflite"


def mobile_block() -> keras.Model:
    """MobileNet's pattern in small: a strided 3×3 conv + relu6 straight on the input, 1×1
    expansion, depthwise, 1×1 projection, pooling and a dense classifier."""
    inputs = keras.Input((16, 16, 3), batch_size=1)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu6")(inputs)
    x = keras.layers.Conv2D(16, 1, activation="relu6")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    x = keras.layers.Conv2D(8, 1)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def depthwise_first() -> keras.Model:
    inputs = keras.Input((12, 12, 4), batch_size=1)
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(8, 1, activation="relu6")(x)
    return keras.Model(inputs, keras.layers.Conv2D(4, 1)(x))


def dense_first() -> keras.Model:
    inputs = keras.Input((32,), batch_size=2)
    x = keras.layers.Dense(16, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(8)(x))


def samples(shape, low: float = 0.0, count: int = 16):
    return [[random(*shape, seed=i, low=low, high=1.0)] for i in range(count)]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("int8_default")
    tf.keras.utils.set_random_seed(0)
    block, depthwise, dense = mobile_block(), depthwise_first(), dense_first()
    image = samples((1, 16, 16, 3))  # inputs in [0, 1): the int8 input's zero point is -128
    built = {
        "int8 io, input zero point -128": from_keras(block, representative=image, integer_io=True),
        "int8 io, per-tensor weights": from_keras(block, representative=image, integer_io=True, per_tensor=True),
        "int8 io, symmetric input": from_keras(block, representative=samples((1, 16, 16, 3), low=-1.0), integer_io=True),
        "uint8 io": from_keras(block, representative=image, integer_io=tf.uint8),
        "float io": from_keras(block, representative=image),
        "depthwise first": from_keras(depthwise, representative=samples((1, 12, 12, 4)), integer_io=True),
        "dense first": from_keras(dense, representative=samples((2, 32)), integer_io=True),
    }
    return {name: write(data, folder / f"{name.replace(' ', '_').replace(',', '')}.tflite") for name, data in built.items()}


def run_with_defaults(path: Path, folder: Path, seeds: int = 3) -> tuple[list[float], set[str]]:
    """Per output, the worst difference from the interpreter in quantization steps over a few
    inputs; and the runtime precisions of the convolutions and fully connected layers."""
    reference = TFLiteReference(path)
    graph, _ = optimize(convert_tflite(path))
    xml, _ = save_model(graph, folder / "model.xml")
    runner = IrRunner(xml, "openvino", defaults=True)
    order = align_outputs([spec.name for spec in reference.output_specs()], runner.output_names)
    steps = output_steps(path)
    worst = [0.0] * len(steps)
    for seed in range(seeds):
        feeds = feeds_for(reference, seed)
        expected = reference.run(feeds)
        actual = runner.run(feeds)
        for k, (want, step) in enumerate(zip(expected, steps)):
            got = actual[order[k]]
            assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
            difference = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)), initial=0.0))
            worst[k] = max(worst[k], difference / step)
    runtime = compile_with_defaults(xml).get_runtime_model()
    precisions = {
        op.get_rt_info()["runtimePrecision"].astype(str)
        for op in runtime.get_ordered_ops()
        if op.get_rt_info()["layerType"].astype(str) in ("Convolution", "FullyConnected")
    }
    return worst, precisions


@pytest.mark.parametrize(
    "name",
    [
        "int8 io, input zero point -128",
        "int8 io, per-tensor weights",
        "int8 io, symmetric input",
        "uint8 io",
        "float io",
        "depthwise first",
        "dense first",
    ],
)
def test_int8_model_compiles_and_matches_with_the_default_config(tmp_path, models, name):
    worst, precisions = run_with_defaults(models[name], tmp_path)
    assert all(w <= 1.0001 for w in worst), f"{name}: off by {worst} steps"
    assert precisions <= {"u8", "i8"}, f"{name}: layers ran in {precisions}, not int8"


def test_the_zoo_int8_model_with_the_default_config(tmp_path):
    worst, precisions = run_with_defaults(ZOO_INT8, tmp_path)
    assert all(w <= 1.0001 for w in worst), f"off by {worst} steps"
    assert precisions <= {"u8", "i8"}, precisions


def test_an_int8_input_reaches_openvino_as_a_fake_quantize(models):
    """The input's integers onto its grid in one FakeQuantize, OpenVINO's quantization pattern:
    levels 256, from [-128, 127] onto [(-128 - zp)·s, (127 - zp)·s]."""
    path = models["int8 io, input zero point -128"]
    graph = convert_tflite(path)
    (parameter,) = graph.parameters
    ((convert, _),) = graph.users()[parameter.outputs[0]]
    ((quantize, _),) = graph.users()[convert.outputs[0]]
    assert (convert.op.type, quantize.op.type, quantize.attrs["levels"]) == ("Convert", "FakeQuantize", 256)
    low, high, out_low, out_high = (float(np.asarray(v.const)) for v in quantize.inputs[1:])
    (spec,) = TFLiteReference(path).input_specs()
    details = tf.lite.Interpreter(model_path=str(path)).get_input_details()[0]
    scale, zero_point = details["quantization"]
    assert zero_point == -128 and spec.dtype == np.int8
    assert (low, high) == (-128.0, 127.0)
    assert out_low == pytest.approx((-128 - zero_point) * scale) and out_high == pytest.approx((127 - zero_point) * scale)
