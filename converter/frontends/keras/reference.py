"""The Keras reference runner: Keras itself runs the source model (validation only; the frontend never imports it)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from converter.errors import InvalidModelError
from converter.validate.inputs import TensorSpec


class KerasReference:
    """`keras.saving.load_model(path, compile=False)` run in inference mode. Inputs and outputs are named like
    the model's input and output layers, as the IR's are."""

    label = "keras"

    def __init__(self, path: str | os.PathLike[str], trusted: bool = False):
        """`trusted`: the user vouches for the file, so Keras may run Python code it carries (a `Lambda`)."""
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # the reference sums in a fixed order
        try:
            import keras
        except ImportError:
            raise InvalidModelError(f"{path}: validating a Keras model needs Keras: pip install 'irforge[tensorflow]'") from None
        self.path = Path(path)
        try:
            self.model = keras.saving.load_model(self.path, compile=False, safe_mode=not trusted)
        except Exception as error:  # Keras raises ValueError, TypeError, OSError… for files it cannot rebuild
            reason = " ".join(str(error).split())
            raise InvalidModelError(f"{self.path}: Keras cannot load the model: {type(error).__name__}: {reason}") from None
        self.node_count = len(self.model.layers)

    def input_specs(self) -> list[TensorSpec]:
        return [_spec(tensor) for tensor in self.model.inputs]

    def output_specs(self) -> list[TensorSpec]:
        return [_spec(tensor) for tensor in self.model.outputs]

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        inputs = [np.asarray(feeds[spec.name]) for spec in self.input_specs()]
        result = self.model(inputs if len(inputs) > 1 else inputs[0], training=False)
        results = result if isinstance(result, (list, tuple)) else [result]
        return [np.asarray(r) for r in results]


def _spec(tensor) -> TensorSpec:
    history = getattr(tensor, "_keras_history", None)
    name = history[0].name if history is not None else tensor.name
    dims = None if tensor.shape is None else tuple(tensor.shape)
    return TensorSpec(name, np.dtype(str(tensor.dtype)), dims)
