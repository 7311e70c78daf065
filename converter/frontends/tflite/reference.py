"""The TFLite reference runner: a TFLite interpreter runs the source model (validation only).

LiteRT's `ai_edge_litert.interpreter.Interpreter` when installed (pip install 'irforge[tflite]'),
else TensorFlow's `tf.lite.Interpreter`. Either is imported only when a runner is made.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from converter.errors import InvalidModelError
from converter.validate.inputs import TensorSpec


def interpreter() -> tuple[Any, Any] | None:
    """The Interpreter class and the op resolver that runs TFLite's own kernels, without delegates."""
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        return Interpreter, OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    except ImportError:
        pass
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as tf
    except ImportError:
        return None
    return tf.lite.Interpreter, tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES


class TFLiteReference:
    """The model's subgraph 0 in a TFLite interpreter. Inputs and outputs are named by their
    tensor names, as the IR's are; inputs of another shape than the last run resize the model.

    TFLite's builtin kernels run, not the XNNPACK delegate the interpreter applies by default:
    they define the ops (XNNPACK's integer kernels round some averages differently)."""

    label = "tflite"

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        found = interpreter()
        if found is None:
            raise InvalidModelError(f"{self.path}: validating a TFLite model needs a TFLite interpreter: pip install 'irforge[tflite]'")
        interpreter_class, kernels = found
        try:
            self.interpreter = interpreter_class(model_path=os.fspath(self.path), experimental_op_resolver_type=kernels)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:  # the interpreter's errors for files it cannot load
            reason = " ".join(str(error).split())
            raise InvalidModelError(f"{self.path}: the TFLite interpreter cannot load the model: {reason}") from None
        self._inputs = self.interpreter.get_input_details()
        self._outputs = self.interpreter.get_output_details()
        self.node_count = _operator_count(self.path)

    def input_specs(self) -> list[TensorSpec]:
        return [_spec(detail) for detail in self._inputs]

    def output_specs(self) -> list[TensorSpec]:
        return [_spec(detail) for detail in self._outputs]

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        arrays = [np.asarray(feeds[detail["name"]], dtype=detail["dtype"]) for detail in self._inputs]
        current = self.interpreter.get_input_details()
        if any(tuple(array.shape) != tuple(detail["shape"]) for array, detail in zip(arrays, current)):
            for array, detail in zip(arrays, self._inputs):
                self.interpreter.resize_tensor_input(detail["index"], list(array.shape))
            self.interpreter.allocate_tensors()
        # Recurrent kernels write their last states into variable tensors: every run starts
        # from the zeros the IR starts from.
        self.interpreter.reset_all_variables()
        for array, detail in zip(arrays, self._inputs):
            self.interpreter.set_tensor(detail["index"], array)
        self.interpreter.invoke()
        return [np.array(self.interpreter.get_tensor(detail["index"])) for detail in self._outputs]


def _spec(detail: Mapping[str, Any]) -> TensorSpec:
    signature = detail.get("shape_signature")
    dims = signature if signature is not None and len(signature) == len(detail["shape"]) else detail["shape"]
    return TensorSpec(detail["name"], np.dtype(detail["dtype"]), tuple(None if d < 0 else int(d) for d in dims))


def _operator_count(path: Path) -> int | None:
    from converter.frontends.tflite.schema import FlatbufferError, map_file, parse_model

    try:
        return len(parse_model(map_file(path)).subgraphs[0].operators)
    except FlatbufferError:
        return None
