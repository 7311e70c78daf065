"""TensorFlow and Keras source models through `irforge convert` and `irforge validate`, with
TensorFlow / Keras as the reference runtime and the IR run on OpenVINO and onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_support import irforge

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keras")
    keras.utils.set_random_seed(0)
    image = keras.Input((None, None, 3), name="image")  # dynamic spatial dims: the input search picks them
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(image)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(image, keras.layers.Dense(6, name="logits")(x))
    model.save(folder / "net.keras")
    model.save(folder / "net.h5")
    return {"keras": folder / "net.keras", "h5": folder / "net.h5"}


@pytest.fixture(scope="module")
def frozen_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    weights = tf.constant(np.random.default_rng(0).standard_normal((12, 5)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 12], tf.float32, name="features")])
    def scores(features):
        return tf.nn.softmax(tf.matmul(tf.nn.tanh(features), weights), name="scores")

    frozen = convert_variables_to_constants_v2(scores.get_concrete_function())
    path = tmp_path_factory.mktemp("graph") / "scores.pb"
    path.write_bytes(frozen.graph.as_graph_def().SerializeToString())
    return path


@pytest.mark.parametrize("kind", ["keras", "h5"])
def test_keras_models_validate_against_keras(keras_files: dict[str, Path], kind: str, tmp_path: Path) -> None:
    source = keras_files[kind]
    assert irforge("convert", source, "-o", tmp_path / "ir").returncode == 0
    result = irforge("validate", source, tmp_path / "ir")
    assert result.returncode == 0, result.stdout + result.stderr
    frame = pd.read_csv(tmp_path / "ir" / "report.csv")
    assert set(frame["framework"]) == {"keras"} and list(frame["backend"])[0] == "keras"
    assert (frame.loc[frame["precision"] != "source", "status"] == "pass").all()
    assert "image[1,224,224,3]" in result.stdout.replace("\n", "")


def test_frozen_graph_validates_against_tensorflow(frozen_graph: Path, tmp_path: Path) -> None:
    assert irforge("convert", frozen_graph, "-o", tmp_path / "ir").returncode == 0
    result = irforge("validate", frozen_graph, tmp_path / "ir")
    assert result.returncode == 0, result.stdout + result.stderr
    frame = pd.read_csv(tmp_path / "ir" / "report.csv")
    assert set(frame["framework"]) == {"tensorflow"}
    assert (frame.loc[frame["precision"] == "fp32", "max_rel"] < 1e-5).all()
    assert (frame.loc[frame["precision"] == "fp16", "status"] == "pass").all()


def test_saved_model_folder_is_a_model_of_its_own(tmp_path: Path) -> None:
    """Detected as a folder, converted, validated with TensorFlow running its signature; the zoo
    counts the folder once and none of the files inside it."""
    from converter.zoo import find_models

    class Scale(tf.Module):
        def __init__(self):
            super().__init__()
            self.weight = tf.Variable(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def __call__(self, x):
            return {"y": tf.nn.sigmoid(tf.matmul(x, self.weight))}

    module = Scale()
    folder = tmp_path / "zoo" / "scale"
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.__call__})
    (tmp_path / "zoo" / "other.onnx").write_bytes(b"")
    assert find_models(tmp_path / "zoo") == [tmp_path / "zoo" / "other.onnx", folder]
    assert irforge("convert", folder, "-o", tmp_path / "ir").returncode == 0
    result = irforge("validate", folder, tmp_path / "ir")
    assert result.returncode == 0, result.stdout + result.stderr
    frame = pd.read_csv(tmp_path / "ir" / "report.csv")
    assert set(frame["framework"]) == {"savedmodel"}
    assert (frame.loc[frame["precision"] == "fp32", "max_rel"] < 1e-5).all()
