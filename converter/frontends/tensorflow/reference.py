"""The TensorFlow reference runner: TensorFlow itself runs the source graph (validation only)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from converter.errors import InvalidModelError
from converter.validate.inputs import TensorSpec

NOT_OUTPUTS = ("NoOp", "Assert", "SaveV2", "RestoreV2", "MergeV2Checkpoints")


class GraphDefReference:
    """A frozen GraphDef (.pb / .pbtxt) imported into a TF1-style session. Inputs are its
    Placeholders, outputs every output of the nodes nobody reads (as the frontend picks them)."""

    label = "tensorflow"

    def __init__(self, path: str | os.PathLike[str], inputs: Sequence[str] = (), outputs: Sequence[str] = ()):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        # TensorFlow's oneDNN kernels announce themselves on stderr and reorder float sums; the
        # reference answer is better without them.
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        try:
            import tensorflow as tf
        except ImportError:
            raise InvalidModelError(f"{path}: validating a TensorFlow model needs TensorFlow: pip install 'irforge[tensorflow]'") from None
        from google.protobuf import text_format

        path = Path(path)
        graph_def = tf.compat.v1.GraphDef()
        if path.suffix.lower() in (".pbtxt", ".txt"):
            text_format.Parse(path.read_text(), graph_def)
        else:
            graph_def.ParseFromString(path.read_bytes())
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.compat.v1.import_graph_def(graph_def, name="")
        operations = self.graph.get_operations()
        # As the frontend picks them: a node read only through a control input counts as read,
        # and unread constants and placeholders are not outputs.
        consumed = {tensor.op.name for op in operations for tensor in op.inputs}
        consumed |= {control.name for op in operations for control in op.control_inputs}
        if inputs:
            self._placeholders = [self._tensor(path, name) for name in inputs]
        else:
            self._placeholders = [op.outputs[0] for op in operations if op.type == "Placeholder"]
        skipped = (*NOT_OUTPUTS, "Const", "Placeholder", "PlaceholderWithDefault")
        if outputs:
            self._fetches = [self._tensor(path, name) for name in outputs]
        else:
            self._fetches = [t for op in operations if op.name not in consumed and op.type not in skipped for t in op.outputs]
        self.node_count = len(operations)
        self.session = tf.compat.v1.Session(graph=self.graph)

    def _tensor(self, path: Path, reference: str):
        name = reference if ":" in reference else f"{reference}:0"
        try:
            return self.graph.get_tensor_by_name(name)
        except (KeyError, ValueError):
            raise InvalidModelError(f"{path}: {reference!r} is not a tensor of the graph") from None

    def input_specs(self) -> list[TensorSpec]:
        return [_spec(tensor, tensor.op.name) for tensor in self._placeholders]

    def output_specs(self) -> list[TensorSpec]:
        return [_spec(tensor, tensor.name) for tensor in self._fetches]

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        values = {tensor: feeds[tensor.op.name] for tensor in self._placeholders}
        return [np.asarray(x) for x in self.session.run(self._fetches, feed_dict=values)]


def _spec(tensor, name: str) -> TensorSpec:
    shape = tensor.shape
    dims = None if shape.rank is None else tuple(shape.as_list())
    return TensorSpec(name, np.dtype(tensor.dtype.as_numpy_dtype), dims)


class SavedModelReference:
    """A SavedModel's `serving_default` signature, run by TensorFlow (TF1-style exports, which
    TF 2's loader may reject, through `tf.compat.v1.saved_model.loader`)."""

    label = "tensorflow"

    def __init__(self, path: str | os.PathLike[str], signature: str | None = None):
        signature = signature or "serving_default"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        try:
            import tensorflow as tf
        except ImportError:
            raise InvalidModelError(f"{path}: validating a TensorFlow model needs TensorFlow: pip install 'irforge[tensorflow]'") from None
        try:
            self._signature: _Signature = _LoadedSignature(tf, os.fspath(path), signature)
        except Exception as error:  # TensorFlow raises many kinds for what it cannot load
            # SavedModels written by older TF 2.x ('_UserObject' has no attribute 'add_slot'): TF1's loader reads them.
            try:
                self._signature = _SessionSignature(tf, os.fspath(path), signature)
            except Exception:
                raise InvalidModelError(f"{path}: TensorFlow cannot load the SavedModel's {signature!r} signature: {error}") from None
        self._inputs = sorted(self._signature.inputs, key=lambda spec: spec.name)
        self._outputs = sorted(self._signature.outputs, key=lambda spec: spec.name)
        self.node_count = self._signature.node_count

    def input_specs(self) -> list[TensorSpec]:
        return list(self._inputs)

    def output_specs(self) -> list[TensorSpec]:
        return list(self._outputs)

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        answers = self._signature.run({spec.name: feeds[spec.name] for spec in self._inputs})
        return [np.asarray(answers[spec.name]) for spec in self._outputs]


class _Signature(Protocol):
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    node_count: int

    def run(self, feeds: Mapping[str, np.ndarray]) -> Mapping[str, Any]: ...


class _LoadedSignature:
    """The signature as a concrete function of `tf.saved_model.load`."""

    def __init__(self, tf: Any, path: str, signature: str):
        self.function = tf.saved_model.load(path).signatures[signature]
        inputs = self.function.structured_input_signature[1]
        outputs = self.function.structured_outputs
        self.inputs = [_signature_spec(key, inputs[key]) for key in inputs]
        self.outputs = [_signature_spec(key, outputs[key]) for key in outputs]
        self.node_count = len(self.function.graph.get_operations())
        self._tf = tf

    def run(self, feeds: Mapping[str, np.ndarray]) -> Mapping[str, Any]:
        return self.function(**{name: self._tf.constant(value) for name, value in feeds.items()})


class _SessionSignature:
    """The signature's tensors in a TF1 session holding the `serve` MetaGraph, variables restored."""

    def __init__(self, tf: Any, path: str, signature: str):
        graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=graph)
        logger = tf.get_logger()
        level = logger.level
        logger.setLevel("ERROR")  # the loader's deprecation notice
        try:
            meta_graph = tf.compat.v1.saved_model.loader.load(self.session, [tf.saved_model.SERVING], path)
        finally:
            logger.setLevel(level)
        definition = meta_graph.signature_def[signature]
        self.inputs = [_tensor_info_spec(tf, key, info) for key, info in definition.inputs.items()]
        self.outputs = [_tensor_info_spec(tf, key, info) for key, info in definition.outputs.items()]
        self._feeds = {key: info.name for key, info in definition.inputs.items()}
        self._fetches = {key: info.name for key, info in definition.outputs.items()}
        self.node_count = len(graph.get_operations())

    def run(self, feeds: Mapping[str, np.ndarray]) -> Mapping[str, Any]:
        return self.session.run(self._fetches, feed_dict={self._feeds[name]: value for name, value in feeds.items()})


def _signature_spec(key: str, spec) -> TensorSpec:
    dims = None if spec.shape.rank is None else tuple(spec.shape.as_list())
    return TensorSpec(key, np.dtype(spec.dtype.as_numpy_dtype), dims)


def _tensor_info_spec(tf: Any, key: str, info: Any) -> TensorSpec:
    shape = info.tensor_shape
    dims = None if shape.unknown_rank else tuple(d.size if d.size >= 0 else None for d in shape.dim)
    return TensorSpec(key, np.dtype(tf.as_dtype(info.dtype).as_numpy_dtype), dims)
