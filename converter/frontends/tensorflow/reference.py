"""The TensorFlow reference runner: TensorFlow itself runs the source graph (validation only)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

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
            self.function = tf.saved_model.load(os.fspath(path)).signatures[signature]
        except Exception as error:  # TensorFlow raises many kinds for what it cannot load
            raise InvalidModelError(f"{path}: TensorFlow cannot load the SavedModel's {signature!r} signature: {error}") from None
        inputs = self.function.structured_input_signature[1]
        outputs = self.function.structured_outputs
        self._inputs = [_signature_spec(key, inputs[key]) for key in sorted(inputs)]
        self._outputs = [_signature_spec(key, outputs[key]) for key in sorted(outputs)]
        self.node_count = len(self.function.graph.get_operations())
        self._tf = tf

    def input_specs(self) -> list[TensorSpec]:
        return list(self._inputs)

    def output_specs(self) -> list[TensorSpec]:
        return list(self._outputs)

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        answers = self.function(**{spec.name: self._tf.constant(feeds[spec.name]) for spec in self._inputs})
        return [np.asarray(answers[spec.name]) for spec in self._outputs]


def _signature_spec(key: str, spec) -> TensorSpec:
    dims = None if spec.shape.rank is None else tuple(spec.shape.as_list())
    return TensorSpec(key, np.dtype(spec.dtype.as_numpy_dtype), dims)
