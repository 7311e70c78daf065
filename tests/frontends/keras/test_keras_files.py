"""Keras files irforge refuses, and what it reads without Keras: errors, links, unknown layers, imports."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

from converter.errors import InvalidModelError, NodeConversionError, UnsupportedOpsError
from converter.frontends.keras import convert_keras


@pytest.fixture(scope="module")
def small_model(keras):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,), name="x"), keras.layers.Dense(3, name="dense")])


def test_truncated_keras_file(small_model, tmp_path):
    path = tmp_path / "model.keras"
    small_model.save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InvalidModelError, match="model.keras"):
        convert_keras(path)


def test_truncated_weights_member(small_model, tmp_path):
    """A .keras whose zip directory is intact but whose weights member was cut short."""
    import zipfile

    source = tmp_path / "good.keras"
    small_model.save(source)
    damaged = tmp_path / "damaged.keras"
    with zipfile.ZipFile(source) as good, zipfile.ZipFile(damaged, "w") as bad:
        for info in good.infolist():
            data = good.read(info)
            bad.writestr(info, data[: len(data) // 3] if info.filename.endswith(".h5") else data)
    with pytest.raises(InvalidModelError, match="damaged.keras"):
        convert_keras(damaged)


def test_garbage_h5(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(InvalidModelError, match="model.h5"):
        convert_keras(path)


def test_truncated_h5(small_model, tmp_path):
    path = tmp_path / "model.h5"
    small_model.save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size - 512])
    with pytest.raises(InvalidModelError, match="model.h5"):
        convert_keras(path)


def test_h5_without_model_config(small_model, tmp_path):
    path = tmp_path / "weights.h5"
    small_model.save_weights(tmp_path / "only.weights.h5")
    (tmp_path / "only.weights.h5").rename(path)
    with pytest.raises(InvalidModelError, match="model_config"):
        convert_keras(path)


def test_h5_external_link_is_refused(small_model, tmp_path):
    secret = tmp_path / "elsewhere.h5"
    with h5py.File(secret, "w") as f:
        f["kernel"] = np.ones((4, 3), np.float32)
    path = tmp_path / "model.h5"
    small_model.save(path)
    with h5py.File(path, "r+") as f:
        f["model_weights/dense/dense/sneaky"] = h5py.ExternalLink(str(secret), "/kernel")
    with pytest.raises(InvalidModelError, match="external link"):
        convert_keras(path)


def test_h5_external_dataset_is_refused(small_model, tmp_path):
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.ones(12, np.float32).tobytes())
    path = tmp_path / "model.h5"
    small_model.save(path)
    with h5py.File(path, "r+") as f:
        f.create_dataset("model_weights/dense/extra", shape=(12,), dtype="f4", external=[(str(raw), 0, 48)])
    with pytest.raises(InvalidModelError, match="external file"):
        convert_keras(path)


def test_unsupported_layers_are_listed_at_once(keras, tmp_path):
    @keras.saving.register_keras_serializable(package="irforge_tests")
    class TimesTwo(keras.layers.Layer):
        def call(self, x):
            return x * 2

    x = keras.Input((4,), name="x")
    y = keras.layers.Lambda(lambda t: t + 1, name="plus_one")(x)
    y = TimesTwo(name="times_two")(y)
    y = keras.layers.Lambda(lambda t: t - 1, name="minus_one")(y)
    model = keras.Model(x, keras.layers.Dense(2)(y))
    for suffix in (".keras", ".h5"):
        path = tmp_path / f"custom{suffix}"
        model.save(path)
        with pytest.raises(UnsupportedOpsError) as caught:
            convert_keras(path)
        assert caught.value.unsupported == {"Lambda": ["plus_one", "minus_one"], "TimesTwo": ["times_two"]}


def test_unknown_config_attribute_is_reported(small_model, tmp_path):
    import json
    import zipfile

    source = tmp_path / "good.keras"
    small_model.save(source)
    edited = tmp_path / "edited.keras"
    with zipfile.ZipFile(source) as good, zipfile.ZipFile(edited, "w") as out:
        for info in good.infolist():
            data = good.read(info)
            if info.filename == "config.json":
                config = json.loads(data)
                config["config"]["layers"][1]["config"]["shiny_new_option"] = True
                data = json.dumps(config).encode()
            out.writestr(info, data)
    with pytest.raises(NodeConversionError, match="shiny_new_option") as caught:
        convert_keras(edited)
    assert caught.value.node_name == "dense" and caught.value.op_type == "Dense"


def test_weights_are_memory_mapped(small_model, tmp_path):
    """Keras stores model.weights.h5 uncompressed in the zip: the kernel is read in place."""
    for suffix in (".keras", ".h5"):
        path = tmp_path / f"m{suffix}"
        small_model.save(path)
        graph = convert_keras(path)
        kernels = [n.attrs["value"] for n in graph.nodes() if n.op.type == "Const" and n.attrs["value"].shape == (4, 3)]
        assert kernels and all(isinstance(k.base, np.memmap) or isinstance(k, np.memmap) for k in kernels), suffix
        np.testing.assert_array_equal(kernels[0], np.asarray(small_model.layers[0].kernel))


def test_conversion_imports_neither_keras_nor_tensorflow(keras, tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 3), name="x"), keras.layers.Conv2D(2, 3), keras.layers.BatchNormalization(),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    script = textwrap.dedent(f"""
        import sys
        from converter.frontends.keras import convert_keras
        for name in ("m.keras", "m.h5"):
            graph = convert_keras({str(tmp_path)!r} + "/" + name)
            assert graph.outputs, name
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("keras", "tensorflow", "tf_keras"))
        print("heavy:", heavy)
        sys.exit(1 if heavy else 0)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(__file__).parents[3])
    assert result.returncode == 0, result.stdout + result.stderr
