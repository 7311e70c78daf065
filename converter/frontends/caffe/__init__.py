"""The Caffe frontend: a `.prototxt` (the net, text format) with its `.caffemodel` (the trained
weights, binary) → IR graph, without Caffe.

protos.py builds the schema, net.py walks the layers, layers/<family>.py holds one handler per
layer type. The weights are matched to layers by name, from either generation of layers.
OpenCV's Caffe importer is only the reference runtime (reference.py), in tests and validation.

A model is named by either file: a `.caffemodel` finds its net beside it (see `find_prototxt`),
a `.prototxt` finds its weights beside it the same way; a `.prototxt` without weights converts
only with `random_weights` (`--caffe-random-weights`), filters and vectors drawn from a fixed seed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from converter.errors import InvalidModelError
from converter.ir.graph import Graph

PROTOTXT_SUFFIXES = (".prototxt", ".prototxt.txt", ".pbtxt")
WEIGHTS_SUFFIX = ".caffemodel"
DEPLOY_NAMES = ("deploy.prototxt", "deploy.prototxt.txt")


def is_caffe_path(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(WEIGHTS_SUFFIX) or name.endswith(".prototxt") or name.endswith(".prototxt.txt")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (*PROTOTXT_SUFFIXES, WEIGHTS_SUFFIX):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def find_prototxt(caffemodel: Path, given: str | None = None) -> Path:
    """The net of a .caffemodel: the manifest's `prototxt` (relative to the model), else the
    .prototxt of the same stem beside it, else deploy.prototxt beside it."""
    if given:
        if Path(given).is_absolute() or ".." in Path(given).parts:
            raise InvalidModelError(f"{caffemodel}: its prototxt {given!r} must be a file beside it, not a path leading elsewhere")
        path = caffemodel.parent / given
        if not path.is_file():
            raise InvalidModelError(f"{caffemodel}: its prototxt {given!r} is not a file beside it")
        return path
    stem = _stem(caffemodel)
    candidates = [caffemodel.with_name(stem + suffix) for suffix in PROTOTXT_SUFFIXES[:2]]
    candidates += [caffemodel.with_name(name) for name in DEPLOY_NAMES]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise InvalidModelError(
        f"{caffemodel}: no net beside it ({stem}.prototxt or deploy.prototxt; or name it in the manifest: frontend: {{prototxt: FILE}})"
    )


def find_weights(prototxt: Path) -> Path | None:
    """The .caffemodel of a .prototxt: the only one of the same stem beside it, or, for a
    deploy.prototxt, the only .caffemodel in its folder whose own stem has no prototxt."""
    same = prototxt.with_name(_stem(prototxt) + WEIGHTS_SUFFIX)
    if same.is_file():
        return same
    if prototxt.name.lower() in DEPLOY_NAMES:
        lonely = [p for p in sorted(prototxt.parent.glob("*" + WEIGHTS_SUFFIX)) if not any(p.with_name(_stem(p) + s).is_file() for s in PROTOTXT_SUFFIXES[:2])]
        if len(lonely) == 1:
            return lonely[0]
    return None


def model_files(path: str | os.PathLike[str], prototxt: str | None = None) -> tuple[Path, Path | None]:
    """(prototxt, caffemodel or None) of a model named by either file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidModelError(f"{path}: no such file")
    if path.name.lower().endswith(WEIGHTS_SUFFIX) or (not path.name.lower().endswith(PROTOTXT_SUFFIXES) and not _is_text(path)):
        return find_prototxt(path, prototxt), path
    return path, find_weights(path)


