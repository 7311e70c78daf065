"""Load an ONNX model from disk (with external data) and check its structure."""

from __future__ import annotations

import os
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from converter.errors import InvalidModelError


def load_onnx(path: str | os.PathLike[str]) -> onnx.ModelProto:
    path = Path(path)
    if not path.is_file():
        raise InvalidModelError(f"{path}: no such file")
    try:
        model = onnx.load(os.fspath(path), load_external_data=False)
    except (DecodeError, RuntimeWarning, ValueError, UnicodeDecodeError) as error:
        raise InvalidModelError(f"{path}: not a valid ONNX file (truncated or garbage?): {error}") from None
    check_structure(model, str(path))
    try:
        onnx.external_data_helper.load_external_data_for_model(model, os.fspath(path.parent))
    except (OSError, ValueError) as error:
        raise InvalidModelError(f"{path}: cannot read external data: {error}") from None
    return model


def check_structure(model: onnx.ModelProto, source: str) -> None:
    """Reject what protobuf happily parses out of garbage: no graph, no outputs, no opset."""
    if not model.HasField("graph"):
        raise InvalidModelError(f"{source}: not a valid ONNX model (no graph)")
    if not model.graph.output:
        raise InvalidModelError(f"{source}: not a valid ONNX model (the graph has no outputs)")
    if model.ir_version <= 0 or model.ir_version > 64:
        raise InvalidModelError(f"{source}: not a valid ONNX model (ir_version {model.ir_version})")
    defined = {o.name for o in model.graph.output}
    produced = {i.name for i in model.graph.input} | {t.name for t in model.graph.initializer}
    produced |= {name for node in model.graph.node for name in node.output}
    missing = sorted(defined - produced)
    if missing:
        raise InvalidModelError(f"{source}: graph outputs {missing} are produced by no node")
