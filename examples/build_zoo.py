"""Regenerate the bundled example zoo, examples/zoo/: small models in every format irforge reads.

    python examples/build_zoo.py        # rewrites examples/zoo/ from scratch; then commit it

Needs the dev install (`pip install -e ".[dev]"`): the builders live in tests/models.py and
tests/sized_models.py (the tests use the same models), and the digits CNN is trained on
scikit-learn's handwritten digits. Weights are seeded, so the files are identical on every run on
the same machine. What the zoo holds:

- `classifiers/`, `nlp/`, `sequence/`, `detectors/`: ONNX models written the way exporters write
  them. `detectors/yolo_head.onnx` takes images of any size but only multiples of 32 work, which
  validation finds by itself.
- `digits/`: a CNN trained on real data, validated on its held-out split with labels (its
  manifest, digits_cnn.yaml, says so).
- `external/`: an ONNX model whose weights are in a separate file (ONNX external data).
- `ir/`: an OpenVINO IR (`.xml` + `.bin`, written by irforge) as the source model.
- `kaldi/`: a Kaldi nnet3 TDNN-F acoustic model (`tdnn.mdl`, binary, with its transition model)
  trained on scikit-learn's digits read as utterances of 8 frames (tests/frontends/kaldi), and
  held-out frames to validate it on; no Kaldi runs here, so its IRs are compared with each other.
- `caffe/`: a small Caffe classifier (`classifier.prototxt` + `classifier.caffemodel`: convolutions,
  BatchNorm + Scale, in-place ReLU, ceil-rounded pooling, InnerProduct, Softmax) with seeded random
  weights, written by the tests' Caffe helpers (tests/frontends/caffe); OpenCV validates it.
- `mxnet/`: the digits CNN as an MXNet checkpoint (`digits-symbol.json` + `digits-0030.params`,
  written by the tests' MXNet writer, tests/frontends/mxnet), with held-out digits and a manifest;
  no MXNet runs here, so its IRs are compared with each other.
- `tflite/`: a small Keras CNN written by TensorFlow's TFLite converter as float32 (`cnn_float.tflite`)
  and fully int8-quantized inside, float at its input and output (`cnn_int8.tflite`, calibrated on
  seeded images); its manifest lets each output differ from the interpreter's by one quantization
  step of that output.
- `broken/`: a truncated ONNX file, broken on purpose: one bad model never stops the others, so
  `irforge zoo` reports it as an `error` row, finishes every other model, and exits 3.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ZOO = HERE / "zoo"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import models  # noqa: E402
import sized_models  # noqa: E402

ONNX_MODELS = {
    "classifiers/cnn_classifier": lambda: models.cnn(batch="N"),
    "classifiers/resnet_small": models.resnet,
    "classifiers/mobilenet_v3_small": models.mobilenet_v3,
    "nlp/bert_tiny": lambda: models.bert(layers=2, d=64, heads=4, ffn=128, vocab=200),
    "sequence/lstm_bidirectional": lambda: models.recurrent("LSTM"),
    "detectors/yolo_head": sized_models.yolo_head,
}

DIGITS_MANIFEST = """\
# Validation of digits_cnn.onnx: the held-out split of scikit-learn's handwritten digits.
data: heldout.npz      # image [360, 1, 8, 8] and labels [360]
metric: accuracy       # FP32 must match the source's accuracy; FP16 may lose 1% (configs/default.yaml)
"""

BROKEN_README = """\
# broken/: a broken model, on purpose

`truncated.onnx` is a valid ONNX model (`classifiers/cnn_classifier.onnx`) with its second half
cut off, as an interrupted download leaves it. It cannot be read, so `irforge zoo` reports it as
an `error` row saying why, converts and validates every other model of the zoo all the same, and
exits 3: one bad model never stops the others.
"""


def write_onnx(zoo: Path) -> list[Path]:
    written = []
    for name, build in ONNX_MODELS.items():
        path = zoo / f"{name}.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(build(), path)
        written.append(path)
    return written


def write_digits(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    model, heldout = sized_models.digits_cnn()
    onnx.save(model, folder / "digits_cnn.onnx")
    np.savez(folder / "heldout.npz", **heldout)  # zip entries dated 1980: the same bytes every run
    (folder / "digits_cnn.yaml").write_text(DIGITS_MANIFEST)
    return [folder / "digits_cnn.onnx", folder / "heldout.npz", folder / "digits_cnn.yaml"]


def write_external(folder: Path) -> list[Path]:
    """A ResNet (dynamic batch) with every initializer in one side file, as large exports are saved."""
    folder.mkdir(parents=True, exist_ok=True)
    model = models.resnet(batch="N")
    onnx.save_model(model, folder / "resnet_external.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location="resnet_external.weights", size_threshold=0)
    return [folder / "resnet_external.onnx", folder / "resnet_external.weights"]


def write_ir(folder: Path) -> list[Path]:
    """The CNN classifier converted by irforge itself: an OpenVINO IR as the zoo's source model."""
    from converter import convert_model, save_model

    folder.mkdir(parents=True, exist_ok=True)
    xml, weights = save_model(convert_model(models.cnn(batch=1)), folder / "cnn_ir.xml")
    return [Path(xml), Path(weights)]


