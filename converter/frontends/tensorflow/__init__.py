"""The TensorFlow frontend: frozen GraphDefs (`.pb`, `.pbtxt`) and SavedModel directories → IR
graph, without TensorFlow.

The protobuf schemas are built in `protos.py`, tensor bundles are read by `bundle.py`,
SavedModels by `saved_model.py`; TensorFlow itself is never imported (it is the reference
runtime in tests and validation).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError
from google.protobuf.text_format import ParseError

from converter.errors import InvalidModelError
from converter.ir.graph import Graph

TEXT_SUFFIXES = (".pbtxt", ".txt")


def load_graphdef(path_or_bytes: str | os.PathLike[str] | bytes) -> tuple[Any, str]:
    """A GraphDef message and the name errors use for its source."""
    from converter.frontends.tensorflow.protos import GraphDef, parse_text

    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data, source, text = bytes(path_or_bytes), "<GraphDef bytes>", False
    else:
        path = Path(path_or_bytes)
        source = os.fspath(path)
        if not path.is_file():
            raise InvalidModelError(f"{source}: no such file")
        data, text = path.read_bytes(), path.suffix.lower() in TEXT_SUFFIXES
    if text:
        try:
            return parse_text(data.decode("utf-8"), GraphDef()), source
        except (ParseError, UnicodeDecodeError) as error:
            raise InvalidModelError(f"{source}: not a text GraphDef ({error})") from None
    try:
        graph_def = GraphDef.FromString(data)
    except DecodeError as error:
        raise InvalidModelError(f"{source}: not a GraphDef, or truncated ({error})") from None
    return graph_def, source


def convert_graphdef(
    path_or_bytes: str | os.PathLike[str] | bytes,
    inputs: list[str] | None = None,
    outputs: list[str] | None = None,
) -> Graph:
    """A frozen GraphDef (binary `.pb`, text `.pbtxt`, or serialized bytes) as an IR graph.

    `inputs` names the Placeholder nodes that become graph inputs, in that order (by default
    every Placeholder the outputs need; a PlaceholderWithDefault is an input only when named);
    `outputs` names the output tensors (`node` or `node:index`; by default the nodes nobody reads).
    """
    from converter.frontends.tensorflow.graph import convert_graph_def
    from converter.frontends.tensorflow.ops import HANDLERS

    graph_def, source = load_graphdef(path_or_bytes)
    name = Path(source).stem if not source.startswith("<") else "model"
    return convert_graph_def(graph_def, source, HANDLERS, inputs, outputs, name=name)


def convert_saved_model(path: str | os.PathLike[str], signature: str | None = None, tags: tuple[str, ...] = ("serve",)) -> Graph:
    """A SavedModel directory's signature (default `serving_default`) as an IR graph (see saved_model.py)."""
    from converter.frontends.tensorflow.saved_model import convert_saved_model as convert

    return convert(path, signature, tags)
