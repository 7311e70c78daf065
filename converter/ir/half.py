"""f32 → f16 rounding with integer arithmetic on the bits, the same values as numpy's cast.

numpy's `astype(np.float16)` converts one element at a time (4.5 ns per value on this machine:
110 ms for ResNet-50's weights); the same round-to-nearest-even done by 13 vectorized integer
operations on blocks of 64 Ki values takes 1.8 ns (and leaves the range check, which compression
needs first, to one reduction). A block within ±65504 is computed so, bit for bit what numpy
gives (all 2**32 f32 bit patterns were compared once; tests/ir/test_half.py checks every f16
rounding boundary, halfway cases and subnormals included); any other block (±inf, NaN, values
that round to infinity) is cast by numpy itself.
"""

from __future__ import annotations

import numpy as np

BLOCK = 1 << 16  # elements per block: scratch arrays near the L2 cache, few calls per element
FAST_FROM = 2048  # smaller arrays: numpy's cast (a block costs about 14 numpy calls)
F16_MAX_BITS = np.uint32(0x477FE000)  # 65504.0, the largest finite f16, as f32 bits

_ABS = np.uint32(0x7FFFFFFF)
_NORMAL16 = np.uint32(0x38800000)  # 2**-14, the smallest normal f16, as f32 bits
_REBIAS = np.uint32((0xFFF - (112 << 23)) & 0xFFFFFFFF)  # f32 → f16 exponent bias, plus the rounding bias
_MAGIC = np.float32(0.5)  # adding 0.5 leaves an f16 subnormal's mantissa in the low bits, rounded to even
_MAGIC_BITS = np.uint32(0x3F000000)
_SIGN16 = np.uint32(0x8000)


def to_half(array: np.ndarray) -> np.ndarray:
    """`array.astype(np.float16)` of an f32 array, bit for bit: blocks within ±65504 by integer
    arithmetic, any other block (±inf, NaN, values that round to infinity) by numpy's cast."""
    source = np.ascontiguousarray(array, dtype=np.float32)
    out = np.empty(source.shape, dtype=np.float16)
    _cast(source.reshape(-1), out.reshape(-1), stop_out_of_range=False)
    return out


def half_in_range(array: np.ndarray, out: np.ndarray | None = None) -> np.ndarray | None:
    """`array.astype(np.float16)` when every value is within ±65504 (so none is NaN or infinite);
    None as soon as a value is not (then nothing is promised about `out`). `out`: a C-contiguous
    f16 array of the same size to fill. The range check costs one reduction per block."""
    source = np.ascontiguousarray(array, dtype=np.float32)
    if out is None:
        out = np.empty(source.shape, dtype=np.float16)
    return out if _cast(source.reshape(-1), out.reshape(-1), stop_out_of_range=True) else None


def _cast(source: np.ndarray, flat: np.ndarray, stop_out_of_range: bool) -> bool:
    if source.size < FAST_FROM:
        if stop_out_of_range and source.size and np.bitwise_and(source.view(np.uint32), _ABS).max() > F16_MAX_BITS:
            return False
        np.copyto(flat, source, casting="same_kind")
        return True
    bits = source.view(np.uint32)
    half_bits = flat.view(np.uint16)
    size = min(BLOCK, source.size)
    magnitude = np.empty(size, dtype=np.uint32)
    result = np.empty(size, dtype=np.uint32)
    scratch = np.empty(size, dtype=np.uint32)
    small = np.empty(size, dtype=bool)
    for start in range(0, source.size, BLOCK):
        stop = min(start + BLOCK, source.size)
        count = stop - start
        block = bits[start:stop]
        np.bitwise_and(block, _ABS, out=magnitude[:count])
        if magnitude[:count].max() > F16_MAX_BITS:
            if stop_out_of_range:
                return False
            np.copyto(flat[start:stop], source[start:stop], casting="same_kind")  # numpy's inf and NaN bits
            continue
        _in_range(block, magnitude[:count], half_bits[start:stop], result[:count], scratch[:count], small[:count])
    return True


def _in_range(bits: np.ndarray, magnitude: np.ndarray, out: np.ndarray, result: np.ndarray, scratch: np.ndarray, small: np.ndarray) -> None:
    """f16 bits of values within ±65504 (`bits`: their f32 bits; `magnitude`: without the sign)."""
    # Normal f16 range: drop 13 mantissa bits, rounding half to even (the carry may reach the
    # exponent), and rebias the exponent; below 2**-14 this wraps, and the subnormal result
    # replaces it.
    np.right_shift(magnitude, 13, out=result)
    np.bitwise_and(result, 1, out=result)
    np.add(result, magnitude, out=result)
    np.add(result, _REBIAS, out=result)
    np.right_shift(result, 13, out=result)
    # Below 2**-14: the float addition rounds to the f16 subnormal grid (to nearest even).
    np.less(magnitude, _NORMAL16, out=small)
    if small.any():
        np.add(magnitude.view(np.float32), _MAGIC, out=scratch.view(np.float32))
        np.subtract(scratch, _MAGIC_BITS, out=scratch)
        np.copyto(result, scratch, where=small)
    np.right_shift(bits, 16, out=scratch)
    np.bitwise_and(scratch, _SIGN16, out=scratch)
    np.bitwise_or(result, scratch, out=result)
    np.copyto(out, result, casting="unsafe")
