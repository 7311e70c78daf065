"""The Keras reference runner: Keras itself loads the source file and runs it (validation only)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from converter.errors import InvalidModelError
from converter.validate.inputs import TensorSpec


class KerasReference:
    """`keras.models.load_model(path, compile=False)` (Keras 3 reads Keras 2 `.h5` files too)."""

    label = "keras"

    def __init__(self, path: str | os.PathLike[str]):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        # TensorFlow's oneDNN kernels announce themselves on stderr and reorder float sums; the
        # reference answer is better without them.
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        try:
            import keras
        except ImportError:
            raise InvalidModelError(f"{path}: validating a Keras model needs Keras: pip install 'irforge[tensorflow]'") from None
        try:
            self.model = keras.models.load_model(os.fspath(path), compile=False)
        except Exception as error:  # Keras raises many kinds for files it cannot load
            raise InvalidModelError(f"{path}: Keras cannot load the source model: {error}") from None
        self.node_count = len(self.model.layers)
        self._inputs = [_spec(tensor.name, tensor) for tensor in self.model.inputs]
        names = list(getattr(self.model, "output_names", None) or [t.name for t in self.model.outputs])
        self._outputs = [_spec(name, tensor) for name, tensor in zip(names, self.model.outputs)]

    def input_specs(self) -> list[TensorSpec]:
        return list(self._inputs)

    def output_specs(self) -> list[TensorSpec]:
        return list(self._outputs)

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        arrays = [feeds[spec.name] for spec in self._inputs]
        outputs = self.model(arrays if len(arrays) > 1 else arrays[0], training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return [np.asarray(output) for output in outputs]


def _spec(name: str, tensor) -> TensorSpec:
    return TensorSpec(name, np.dtype(str(tensor.dtype)), tuple(tensor.shape))
