"""Real inputs from an `.npz`: one array per model input, named like the input, samples on the first axis.

An array of rank r+1 for an input of rank r holds one full input per sample (batch included);
an array of rank r holds samples stacked on the batch axis, fed in batches of the model's
static batch size (1 for most exported models) or, when the batch dim is dynamic, of up to
`batch_size` samples. An optional `labels` array (one class per sample) gives accuracy.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converter.errors import InvalidModelError
from converter.validate.inputs import Feeds, TensorSpec

LABELS = "labels"


@dataclass
class Dataset:
    batches: list[Feeds]
    samples: int
    labels: np.ndarray | None = None


def load_dataset(
    path: str | os.PathLike[str],
    specs: Sequence[TensorSpec],
    labels_key: str = LABELS,
    batch_size: int = 32,
    limit: int | None = None,
) -> Dataset:
    """Batches of real inputs for the model whose inputs are `specs`; InvalidModelError names what does not fit."""
    path = Path(path)
    return dataset_from_arrays(path, _read_npz(path), specs, labels_key, batch_size, limit)


def dataset_from_arrays(
    path: Path,
    arrays: dict[str, np.ndarray],
    specs: Sequence[TensorSpec],
    labels_key: str = LABELS,
    batch_size: int = 32,
    limit: int | None = None,
) -> Dataset:
    """`load_dataset` on arrays already read (`path` names them in errors)."""
    arrays = dict(arrays)
    labels = arrays.pop(labels_key, None)
    names = [spec.name for spec in specs]
    missing = [name for name in names if name not in arrays]
    unknown = sorted(set(arrays) - set(names))
    if missing or unknown:
        raise InvalidModelError(
            f"{path}: the arrays must be named like the model's inputs ({', '.join(names)}) plus an optional "
            f"{labels_key!r}; missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}"
        )
    counts = {name: len(arrays[name]) if arrays[name].ndim else 0 for name in names}
    if len(set(counts.values())) != 1 or 0 in counts.values():
        raise InvalidModelError(f"{path}: every input array needs the same number of samples on its first axis, got {counts}")
    samples = counts[names[0]] if names else 0
    if limit is not None:
        samples = min(samples, limit)
    if labels is not None and len(labels) < samples:
        raise InvalidModelError(f"{path}: {labels_key!r} has {len(labels)} entries for {samples} samples")
    per_input = {spec.name: _as_input(path, spec, arrays[spec.name][:samples]) for spec in specs}
    step = _batch_step(specs, per_input, batch_size)
    if any(spec.dims and isinstance(spec.dims[0], int) and per_input[spec.name].stacked_on_batch for spec in specs):
        samples -= samples % step  # a static batch of `step` cannot take a shorter last batch
        if not samples:
            raise InvalidModelError(f"{path}: the model's batch is fixed at {step}; the file has fewer samples")
    batches = []
    for start in range(0, samples, step):
        batches.append({name: chunk(start, step) for name, chunk in per_input.items()})
    return Dataset(batches, samples, None if labels is None else np.asarray(labels[:samples]))


class _Input:
    """One input's samples; `chunk(start, n)` gives the array fed for samples [start, start + n)."""

    def __init__(self, array: np.ndarray, stacked_on_batch: bool):
        self.array = array
        self.stacked_on_batch = stacked_on_batch

    def __call__(self, start: int, count: int) -> np.ndarray:
        if self.stacked_on_batch:
            return np.ascontiguousarray(self.array[start : start + count])
        return np.ascontiguousarray(self.array[start])


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise InvalidModelError(f"{path}: no such data file (--data takes an .npz, one array per model input)")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise InvalidModelError(f"{path}: not a readable .npz file: {error}") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):  # a bare .npy holds one unnamed array
        raise InvalidModelError(f"{path}: not a readable .npz file: it holds one unnamed array; save one array per input with numpy.savez")
    with loaded as archive:
        return {name: archive[name] for name in archive.files}


def _as_input(path: Path, spec: TensorSpec, array: np.ndarray) -> _Input:
    dtype = np.dtype(spec.dtype)
    if array.dtype.kind == "f" and dtype.kind in "iub":
        raise InvalidModelError(f"{path}: array {spec.name!r} holds floats, the input is {dtype}")
    array = array.astype(dtype, copy=False)
    if spec.dims is None:
        return _Input(array, stacked_on_batch=False)
    rank = len(spec.dims)
    if array.ndim == rank + 1:
        sample_dims = array.shape[1:]
        stacked = False
    elif array.ndim == rank:
        sample_dims = (None, *array.shape[1:])
        stacked = True
    else:
        raise InvalidModelError(
            f"{path}: array {spec.name!r} has shape {list(array.shape)}; input {spec.describe()} needs "
            f"[samples, {', '.join('?' if not isinstance(d, int) else str(d) for d in spec.dims[1:])}] "
            f"or [samples, {', '.join('?' if not isinstance(d, int) else str(d) for d in spec.dims)}]"
        )
    for axis, (given, declared) in enumerate(zip(sample_dims, spec.dims)):
        if given is not None and isinstance(declared, int) and given != declared:
            raise InvalidModelError(
                f"{path}: array {spec.name!r} has shape {list(array.shape)}, which does not fit input {spec.describe()} (dim {axis})"
            )
    return _Input(array, stacked)


def _batch_step(specs: Sequence[TensorSpec], per_input: dict[str, _Input], batch_size: int) -> int:
    """Samples per run: 1 for full-input arrays, else the static batch or `batch_size` when it is dynamic."""
    steps = set()
    for spec in specs:
        item = per_input[spec.name]
        if not item.stacked_on_batch:
            steps.add(1)
        elif spec.dims and isinstance(spec.dims[0], int):
            steps.add(spec.dims[0])
        else:
            steps.add(batch_size)
    return min(steps) if steps else 1
