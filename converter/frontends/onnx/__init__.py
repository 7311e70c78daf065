"""The ONNX frontend: `.onnx` files or ModelProto objects → IR graph."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from converter.frontends.onnx import proto
from converter.frontends.onnx.converter import convert_onnx
from converter.frontends.onnx.loader import check_structure, load_onnx


def convert(model: str | os.PathLike[str] | Any) -> "Graph":  # noqa: F821
    """A file, or an in-memory ModelProto (the onnx package's or `proto.ModelProto`)."""
    from converter.frontends.onnx.ops import HANDLERS

    if proto.is_model(model):
        model = proto.as_ours(model)
        check_structure(model, "<ModelProto>")
        return convert_onnx(model, "<ModelProto>", HANDLERS)
    path = Path(model)
    return convert_onnx(load_onnx(path), os.fspath(path), HANDLERS, external_data_dir=path.parent)
