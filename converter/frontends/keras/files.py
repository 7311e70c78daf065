"""Keras model files without Keras: `.keras` zips and legacy `.h5`/`.hdf5` files.

Both give the model config (JSON), the Keras version that wrote it, and the weights as a
`Weights` tree: one node per layer (or per sub-layer: an LSTM's cell, a wrapper's inner
layer, a nested model's layers) holding its variables in the layer's own order.

- `.keras`: config.json, metadata.json, model.weights.h5 with `layers/<key>/vars/<i>`; each
  `vars` group names its layer in the attribute `name` (the keys are attribute names such as
  `conv2d_1`, `cell`, `forward_layer`, so the tree is keyed by those names instead).
- `.h5`: root attributes `model_config` and `keras_version`; group `model_weights` with
  `layer_names`, and per layer `weight_names` such as `conv2d/kernel:0` (Keras 2) or
  `inner/dense/kernel` (Keras 3, nested paths); the path below the layer's own name places a
  variable in the tree.

HDF5 external links, soft links, external and virtual datasets can point outside the file:
they are refused. Uncompressed contiguous datasets are memory-mapped, not copied.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from converter.errors import InvalidModelError
from converter.frontends.keras.h5_probe import probe_h5_metadata
from converter.limits import check_tensor_bytes

KERAS_SUFFIXES = (".keras",)
H5_SUFFIXES = (".h5", ".hdf5")
CONFIG_MEMBER = "config.json"
METADATA_MEMBER = "metadata.json"
WEIGHTS_MEMBER = "model.weights.h5"
MAX_EXPANSION = 100  # a deflated member that would grow more than this is refused (zip bomb)
EXPANSION_FLOOR = 1 << 30


@dataclass
class Weights:
    """One layer's variables, in its variable order, and its sub-layers' by name."""

    name: str
    arrays: list[np.ndarray] = field(default_factory=list)
    children: dict[str, Weights] = field(default_factory=dict)

    def child(self, name: str) -> Weights:
        return self.children.get(name) or Weights(name)

    def flat(self) -> list[np.ndarray]:
        """Own variables, then each sub-layer's (in the file's order), depth first."""
        result = list(self.arrays)
        for child in self.children.values():
            result.extend(child.flat())
        return result


@dataclass
class KerasFile:
    path: Path
    config: dict[str, Any]
    keras_version: str
    weights: Weights

    @property
    def keras_major(self) -> int:
        head = self.keras_version.split(".", 1)[0]
        return int(head) if head.isdigit() else 3


def read_keras_file(path: str | os.PathLike[str]) -> KerasFile:
    path = Path(path)
    if not path.is_file():
        raise InvalidModelError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in KERAS_SUFFIXES or zipfile.is_zipfile(path):
        return _read_keras_zip(path)
    return _read_legacy_h5(path)


# ---------------------------------------------------------------- .keras


def _read_keras_zip(path: Path) -> KerasFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InvalidModelError(f"{path}: not a readable .keras file ({error})") from None
    with archive:
        names = set(archive.namelist())
        unsafe = sorted(n for n in names if n.startswith(("/", "\\")) or ".." in n.replace("\\", "/").split("/") or (len(n) > 1 and n[1] == ":"))
        if unsafe:  # irforge extracts nothing, but an archive naming paths outside itself is hostile
            raise InvalidModelError(f"{path}: archive member names point outside the archive: {unsafe[:3]}")
        if CONFIG_MEMBER not in names:
            raise InvalidModelError(f"{path}: a .keras file needs {CONFIG_MEMBER}; found {sorted(names)}")
        config = _json(path, _member_bytes(path, archive, CONFIG_MEMBER), CONFIG_MEMBER)
        metadata = _json(path, _member_bytes(path, archive, METADATA_MEMBER), METADATA_MEMBER) if METADATA_MEMBER in names else {}
        if WEIGHTS_MEMBER not in names:
            weights = Weights(str(config.get("config", {}).get("name", "model")) if isinstance(config.get("config"), dict) else "model")
        else:
            with _open_member_h5(path, archive, WEIGHTS_MEMBER) as (h5, base_offset):
                _refuse_links(path, h5)
                weights = _keras_weights_tree(path, h5, base_offset)
    if not isinstance(config, dict):
        raise InvalidModelError(f"{path}: {CONFIG_MEMBER} is not a JSON object")
    return KerasFile(path, config, str(metadata.get("keras_version", "3")), weights)


def _member_bytes(path: Path, archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    _check_expansion(path, info)
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:  # NotImplementedError: an unknown compression method
        raise InvalidModelError(f"{path}: member {name} is damaged ({error})") from None


def _check_expansion(path: Path, info: zipfile.ZipInfo) -> None:
    if info.file_size > EXPANSION_FLOOR and info.file_size > MAX_EXPANSION * max(info.compress_size, 1):
        raise InvalidModelError(f"{path}: member {info.filename} would expand {info.file_size} bytes from {info.compress_size}")


@contextmanager
def _open_member_h5(path: Path, archive: zipfile.ZipFile, name: str) -> Iterator[tuple[h5py.File, int | None]]:
    """The weights member as an h5py file, read in place when stored uncompressed (Keras stores it so).

    Yields the file and the member's offset in the zip (None when it had to be decompressed to memory).
    """
    info = archive.getinfo(name)
    if info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 0x1:
        offset = _stored_data_offset(path, info)
        _check_stored_crc(path, info, offset)
        with open(path, "rb") as raw:
            window = _FileWindow(raw, offset, info.file_size)
            with _h5_file(path, window, name) as h5:
                yield h5, offset
        return
    data = io.BytesIO(_member_bytes(path, archive, name))
    with _h5_file(path, data, name) as h5:
        yield h5, None


def _check_stored_crc(path: Path, info: zipfile.ZipInfo, offset: int) -> None:
    """The member's CRC-32, checked before HDF5 reads it in place: libhdf5 can loop forever on
    some damaged files (found by fuzzing), and the zip's checksum catches the damage first."""
    crc = 0
    with open(path, "rb") as raw:
        raw.seek(offset)
        left = info.file_size
        while left:
            chunk = raw.read(min(left, 1 << 20))
            if not chunk:
                break
            crc = zlib.crc32(chunk, crc)
            left -= len(chunk)
    if left or crc != info.CRC:
        raise InvalidModelError(f"{path}: member {info.filename} is damaged (CRC-32 mismatch)")