def _is_text(path: Path) -> bool:
    """A file named otherwise (--framework caffe): a net is text, weights are binary."""
    try:
        path.read_bytes()[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def source_files(path: str | os.PathLike[str], prototxt: str | None = None) -> list[Path]:
    """The files a model named by either file is made of (its net, and its weights if any)."""
    net, weights = model_files(path, prototxt)
    return [net] + ([weights] if weights is not None else [])


def is_paired_net(path: Path) -> bool:
    """A .prototxt whose .caffemodel is beside it: the pair is one model, named by the .caffemodel."""
    if not path.name.lower().endswith((".prototxt", ".prototxt.txt")):
        return False
    weights = find_weights(path)
    if weights is None:
        return False
    try:
        return find_prototxt(weights) == path
    except InvalidModelError:
        return False


def load_net(prototxt: Path) -> Any:
    from google.protobuf.text_format import ParseError

    from converter.frontends.caffe.protos import NetParameter, parse_text

    try:
        return parse_text(prototxt.read_text(encoding="utf-8"), NetParameter())
    except (ParseError, UnicodeDecodeError) as error:
        reason = " ".join(str(error).split())
        raise InvalidModelError(f"{prototxt}: not a Caffe net in text format ({reason})") from None


def load_weights(caffemodel: Path) -> dict[str, list[np.ndarray]]:
    """The blobs of each layer by name: the first layer of that name with blobs (current
    `layer` entries, else V1 `layers`), as OpenCV matches them."""
    from google.protobuf.message import DecodeError

    from converter.frontends.caffe.protos import NetWeights

    try:
        weights = NetWeights.FromString(caffemodel.read_bytes())
    except DecodeError as error:
        raise InvalidModelError(f"{caffemodel}: not a Caffe model, or truncated ({error})") from None
    found: dict[str, list[np.ndarray]] = {}
    for layer in (*weights.layer, *weights.layers):
        if len(layer.blobs) and layer.name not in found:
            found[layer.name] = [blob_array(blob, f"{caffemodel}: layer {layer.name!r}") for blob in layer.blobs]
    if not found and not len(weights.layer) and not len(weights.layers):
        raise InvalidModelError(f"{caffemodel}: not a Caffe model (no layers)")
    return found


def blob_shape(blob: Any) -> tuple[int, ...] | None:
    if blob.HasField("num") or blob.HasField("channels") or blob.HasField("height") or blob.HasField("width"):
        return (blob.num, blob.channels, blob.height, blob.width)
    if blob.HasField("shape"):
        return tuple(blob.shape.dim)
    return None


def blob_array(blob: Any, where: str) -> np.ndarray:
    """A BlobProto's values as f32, in its shape (legacy 4-D dims or `shape`)."""
    from converter.frontends.caffe.protos import POOL

    if len(blob.data):
        array = np.array(blob.data, dtype=np.float32)
    elif len(blob.double_data):
        array = np.array(blob.double_data, dtype=np.float64).astype(np.float32)
    elif blob.HasField("raw_data"):
        kinds = POOL.FindEnumTypeByName("irforge.caffe.Type").values_by_name
        dtype = {kinds["FLOAT16"].number: np.float16, kinds["FLOAT"].number: np.float32, kinds["DOUBLE"].number: np.float64}.get(blob.raw_data_type)
        if dtype is None or len(blob.raw_data) % np.dtype(dtype).itemsize:
            raise InvalidModelError(f"{where}: raw blob data of type {blob.raw_data_type} irforge does not read")
        array = np.frombuffer(blob.raw_data, dtype=dtype).astype(np.float32)
    else:
        array = np.zeros(0, dtype=np.float32)
    shape = blob_shape(blob)
    if shape is None:
        return array
    if any(d < 0 for d in shape) or int(np.prod(shape)) != array.size:
        raise InvalidModelError(f"{where}: a blob of shape {list(shape)} holds {array.size} values")
    return array.reshape(shape)


def convert_caffe(
    path: str | os.PathLike[str], prototxt: str | None = None, random_weights: bool = False
) -> Graph:
    """A Caffe model (its .caffemodel or its .prototxt) as an IR graph; see the module's doc."""
    return convert_caffe_with_weights(path, prototxt, random_weights)[0]


def convert_caffe_with_weights(
    path: str | os.PathLike[str], prototxt: str | None = None, random_weights: bool = False
) -> tuple[Graph, dict[str, list[np.ndarray]]]:
    """The graph and the random blobs made for it (by layer name), for the reference runner."""
    from converter.frontends.caffe.layers import HANDLERS
    from converter.frontends.caffe.net import convert_net

    net_path, weights_path = model_files(path, prototxt)
    net = load_net(net_path)
    weights = load_weights(weights_path) if weights_path is not None else None
    if weights is None and not random_weights:
        raise InvalidModelError(
            f"{net_path}: no .caffemodel beside it ({_stem(net_path)}.caffemodel); a net alone converts only with --caffe-random-weights"
        )
    name = _stem(Path(path))
    return convert_net(net, os.fspath(net_path), HANDLERS, weights, random_weights, name=name)
