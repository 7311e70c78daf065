"""Weight-array helpers: cheap identity checks (dedup without hashing every byte), and a contiguous
transpose that is fast on large filters (numpy copies a 4-D transpose such as HWIO → OIHW in a
cache-hostile order: 10 ms for a 3×3×512×512 filter here; merged into fewer axes and done as tiled
2-D transposes it takes 7)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

SAMPLES = 64
CHUNK_BYTES = 16 << 20
"""Weights larger than this are read and converted a chunk at a time (`chunks`)."""
MAPPED_BYTES = 1 << 20
"""Memory-mapped weights larger than this are read from their file, not through the map."""


def read_from_file(array: np.ndarray) -> bool:
    """Whether `array` is a large enough memory map to read with file reads (see `chunks`)."""
    return array.nbytes > MAPPED_BYTES and file_region(array) is not None


def sample_key(array: np.ndarray) -> tuple:
    """A key equal for equal arrays; different arrays rarely share it (then compare in full).

    Reads about 64 evenly spaced elements plus the last few, so memory-mapped weights are
    barely touched.
    """
    if array.size <= SAMPLES:  # small: all of it (C order, views too), in one call
        return (array.dtype.str, array.shape, array.tobytes())
    if not array.flags.c_contiguous:  # a view (broadcast, transposed): sample it in place, no flat copy
        step = max(1, array.size // SAMPLES)
        picked = array.flat[np.arange(0, array.size, step)[:SAMPLES]]
        return (array.dtype.str, array.shape, picked.tobytes(), array.flat[np.arange(max(array.size - 4, 0), array.size)].tobytes())
    flat = array.reshape(-1)
    step = max(1, flat.size // SAMPLES)
    region = file_region(flat) if flat.nbytes > MAPPED_BYTES else None
    if region is not None:  # a large memory map: read the samples from the file, not through the map
        return (array.dtype.str, array.shape, *_file_samples(flat, step, *region))
    return (array.dtype.str, array.shape, flat[::step][:SAMPLES].tobytes(), flat[-4:].tobytes())


def _file_samples(flat: np.ndarray, step: int, filename: str, offset: int) -> tuple[bytes, bytes]:
    """`flat[::step][:SAMPLES].tobytes()` and `flat[-4:].tobytes()`, read with os.pread (reading
    through the mapping would page in the read-around of every sample: megabytes per weight)."""
    import os

    size = flat.itemsize
    with open(filename, "rb", buffering=0) as handle:
        descriptor = handle.fileno()
        samples = b"".join(os.pread(descriptor, size, offset + index * size) for index in range(0, flat.size, step)[:SAMPLES])
        tail = os.pread(descriptor, size * min(4, flat.size), offset + (flat.size - min(4, flat.size)) * size)
    return samples, tail


def same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """Bitwise equality (so NaNs and -0.0 count as what they are)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def contiguous_transpose(array: np.ndarray, perm: Sequence[int]) -> np.ndarray:
    """`np.ascontiguousarray(array.transpose(perm))`, computed with as few strided copies as possible."""
    perm = [int(p) for p in perm]
    out_shape = tuple(array.shape[p] for p in perm)
    moved = [p for p in perm if array.shape[p] != 1]  # axes of size 1 move for free
    kept = sorted(moved)
    squeezed_perm = [kept.index(p) for p in moved]
    groups = _merge_runs(squeezed_perm)  # runs of source axes that stay adjacent and in order
    sizes = {run[0]: int(np.prod([array.shape[kept[a]] for a in run], dtype=np.int64)) for run in groups}
    order = sorted(groups, key=lambda run: run[0])
    merged_shape = [sizes[run[0]] for run in order]
    merged_perm = [order.index(run) for run in groups]
    if merged_perm == list(range(len(merged_perm))):
        return np.ascontiguousarray(array).reshape(out_shape)
    if read_from_file(array):  # a large memory map: read it from its file, so its pages never stay resident
        filename, offset = file_region(array)  # type: ignore[misc]
        merged = np.fromfile(filename, dtype=array.dtype, count=array.size, offset=offset).reshape(merged_shape)
    else:
        merged = array.reshape(merged_shape)
    if merged_perm == [1, 0]:
        return _transposed_matrix(merged).reshape(out_shape)
    if merged_perm == [2, 1, 0]:  # (a, b, c) → (c, b, a): (a·b, c)ᵀ = (c, a, b), then swap the trailing two
        a, b, c = merged.shape
        step = _transposed_matrix(merged.reshape(a * b, c)).reshape(c, a, b)
        return np.ascontiguousarray(step.transpose(0, 2, 1)).reshape(out_shape)
    return np.ascontiguousarray(merged.transpose(merged_perm)).reshape(out_shape)


