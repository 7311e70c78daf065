"""Sub-byte element types (i4, u4, f4e2m1) packed two to a byte, as OpenVINO stores them.

OpenVINO IR's .bin, an OpenVINO tensor's memory and ONNX's raw_data all pack 4-bit elements the
same way: element 2k in the low nibble of byte k, element 2k+1 in its high nibble, an odd count
padded with a zero nibble (OpenVINO's element-type spec; checked against its CPU runtime by
tests/ir/test_packed_types.py). In memory irforge holds them as ml_dtypes' one-byte-per-element
int4 / uint4 / float4_e2m1fn arrays, so numpy arithmetic and ONNX's reference agree on the values.
"""

from __future__ import annotations

import numpy as np

# ml_dtypes' names: no numpy dtype is spelled so (checking by name needs no ml_dtypes import).
_NIBBLE_NAMES = frozenset({"int4", "uint4", "float4_e2m1fn"})


def is_nibble(dtype: np.dtype) -> bool:
    dtype = np.dtype(dtype)
    return dtype.kind == "V" and dtype.name in _NIBBLE_NAMES  # ml_dtypes' are kind V; numpy's own need no name lookup


def packed_size(count: int) -> int:
    """Bytes that `count` 4-bit elements take."""
    return (count + 1) // 2


def pack_nibbles(array: np.ndarray) -> np.ndarray:
    """A 4-bit array (ml_dtypes, one element a byte) → its packed bytes (uint8, low nibble first)."""
    codes = np.ascontiguousarray(array).reshape(-1).view(np.uint8) & 0x0F
    if codes.size % 2:
        codes = np.append(codes, np.uint8(0))
    return (codes[0::2] | (codes[1::2] << 4)).astype(np.uint8)


def unpack_nibbles(packed: np.ndarray | bytes | memoryview, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """Packed bytes → a 4-bit array of `dtype` and `shape`."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    data = np.frombuffer(packed, dtype=np.uint8) if not isinstance(packed, np.ndarray) else packed.reshape(-1).view(np.uint8)
    if data.size < packed_size(count):
        raise ValueError(f"{data.size} bytes hold fewer than {count} 4-bit elements")
    codes = np.empty(packed_size(count) * 2, dtype=np.uint8)
    codes[0::2] = data[: packed_size(count)] & 0x0F
    codes[1::2] = data[: packed_size(count)] >> 4
    return codes[:count].view(dtype).reshape(shape)  # ml_dtypes keeps the bare nibble in each byte
