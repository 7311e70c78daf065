"""Whole Keras models: a CNN, a two-input Functional model with a shared layer, nested models, dynamic batch,
GELU spellings, Keras ops in the graph, MobileNetV2."""

from __future__ import annotations

from collections import Counter

import numpy as np

from keras_support import random_input, randomize, run_ir


def op_counts(graph) -> Counter:
    return Counter(node.op.type for node in graph.nodes())


def test_cnn_with_batchnorm_dropout_relu6_depthwise(keras, check_keras):
    keras.utils.set_random_seed(0)
    L = keras.layers
    model = keras.Sequential([
        keras.Input((16, 16, 3), name="image"),
        L.Conv2D(8, 3, strides=2, padding="same", use_bias=False),
        L.BatchNormalization(),
        L.ReLU(max_value=6.0),
        L.DepthwiseConv2D(3, padding="same"),
        L.BatchNormalization(),
        L.ReLU(6.0),
        L.Dropout(0.3),
        L.Conv2D(4, 1),
        L.GlobalAveragePooling2D(),
        L.Dense(3, activation="softmax", name="probabilities"),
    ])
    randomize(model)
    graphs = check_keras(model, optimize=True)
    for graph in graphs.values():
        assert graph.inputs[0].names == ["image"] and "probabilities" in graph.outputs[0].names
        counts = op_counts(graph)
        assert counts["Transpose"] <= 1 and "BatchNormInference" not in counts, counts


def test_functional_two_inputs_shared_layer_concatenate_add(keras, check_keras):
    keras.utils.set_random_seed(0)
    L = keras.layers
    left, right = keras.Input((8, 8, 3), name="left"), keras.Input((8, 8, 3), name="right")
    shared = L.Conv2D(4, 3, padding="same", activation="relu", name="shared")
    a, b = shared(left), shared(right)
    merged = L.Concatenate(name="merged")([a, b])
    summed = L.Add(name="summed")([a, b])
    head = L.Dense(2, name="head")(L.GlobalAveragePooling2D()(merged))
    model = keras.Model([left, right], [head, summed])
    randomize(model)
    graphs = check_keras(model)
    for graph in graphs.values():
        assert [v.names[0] for v in graph.inputs] == ["left", "right"]
        assert [v.names[-1] for v in graph.outputs] == ["head", "summed"]
        assert op_counts(graph)["Convolution"] == 2


def test_nested_models(keras, check_keras):
    """A Sequential and a Functional model used as layers of a Functional model."""
    keras.utils.set_random_seed(0)
    L = keras.layers
    block = keras.Sequential([keras.Input((6,)), L.Dense(5, activation="relu"), L.Dense(4)], name="block")
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, L.Dense(3, name="inner_dense")(L.ReLU()(inner_in)), name="inner")
    x = keras.Input((6,), name="x")
    y = inner(block(x))
    z = block(x)  # the nested model shared: a second call
    model = keras.Model(x, [y, L.Add()([z, z])])
    randomize(model)
    check_keras(model)


def test_dynamic_batch_runs_batch_1_and_3(keras, tmp_path):
    from converter.frontends.keras import convert_keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((None, None, 3), name="x"), keras.layers.Conv2D(4, 3, padding="same"),
                              keras.layers.MaxPooling2D(), keras.layers.GlobalMaxPooling2D()])
    randomize(model)
    model.save(tmp_path / "dynamic.keras")
    graph = convert_keras(tmp_path / "dynamic.keras")
    assert graph.inputs[0].shape.dims == (None, None, None, 3)
    for batch, size in ((1, 8), (3, 12)):
        x = random_input((batch, size, size, 3), seed=batch)
        (actual,) = run_ir(graph, tmp_path, {"x": x}, stem=f"dynamic{batch}")
        np.testing.assert_allclose(actual, np.asarray(model(x)), rtol=1e-4, atol=1e-5)