def _stored_data_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Where a stored member's bytes start: after its local header (30 bytes + name + extra)."""
    with open(path, "rb") as raw:
        raw.seek(info.header_offset)
        header = raw.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise InvalidModelError(f"{path}: the local header of {info.filename} is damaged")
    name_length = int.from_bytes(header[26:28], "little")
    extra_length = int.from_bytes(header[28:30], "little")
    offset = info.header_offset + 30 + name_length + extra_length
    if offset + info.file_size > path.stat().st_size:
        raise InvalidModelError(f"{path}: {info.filename} is truncated")
    return offset


class _FileWindow(io.RawIOBase):
    """A read-only, seekable view of [offset, offset + size) of an open file."""

    def __init__(self, raw: Any, offset: int, size: int):
        self._raw, self._offset, self._size, self._position = raw, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(base + position, 0)
        return self._position

    def readinto(self, buffer: Any) -> int:
        count = max(min(len(buffer), self._size - self._position), 0)
        if count == 0:
            return 0
        self._raw.seek(self._offset + self._position)
        data = self._raw.read(count)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def _keras_weights_tree(path: Path, h5: h5py.File, base_offset: int | None) -> Weights:
    root = _keras_group(path, h5, "model", base_offset, top=True)
    return root


def _keras_group(path: Path, group: h5py.Group, fallback_name: str, base_offset: int | None, top: bool = False) -> Weights:
    """A `.keras` object group: its `vars/<i>`, its `layers/*` and other sub-objects, keyed by layer name."""
    variables = group.get("vars")
    name = fallback_name
    arrays: list[np.ndarray] = []
    if isinstance(variables, h5py.Group):
        name = _attr_str(variables.attrs.get("name"), fallback_name)
        keys = sorted(variables.keys(), key=lambda k: int(k) if k.isdigit() else -1)
        arrays = [_array(path, variables[k], base_offset) for k in keys if isinstance(variables[k], h5py.Dataset)]
    node = Weights(name, arrays)
    for key in group.keys():
        if key == "vars" or (top and key not in ("layers",)) or "seed_generator" in key:
            continue
        member = group[key]
        if not isinstance(member, h5py.Group):
            continue
        if key == "layers":
            for layer_key in member.keys():
                if isinstance(member[layer_key], h5py.Group):
                    child = _keras_group(path, member[layer_key], layer_key, base_offset)
                    node.children[child.name] = child
        else:
            child = _keras_group(path, member, key, base_offset)
            node.children[child.name] = child
    return node


# ---------------------------------------------------------------- legacy .h5


def _read_legacy_h5(path: Path) -> KerasFile:
    with _h5_file(path, path, None) as h5:
        _refuse_links(path, h5)
        raw_config = h5.attrs.get("model_config")
        if raw_config is None:
            raise InvalidModelError(f"{path}: an HDF5 file without model_config (weights only?) cannot be converted")
        config = _json(path, raw_config, "model_config")
        version = _attr_str(h5.attrs.get("keras_version"), "2")
        group = h5["model_weights"] if "model_weights" in h5 else h5
        weights = _legacy_weights_tree(path, group, config)
    return KerasFile(path, config, version, weights)


def _legacy_weights_tree(path: Path, group: h5py.Group, config: dict[str, Any]) -> Weights:
    model_name = str(config.get("config", {}).get("name", "model")) if isinstance(config.get("config"), dict) else "model"
    root = Weights(model_name)
    for layer_name in _attr_strs(group.attrs.get("layer_names")):
        if layer_name not in group:
            raise InvalidModelError(f"{path}: model_weights lists layer {layer_name!r} but has no group for it")
        layer_group = group[layer_name]
        node = Weights(layer_name)
        for weight_name in _attr_strs(layer_group.attrs.get("weight_names")):
            if weight_name not in layer_group:
                raise InvalidModelError(f"{path}: layer {layer_name!r} lists weight {weight_name!r} but has no dataset for it")
            _place(node, _weight_path(weight_name, layer_name), _array(path, layer_group[weight_name], 0))
        root.children[layer_name] = node
    return root


