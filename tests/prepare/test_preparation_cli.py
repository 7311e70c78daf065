"""Model preparation through `irforge convert` / `irforge validate`, a zoo manifest's `frontend:` key,
and a Keras (channels-last) model: the IR read back from disk runs in OpenVINO and matches the source
fed the prepared input; validation feeds the source what the embedded ops compute."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_support import assert_clean_failure, irforge

MEAN = np.array([123.68, 116.78, 103.94], np.float32)
SCALE = np.array([58.4, 57.1, 57.4], np.float32)


def _op_count(xml: Path) -> int:
    from converter import read_model

    return sum(count for op, count in read_model(xml).op_histogram().items() if op not in ("Const", "Parameter"))


def _openvino(xml: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    from converter.validate.runners import IrRunner

    return IrRunner(xml, "openvino").run(feeds)


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """image [N,3,16,16] → padded conv → ReLU → pool → "scores"·gain[1] (gain a second input)."""
    rng = np.random.default_rng(1)
    nodes = [
        helper.make_node("Conv", ["image", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["features"]),
        helper.make_node("GlobalAveragePool", ["features"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("Mul", ["flat", "gain"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "scorer",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 16, 16]), helper.make_tensor_value_info("gain", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, None)],
        [numpy_helper.from_array((rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32), "w"), numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")],
    )
    path = tmp_path_factory.mktemp("cli") / "scorer.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


OPTIONS = ["--input", "image[1,3,16,16]", "--input", "gain->[0.5]", "--mean-values", "image[123.68,116.78,103.94]",
           "--scale-values", "image[58.4,57.1,57.4]", "--reverse-input-channels"]


def test_convert_and_validate_with_preparation(onnx_model: Path, tmp_path: Path) -> None:
    import onnxruntime as ort

    plain = irforge("convert", onnx_model, "-o", tmp_path / "plain", "--precision", "fp32", "--input", "image[1,3,16,16],gain->[0.5]")
    assert plain.returncode == 0, plain.stderr
    result = irforge("convert", onnx_model, "-o", tmp_path / "ir", "--precision", "fp32", "--verify", *OPTIONS)  # --verify feeds raw images
    assert result.returncode == 0, result.stderr
    xml = tmp_path / "ir" / "FP32" / "scorer.xml"
    assert _op_count(xml) == _op_count(tmp_path / "plain" / "FP32" / "scorer.xml")
    raw = np.random.default_rng(0).uniform(0, 255, (1, 3, 16, 16)).astype(np.float32)
    prepared = ((raw[:, ::-1] - MEAN[None, :, None, None]) / SCALE[None, :, None, None]).astype(np.float32)
    (want,) = ort.InferenceSession(str(onnx_model)).run(None, {"image": prepared, "gain": np.array([0.5], np.float32)})
    (got,) = _openvino(xml, {"image": raw})
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    validated = irforge("validate", onnx_model, tmp_path / "ir", "--backend", "openvino", *OPTIONS)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    # validation cannot feed the ONNX source at an internal tensor: a clear error, not a wrong verdict
    assert_clean_failure(irforge("validate", onnx_model, tmp_path / "ir", "--input", "features"), "'features' is not an input of the source")
    assert_clean_failure(irforge("convert", onnx_model, "-o", tmp_path / "x", "--input", "imag[1,3,16,16]"), "--input 'imag'", "close: image")


def test_zoo_manifest_carries_the_preparation(onnx_model: Path, tmp_path: Path) -> None:
    from converter.config import load_config
    from converter.zoo import convert_variants, validate_variants

    zoo = tmp_path / "zoo"
    zoo.mkdir()
    model = zoo / "scorer.onnx"
    model.write_bytes(onnx_model.read_bytes())
    (zoo / "scorer.yaml").write_text(
        "frontend:\n"
        "  inputs: ['image[1,3,16,16]{u8}', 'gain->[2.0]']\n"
        "  mean_values: {image: [123.68, 116.78, 103.94]}\n"
        "  scale_values: {image: [58.4, 57.1, 57.4]}\n"
        "  reverse_input_channels: true\n"
        "  layout: image(nchw->nhwc)\n"
    )
    settings = load_config(None)
    variants = convert_variants(model, tmp_path / "out", "scorer", settings, ["fp32"])
    from converter import read_model

    graph = read_model(variants[0].xml)
    assert [(v.name, v.shape.dims, v.element_type.value) for v in graph.inputs] == [("image", (1, 16, 16, 3), "u8")]
    result = validate_variants(model, "scorer", variants, settings, ("openvino",), 0.0)
    assert result.status == "pass", result.failures


@pytest.fixture(scope="module")
def keras_cnn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    image = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", bias_initializer="random_normal")(image)
    x = keras.layers.Conv2D(4, 1, name="mask", bias_initializer="random_normal")(x)
    path = tmp_path_factory.mktemp("keras") / "segmenter.keras"
    keras.Model(image, x).save(path)
    return path


def test_keras_channels_last_with_layout_and_preprocessing(keras_cnn: Path, tmp_path: Path) -> None:
    keras = pytest.importorskip("keras")
    common = ["--input", "image[1,16,16,3]", "--precision", "fp32"]
    plain = irforge("convert", keras_cnn, "-o", tmp_path / "plain", *common)
    assert plain.returncode == 0, plain.stderr
    options = ["--mean-values", "[123.68,116.78,103.94]", "--scale-values", "[58.4,57.1,57.4]", "--reverse-input-channels",
               "--layout", "image(nhwc->nchw)"]
    result = irforge("convert", keras_cnn, "-o", tmp_path / "ir", *common, *options)
    assert result.returncode == 0, result.stderr
    xml = tmp_path / "ir" / "FP32" / "segmenter.xml"
    # mean, scale and reversal folded into the first convolution, and the input Transpose gone too
    assert _op_count(xml) == _op_count(tmp_path / "plain" / "FP32" / "segmenter.xml") - 1
    raw = np.random.default_rng(0).uniform(0, 255, (1, 16, 16, 3)).astype(np.float32)
    want = np.asarray(keras.saving.load_model(keras_cnn)((raw[..., ::-1] - MEAN) / SCALE))
    (got,) = _openvino(xml, {"image": np.ascontiguousarray(raw.transpose(0, 3, 1, 2))})
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))
    validated = irforge("validate", keras_cnn, tmp_path / "ir", "--backend", "openvino", *common[:2], *options)
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_keras_source_and_target_layouts_and_batch_in_process(keras_cnn: Path) -> None:
    keras = pytest.importorskip("keras")
    from converter.api import convert_model
    from converter.frontends.options import FrontendOptions
    from converter.validate.runners import GraphRunner

    options = FrontendOptions(source_layout="image(nhwc)", target_layout="image(nchw)", batch=2, scale_values="255")
    graph = convert_model(keras_cnn, options=options)
    assert graph.inputs[0].shape.dims == (2, 3, 16, 16)
    assert graph.op_histogram().get("Transpose") == 1  # the output's; the input one cancelled against the model's
    raw = np.random.default_rng(2).uniform(0, 255, (2, 16, 16, 3)).astype(np.float32)
    want = np.asarray(keras.saving.load_model(keras_cnn)(raw / 255.0))
    (got,) = GraphRunner(graph, "openvino").run({"image": np.ascontiguousarray(raw.transpose(0, 3, 1, 2))})
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))


@pytest.fixture(scope="module")
def frozen_graphdef(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tf = pytest.importorskip("tensorflow")
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="a"), tf.TensorSpec([1], tf.float32, name="k")])
    def net(a, k):
        hidden = tf.nn.relu(a * 2.0 - 1.0, name="hidden")
        return tf.identity(tf.reduce_sum(hidden * k, axis=1), name="total")

    frozen = convert_variables_to_constants_v2(net.get_concrete_function())
    path = tmp_path_factory.mktemp("graphdef") / "net.pb"
    path.write_bytes(frozen.graph.as_graph_def().SerializeToString())
    return path


def test_graphdef_cut_at_an_internal_node_and_freeze_validate_in_tensorflow(frozen_graphdef: Path, tmp_path: Path) -> None:
    from converter.api import load_model, optimize
    from converter.config import load_config
    from converter.frontends.options import FrontendOptions
    from converter.serialize.writer import write_ir
    from converter.validate.validation import ValidationOptions, Variant, validate_model

    # "hidden" is a Relu, not a Placeholder: the generic surgery cuts there, the TF frontend keeps "k"
    options = FrontendOptions(inputs=("hidden[3,4]", "k->[0.5]"))
    graph, _ = optimize(load_model(frozen_graphdef, options))
    assert [(v.name, v.shape.dims) for v in graph.inputs] == [("hidden", (3, 4))]
    hidden = np.random.default_rng(0).uniform(0, 2, (3, 4)).astype(np.float32)
    from converter.validate.runners import GraphRunner

    (got,) = GraphRunner(graph, "openvino").run({"hidden": hidden})
    np.testing.assert_allclose(got, hidden.sum(1) * 0.5, rtol=1e-5)
    xml = write_ir(graph, tmp_path / "FP32" / "net.xml")[0]
    result = validate_model(frozen_graphdef, [Variant("fp32", xml)], load_config(None), ValidationOptions(backends=("openvino",), frontend=options))
    assert result.ok, result.failures  # TensorFlow itself fed at "hidden:0", with k frozen to 0.5
