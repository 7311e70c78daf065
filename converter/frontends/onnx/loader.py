"""Load an ONNX model from disk (with external data) and check its structure."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import helper
from onnx.external_data_helper import ExternalDataInfo

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
    return model


def external_array(tensor: onnx.TensorProto, base_dir: Path, source: str) -> np.ndarray:
    """A read-only memory map of an initializer stored as external data (never copied in)."""
    info = ExternalDataInfo(tensor)
    location = (base_dir / info.location).resolve()
    if not location.is_relative_to(base_dir.resolve()):
        raise InvalidModelError(f"{source}: external data of {tensor.name!r} points outside the model folder")
    dtype = helper.tensor_dtype_to_np_dtype(tensor.data_type)
    count = int(np.prod(tensor.dims, dtype=np.int64))
    expected = count * dtype.itemsize
    try:
        size = location.stat().st_size
    except OSError as error:
        raise InvalidModelError(f"{source}: external data of {tensor.name!r}: {error.strerror}: {location}") from None
    offset = info.offset or 0
    length = info.length if info.length else expected
    if length != expected or offset + length > size:
        raise InvalidModelError(
            f"{source}: external data of {tensor.name!r} needs bytes [{offset}, {offset + expected}) "
            f"of {location.name}, which has {size}"
        )
    if count == 0:
        return np.zeros(tuple(tensor.dims), dtype=dtype)
    return np.memmap(location, dtype=dtype.newbyteorder("<"), mode="r", offset=offset, shape=tuple(tensor.dims))


def check_structure(model: onnx.ModelProto, source: str) -> None:
    """Reject what protobuf happily parses out of garbage: no graph, no outputs, no opset."""
    if not model.HasField("graph"):
        raise InvalidModelError(f"{source}: not a valid ONNX model (no graph)")
    if not model.graph.output:
        raise InvalidModelError(f"{source}: not a valid ONNX model (the graph has no outputs)")
    if model.ir_version <= 0 or model.ir_version > 64:
        raise InvalidModelError(f"{source}: not a valid ONNX model (ir_version {model.ir_version})")
    _check_text(model.graph, source)
    defined = {o.name for o in model.graph.output}
    produced = {i.name for i in model.graph.input} | {t.name for t in model.graph.initializer}
    produced |= {name for node in model.graph.node for name in node.output}
    missing = sorted(defined - produced)
    if missing:
        raise InvalidModelError(f"{source}: graph outputs {missing} are produced by no node")


def _check_text(graph: onnx.GraphProto, source: str) -> None:
    """Names and op types must be text: a corrupted file can carry bytes that are not UTF-8."""
    names = [value.name for value in (*graph.input, *graph.output, *graph.initializer)]
    for node in graph.node:
        names += [node.op_type, node.domain, node.name, *node.input, *node.output]
        for attribute in node.attribute:
            names.append(attribute.name)
            for subgraph in [attribute.g] if attribute.type == onnx.AttributeProto.GRAPH else attribute.graphs:
                _check_text(subgraph, source)
    if not all(isinstance(name, str) for name in names):
        raise InvalidModelError(f"{source}: not a valid ONNX model (names that are not UTF-8 text; corrupted?)")
