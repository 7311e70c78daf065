"""MXNet `.params` files (the NDArray list format of `mx.nd.save`), read with numpy, without mxnet.

Layout (little-endian, MXNet's src/ndarray/ndarray.cc `NDArray::Save`):

    u64 0x112 (list magic), u64 reserved
    u64 count, then per array:
        u32 magic: 0xF993fac9 (V2) or 0xF993faca (V3, NumPy shape semantics); anything else is a
            legacy array, whose magic is 0xF993fac8 (V1: an int64 shape follows) or, before V1,
            the shape's ndim itself (uint32 dims follow)
        V2/V3: i32 storage type (0 dense, 1 row_sparse, 2 csr); a sparse array's storage shape
        shape: i32 ndim + ndim × i64 (legacy: u32 dims); no dims (V2: ndim 0, V3: ndim -1) is
            an empty NDArray and nothing else follows
        context: i32 dev_type, i32 dev_id
        i32 type flag (mshadow's: 0 f32, 1 f64, 2 f16, 3 u8, 4 i32, 5 i8, 6 i64, 7 bool, 8 i16, ...)
        sparse: per aux array (row_sparse: idx; csr: indptr, idx) i32 type flag + its shape
        the values, raw, then each sparse aux array's
    u64 count, then per name: u64 length + bytes ("arg:NAME", "aux:NAME", or bare names)

Every read is bounds-checked: a truncated or foreign file raises ParamsError, which the frontend
reports as one InvalidModelError. Dense arrays are read-only numpy views of the mapped file.
"""

from __future__ import annotations

import math
import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from converter.limits import LIMIT_VARIABLE, human, max_tensor_bytes

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA
DENSE, ROW_SPARSE, CSR = 0, 1, 2
AUX_COUNT = {DENSE: 0, ROW_SPARSE: 1, CSR: 2}

# mshadow's type flags (mshadow/base.h TypeFlag). bfloat16 (12) is read as its raw uint16 bits
# widened to float32, since numpy has no bfloat16.
TYPE_FLAGS: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("<f8"),
    2: np.dtype("<f2"),
    3: np.dtype("u1"),
    4: np.dtype("<i4"),
    5: np.dtype("i1"),
    6: np.dtype("<i8"),
    7: np.dtype("?"),
    8: np.dtype("<i2"),
    9: np.dtype("<u2"),
    10: np.dtype("<u4"),
    11: np.dtype("<u8"),
    12: np.dtype("<u2"),
}
BFLOAT16 = 12
MAX_NDIM = 32  # MXNet's own limit on tensor ranks


class ParamsError(ValueError):
    """The bytes are not an NDArray list, or end too soon."""


@dataclass
class Params:
    """The arrays of a .params file by name: `arg:` ones in `args`, `aux:` ones in `aux`, bare names in both."""

    args: dict[str, np.ndarray] = field(default_factory=dict)
    aux: dict[str, np.ndarray] = field(default_factory=dict)

    def find(self, name: str) -> np.ndarray | None:
        if name in self.args:
            return self.args[name]
        return self.aux.get(name)

    def __len__(self) -> int:
        return len(set(self.args) | set(self.aux))


class _Reader:
    """A cursor over the file's bytes; every read checks that the bytes are there."""

    def __init__(self, data: Any):
        self.data = data
        self.size = len(data)
        self.offset = 0

    def take(self, count: int, what: str) -> int:
        if count < 0 or self.offset + count > self.size:
            raise ParamsError(f"ends inside {what} (offset {self.offset}, {count} bytes needed, {self.size - self.offset} left)")
        start = self.offset
        self.offset += count
        return start

    def scalar(self, dtype: str, what: str) -> int:
        kind = np.dtype(dtype)
        start = self.take(kind.itemsize, what)
        return int(np.frombuffer(self.data, kind, 1, start)[0])

    def array(self, dtype: np.dtype, count: int, what: str) -> np.ndarray:
        start = self.take(count * dtype.itemsize, what)
        return np.frombuffer(self.data, dtype, count, start)