TILE_COLUMNS = 256
TILED_ELEMENTS = 1 << 16


def _transposed_matrix(matrix: np.ndarray) -> np.ndarray:
    """`np.ascontiguousarray(matrix.T)` a tile at a time: numpy's copy of a transposed view reads
    each element from another cache line and page; a band of rows one cache line of each column
    wide, 256 columns at a time, stays in cache (about 2× faster on 1024 × 2048 float32)."""
    rows, columns = matrix.shape
    band = max(1, 64 // matrix.itemsize)
    if matrix.size < TILED_ELEMENTS or rows <= band or columns <= band:
        return np.ascontiguousarray(matrix.T)
    result = np.empty((columns, rows), dtype=matrix.dtype)
    for row in range(0, rows, band):
        source, target = matrix[row : row + band], result[:, row : row + band]
        for column in range(0, columns, TILE_COLUMNS):
            target[column : column + TILE_COLUMNS] = source[:, column : column + TILE_COLUMNS].T
    return result


def _merge_runs(perm: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for axis in perm:
        if runs and runs[-1][-1] + 1 == axis:
            runs[-1].append(axis)
        else:
            runs.append([axis])
    return runs


def file_region(array: np.ndarray) -> tuple[str, int] | None:
    """(file, byte offset) when `array`'s bytes are exactly a region of a file it is a read-only
    memory map of (an ONNX initializer in external data, say): C-contiguous, little-endian."""
    base = array
    while base is not None and not isinstance(base, np.memmap):
        base = base.base if isinstance(base, np.ndarray) else None
    if base is None or getattr(base, "filename", None) is None or base.mode != "r":
        return None
    if not array.flags.c_contiguous or array.dtype.byteorder == ">" or not base.flags.c_contiguous:
        return None
    delta = array.ctypes.data - base.ctypes.data
    if delta < 0 or delta + array.nbytes > base.nbytes:
        return None
    return str(base.filename), base.offset + delta


def chunks(array: np.ndarray, chunk_bytes: int = CHUNK_BYTES) -> Iterator[np.ndarray]:
    """The array's elements, flat and in order, at most `chunk_bytes` at a time.

    A memory-mapped array is read from its file with ordinary reads into one reused buffer, never
    through the mapping: pages read through a mapping stay resident in the process for as long as
    the mapping lives, so walking a 2 GB model would cost 2 GB of RSS. Each chunk is valid only
    until the next one is asked for."""
    flat = np.asarray(array, order="C").reshape(-1)
    step = max(1, chunk_bytes // max(flat.itemsize, 1))
    region = file_region(flat) if flat.nbytes > MAPPED_BYTES else None
    if region is None:
        for start in range(0, flat.size, step):
            yield flat[start : start + step]
        return
    filename, offset = region
    buffer = np.empty(step, dtype=flat.dtype)
    raw = memoryview(buffer).cast("B")
    with open(filename, "rb", buffering=0) as handle:
        for start in range(0, flat.size, step):
            count = min(step, flat.size - start)
            view = raw[: count * flat.itemsize]
            handle.seek(offset + start * flat.itemsize)
            filled = 0
            while filled < len(view):
                read = handle.readinto(view[filled:])
                if not read:
                    raise OSError(f"{filename}: ended early while reading weights")
                filled += read
            yield buffer[:count]
