"""irforge vs OpenVINO's converter on .tflite files, in the same run: Keras models written by
TensorFlow's TFLite converter as float32, with float16 weights (DEQUANTIZE) and fully int8-quantized.

    python bench/tflite_formats.py             # a Markdown table for docs/benchmarks.md
    python bench/tflite_formats.py --repeat 5 --only mobilenet_v2

Each conversion is a fresh process writing FP32 and FP16 IR ("new process": imports included;
"warm": a second conversion in that process), irforge and OpenVINO alternating (compare_ovc.py).
OpenVINO reads the .tflite itself. irforge never imports TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_ovc import ROOT, measure_pair  # noqa: E402

GENERATED = ("cnn", "mobilenet_v2")
VARIANTS = ("float32", "float16 weights", "int8")


def build(name: str):
    import keras

    keras.utils.set_random_seed(0)
    if name == "mobilenet_v2":
        return keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    x = keras.Input((64, 64, 3), batch_size=1)
    y = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    y = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6")(y)
    y = keras.layers.MaxPooling2D()(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    return keras.Model(x, keras.layers.Dense(10, activation="softmax")(y))


def write_variants(name: str, folder: Path) -> dict[str, Path]:
    import tensorflow as tf

    model = build(name)
    shape = (1, *model.inputs[0].shape[1:])
    paths = {}
    for variant in VARIANTS:
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        if variant == "float16 weights":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif variant == "int8":
            rng = np.random.default_rng(0)
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: ([rng.random(shape, dtype=np.float32)] for _ in range(8))
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = converter.inference_output_type = tf.int8
        paths[variant] = folder / f"{name}_{variant.split()[0]}.tflite"
        paths[variant].write_bytes(converter.convert())
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", action="append", help="a generated model name (repeatable)")
    args = parser.parse_args()
    subprocess.run(["opt_in_out", "--opt_out"], capture_output=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "converter")], check=True)
    print("| model | .tflite | ops irforge / ovc | new process s irforge / ovc (ratio) | warm s irforge / ovc (ratio) | peak RSS MB irforge / ovc (ratio) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        for name in args.only or GENERATED:
            for variant, path in write_variants(name, Path(directory)).items():
                ours, theirs = measure_pair(path, args.repeat)
                print(
                    f"| {name} | {variant} | {ours['ops']:.0f} / {theirs['ops']:.0f} "
                    f"| {ours['cold']:.2f} / {theirs['cold']:.2f} ({ours['cold'] / theirs['cold']:.2f}) "
                    f"| {ours['warm']:.3f} / {theirs['warm']:.3f} ({ours['warm'] / theirs['warm']:.2f}) "
                    f"| {ours['rss_mb']:.0f} / {theirs['rss_mb']:.0f} ({ours['rss_mb'] / theirs['rss_mb']:.2f}) |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