def read_params(path: str | os.PathLike[str]) -> Params:
    """The arrays of a `.params` file; ParamsError says what is wrong with it."""
    return parse_params(_map(Path(path)))


def parse_params(data: Any) -> Params:
    reader = _Reader(data)
    if reader.scalar("<u8", "the header") != LIST_MAGIC:
        raise ParamsError("not an MXNet NDArray file (no 0x112 list magic)")
    reader.scalar("<u8", "the header")
    count = reader.scalar("<u8", "the array count")
    if count > reader.size:  # every array takes at least one byte
        raise ParamsError(f"claims {count} arrays in {reader.size} bytes")
    arrays = [_read_array(reader, index) for index in range(count)]
    names = _read_names(reader)
    if names and len(names) != len(arrays):
        raise ParamsError(f"{len(arrays)} arrays but {len(names)} names")
    if reader.offset != reader.size:
        raise ParamsError(f"{reader.size - reader.offset} bytes after the names")
    params = Params()
    for index, array in enumerate(arrays):
        name = names[index] if names else str(index)
        kind, _, bare = name.partition(":")
        if kind == "arg" and bare:
            params.args[bare] = array
        elif kind == "aux" and bare:
            params.aux[bare] = array
        else:  # Gluon's save_parameters: bare names
            params.args[name] = array
            params.aux[name] = array
    return params


def _read_array(reader: _Reader, index: int) -> np.ndarray:
    what = f"array {index}"
    magic = reader.scalar("<u4", f"{what}'s magic")
    if magic not in (V2_MAGIC, V3_MAGIC):
        return _read_legacy(reader, magic, what)
    storage = reader.scalar("<i4", f"{what}'s storage type")
    if storage not in AUX_COUNT:
        raise ParamsError(f"{what} has storage type {storage} (0 dense, 1 row_sparse, 2 csr)")
    storage_shape = _read_shape(reader, "<i8", f"{what}'s storage shape") if storage != DENSE else None
    shape = _read_shape(reader, "<i8", f"{what}'s shape")
    if shape is None or (magic == V2_MAGIC and len(shape) == 0):
        return np.zeros((0,), np.float32)  # an empty NDArray (none saved)
    reader.take(8, f"{what}'s context")
    dtype, bfloat = _dtype(reader.scalar("<i4", f"{what}'s type flag"), what)
    aux_types = []
    for position in range(AUX_COUNT[storage]):
        aux_dtype, _ = _dtype(reader.scalar("<i4", f"{what}'s aux type"), what)
        aux_shape = _read_shape(reader, "<i8", f"{what}'s aux shape")
        if aux_shape is None:
            raise ParamsError(f"{what}'s aux array {position} has no shape")
        aux_types.append((aux_dtype, aux_shape))
    stored = storage_shape if storage_shape is not None else shape
    values = _values(reader, dtype, stored, what, bfloat)
    if storage == DENSE:
        return values
    aux = [reader.array(aux_dtype, _size(aux_shape, what), f"{what}'s aux data").reshape(aux_shape) for aux_dtype, aux_shape in aux_types]
    return _densify(storage, shape, values, aux, what)


def _read_legacy(reader: _Reader, magic: int, what: str) -> np.ndarray:
    """An array saved before storage types: V1 (int64 dims) or older (the magic is the ndim, uint32 dims)."""
    if magic == V1_MAGIC:
        shape = _read_shape(reader, "<i8", f"{what}'s shape")
    else:
        if magic > MAX_NDIM:
            raise ParamsError(f"{what} starts with {magic:#x}, neither an NDArray magic nor a rank")
        shape = tuple(int(d) for d in reader.array(np.dtype("<u4"), magic, f"{what}'s shape"))
    if not shape:
        return np.zeros((0,), np.float32)
    reader.take(8, f"{what}'s context")
    dtype, bfloat = _dtype(reader.scalar("<i4", f"{what}'s type flag"), what)
    return _values(reader, dtype, shape, what, bfloat)