def _weight_path(weight_name: str, layer_name: str) -> list[str]:
    """The path below the layer: `conv2d/kernel:0` → [kernel]; `inner/dense/kernel` → [dense, kernel];
    `sequential/lstm/lstm_cell/bias` (Keras 3 prefixes the model's name) → [lstm_cell, bias]."""
    parts = weight_name.split(":", 1)[0].split("/")
    if layer_name in parts[:-1]:
        parts = parts[parts.index(layer_name) + 1:]
    return parts


def _place(node: Weights, parts: list[str], array: np.ndarray) -> None:
    for part in parts[:-1]:
        node = node.children.setdefault(part, Weights(part))
    node.arrays.append(array)


# ---------------------------------------------------------------- HDF5 helpers


@contextmanager
def _h5_file(path: Path, source: Any, member: str | None) -> Iterator[h5py.File]:
    where = f"{path}" if member is None else f"{path} ({member})"
    probe_h5_metadata(where, source, _source_size(source))
    try:
        h5 = h5py.File(source, "r")
    except (OSError, ValueError) as error:
        raise InvalidModelError(f"{where}: not a readable HDF5 file ({error})") from None
    try:
        yield h5
    except (OSError, KeyError, RuntimeError, UnicodeError) as error:
        raise InvalidModelError(f"{where}: damaged HDF5 data ({error})") from None
    except (ValueError, TypeError) as error:
        if not _raised_in_h5py(error):
            raise
        raise InvalidModelError(f"{where}: damaged HDF5 data ({type(error).__name__}: {error})") from None
    finally:
        h5.close()


def _source_size(source: Any) -> int:
    if isinstance(source, Path):
        return source.stat().st_size
    size = source.seek(0, io.SEEK_END)
    source.seek(0)
    return size


def _raised_in_h5py(error: BaseException) -> bool:
    """Whether h5py itself raised `error` (damaged metadata: a datatype or string encoding it cannot
    read), as opposed to irforge's own code inside the `with`."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and "h5py" in frame.tb_frame.f_code.co_filename


def _refuse_links(path: Path, group: h5py.Group, prefix: str = "") -> None:
    """Refuse anything that could read outside the file: external/soft links, external/virtual datasets."""
    for key in group.keys():
        link = group.get(key, getlink=True)
        where = f"{prefix}/{key}"
        if isinstance(link, h5py.ExternalLink):
            raise InvalidModelError(f"{path}: HDF5 external link {where} → {link.filename}:{link.path} is refused")
        if isinstance(link, h5py.SoftLink):
            raise InvalidModelError(f"{path}: HDF5 soft link {where} → {link.path} is refused")
        member = group[key]
        if isinstance(member, h5py.Group):
            _refuse_links(path, member, where)
        elif isinstance(member, h5py.Dataset):
            if member.external:
                raise InvalidModelError(f"{path}: HDF5 dataset {where} stores its data in external file(s) {[e[0] for e in member.external]}; refused")
            if member.is_virtual:
                raise InvalidModelError(f"{path}: HDF5 virtual dataset {where} is refused")


def _array(path: Path, dataset: h5py.Dataset, base_offset: int | None) -> np.ndarray:
    """The dataset as a read-only array: memory-mapped when contiguous and uncompressed in a file on disk."""
    if not isinstance(dataset, h5py.Dataset):
        raise InvalidModelError(f"{path}: {dataset.name} is not a dataset")
    dtype = dataset.dtype
    if dtype.kind not in "fiub":
        raise InvalidModelError(f"{path}: dataset {dataset.name} has unsupported type {dtype}")
    # Chunks HDF5 never wrote read as the fill value: a dataset may claim more than the file holds,
    # so its size is checked against the limit before h5py allocates it.
    check_tensor_bytes(str(path), f"dataset {dataset.name}", dataset.shape, dtype.itemsize)
    offset = dataset.id.get_offset() if base_offset is not None and dataset.chunks is None else None
    if offset is not None and dataset.ndim > 0 and dataset.size > 0:
        end = base_offset + offset + dataset.size * dtype.itemsize
        if end > path.stat().st_size:
            raise InvalidModelError(f"{path}: dataset {dataset.name} is truncated")
        array = np.memmap(str(path), dtype=dtype, mode="r", offset=base_offset + offset, shape=dataset.shape)  # text: numpy resolves a Path
    else:
        array = np.asarray(dataset[()])
        array.setflags(write=False)
    return array


def _json(path: Path, raw: Any, what: str) -> Any:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, TypeError) as error:
        raise InvalidModelError(f"{path}: {what} is not valid JSON ({error})") from None
    except RecursionError:
        raise InvalidModelError(f"{path}: {what} is nested too deeply") from None


def _attr_str(value: Any, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _attr_strs(value: Any) -> list[str]:
    if value is None:
        return []
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in np.asarray(value).reshape(-1)]
