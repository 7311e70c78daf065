"""Keras 2 spellings in legacy .h5 files: list-form inbound nodes, `name:0` weight names, `alpha`, string dtypes,
`batch_input_shape`, class "Model", nested Sequential calls numbered from 1, hard_sigmoid = clip(0.2 x + 0.5).

Keras 3 writes the file; the test rewrites it the way tf.keras 2 lays it out (same weights), so Keras 3
still gives the reference outputs.
"""

from __future__ import annotations

import json

import h5py
import numpy as np

from keras_support import random_input, randomize, reference_outputs, run_ir


def _tensor_ref(arg: dict, sequential_layers: set[str]) -> list:
    layer, node, tensor = arg["config"]["keras_history"]
    return [layer, node + (1 if layer in sequential_layers else 0), tensor, {}]


def _keras2_layer(layer: dict, sequential_layers: set[str]) -> dict:
    layer = {k: v for k, v in layer.items() if k not in ("module", "registered_name", "build_config")}
    config = dict(layer["config"])
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = config["dtype"]["config"]["name"]
    if "batch_shape" in config:
        config["batch_input_shape"] = config.pop("batch_shape")
    if layer["class_name"] == "LeakyReLU":
        config["alpha"] = config.pop("negative_slope")
    if layer["class_name"] in ("Sequential", "Functional"):
        config["layers"] = [_keras2_layer(inner, set()) for inner in config["layers"]]
    layer["config"] = config
    nodes = []
    for node in layer.get("inbound_nodes", []):
        args = node["args"][0] if len(node["args"]) == 1 and isinstance(node["args"][0], list) else node["args"]
        nodes.append([_tensor_ref(arg, sequential_layers) for arg in args])
    if "inbound_nodes" in layer:
        layer["inbound_nodes"] = nodes
    return layer


def as_keras2_h5(path) -> None:
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        sequential_layers = {l["name"] for l in config["config"]["layers"] if l["class_name"] == "Sequential"}
        config["class_name"] = "Model"
        config["config"]["layers"] = [_keras2_layer(l, sequential_layers) for l in config["config"]["layers"]]
        for key in ("input_layers", "output_layers"):
            refs = config["config"][key]
            refs = [refs] if isinstance(refs[0], str) else refs
            config["config"][key] = [[n, i + (1 if n in sequential_layers else 0), t] for n, i, t in refs]
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["keras_version"] = "2.13.1"
        group = f["model_weights"]
        for layer_name in group.attrs["layer_names"]:
            layer_group = group[layer_name]
            renamed = []
            for weight_name in layer_group.attrs["weight_names"]:
                weight_name = weight_name.decode() if isinstance(weight_name, bytes) else weight_name
                parts = weight_name.split("/")
                new_name = "/".join(parts[parts.index(layer_name):] if layer_name in parts else parts) + ":0"
                layer_group.move(weight_name, new_name)
                renamed.append(new_name.encode())
            layer_group.attrs["weight_names"] = np.array(renamed, dtype=object) if renamed else np.array([], dtype=np.float64)


def test_keras2_layout(keras, tmp_path):
    from converter.frontends.keras import convert_keras

    keras.utils.set_random_seed(0)
    L = keras.layers
    a, b = keras.Input((6, 6, 3), name="a"), keras.Input((6, 6, 3), name="b")
    shared = L.Conv2D(4, 3, padding="same", name="shared")
    merged = L.Concatenate()([shared(a), shared(b)])
    merged = L.LeakyReLU(negative_slope=0.2)(L.BatchNormalization()(merged))
    head = keras.Sequential([keras.Input((8,)), L.Dense(5, activation="relu"), L.Dense(2)], name="head")
    pooled = L.GlobalAveragePooling2D()(merged)
    out = head(pooled)
    gate = L.Activation("hard_sigmoid", name="gate")(pooled)
    model = keras.Model([a, b], [out, gate])
    randomize(model)
    path = tmp_path / "keras2.h5"
    model.save(path)
    as_keras2_h5(path)

    inputs = [random_input((2, 6, 6, 3)), random_input((2, 6, 6, 3), seed=1)]
    expected_out, _ = reference_outputs(model, inputs)
    pooled_values = np.asarray(keras.Model(model.inputs, pooled)(inputs))
    graph = convert_keras(path)
    actual_out, actual_gate = run_ir(graph, tmp_path, {"a": inputs[0], "b": inputs[1]})
    np.testing.assert_allclose(actual_out, expected_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(actual_gate, np.clip(0.2 * pooled_values + 0.5, 0, 1), rtol=1e-4, atol=1e-5)
