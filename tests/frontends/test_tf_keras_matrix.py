"""Every model in every TensorFlow-family format (issue 8, done-when 1): a CNN with BatchNormalization,
Dropout, ReLU6 and DepthwiseConv2D; MobileNetV2 and ResNet50 (keras.applications, weights=None, fixed
seed); a transformer block (MultiHeadAttention, LayerNormalization, GELU); an LSTM; a bidirectional GRU;
a model with a dynamic batch — each saved as a SavedModel (`model.export`), a frozen .pb, a .keras and
an .h5 file, converted, optimized, written, and run by the OpenVINO runtime from disk against Keras."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

RTOL, ATOL = 1e-4, 1e-5
FORMATS = ("savedmodel", "pb", "keras", "h5")


def _statistics(model, seed: int = 1) -> None:
    """Non-trivial normalization statistics, so folding them is checked."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        shape = tuple(weight.shape)
        if "moving_mean" in weight.path or "beta" in weight.path:
            weight.assign(rng.normal(0, 0.1, shape).astype(np.float32))
        elif "moving_variance" in weight.path or "gamma" in weight.path:
            weight.assign(rng.uniform(0.5, 1.5, shape).astype(np.float32))


def cnn():
    x = keras.Input((32, 32, 3), name="image")
    y = keras.layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.ReLU(6.0)(y)
    y = keras.layers.DepthwiseConv2D(3, padding="same")(y)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.ReLU(6.0)(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    y = keras.layers.Dropout(0.3)(y)
    return keras.Model(x, keras.layers.Dense(5, activation="softmax")(y)), (2, 32, 32, 3)


def mobilenet_v2():
    return keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3)), (1, 96, 96, 3)


def resnet50():
    return keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10), (1, 64, 64, 3)


def transformer():
    x = keras.Input((6, 16), name="tokens")
    attended = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    y = keras.layers.LayerNormalization()(x + attended)
    hidden = keras.layers.Dense(32, activation="gelu")(y)
    y = keras.layers.LayerNormalization()(y + keras.layers.Dense(16)(hidden))
    return keras.Model(x, y), (2, 6, 16)


def lstm():
    x = keras.Input((7, 5), name="sequence")
    y = keras.layers.LSTM(8, return_sequences=True)(x)
    return keras.Model(x, keras.layers.LSTM(4)(y)), (2, 7, 5)


def bidirectional_gru():
    x = keras.Input((6, 4), name="sequence")
    return keras.Model(x, keras.layers.Bidirectional(keras.layers.GRU(5, return_sequences=True))(x)), (2, 6, 4)


def dynamic_batch():
    x = keras.Input((12,), name="features")
    y = keras.layers.Dense(16, activation="relu")(x)
    return keras.Model(x, keras.layers.Dense(3)(y)), (3, 12)


MODELS: dict[str, Callable] = {
    "cnn": cnn,
    "mobilenet_v2": mobilenet_v2,
    "resnet50": resnet50,
    "transformer": transformer,
    "lstm": lstm,
    "bidirectional_gru": bidirectional_gru,
    "dynamic_batch": dynamic_batch,
}


def _freeze(model, path: Path, batch: int | None) -> None:
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    spec = tf.TensorSpec((batch, *model.inputs[0].shape[1:]), model.inputs[0].dtype, name=model.inputs[0].name.split(":")[0])
    frozen = convert_variables_to_constants_v2(tf.function(lambda x: model(x, training=False)).get_concrete_function(spec))
    path.write_bytes(frozen.graph.as_graph_def().SerializeToString())


@pytest.fixture(scope="module", params=sorted(MODELS))
def saved(request, tmp_path_factory: pytest.TempPathFactory):
    """(model name, {format: path}, input shape, Keras model): one model built once, in all four formats."""
    keras.utils.set_random_seed(0)
    model, shape = MODELS[request.param]()
    _statistics(model)
    folder = tmp_path_factory.mktemp(request.param)
    paths = {"savedmodel": folder / "savedmodel", "pb": folder / "frozen.pb", "keras": folder / "model.keras", "h5": folder / "model.h5"}
    model.export(paths["savedmodel"], verbose=False)
    _freeze(model, paths["pb"], None)
    model.save(paths["keras"])
    model.save(paths["h5"])
    return request.param, paths, shape, model


@pytest.mark.parametrize("form", FORMATS)
def test_converts_and_matches_keras(saved, form: str, tmp_path: Path) -> None:
    from converter.api import load_model, optimize, save_model
    from converter.validate.runners import IrRunner

    name, paths, shape, model = saved
    graph, _ = optimize(load_model(paths[form]))
    xml, _ = save_model(graph, tmp_path / f"{name}.xml")
    runner = IrRunner(xml, "openvino")
    batches = [shape[0], 1] if name == "dynamic_batch" else [shape[0]]
    for batch in batches:
        x = np.random.default_rng(batch).standard_normal((batch, *shape[1:])).astype(np.float32)
        expected = np.asarray(model(x, training=False))
        (actual,) = runner.run([x])
        assert actual.shape == expected.shape
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=f"{name} {form} batch {batch}")
    op_types = [node.op.type for node in graph.nodes()]
    assert "BatchNormInference" not in op_types
    if name in ("cnn", "mobilenet_v2", "resnet50"):
        assert op_types.count("Transpose") <= 2, f"{name} {form}: {op_types.count('Transpose')} Transposes"
