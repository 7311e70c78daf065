"""TensorFlow tensor bundles (checkpoints, a SavedModel's `variables/`) read without TensorFlow.

A bundle is `PREFIX.index`, an SSTable in LevelDB's table format mapping checkpoint keys
to `BundleEntryProto`s (the empty key holds the `BundleHeaderProto`), and data files
`PREFIX.data-SSSSS-of-NNNNN` holding each tensor's raw bytes at the entry's offset.

LevelDB table layout, as read here: a 48-byte footer at the end (metaindex block handle,
index block handle, zero padding, magic 0xdb4775248b80fb57 little-endian); a block handle
is two varints (offset, size); every block is followed by a 5-byte trailer (compression
type, masked CRC32C of contents + type). A block is a run of prefix-compressed entries
(varint shared key bytes, varint unshared key bytes, varint value size, key suffix, value)
then an array of uint32 restart offsets and their count. The index block maps a separator
key to each data block's handle.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError

from converter.errors import InvalidModelError
from converter.frontends.tensorflow.protos import BundleEntryProto, BundleHeaderProto, DataType, TrackableObjectGraph
from converter.frontends.tensorflow.tensors import Unsupported, numpy_dtype, shape_dims, type_name

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


# ---------------------------------------------------------------- SSTable


READ_BYTES = 16 << 10
"""Tensors up to this size are read into memory; larger ones are mapped, so their pages stay the
file's (read into anonymous memory, Keras ResNet50's filters up to 1 MiB cost 17 MB of peak RSS)."""


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _crc32c_table()


def masked_crc32c(data: bytes) -> int:
    """LevelDB's checksum: CRC32C, rotated right by 15 bits plus a constant."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


class TableError(Exception):
    """The SSTable is malformed; the message says where."""


def read_varint(data: bytes | memoryview, position: int, limit: int | None = None) -> tuple[int, int]:
    """A little-endian base-128 varint at `position`: (value, position after it)."""
    end = len(data) if limit is None else limit
    value = shift = 0
    while True:
        if position >= end:
            raise TableError("a varint runs past the end of its block")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift > 63:
            raise TableError("a varint is longer than 10 bytes")


def _block_handle(data: bytes | memoryview, position: int) -> tuple[tuple[int, int], int]:
    offset, position = read_varint(data, position)
    size, position = read_varint(data, position)
    return (offset, size), position


def _read_block(table: bytes, handle: tuple[int, int]) -> memoryview:
    offset, size = handle
    if offset + size + BLOCK_TRAILER_SIZE > len(table) - FOOTER_SIZE:
        raise TableError(f"block at {offset} (+{size} bytes) runs past the end of the table")
    contents = memoryview(table)[offset : offset + size]
    compression = table[offset + size]
    if compression != 0:
        raise TableError(f"block at {offset} is compressed (type {compression}); only uncompressed tables are supported")
    (stored,) = struct.unpack_from("<I", table, offset + size + 1)
    if masked_crc32c(table[offset : offset + size + 1]) != stored:
        raise TableError(f"block at {offset} fails its CRC32C check")
    return contents


