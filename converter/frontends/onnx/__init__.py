"""The ONNX frontend: `.onnx` files or ModelProto objects → IR graph."""

from __future__ import annotations

import os
from pathlib import Path

import onnx

from converter.frontends.onnx.converter import convert_onnx
from converter.frontends.onnx.loader import check_structure, load_onnx


def convert(model: str | os.PathLike[str] | onnx.ModelProto) -> "Graph":  # noqa: F821
    from converter.frontends.onnx.ops import HANDLERS

    if isinstance(model, onnx.ModelProto):
        check_structure(model, "<ModelProto>")
        return convert_onnx(model, "<ModelProto>", HANDLERS)
    path = Path(model)
    return convert_onnx(load_onnx(path), os.fspath(path), HANDLERS, external_data_dir=path.parent)
