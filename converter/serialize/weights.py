"""The .bin side of an IR: append blobs, store identical ones once."""

from __future__ import annotations

import numpy as np

from converter.ir.arrays import sample_key


class WeightsWriter:
    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._stored: dict[tuple, list[tuple[int, bytes]]] = {}

    def add(self, array: np.ndarray) -> tuple[int, int]:
        """Store the array's little-endian bytes; return (offset, size)."""
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        data = array.tobytes()
        candidates = self._stored.setdefault(sample_key(array.reshape(-1).view(np.uint8)), [])
        for offset, stored in candidates:
            if stored == data:
                return offset, len(data)
        offset = self._size
        candidates.append((offset, data))
        self._chunks.append(data)
        self._size += len(data)
        return offset, len(data)

    def getvalue(self) -> bytes:
        return b"".join(self._chunks)
