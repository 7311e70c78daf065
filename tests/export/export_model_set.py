"""The model set `irforge export-onnx` is checked on: every builder of tests/models.py and
tests/sized_models.py, and every model of the example zoo (examples/zoo/, the broken one aside),
each converted by irforge first. Sources are built lazily: a name maps to a function giving
something `convert_model` takes (an onnx.ModelProto or a path) and optional input shapes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import models
import sized_models

ZOO = Path(__file__).resolve().parents[2] / "examples" / "zoo"

BUILDERS: dict[str, Callable[[], Any]] = {
    "tiny_add_relu": models.tiny_add_relu,
    "cnn": models.cnn,
    "cnn_dynamic_batch": lambda: models.cnn(batch="N"),
    "depthwise_net": models.depthwise_net,
    "transformer": models.transformer,
    "lstm_bidirectional": lambda: models.recurrent("LSTM"),
    "gru_reverse": lambda: models.recurrent("GRU", "reverse"),
    "resnet": models.resnet,
    "mobilenet_v3": models.mobilenet_v3,
    "bert": models.bert,
    "fpn_unet": sized_models.fpn_unet,
    "yolo_head": sized_models.yolo_head,
    "reflect_pad_1d": sized_models.reflect_pad_1d,
    "transformer_int64_ids": sized_models.transformer_int64_ids,
    "digits_cnn": lambda: sized_models.digits_cnn()[0],
}
"""`models.with_unknown_ops` is left out: it is built not to convert."""

ZOO_MODELS: dict[str, str] = {
    "zoo/classifiers/cnn_classifier": "classifiers/cnn_classifier.onnx",
    "zoo/classifiers/mobilenet_v3_small": "classifiers/mobilenet_v3_small.onnx",
    "zoo/classifiers/resnet_small": "classifiers/resnet_small.onnx",
    "zoo/detectors/yolo_head": "detectors/yolo_head.onnx",
    "zoo/digits/digits_cnn": "digits/digits_cnn.onnx",
    "zoo/external/resnet_external": "external/resnet_external.onnx",
    "zoo/ir/cnn_ir": "ir/cnn_ir.xml",
    "zoo/nlp/bert_tiny": "nlp/bert_tiny.onnx",
    "zoo/sequence/lstm_bidirectional": "sequence/lstm_bidirectional.onnx",
    "zoo/caffe/classifier": "caffe/classifier.prototxt",
    "zoo/kaldi/tdnn": "kaldi/tdnn.mdl",
    "zoo/mxnet/digits": "mxnet/digits-symbol.json",
    "zoo/keras/keras_cnn.keras": "keras/keras_cnn.keras",
    "zoo/keras/keras_cnn.h5": "keras/keras_cnn.h5",
    "zoo/tensorflow/mlp_frozen": "tensorflow/mlp_frozen.pb",
    "zoo/tensorflow/regressor_savedmodel": "tensorflow/regressor_savedmodel",
    "zoo/tflite/cnn_float": "tflite/cnn_float.tflite",
    "zoo/tflite/cnn_int8": "tflite/cnn_int8.tflite",
}


def source_of(name: str) -> Any:
    if name in BUILDERS:
        return BUILDERS[name]()
    return ZOO / ZOO_MODELS[name]


ALL_NAMES = sorted(BUILDERS) + sorted(ZOO_MODELS)