def _block_entries(block: memoryview) -> Iterator[tuple[bytes, bytes]]:
    if len(block) < 4:
        raise TableError("a block is shorter than its restart count")
    (restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 - 4 * restarts
    if end < 0:
        raise TableError(f"a block of {len(block)} bytes claims {restarts} restart points")
    key = b""
    position = 0
    while position < end:
        shared, position = read_varint(block, position, end)
        unshared, position = read_varint(block, position, end)
        value_size, position = read_varint(block, position, end)
        if shared > len(key) or position + unshared + value_size > end:
            raise TableError(f"entry at {position} runs past its block")
        key = key[:shared] + bytes(block[position : position + unshared])
        position += unshared
        yield key, bytes(block[position : position + value_size])
        position += value_size


def table_entries(table: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Every (key, value) of an SSTable, in key order."""
    if len(table) < FOOTER_SIZE:
        raise TableError(f"{len(table)} bytes is shorter than a table footer")
    footer = table[-FOOTER_SIZE:]
    (magic,) = struct.unpack_from("<Q", footer, FOOTER_SIZE - 8)
    if magic != TABLE_MAGIC:
        raise TableError(f"bad table magic {magic:#018x} (not a LevelDB table)")
    _metaindex, position = _block_handle(footer, 0)
    index, _ = _block_handle(footer, position)
    for _separator, handle_bytes in _block_entries(_read_block(table, index)):
        handle, _ = _block_handle(handle_bytes, 0)
        yield from _block_entries(_read_block(table, handle))


# ---------------------------------------------------------------- the bundle


@dataclass(frozen=True)
class BundleEntry:
    key: str
    dtype: int
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    sliced: bool


def bundle_prefix(path: str | os.PathLike[str]) -> Path:
    """The bundle prefix from a `variables/` folder, a `PREFIX.index` file or the prefix itself."""
    path = Path(path)
    if path.is_dir():
        return path / "variables"
    if path.suffix == ".index":
        return path.with_suffix("")
    return path


class TensorBundle(Mapping[str, np.ndarray]):
    """A bundle's tensors by checkpoint key, read on demand (numeric tensors memory-mapped).

    Opening reads the index and checks every entry against its data file, so a missing or
    short data file fails at once, naming the file and the key.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.prefix = bundle_prefix(path)
        self.index_path = Path(f"{self.prefix}.index")
        if not self.index_path.is_file():
            raise InvalidModelError(f"{self.index_path}: no such file (a tensor bundle's index)")
        header, self.entries = self._read_index()
        self.num_shards = max(header.num_shards, 1)
        self.big_endian = header.endianness == BundleHeaderProto.Endianness.Value("BIG")
        self._data_files: dict[int, str] = {}
        self._check_data_files()

    # -- reading

    def _read_index(self) -> tuple[Any, dict[str, BundleEntry]]:
        header = BundleHeaderProto()
        entries: dict[str, BundleEntry] = {}
        try:
            for key_bytes, value in table_entries(self.index_path.read_bytes()):
                if not key_bytes:
                    header = BundleHeaderProto.FromString(value)
                    continue
                key = key_bytes.decode("utf-8")
                proto = BundleEntryProto.FromString(value)
                dims = shape_dims(proto.shape)
                if dims is None or any(d is None for d in dims):
                    raise TableError(f"entry {key!r} has an unknown shape")
                sliced = bool(proto.slices)
                entries[key] = BundleEntry(key, proto.dtype, dims, proto.shard_id, proto.offset, proto.size, sliced)  # type: ignore[arg-type]
        except TableError as error:
            raise InvalidModelError(f"{self.index_path}: {error}") from None
        except (DecodeError, UnicodeDecodeError) as error:
            raise InvalidModelError(f"{self.index_path}: unreadable entry ({error})") from None
        return header, entries

    def data_path(self, shard_id: int) -> Path:
        return Path(self._data_file(shard_id))

    def _data_file(self, shard_id: int) -> str:
        """The shard's file name as text (made once per shard: a Path per tensor read cost 6 us)."""
        name = self._data_files.get(shard_id)
        if name is None:
            name = self._data_files[shard_id] = f"{self.prefix}.data-{shard_id:05d}-of-{self.num_shards:05d}"
        return name

    def _check_data_files(self) -> None:
        sizes: dict[int, int | None] = {}
        for entry in self.entries.values():
            if entry.sliced:
                continue
            if not 0 <= entry.shard_id < self.num_shards:
                raise InvalidModelError(f"{self.index_path}: key {entry.key!r} is in shard {entry.shard_id} of {self.num_shards}")
            if entry.shard_id not in sizes:
                path = self.data_path(entry.shard_id)
                sizes[entry.shard_id] = path.stat().st_size if path.is_file() else None
            available = sizes[entry.shard_id]
            if available is None:
                raise InvalidModelError(f"{self.data_path(entry.shard_id)}: no such file (holds key {entry.key!r})")
            if entry.offset + entry.size > available:
                raise InvalidModelError(
                    f"{self.data_path(entry.shard_id)}: too short for key {entry.key!r} (needs bytes {entry.offset}..{entry.offset + entry.size}, has {available})"
                )
            if entry.dtype != DataType.DT_STRING:
                try:
                    expected = int(np.prod(entry.shape, dtype=np.int64)) * numpy_dtype(entry.dtype).itemsize
                except Unsupported:
                    continue
                if entry.size != expected:
                    raise InvalidModelError(
                        f"{self.index_path}: key {entry.key!r} has {entry.size} bytes for shape {list(entry.shape)} of {type_name(entry.dtype)}"
                    )

    def __getitem__(self, key: str) -> np.ndarray:
        entry = self.entries.get(key)
        if entry is None:
            raise InvalidModelError(f"{self.index_path}: no tensor {key!r} (the model names it; a damaged or mismatched checkpoint?)")
        if entry.sliced:
            raise InvalidModelError(f"{self.index_path}: key {key!r} is a partitioned tensor, which is not supported")
        if entry.dtype == DataType.DT_STRING:
            return self._strings(entry)
        try:
            dtype = numpy_dtype(entry.dtype)
        except Unsupported as error:
            raise InvalidModelError(f"{self.index_path}: key {key!r}: {error}") from None
        if entry.size == 0:
            array = np.zeros(entry.shape, dtype=dtype)
        else:
            stored = dtype.newbyteorder(">" if self.big_endian else "<")
            if entry.size <= READ_BYTES:  # a bias, a BatchNorm vector: one read (a map costs 50-70 us)
                with open(self._data_file(entry.shard_id), "rb", buffering=0) as handle:
                    data = os.pread(handle.fileno(), entry.size, entry.offset)
                array = np.frombuffer(data, dtype=stored).reshape(entry.shape)
            else:
                # A map per tensor, so its pages leave with it (one map of the shard kept every page
                # read through it resident: +46 MB for Keras ResNet50); the path as text, since numpy
                # resolves a Path (an lstat per component: half of the 50 us a map cost).
                array = np.memmap(self._data_file(entry.shard_id), dtype=stored, mode="r", offset=entry.offset, shape=entry.shape)
            if stored != dtype:
                array = array.astype(dtype)
        array.flags.writeable = False
        return array

    def _strings(self, entry: BundleEntry) -> np.ndarray:
        """A string tensor: a varint length per element, a 4-byte checksum of the lengths, the bytes."""
        with open(self.data_path(entry.shard_id), "rb") as file:
            file.seek(entry.offset)
            data = file.read(entry.size)
        count = int(np.prod(entry.shape, dtype=np.int64))
        try:
            lengths = []
            position = 0
            for _ in range(count):
                length, position = read_varint(data, position)
                lengths.append(length)
        except TableError:
            raise InvalidModelError(f"{self.data_path(entry.shard_id)}: string tensor {entry.key!r} is malformed") from None
        position += 4
        if position + sum(lengths) != len(data):
            raise InvalidModelError(f"{self.data_path(entry.shard_id)}: string tensor {entry.key!r} has the wrong size")
        values = np.empty(count, dtype=object)
        for i, length in enumerate(lengths):
            values[i] = data[position : position + length]
            position += length
        return values.reshape(entry.shape)

    def object_graph(self) -> Any | None:
        """The checkpoint's TrackableObjectGraph (object ids → checkpoint keys), if it has one."""
        if OBJECT_GRAPH_KEY not in self.entries:
            return None
        serialized = self[OBJECT_GRAPH_KEY].reshape(-1)[0]
        try:
            return TrackableObjectGraph.FromString(serialized)
        except DecodeError:
            raise InvalidModelError(f"{self.index_path}: {OBJECT_GRAPH_KEY} is not a TrackableObjectGraph") from None

    # -- Mapping

    def __contains__(self, key: object) -> bool:  # Mapping's would call __getitem__, which reads the tensor
        return key in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"TensorBundle({os.fspath(self.prefix)!r}, {len(self)} tensors)"


def read_bundle(path: str | os.PathLike[str]) -> TensorBundle:
    """The tensors of a bundle by checkpoint key (see TensorBundle)."""
    return TensorBundle(path)