def _read_shape(reader: _Reader, dim_type: str, what: str) -> tuple[int, ...] | None:
    """A TShape: i32 ndim, then its dims; None for an unknown shape (ndim -1)."""
    ndim = reader.scalar("<i4", what)
    if ndim == -1:
        return None
    if not 0 <= ndim <= MAX_NDIM:
        raise ParamsError(f"{what} has rank {ndim}")
    dims = tuple(int(d) for d in reader.array(np.dtype(dim_type), ndim, what))
    if any(d < 0 for d in dims):
        raise ParamsError(f"{what} {dims} has a negative dim")
    return dims


def _dtype(flag: int, what: str) -> tuple[np.dtype, bool]:
    if flag not in TYPE_FLAGS:
        raise ParamsError(f"{what} has type flag {flag}, which MXNet does not define")
    return TYPE_FLAGS[flag], flag == BFLOAT16


def _size(shape: tuple[int, ...], what: str) -> int:
    size = 1
    for dim in shape:
        size *= dim
    if size > 1 << 62 or math.prod(d for d in shape if d) > 1 << 62:  # numpy refuses such a shape even when empty
        raise ParamsError(f"{what} of shape {shape} is too large")
    return size


def _values(reader: _Reader, dtype: np.dtype, shape: tuple[int, ...], what: str, bfloat: bool) -> np.ndarray:
    array = reader.array(dtype, _size(shape, what), f"{what}'s data").reshape(shape)
    if bfloat:  # bfloat16 is the high half of a float32
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array


def _densify(storage: int, shape: tuple[int, ...], values: np.ndarray, aux: list[np.ndarray], what: str) -> np.ndarray:
    nbytes = _size(shape, what) * values.dtype.itemsize  # a sparse array's dense shape is not bounded by the file
    if nbytes > max_tensor_bytes():
        raise ParamsError(f"{what} of shape {shape} asks for {human(nbytes)} ({nbytes} bytes), more than the limit of {human(max_tensor_bytes())} ({LIMIT_VARIABLE})")
    dense = np.zeros(shape, values.dtype)
    if storage == ROW_SPARSE:
        rows = aux[0].astype(np.int64)
        if values.shape[1:] != shape[1:] or len(rows) != len(values) or (len(rows) and (rows.min() < 0 or rows.max() >= shape[0])):
            raise ParamsError(f"{what}: row_sparse rows do not fit its shape {shape}")
        dense[rows] = values
    else:
        indptr, columns = aux[0].astype(np.int64), aux[1].astype(np.int64)
        if len(shape) != 2 or len(indptr) != shape[0] + 1 or indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] != len(values) or len(columns) != len(values):
            raise ParamsError(f"{what}: csr indices do not fit its shape {shape}")
        if len(columns) and (columns.min() < 0 or columns.max() >= shape[1]):
            raise ParamsError(f"{what}: csr column out of range for shape {shape}")
        rows = np.repeat(np.arange(shape[0]), np.diff(indptr))
        dense[rows, columns] = values
    dense.flags.writeable = False
    return dense


def _read_names(reader: _Reader) -> list[str]:
    count = reader.scalar("<u8", "the name count")
    if count > reader.size:
        raise ParamsError(f"claims {count} names in {reader.size} bytes")
    names = []
    for index in range(count):
        length = reader.scalar("<u8", f"name {index}'s length")
        start = reader.take(length, f"name {index}")
        try:
            names.append(bytes(reader.data[start : start + length]).decode("utf-8"))
        except UnicodeDecodeError:
            raise ParamsError(f"name {index} is not UTF-8") from None
    return names


def _map(path: Path) -> Any:
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            return b""
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