KALDI_MANIFEST = """\
# Validation of tdnn.mdl: 160 frames of held-out digits (8 frames of 8 features per image).
data: heldout_frames.npz   # input [160, 8]
batch_size: 32             # frames per run: each window of 32 frames gives 32 - 4 output frames
"""


def write_kaldi(folder: Path) -> list[Path]:
    """The tests' TDNN-F trained on digits frames, written as a binary nnet3 .mdl by the tests' Kaldi writer."""
    sys.path.insert(0, str(ROOT / "tests" / "frontends" / "kaldi"))
    from kaldi_writer import mdl_bytes
    from tdnn_training import train

    trained = train(epochs=20)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tdnn.mdl").write_bytes(mdl_bytes(trained.model, binary=True, num_pdfs=10, left=2, right=2))
    frames = trained.heldout_images[:20].reshape(-1, trained.heldout_images.shape[-1])
    np.savez(folder / "heldout_frames.npz", input=frames)
    (folder / "tdnn.yaml").write_text(KALDI_MANIFEST)
    return [folder / "tdnn.mdl", folder / "heldout_frames.npz", folder / "tdnn.yaml"]


CAFFE_NET = """name: "classifier"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 16 dim: 16 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 8 kernel_size: 3 pad: 1 } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" batch_norm_param { use_global_stats: true } }
layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" convolution_param { num_output: 8 kernel_size: 3 group: 8 } }
layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc" type: "InnerProduct" bottom: "pool2" top: "fc" inner_product_param { num_output: 5 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
"""


def write_caffe(folder: Path) -> list[Path]:
    """A small Caffe classifier, its caffemodel holding seeded random weights (the tests' Caffe helpers)."""
    sys.path.insert(0, str(ROOT / "tests" / "frontends" / "caffe"))
    from caffe_support import write_net

    model = write_net(folder, CAFFE_NET, name="classifier")
    return [model.with_suffix(".prototxt"), model]


MXNET_MANIFEST = """\
# Validation of the MXNet digits checkpoint: held-out digits (no MXNet runs here: the IRs are compared with each other).
data: heldout.npz      # data [120, 1, 8, 8] and labels [120]
metric: accuracy
"""


def write_mxnet(folder: Path) -> list[Path]:
    """The digits CNN written as an MXNet checkpoint by the tests' MXNet writer."""
    sys.path.insert(0, str(ROOT / "tests" / "frontends" / "mxnet"))
    from digits_checkpoint import digits_checkpoint

    symbol, _ = digits_checkpoint(folder, with_logits=False)
    _, heldout = sized_models.digits_cnn()
    np.savez(folder / "heldout.npz", data=heldout["image"][:120], labels=heldout["labels"][:120])
    (folder / "digits-symbol.yaml").write_text(MXNET_MANIFEST)
    return [symbol, folder / "digits-0030.params", folder / "heldout.npz", folder / "digits-symbol.yaml"]


