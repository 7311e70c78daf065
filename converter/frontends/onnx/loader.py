"""Load an ONNX model from disk (with external data) and check its structure."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from converter.errors import InvalidModelError
from converter.frontends.onnx import proto
from converter.frontends.onnx.tensors import ExternalData, numpy_dtype


def load_onnx(path: str | os.PathLike[str]) -> proto.ModelProto:
    """The model, checked. In a large file, large initializers stay in the file: they come back as
    external data pointing into the .onnx itself (see `_weights_left_in_file`), so the converter
    memory-maps them as it does external data, instead of parsing and copying every weight."""
    path = Path(path)
    if not path.is_file():
        raise InvalidModelError(f"{path}: no such file")
    try:
        model = _load_leaving_weights_in_file(path) if path.stat().st_size >= LEAVE_IN_FILE_FROM else None
        if model is None:
            model = proto.ModelProto.FromString(path.read_bytes())
    except (proto.DecodeError, RuntimeWarning, ValueError, UnicodeDecodeError) as error:
        raise InvalidModelError(f"{path}: not a valid ONNX file (truncated or garbage?): {error}") from None
    check_structure(model, str(path))
    return model


LEAVE_IN_FILE_FROM = 4 << 20  # files smaller than this are parsed whole
LEAVE_TENSOR_FROM = 64 << 10  # raw_data at least this large stays in the file

# Protobuf wire types and the field numbers the scan needs (onnx.proto).
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_MODEL_GRAPH = 7
_GRAPH_INITIALIZER = 5
_TENSOR_SEGMENT, _TENSOR_RAW_DATA, _TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION = 3, 9, 13, 14


def _varint(data: memoryview, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _fields(data: memoryview, start: int, end: int):
    """(field number, wire type, start of the field, start of its payload, end) for each field."""
    position = start
    while position < end:
        field_start = position
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            _, position = _varint(data, position)
            payload = field_start
        elif wire == _LEN:
            length, payload = _varint(data, position)
            position = payload + length
        elif wire == _I64:
            payload, position = position, position + 8
        elif wire == _I32:
            payload, position = position, position + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if position > end:
            raise ValueError("field runs past its message")
        yield number, wire, field_start, payload, position


def _len_field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | _LEN) + _encode_varint(len(payload)) + payload


def _external_entry(key: str, value: str) -> bytes:
    return _len_field(_TENSOR_EXTERNAL_DATA, _len_field(1, key.encode()) + _len_field(2, value.encode()))


def _weights_left_in_file(data: memoryview, location: str) -> bytes | None:
    """The model's bytes with the raw_data of large top-level initializers cut out and replaced by
    external-data entries (location: the model file itself, offset and length of the raw bytes);
    None when there is nothing to leave out or the layout is not the plain one this handles."""
    graphs = [f for f in _fields(data, 0, len(data)) if f[0] == _MODEL_GRAPH]
    if len(graphs) != 1 or graphs[0][1] != _LEN:
        return None
    _, _, graph_start, graph_payload, graph_end = graphs[0]
    pieces: list[bytes | memoryview] = []
    changed = False
    cursor = graph_payload
    for number, wire, start, payload, end in _fields(data, graph_payload, graph_end):
        if number != _GRAPH_INITIALIZER or wire != _LEN:
            continue
        tensor = list(_fields(data, payload, end))
        raws = [f for f in tensor if f[0] == _TENSOR_RAW_DATA]
        if len(raws) != 1 or raws[0][1] != _LEN or any(f[0] in (_TENSOR_SEGMENT, _TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION) for f in tensor):
            continue
        _, _, raw_start, raw_payload, raw_end = raws[0]
        if raw_end - raw_payload < LEAVE_TENSOR_FROM:
            continue
        body = bytes(data[payload:raw_start]) + bytes(data[raw_end:end])
        body += _encode_varint(_TENSOR_DATA_LOCATION << 3 | _VARINT) + _encode_varint(proto.TensorProto.EXTERNAL)
        body += _external_entry("location", location) + _external_entry("offset", str(raw_payload)) + _external_entry("length", str(raw_end - raw_payload))
        pieces += [data[cursor:start], _len_field(_GRAPH_INITIALIZER, body)]
        cursor = end
        changed = True
    if not changed:
        return None
    pieces.append(data[cursor:graph_end])
    graph = b"".join(bytes(piece) for piece in pieces)
    return bytes(data[:graph_start]) + _len_field(_MODEL_GRAPH, graph) + bytes(data[graph_end:])


def _load_leaving_weights_in_file(path: Path) -> proto.ModelProto | None:
    """The model in a large file without reading its large weights (None: load it whole)."""
    import mmap

    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)
        try:
            try:
                stripped = _weights_left_in_file(view, path.name)
            except (ValueError, IndexError):
                return None  # not plain protobuf as this scan reads it: let protobuf judge the file
        finally:
            view.release()
    if stripped is None:
        return None
    return proto.ModelProto.FromString(stripped)


def external_array(tensor: proto.TensorProto, base_dir: Path, source: str) -> np.ndarray:
    """A read-only memory map of an initializer stored as external data (never copied in)."""
    info = ExternalData.of(tensor)
    # The name written in the file must stay in the model's folder (judged on the name itself, not
    # on where symlinks lead: a symlink the user placed, as model caches do, is followed).
    folder = Path(os.path.normpath(base_dir))
    location = Path(os.path.normpath(folder / info.location))
    if Path(info.location).is_absolute() or not location.is_relative_to(folder) or location == folder:
        raise InvalidModelError(f"{source}: external data of {tensor.name!r} points outside the model folder ({info.location!r})")
    dtype = numpy_dtype(tensor.data_type)
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
    if location.name == Path(source).name and location.resolve() == Path(source).resolve():
        # A weight `load_onnx` left in the .onnx itself: one read into memory (paging a file of a
        # protobuf's size in through a map is slower, and the weights fit in memory anyway).
        array = np.fromfile(location, dtype=dtype.newbyteorder("<"), count=count, offset=offset).reshape(tuple(tensor.dims))
        array.flags.writeable = False
        return array
    return np.memmap(str(location), dtype=dtype.newbyteorder("<"), mode="r", offset=offset, shape=tuple(tensor.dims))  # text: numpy resolves a Path


def check_structure(model: proto.ModelProto, source: str) -> None:
    """Reject what protobuf happily parses out of garbage: no graph, no outputs, no opset."""
    if not model.HasField("graph"):
        raise InvalidModelError(f"{source}: not a valid ONNX model (no graph)")
    if not model.graph.output:
        raise InvalidModelError(f"{source}: not a valid ONNX model (the graph has no outputs)")
    if model.ir_version <= 0 or model.ir_version > 64:
        raise InvalidModelError(f"{source}: not a valid ONNX model (ir_version {model.ir_version})")
    _check_text(model.graph, source)
    for function in model.functions:
        if not all(isinstance(text, str) for text in (function.name, function.domain, *function.input, *function.output)):
            raise InvalidModelError(f"{source}: not a valid ONNX model (a local function's names are not UTF-8 text; corrupted?)")
        names = [text for node in function.node for text in (node.op_type, node.domain, node.name, *node.input, *node.output)]
        if not all(isinstance(name, str) for name in names):
            raise InvalidModelError(f"{source}: not a valid ONNX model (names in local function {function.name!r} are not UTF-8 text; corrupted?)")
    defined = {o.name for o in model.graph.output}
    produced = {i.name for i in model.graph.input} | {t.name for t in model.graph.initializer}
    produced |= {name for node in model.graph.node for name in node.output}
    missing = sorted(defined - produced)
    if missing:
        raise InvalidModelError(f"{source}: graph outputs {missing} are produced by no node")


def _check_text(graph: proto.GraphProto, source: str) -> None:
    """Names and op types must be text: a corrupted file can carry bytes that are not UTF-8."""
    names = [value.name for value in (*graph.input, *graph.output, *graph.initializer)]
    for node in graph.node:
        names += [node.op_type, node.domain, node.name, *node.input, *node.output]
        for attribute in node.attribute:
            names.append(attribute.name)
            for subgraph in [attribute.g] if attribute.type == proto.AttributeProto.GRAPH else attribute.graphs:
                _check_text(subgraph, source)
    if not all(isinstance(name, str) for name in names):
        raise InvalidModelError(f"{source}: not a valid ONNX model (names that are not UTF-8 text; corrupted?)")
