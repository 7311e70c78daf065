"""Seeds: small valid models of every format irforge reads, from the example zoo and the tests'
own writers, each as a set of files (relative path → bytes) and the entry the converter is given."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
ZOO = REPO / "examples" / "zoo"
for helper_folder in (TESTS, TESTS / "frontends" / "kaldi", TESTS / "frontends" / "mxnet"):
    if str(helper_folder) not in sys.path:
        sys.path.append(str(helper_folder))


@dataclass(frozen=True)
class Seed:
    name: str
    files: dict[str, bytes]
    entry: str  # a file of `files`, or "." for the folder (a SavedModel)


def _zoo(*names: str, entry: str | None = None, rename: dict[str, str] | None = None) -> Seed:
    rename = rename or {}
    files = {rename.get(n, Path(n).name): (ZOO / n).read_bytes() for n in names}
    return Seed(names[0], files, entry or rename.get(names[0], Path(names[0]).name))


def _folder(name: str) -> Seed:
    root = ZOO / name
    files = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    return Seed(name, files, ".")


def onnx_seeds() -> list[Seed]:
    import models
    import onnx
    from onnx import TensorProto, helper

    seeds = [
        _zoo("classifiers/cnn_classifier.onnx"),
        _zoo("digits/digits_cnn.onnx"),
        _zoo("sequence/lstm_bidirectional.onnx"),
        _zoo("external/resnet_external.onnx", "external/resnet_external.weights"),
        Seed("transformer", {"model.onnx": models.transformer(d=16, heads=2, ffn=32, vocab=20).SerializeToString()}, "model.onnx"),
    ]
    # A local function (domain "local") called by the graph: the seed of the self-reference mutations.
    body = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "x"], ["y"])]
    function = helper.make_function("local", "ReluPlus", ["x"], ["y"], body, [helper.make_opsetid("", 17)])
    graph = helper.make_graph(
        [helper.make_node("ReluPlus", ["input"], ["mid"], domain="local"), helper.make_node("Mul", ["mid", "scale"], ["output"])],
        "local_function",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor("scale", TensorProto.FLOAT, [4], np.arange(4, dtype=np.float32))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)], functions=[function])
    model.ir_version = 8
    onnx.checker.check_model(model)
    seeds.append(Seed("local_function", {"model.onnx": model.SerializeToString()}, "model.onnx"))
    return seeds


def kaldi_seeds() -> list[Seed]:
    from kaldi_reference import Activation, Affine, AffineTransform, Nnet3Model, Nonlinear
    from kaldi_writer import nnet1_bytes, nnet3_bytes

    rng = np.random.default_rng(0)
    model = Nnet3Model({"input": 5})
    model.component("affine", Affine(rng.standard_normal((6, 5)), rng.standard_normal(6)), "input")
    model.component("relu", Nonlinear("RectifiedLinearComponent", 6), "affine")
    model.output("output", "relu")
    nnet1 = [AffineTransform(rng.standard_normal((6, 5)), rng.standard_normal(6)), Activation("Sigmoid", 6), Activation("Softmax", 6)]
    return [
        _zoo("kaldi/tdnn.mdl"),
        Seed("nnet3 binary", {"final.raw": nnet3_bytes(model, True)}, "final.raw"),
        Seed("nnet3 text", {"final.raw": nnet3_bytes(model, False)}, "final.raw"),
        Seed("nnet1 binary", {"final.nnet": nnet1_bytes(nnet1, True)}, "final.nnet"),
        Seed("nnet1 text", {"final.nnet": nnet1_bytes(nnet1, False)}, "final.nnet"),
    ]


def graphdef_seeds() -> list[Seed]:
    from google.protobuf import text_format

    from converter.frontends.tensorflow.protos import message_class

    frozen = (ZOO / "tensorflow/mlp_frozen.pb").read_bytes()
    text = text_format.MessageToString(message_class("GraphDef").FromString(frozen)).encode()
    return [_zoo("tensorflow/mlp_frozen.pb"), Seed("mlp text", {"mlp.pbtxt": text}, "mlp.pbtxt")]


def manifest_seeds() -> list[Seed]:
    return [
        _zoo("digits/digits_cnn.yaml", "digits/heldout.npz"),
        _zoo("kaldi/tdnn.yaml"),
        _zoo("tflite/cnn_int8.yaml"),
        Seed(
            "full manifest",
            {
                "model.yaml": b"inputs: {image: [1, 1, 8, 8]}\ndata: heldout.npz\nlabels: labels\nmetric: top5\noutput: logits\n"
                b"samples: 100\nbatch_size: 16\ntolerances: {fp32: {rtol: 1.0e-4, atol: 1.0e-5}}\n"
                b"frontend: {input_layout: nchw}\ncalibration: {images: calib, size: [8, 8], mean: [0.5], std: [0.25], layout: nchw, samples: 8}\n"
            },
            "model.yaml",
        ),
    ]


SEEDS = {
    "onnx": onnx_seeds,
    "ir": lambda: [_zoo("ir/cnn_ir.xml", "ir/cnn_ir.bin")],
    "savedmodel": lambda: [_folder("tensorflow/regressor_savedmodel")],
    "graphdef": graphdef_seeds,
    "keras": lambda: [_zoo("keras/keras_cnn.keras")],
    "h5": lambda: [_zoo("keras/keras_cnn.h5")],
    "tflite": lambda: [_zoo("tflite/cnn_float.tflite"), _zoo("tflite/cnn_int8.tflite")],
    "caffe": lambda: [
        _zoo("caffe/classifier.caffemodel", "caffe/classifier.prototxt"),
        _zoo("caffe/classifier.prototxt", "caffe/classifier.caffemodel"),
    ],
    "mxnet": lambda: [_zoo("mxnet/digits-symbol.json", "mxnet/digits-0030.params")],
    "kaldi": kaldi_seeds,
    "manifest": manifest_seeds,
    "config": lambda: [Seed("default.yaml", {"pipeline.yaml": (REPO / "configs/default.yaml").read_bytes()}, "pipeline.yaml")],
}
FORMATS = tuple(SEEDS)


@functools.cache
def seeds(fmt: str) -> tuple[Seed, ...]:
    return tuple(SEEDS[fmt]())
