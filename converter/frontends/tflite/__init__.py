"""The TFLite frontend: `.tflite` flatbuffers → IR graph, without TensorFlow.

schema.py reads the flatbuffer in place (memory-mapped, bounds-checked), tensors.py turns
tensors into IR values (quantization, float16, sparsity), model.py walks subgraph 0's operators
and ops/<family>.py holds one handler per builtin op. The TFLite interpreter is only the
reference runtime (reference.py), in tests and validation.
"""

from __future__ import annotations

import os
from pathlib import Path

from converter.errors import InvalidModelError
from converter.ir.graph import Graph


def load_tflite(path_or_bytes: str | os.PathLike[str] | bytes):
    """The parsed Model and the name errors use for its source."""
    from converter.frontends.tflite.schema import FlatbufferError, map_file, parse_model

    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data, source = bytes(path_or_bytes), "<TFLite bytes>"
    else:
        source = os.fspath(path_or_bytes)
        if not Path(source).is_file():
            raise InvalidModelError(f"{source}: no such file")
        data = map_file(source)
    try:
        return parse_model(data), source
    except FlatbufferError as error:
        raise InvalidModelError(f"{source}: not a TFLite model, or truncated ({error})") from None


def convert_tflite(path_or_bytes: str | os.PathLike[str] | bytes) -> Graph:
    """A `.tflite` model (a path or its bytes) as an IR graph: subgraph 0, inputs and outputs
    named by their tensor names (and their signature names, when the model has a signature)."""
    from converter.frontends.tflite.model import convert_model
    from converter.frontends.tflite.ops import GRID_PRESERVING, HANDLERS
    from converter.frontends.tflite.schema import FlatbufferError

    model, source = load_tflite(path_or_bytes)
    name = Path(source).stem if not source.startswith("<") else "model"
    try:
        return convert_model(model, source, HANDLERS, GRID_PRESERVING, name=name)
    except FlatbufferError as error:
        raise InvalidModelError(f"{source}: {error}") from None
