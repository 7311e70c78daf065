"""The public API, named as OpenVINO users know it."""

from __future__ import annotations

import os
from pathlib import Path

import onnx

from converter.errors import InvalidModelError
from converter.ir.graph import Graph


def convert_model(model: str | os.PathLike[str] | onnx.ModelProto) -> Graph:
    """Convert a model (a path or an in-memory onnx.ModelProto) to an in-memory IR graph.

    An OpenVINO IR `.xml` path is read as it is (so IRs can be re-optimized).
    """
    if isinstance(model, onnx.ModelProto):
        from converter.frontends import onnx as onnx_frontend

        return onnx_frontend.convert(model)
    path = Path(model)
    if path.suffix.lower() == ".onnx":
        from converter.frontends import onnx as onnx_frontend

        return onnx_frontend.convert(path)
    if path.suffix.lower() == ".xml":
        return read_model(path)
    if not path.exists():
        raise InvalidModelError(f"{path}: no such file")
    raise InvalidModelError(f"{path}: unknown model format (supported: .onnx, OpenVINO IR .xml)")


def save_model(graph: Graph, output_model: str | os.PathLike[str], compress_to_fp16: bool = False) -> tuple[Path, Path]:
    """Write model.xml + model.bin (atomically). Returns both paths."""
    from converter.serialize.writer import write_ir

    if compress_to_fp16:
        from converter.passes.compress_fp16 import compress_fp16

        graph = compress_fp16(graph.copy())
    return write_ir(graph, output_model)


def read_model(xml_path: str | os.PathLike[str], bin_path: str | os.PathLike[str] | None = None) -> Graph:
    """Read an IR (model.xml + model.bin) back into a graph."""
    from converter.serialize.reader import read_ir

    return read_ir(xml_path, bin_path)
