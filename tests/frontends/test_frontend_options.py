"""Frontend options end to end: --signature, --input/--output, --input-layout nchw, --keras-trace, and the
manifest's `frontend:` key; TensorFlow / Keras run the source, OpenVINO the IR read back from disk."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_support import assert_clean_failure, irforge

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


def _ir_outputs(xml: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    from converter.validate.runners import IrRunner

    return IrRunner(xml, "openvino").run(feeds)


def _op_types(xml: Path) -> list[str]:
    from converter import read_model

    return [node.op.type for node in read_model(xml).nodes()]


@pytest.fixture(scope="module")
def two_signatures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    class Scorer(tf.Module):
        def __init__(self):
            self.w = tf.Variable(np.random.default_rng(1).standard_normal((6, 3)).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32, name="x")])
        def scores(self, x):
            return {"scores": tf.matmul(x, self.w)}

        @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32, name="x")])
        def probabilities(self, x):
            return {"probabilities": tf.nn.softmax(tf.matmul(x, self.w))}

    module = Scorer()
    path = tmp_path_factory.mktemp("signatures") / "scorer"
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.scores, "probabilities": module.probabilities})
    return path


def test_signature_picks_the_function(two_signatures: Path, tmp_path: Path) -> None:
    result = irforge("convert", two_signatures, "-o", tmp_path, "--signature", "probabilities", "--precision", "fp32")
    assert result.returncode == 0, result.stderr
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    (got,) = _ir_outputs(tmp_path / "FP32" / "scorer.xml", {"x": x})
    np.testing.assert_allclose(got.sum(1), 1.0, rtol=1e-5)  # softmax rows: the second signature, not the first
    validated = irforge("validate", two_signatures, tmp_path, "--signature", "probabilities", "--backend", "openvino")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert_clean_failure(irforge("convert", two_signatures, "-o", tmp_path / "x", "--signature", "nope"), "nope")


@pytest.fixture(scope="module")
def two_headed_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="a"), tf.TensorSpec([None, 4], tf.float32, name="b")])
    def heads(a, b):
        hidden = tf.nn.relu(a * 2.0 + b, name="hidden")
        return tf.reduce_sum(hidden, axis=1, name="total"), tf.identity(hidden * 3.0, name="scaled")

    frozen = convert_variables_to_constants_v2(heads.get_concrete_function())
    path = tmp_path_factory.mktemp("graph") / "heads.pb"
    path.write_bytes(frozen.graph.as_graph_def().SerializeToString())
    return path


def test_graphdef_inputs_and_outputs_by_name(two_headed_graph: Path, tmp_path: Path) -> None:
    result = irforge("convert", two_headed_graph, "-o", tmp_path, "--input", "b,a", "--output", "hidden", "--precision", "fp32")
    assert result.returncode == 0, result.stderr
    a, b = (np.random.default_rng(i).standard_normal((3, 4)).astype(np.float32) for i in (0, 1))
    from converter import read_model

    graph = read_model(tmp_path / "FP32" / "heads.xml")
    assert [v.name for v in graph.inputs] == ["b", "a"]
    assert len(graph.outputs) == 1
    (hidden,) = _ir_outputs(tmp_path / "FP32" / "heads.xml", {"a": a, "b": b})
    np.testing.assert_allclose(hidden, np.maximum(a * 2 + b, 0), rtol=1e-6)
    validated = irforge("validate", two_headed_graph, tmp_path, "--input", "b,a", "--output", "hidden", "--backend", "openvino")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert_clean_failure(irforge("convert", two_headed_graph, "-o", tmp_path / "x", "--output", "missing"), "missing")


def test_options_that_do_not_apply_are_errors(two_headed_graph: Path, tmp_path: Path) -> None:
    line = assert_clean_failure(irforge("convert", two_headed_graph, "-o", tmp_path, "--signature", "x"), "--signature")
    assert "tensorflow" in line
    line = assert_clean_failure(irforge("convert", two_headed_graph, "-o", tmp_path, "--input-layout", "nhwc"), "nhwc")


@pytest.fixture(scope="module")
def keras_cnn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    keras.utils.set_random_seed(0)
    image = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(image)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.Conv2D(4, 1, name="mask")(x)
    path = tmp_path_factory.mktemp("keras") / "segmenter.keras"
    keras.Model(image, x).save(path)
    return path


def test_input_layout_nchw_feeds_channels_first(keras_cnn: Path, tmp_path: Path) -> None:
    result = irforge("convert", keras_cnn, "-o", tmp_path, "--input-layout", "nchw", "--precision", "fp32")
    assert result.returncode == 0, result.stderr
    xml = tmp_path / "FP32" / "segmenter.xml"
    from converter import read_model

    graph = read_model(xml)
    assert graph.inputs[0].shape.dims == (1, 3, 16, 16) or graph.inputs[0].shape.dims[1:] == (3, 16, 16)
    assert graph.parameters[0].rt_info["layout"]["layout"] == "[N,C,H,W]"
    assert _op_types(xml).count("Transpose") == 1  # only the NHWC output's
    image = np.random.default_rng(0).standard_normal((1, 16, 16, 3)).astype(np.float32)
    expected = np.asarray(keras.saving.load_model(keras_cnn)(image))
    from converter.runtime.openvino_backend import compile_ir, run_compiled

    compiled = compile_ir(xml)  # the application's view: it feeds NCHW itself
    (got,) = run_compiled(compiled, [image.transpose(0, 3, 1, 2)])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    validated = irforge("validate", keras_cnn, tmp_path, "--backend", "both")  # source NHWC data, transposed for the IR
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_manifest_frontend_options_reach_the_zoo(keras_cnn: Path, tmp_path: Path, prefect_env) -> None:
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    (zoo / "segmenter.keras").write_bytes(keras_cnn.read_bytes())
    (zoo / "segmenter.yaml").write_text("frontend: {input_layout: nchw}\n")
    result = irforge("zoo", zoo, "-o", tmp_path / "out", "--precision", "fp32", env=prefect_env)
    assert result.returncode == 0, result.stdout + result.stderr
    xml = next((tmp_path / "out").rglob("segmenter.xml"))
    assert _op_types(xml).count("Transpose") == 1
    report = pd.read_csv(tmp_path / "out" / "reports" / "latest" / "report.csv")
    assert set(report[report.precision == "fp32"].status) == {"pass"}


@pytest.fixture(scope="module")
def lambda_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    keras.utils.set_random_seed(0)
    x = keras.Input((10,), name="x")
    hidden = keras.layers.Dense(6, activation="tanh")(x)
    squashed = keras.layers.Lambda(lambda t: t * t * 0.5 - t, output_shape=(6,), name="quadratic")(hidden)
    path = tmp_path_factory.mktemp("lambda") / "lambda.keras"
    keras.Model(x, keras.layers.Dense(2, name="out")(squashed)).save(path)
    return path


def test_keras_trace_converts_a_lambda(lambda_model: Path, tmp_path: Path) -> None:
    plain = irforge("convert", lambda_model, "-o", tmp_path / "plain")
    assert "--keras-trace" in assert_clean_failure(plain, "Lambda")
    result = irforge("convert", lambda_model, "-o", tmp_path, "--keras-trace", "--precision", "fp32")
    assert result.returncode == 0, result.stderr
    keras.config.enable_unsafe_deserialization()
    model = keras.saving.load_model(lambda_model, safe_mode=False)
    x = np.random.default_rng(0).standard_normal((5, 10)).astype(np.float32)
    (got,) = _ir_outputs(tmp_path / "FP32" / "lambda.xml", {"x": x})
    np.testing.assert_allclose(got, np.asarray(model(x)), rtol=1e-4, atol=1e-5)
    validated = irforge("validate", lambda_model, tmp_path, "--keras-trace", "--backend", "openvino")
    assert validated.returncode == 0, validated.stdout + validated.stderr
