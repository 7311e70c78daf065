"""SavedModel directories: function calls inlined, variables resolved from the bundle, against TensorFlow."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tf_support import ATOL, RTOL, random, run_ir, tf  # noqa: E402

from converter.api import optimize  # noqa: E402
from converter.errors import InvalidModelError, UnsupportedOpsError  # noqa: E402
from converter.frontends.tensorflow import convert_saved_model  # noqa: E402


class Dense(tf.Module):
    def __init__(self, inputs: int, outputs: int, seed: int):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.kernel = tf.Variable(rng.standard_normal((inputs, outputs)).astype(np.float32))
        self.bias = tf.Variable(rng.standard_normal(outputs).astype(np.float32))

    @tf.function
    def __call__(self, x):
        return tf.matmul(x, self.kernel) + self.bias


class TwoLayers(tf.Module):
    """Nested modules and nested tf.functions: the signature calls __call__, which calls each layer."""

    def __init__(self):
        super().__init__()
        self.hidden = Dense(4, 1200, seed=1)  # 19 KB of weights: memory-mapped
        self.out = Dense(1200, 3, seed=2)  # 14 KB: read
        self.scale = tf.Variable(np.float32(0.5))
        self.frozen_offset = tf.constant(np.float32(0.25))  # a captured constant, not a variable

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def __call__(self, x):
        hidden = tf.nn.relu(self.hidden(x))
        return {"logits": self.out(hidden) * self.scale + self.frozen_offset, "hidden": hidden}


def _signature_outputs(folder, feeds):
    signature = tf.saved_model.load(str(folder)).signatures["serving_default"]
    return {key: value.numpy() for key, value in signature(**{k: tf.constant(v) for k, v in feeds.items()}).items()}


def _check_against_tensorflow(graph, folder, feeds, tmp_path):
    expected = _signature_outputs(folder, feeds)
    optimized, _ = optimize(graph)
    actual = run_ir(optimized, tmp_path / "ir", feeds)
    assert [v.names[0] for v in graph.outputs] == sorted(expected)
    for key, value in zip(sorted(expected), actual):
        np.testing.assert_allclose(value, expected[key], rtol=RTOL, atol=ATOL, err_msg=key)


def test_tf_module_calls_are_inlined_and_large_variables_memory_mapped(tmp_path):
    folder = tmp_path / "two_layers"
    tf.saved_model.save(TwoLayers(), str(folder))
    graph = convert_saved_model(folder)
    assert [p.name for p in graph.parameters] == ["x"]
    assert not {"StatefulPartitionedCall", "ReadVariableOp"} & set(graph.op_histogram())
    weights = [n.attrs["value"] for n in graph.nodes() if n.op.type == "Const" and n.attrs["value"].ndim == 2]
    assert {w.shape: isinstance(w.base, np.memmap) for w in weights} == {(4, 1200): True, (1200, 3): False}
    assert not any(w.flags.writeable for w in weights)
    _check_against_tensorflow(graph, folder, {"x": random(5, 4)}, tmp_path)


def test_gathering_rows_of_a_variable(tmp_path):
    class Lookup(tf.Module):
        def __init__(self):
            super().__init__()
            self.table = tf.Variable(random(10, 4, seed=4))

        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
        def __call__(self, ids):
            return tf.gather(self.table, ids) * 2.0

    folder = tmp_path / "lookup"
    tf.saved_model.save(Lookup(), str(folder))
    graph = convert_saved_model(folder)
    _check_against_tensorflow(graph, folder, {"ids": np.array([3, 0, 9, 3], np.int32)}, tmp_path)


def test_keras_export_cnn(tmp_path):
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 3), name="image")
    y = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.ReLU(6.0)(y)
    y = keras.layers.DepthwiseConv2D(3, strides=2, padding="same")(y)
    y = keras.layers.Dropout(0.3)(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(y))
    rng = np.random.default_rng(0)
    model.layers[2].set_weights([rng.uniform(0.5, 1.5, 8), rng.standard_normal(8), rng.standard_normal(8), rng.uniform(0.5, 2, 8)])
    folder = tmp_path / "cnn"
    model.export(str(folder), verbose=False)
    graph = convert_saved_model(folder)
    (name,) = [p.name for p in graph.parameters]
    _check_against_tensorflow(graph, folder, {name: random(2, 12, 12, 3)}, tmp_path)


@pytest.mark.parametrize("resource", [False, True], ids=["VariableV2", "VarHandleOp"])
def test_tf1_builder_saved_model(tmp_path, resource):
    tf1 = tf.compat.v1
    folder = tmp_path / "tf1"
    graph = tf.Graph()
    with graph.as_default():
        x = tf1.placeholder(tf.float32, [None, 4], name="x")
        kernel = tf1.get_variable("dense/kernel", initializer=random(4, 3, seed=1), use_resource=resource)
        bias = tf1.get_variable("dense/bias", initializer=random(3, seed=2), use_resource=resource)
        y = tf.nn.relu(tf.matmul(x, kernel) + bias, name="y")
        with tf1.Session() as session:
            session.run(tf1.global_variables_initializer())
            builder = tf1.saved_model.Builder(str(folder))
            signature = tf1.saved_model.predict_signature_def({"x": x}, {"y": y})
            builder.add_meta_graph_and_variables(session, ["serve"], signature_def_map={"serving_default": signature})
            builder.save()
            x_value = random(3, 4, seed=3)
            expected = session.run(y, {x: x_value})
    converted = convert_saved_model(folder)
    (actual,) = run_ir(optimize(converted)[0], tmp_path / "ir", {"x": x_value})
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


@pytest.fixture(scope="module")
def saved_two_layers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved") / "two_layers"
    tf.saved_model.save(TwoLayers(), str(folder))
    return folder


def test_short_variables_file_and_missing_signature_are_clear_errors(saved_two_layers, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(saved_two_layers, folder)
    with pytest.raises(InvalidModelError, match=r"no signature 'predict'; the SavedModel has \['serving_default'\]"):
        convert_saved_model(folder, signature="predict")
    with pytest.raises(InvalidModelError, match=r"no MetaGraph tagged \['gpu', 'serve'\]"):
        convert_saved_model(folder, tags=("serve", "gpu"))
    data = folder / "variables" / "variables.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:-8])
    with pytest.raises(InvalidModelError, match=r"variables\.data-00000-of-00001: too short for key"):
        convert_saved_model(folder)
    (folder / "saved_model.pb").write_bytes((saved_two_layers / "saved_model.pb").read_bytes()[:1000])
    with pytest.raises(InvalidModelError, match="saved_model.pb: not a SavedModel, or truncated"):
        convert_saved_model(folder)
    with pytest.raises(InvalidModelError, match="no saved_model.pb"):
        convert_saved_model(tmp_path)
    shutil.copytree(saved_two_layers, tmp_path / "unindexed")
    (tmp_path / "unindexed" / "variables" / "variables.index").unlink()
    with pytest.raises(InvalidModelError, match=r"variables\.index: missing"):
        convert_saved_model(tmp_path / "unindexed")


def test_unsupported_ops_inside_functions_are_listed_with_their_call_path(tmp_path):
    class Special(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([3], tf.float32)])
        def __call__(self, x):
            return tf.math.igamma(x, x) + tf.math.zeta(x + 1.0, x)

    folder = tmp_path / "special"
    tf.saved_model.save(Special(), str(folder))
    with pytest.raises(UnsupportedOpsError) as error:
        convert_saved_model(folder)
    assert set(error.value.unsupported) == {"Igamma", "Zeta"}
    (node,) = error.value.unsupported["Igamma"]
    assert re.fullmatch(r"(Stateful)?PartitionedCall/(.+/)?Igamma", node), node


def test_keras_mobilenet_v2_keeps_one_transpose_and_no_batchnorm(tmp_path):
    """Residual blocks, depthwise convolutions, ZeroPadding, ReLU6 and BatchNorm as arithmetic:
    the SavedModel and the frozen graph of the same model convert, match, and lose every
    NHWC ↔ NCHW pair to transpose sinking."""
    keras = pytest.importorskip("keras")
    from tf_support import freeze, write_graph

    from converter.frontends.tensorflow import convert_graphdef

    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=10)
    folder = tmp_path / "mobilenet_v2"
    model.export(str(folder), verbose=False)
    x = random(2, 32, 32, 3)
    expected = model(x).numpy()
    _, graph_def = freeze(lambda image: model(image), [tf.TensorSpec([None, 32, 32, 3], tf.float32, name="image")])
    frozen = write_graph(graph_def, tmp_path / "mobilenet_v2.pb")
    for kind, graph in [("saved", convert_saved_model(folder)), ("frozen", convert_graphdef(frozen))]:
        optimized, _ = optimize(graph)
        histogram = optimized.op_histogram()
        assert histogram.get("Transpose", 0) <= 2 and "BatchNormInference" not in histogram and "Multiply" not in histogram, (kind, histogram)
        (actual,) = run_ir(optimized, tmp_path / kind, {graph.parameters[0].name: x})
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=kind)


def test_keras_transformer_block(tmp_path):
    """MultiHeadAttention (Einsum), LayerNormalization and exact GELU (Erfc) as Keras 3 exports them."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    tokens = keras.Input((6, 16), name="tokens")
    attended = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(tokens, tokens)
    hidden = keras.layers.LayerNormalization()(tokens + attended)
    feed_forward = keras.layers.Dense(16)(keras.layers.Dense(32, activation="gelu")(hidden))
    model = keras.Model(tokens, keras.layers.LayerNormalization()(hidden + feed_forward))
    folder = tmp_path / "transformer"
    model.export(str(folder), verbose=False)
    x = random(2, 6, 16)
    (actual,) = run_ir(optimize(convert_saved_model(folder))[0], tmp_path / "ir", {"tokens": x})
    np.testing.assert_allclose(actual, model(x).numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "spelling, mode",
    [("Dense(activation='gelu')", "ERF"), ("gelu(approximate=False)", "ERF"), ("gelu(approximate=True)", "TANH")],
)
def test_keras_gelu_becomes_one_gelu_op(tmp_path, spelling, mode):
    """Keras 3 on TF writes the exact GELU as 0.5 * x * Erfc(-x / √2) and the tanh one as a
    polynomial in Tanh: each optimizes to a single Gelu of its mode, with TF's outputs."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    features = keras.Input((12,), name="features")
    if spelling.startswith("Dense"):
        outputs = keras.layers.Dense(8, activation="gelu")(features)
    else:
        approximate = "True" in spelling
        outputs = keras.layers.Lambda(lambda x: keras.activations.gelu(x, approximate=approximate))(keras.layers.Dense(8)(features))
    model = keras.Model(features, outputs)
    folder = tmp_path / "gelu"
    model.export(str(folder), verbose=False)
    optimized, _ = optimize(convert_saved_model(folder))
    gelus = [node for node in optimized.nodes() if node.op.type == "Gelu"]
    assert [node.attrs["approximation_mode"] for node in gelus] == [mode], optimized.op_histogram()
    assert {"Erf", "Tanh", "Multiply", "Subtract", "Negative"}.isdisjoint(optimized.op_histogram())
    x = random(3, 12) * 3
    (actual,) = run_ir(optimized, tmp_path / "ir", {"features": x})
    np.testing.assert_allclose(actual, model(x).numpy(), rtol=RTOL, atol=ATOL)
