"""Frontends: each reads one framework's files into an IR graph.

Every frontend plugs into the same places, listed here by hand: format detection
(`detect_format`), a reference runner that executes the source model in its own framework
for validation (`reference_runner`), and the size of the source files (`source_bytes`).
Discovery in the zoo (`converter.zoo.find_models`) uses `detect_format` too.
"""

from __future__ import annotations

import os
from pathlib import Path

from converter.errors import InvalidModelError, NoReferenceError
from converter.frontends.options import FrontendOptions

SUFFIXES = {
    ".onnx": "onnx",
    ".xml": "ir",
    ".pb": "tensorflow",
    ".pbtxt": "tensorflow",
    ".keras": "keras",
    ".h5": "keras",
    ".hdf5": "keras",
    ".tflite": "tflite",
    ".mdl": "kaldi",
    ".raw": "kaldi",
    ".nnet": "kaldi",
    ".caffemodel": "caffe",
    ".prototxt": "caffe",
}
NO_REFERENCE = {
    "kaldi": "no runnable Kaldi reference (Kaldi does not install with pip)",
    "mxnet": "no runnable MXNet reference (mxnet 1.9, the last release, needs NumPy < 1.24: it does not import beside irforge)",
}
"""Formats whose framework cannot run here: `reference_runner` raises NoReferenceError for them."""
SUPPORTED = "supported: .onnx, OpenVINO IR .xml, TensorFlow SavedModel folders and frozen .pb/.pbtxt, Keras .keras/.h5, TFLite .tflite, Kaldi .mdl/.raw/.nnet, Caffe .caffemodel/.prototxt, MXNet NAME-symbol.json + NAME-NNNN.params"

FRAMEWORKS = {
    "onnx": "onnx",
    "ir": "ir",
    "tensorflow": "tensorflow",
    "savedmodel": "savedmodel",
    "keras": "keras",
    "tflite": "tflite",
    "kaldi": "kaldi",
    "caffe": "caffe",
    "mxnet": "mxnet",
}
"""`--framework NAME` → the frontend that reads the model, whatever its file is called."""


def detect_format(path: str | os.PathLike[str], framework: str | None = None) -> str:
    """The frontend that reads `path`: "onnx", "ir", "tensorflow" (a frozen GraphDef), "savedmodel"
    (a folder with saved_model.pb), "keras", "tflite" or "kaldi" (nnet1 or nnet3, told apart by the
    Kaldi frontend from the file's first tokens).
    "caffe" is a .caffemodel or its .prototxt (also .prototxt.txt). `framework` (--framework, a
    key of FRAMEWORKS) overrides what the file name says. "mxnet" is a checkpoint's NAME-symbol.json
    or one of its NAME-NNNN.params.
    Raises InvalidModelError saying what is wrong."""
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if path.name.lower().endswith(".prototxt.txt"):
        kind = "caffe"
    if _is_mxnet_name(path):
        kind = "mxnet"
    if not path.exists():
        raise InvalidModelError(f"{path}: no such file")
    if framework is not None:
        if framework not in FRAMEWORKS:
            raise InvalidModelError(f"--framework {framework}: one of {', '.join(FRAMEWORKS)}")
        return FRAMEWORKS[framework]
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return "savedmodel"
        raise InvalidModelError(f"{path}: is a directory, not a model file or a SavedModel ({SUPPORTED})")
    if kind is None:
        raise InvalidModelError(f"{path}: unknown model format ({SUPPORTED})")
    return kind


def _is_mxnet_name(path: Path) -> bool:
    if not path.name.lower().endswith((".json", ".params")):  # every other model skips the MXNet frontend's import
        return False
    from converter.frontends.mxnet import is_params_file, is_symbol_file

    return is_symbol_file(path) or is_params_file(path)


def reference_runner(path: str | os.PathLike[str], options: FrontendOptions | None = None):
    """The source model run in its own framework: the yardstick validation compares IRs with.
    `options` are those the model was converted with (the same signature, inputs and outputs).
    Raises NoReferenceError for a format in NO_REFERENCE."""
    options = options or FrontendOptions()
    kind = detect_format(path, options.framework)
    if kind in NO_REFERENCE:
        raise NoReferenceError(f"{path}: {NO_REFERENCE[kind]}")
    runner = _source_runner(path, kind, options)
    if not options.prepares():
        return runner
    from converter.prepare.reference import PreparedReference
    from converter.prepare.request import preparation_of

    # a GraphDef's reference is fed and read at the named tensors itself: cuts validate there
    return PreparedReference(runner, preparation_of(options), os.fspath(path), cuts_supported=kind == "tensorflow")


def _source_runner(path: str | os.PathLike[str], kind: str, options: FrontendOptions):
    if kind == "onnx":
        from converter.frontends.onnx.reference import OnnxReference

        return OnnxReference(path)
    if kind == "tensorflow":
        from converter.frontends.tensorflow.reference import GraphDefReference

        return GraphDefReference(path, options.input_names(), options.outputs)
    if kind == "savedmodel":
        from converter.frontends.tensorflow.reference import SavedModelReference

        return SavedModelReference(path, options.signature)
    if kind == "keras":
        from converter.frontends.keras.reference import KerasReference

        return KerasReference(path, trusted=options.keras_trace)
    if kind == "tflite":
        from converter.frontends.tflite.reference import TFLiteReference

        return TFLiteReference(path)
    if kind == "caffe":
        from converter.frontends.caffe.reference import CaffeReference

        return CaffeReference(path, options.prototxt, options.caffe_random_weights)
    from converter.validate.runners import IrRunner, openvino_available

    return IrRunner(path, "openvino" if openvino_available() else "onnxruntime")


def source_bytes(path: str | os.PathLike[str], framework: str | None = None) -> int:
    """Bytes of everything the model is made of (external data and folders included)."""
    path = Path(path)
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    kind = detect_format(path, framework)
    if kind == "caffe":
        from converter.frontends.caffe import source_files

        return sum(f.stat().st_size for f in source_files(path))
    if kind == "mxnet":
        from converter.frontends.mxnet import source_files as mxnet_files

        return sum(f.stat().st_size for f in mxnet_files(path))
    if kind == "onnx":
        from converter.frontends.onnx.reference import source_bytes as onnx_bytes

        return onnx_bytes(path)
    weights = path.with_suffix(".bin")
    return path.stat().st_size + (weights.stat().st_size if kind == "ir" and weights.is_file() else 0)