def test_gelu_exact_and_tanh_each_become_one_gelu(keras, check_keras):
    """Activation("gelu") is exact (Keras approximate=False); keras.ops.gelu defaults to the tanh form."""
    x = keras.Input((16,), name="x")
    exact = keras.layers.Activation("gelu", name="exact")(x)
    approximate = keras.ops.gelu(x, approximate=True)
    model = keras.Model(x, [exact, approximate])
    graphs = check_keras(model, [random_input((2, 16)) * 3], optimize=True)
    for graph in graphs.values():
        modes = sorted(n.attrs["approximation_mode"] for n in graph.nodes() if n.op.type == "Gelu")
        assert modes == ["ERF", "TANH"] and "Erf" not in op_counts(graph)


def test_keras_ops_in_a_functional_graph(keras, check_keras):
    ops = keras.ops
    x = keras.Input((4, 6), name="x")
    t = ops.transpose(x, (0, 2, 1))
    outputs = [
        ops.relu(x), ops.sigmoid(x), ops.softmax(x, axis=1), ops.reshape(x, (-1, 24)), ops.matmul(x, t),
        ops.mean(x, axis=1, keepdims=True), ops.concatenate([x, x], axis=-1), ops.subtract(x, 1.0), x / 3.0, x ** 2,
        ops.sqrt(ops.abs(x)), ops.squeeze(ops.expand_dims(x, 1), 1), ops.sum(x, axis=-1), ops.maximum(x, 0.5),
        -x, ops.clip(x, -1, 1), ops.silu(x),
    ]
    check_keras(keras.Model(x, outputs))


def test_mobilenet_v2(keras, tmp_path, capsys):
    """MobileNetV2 (weights=None, 96×96): outputs match Keras, and the optimized IR keeps at most 2 Transposes."""
    from converter.api import optimize
    from converter.frontends.keras import convert_keras
    from keras_support import reference_outputs

    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    rng = np.random.default_rng(1)
    for weight in model.weights:  # non-trivial batch-norm statistics, so the check means something
        if "moving_mean" in weight.path or "beta" in weight.path:
            weight.assign(rng.normal(0, 0.1, tuple(weight.shape)).astype(np.float32))
        elif "moving_variance" in weight.path or "gamma" in weight.path:
            weight.assign(rng.uniform(0.5, 1.5, tuple(weight.shape)).astype(np.float32))
    x = random_input((2, 96, 96, 3))
    (expected,) = reference_outputs(model, [x])
    for suffix in (".keras", ".h5"):
        path = tmp_path / f"mobilenet{suffix}"
        model.save(path)
        graph, _ = optimize(convert_keras(path))
        (actual,) = run_ir(graph, tmp_path, {graph.inputs[0].names[0]: x}, stem=f"mobilenet_{suffix[1:]}")
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
        counts = op_counts(graph)
        with capsys.disabled():
            print(f"\nMobileNetV2 {suffix}: max abs diff {np.max(np.abs(actual - expected)):.3g}, "
                  f"{counts['Transpose']} Transpose, {sum(counts.values())} ops")
        assert counts["Transpose"] <= 2 and "BatchNormInference" not in counts, counts


def test_channels_first_layers(keras, check_keras):
    """data_format="channels_first" needs no Transposes. (Keras 3.15 adds a channels_first DepthwiseConv2D's bias
    along the wrong axis when depth_multiplier > 1, so that layer is not compared here.)"""
    keras.utils.set_random_seed(0)
    L = keras.layers
    first = "channels_first"
    model = keras.Sequential([
        keras.Input((3, 8, 8), name="x"), L.Conv2D(4, 3, padding="same", data_format=first), L.BatchNormalization(axis=1),
        L.MaxPooling2D(data_format=first), L.ZeroPadding2D(1, data_format=first), L.UpSampling2D(data_format=first),
        L.Conv2DTranspose(2, 3, strides=2, padding="same", data_format=first),
        L.GlobalAveragePooling2D(data_format=first, keepdims=True), L.Flatten(data_format=first),
    ])
    randomize(model)
    graphs = check_keras(model)
    assert all(op_counts(g)["Transpose"] == 1 for g in graphs.values())  # Flatten's channels_first → last
