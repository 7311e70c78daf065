"""The .bin side of an IR: append blobs, store identical ones once."""

from __future__ import annotations

import hashlib

import numpy as np


class WeightsWriter:
    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._offsets: dict[bytes, int] = {}

    def add(self, array: np.ndarray) -> tuple[int, int]:
        """Store the array's little-endian bytes; return (offset, size)."""
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        data = np.ascontiguousarray(array).tobytes()
        key = hashlib.sha256(data).digest() + len(data).to_bytes(8, "little")
        offset = self._offsets.get(key)
        if offset is None:
            offset = self._size
            self._offsets[key] = offset
            self._chunks.append(data)
            self._size += len(data)
        return offset, len(data)

    def getvalue(self) -> bytes:
        return b"".join(self._chunks)
