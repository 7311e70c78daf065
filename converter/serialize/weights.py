"""The .bin side of an IR: append blobs, store identical ones once, stream them out."""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

from converter.ir.arrays import chunks, read_from_file, sample_key
from converter.ir.packing import is_nibble, pack_nibbles


class WeightsWriter:
    """Collects weight arrays (by reference: nothing is copied until written)."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []  # contiguous little-endian arrays, viewed as bytes
        self._size = 0
        self._stored: dict[tuple, list[tuple[int, np.ndarray]]] = {}

    def add(self, array: np.ndarray) -> tuple[int, int]:
        """Store the array's little-endian bytes; return (offset, size)."""
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        if is_nibble(array.dtype):  # i4 / u4 / f4e2m1: two to a byte, as OpenVINO reads them
            data = pack_nibbles(array)
        else:
            data = np.asarray(array, order="C").reshape(-1).view(np.uint8)
        candidates = self._stored.setdefault(sample_key(data), [])
        for offset, stored in candidates:
            if np.array_equal(stored, data):
                return offset, data.size
        offset = self._size
        candidates.append((offset, data))
        self._chunks.append(data)
        self._size += data.size
        return offset, data.size

    @property
    def size(self) -> int:
        return self._size

    def write_to(self, handle: BinaryIO) -> None:
        """Stream the blobs out; memory-mapped weights a chunk at a time, read from their file
        (see `converter.ir.arrays.chunks`), so writing a large model adds no resident copy."""
        for chunk in self._chunks:
            if read_from_file(chunk):
                for piece in chunks(chunk):
                    handle.write(memoryview(piece))
            else:
                handle.write(memoryview(chunk))

    def getvalue(self) -> bytes:
        return b"".join(chunk.tobytes() for chunk in self._chunks)