def write_broken(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    whole = models.cnn(batch="N").SerializeToString()
    (folder / "truncated.onnx").write_bytes(whole[: len(whole) // 2])
    (folder / "README.md").write_text(BROKEN_README)
    return [folder / "truncated.onnx", folder / "README.md"]


def write_keras(folder: Path) -> list[Path]:
    """A small Keras CNN (BatchNormalization, ReLU6, DepthwiseConv2D, Dropout) as .keras and legacy .h5
    (Keras stamps the save date into .keras files, so those bytes change on every run)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(0)
    image = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(image)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU(max_value=6.0)(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    model = keras.Model(image, keras.layers.Dense(10, name="logits")(x), name="keras_cnn")
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "keras_cnn.keras")
    model.save(folder / "keras_cnn.h5")
    return [folder / "keras_cnn.keras", folder / "keras_cnn.h5"]


def write_frozen_graph(folder: Path) -> list[Path]:
    """A TensorFlow MLP frozen to a GraphDef (.pb): weights as Const nodes, a dynamic batch."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    rng = np.random.default_rng(0)
    w1 = tf.constant(rng.standard_normal((16, 32)).astype(np.float32) / 4)
    w2 = tf.constant(rng.standard_normal((32, 4)).astype(np.float32) / 6)

    @tf.function(input_signature=[tf.TensorSpec([None, 16], tf.float32, name="features")])
    def mlp(features):
        return tf.nn.softmax(tf.matmul(tf.nn.relu6(tf.matmul(features, w1)), w2), name="scores")

    frozen = convert_variables_to_constants_v2(mlp.get_concrete_function())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mlp_frozen.pb"
    path.write_bytes(frozen.graph.as_graph_def().SerializeToString(deterministic=True))
    return [path]


def write_saved_model(folder: Path) -> list[Path]:
    """A TensorFlow module with variables exported as a SavedModel (its signature `serving_default`)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    rng = np.random.default_rng(1)

    class Regressor(tf.Module):
        def __init__(self):
            super().__init__()
            self.hidden = tf.Variable(rng.standard_normal((8, 16)).astype(np.float32) / 3, name="hidden")
            self.head = tf.Variable(rng.standard_normal((16, 2)).astype(np.float32) / 4, name="head")

        @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.float32, name="x")])
        def __call__(self, x):
            return {"y": tf.matmul(tf.nn.gelu(tf.matmul(x, self.hidden)), self.head)}

    module = Regressor()
    target = folder / "regressor_savedmodel"
    tf.saved_model.save(module, str(target), signatures={"serving_default": module.__call__})
    return sorted(p for p in target.rglob("*") if p.is_file())


TFLITE_INT8_MANIFEST = """\
# Validation of cnn_int8.tflite: int8 inside, float32 at its input and output. The IR rounds onto each
# tensor's grid as TFLite's kernels do, but where TFLite rounds a product twice the IR may land one
# step away: each output may differ from the interpreter's by one step of its grid ({step:.6g}).
tolerances: {{fp32: {{rtol: 0.0, atol: {atol:.6g}}}, fp16: {{rtol: 0.0, atol: {atol:.6g}}}}}
"""


def _dequantized_output_step(path: Path) -> float:
    """The scale of the int8 tensor the model's (single) output DEQUANTIZEs."""
    from converter.frontends.tflite import load_tflite

    model, _ = load_tflite(path)
    graph = model.subgraphs[0]
    (output,) = graph.outputs
    (producer,) = [op for op in graph.operators if output in op.outputs]
    assert model.operator_codes[producer.opcode_index].name == "DEQUANTIZE"
    return float(graph.tensors[producer.inputs[0]].quantization.scale[0])


def write_tflite(folder: Path) -> list[Path]:
    """A small Keras CNN as .tflite files from TensorFlow's converter: float32, and int8 with float I/O."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    image = keras.Input((16, 16, 3), batch_size=1, name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(image)
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 1, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(image, keras.layers.Dense(5, activation="softmax", name="scores")(x), name="tflite_cnn")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cnn_float.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    samples = [[np.random.default_rng(seed).random((1, 16, 16, 3), dtype=np.float32)] for seed in range(32)]
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: iter(samples)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    (folder / "cnn_int8.tflite").write_bytes(converter.convert())
    step = _dequantized_output_step(folder / "cnn_int8.tflite")
    (folder / "cnn_int8.yaml").write_text(TFLITE_INT8_MANIFEST.format(step=step, atol=step * 1.001))
    return [folder / "cnn_float.tflite", folder / "cnn_int8.tflite", folder / "cnn_int8.yaml"]


def main() -> None:
    shutil.rmtree(ZOO, ignore_errors=True)  # every file of the zoo is written below: nothing stale stays
    written = write_onnx(ZOO)
    written += write_digits(ZOO / "digits")
    written += write_external(ZOO / "external")
    written += write_ir(ZOO / "ir")
    written += write_broken(ZOO / "broken")
    written += write_kaldi(ZOO / "kaldi")
    written += write_caffe(ZOO / "caffe")
    written += write_mxnet(ZOO / "mxnet")
    written += write_keras(ZOO / "keras")
    written += write_frozen_graph(ZOO / "tensorflow")
    written += write_saved_model(ZOO / "tensorflow")
    written += write_tflite(ZOO / "tflite")
    for path in sorted(written):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    print(f"total: {sum(path.stat().st_size for path in written):,} bytes")


if __name__ == "__main__":
    main()
