"""Calibration data: what the FP32 graph is run on to find activation ranges.

Either an `.npz` with one array per model input, named like the input, samples stacked on the
first axis (as validation's `--data`; an optional `labels` array is ignored), or a directory of
images with the preprocessing a manifest gives (`ImageCalibration`). Everything is checked
before any statistic is taken, and each problem is one InvalidModelError naming the file:
missing, unreadable, empty, arrays not named like the inputs, of the wrong dtype or shape, or
holding NaN/inf.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from converter.errors import InvalidModelError
from converter.validate.inputs import Feeds, TensorSpec

DEFAULT_SIZE = 300  # samples, as NNCF's default subset
BATCH = 8
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
LAYOUTS = ("nchw", "nhwc")


@dataclass(frozen=True)
class ImageCalibration:
    """A directory of images, resized to `size` (height, width), as RGB floats (pixel − mean) / std."""

    images: Path
    size: tuple[int, int]
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)
    std: tuple[float, ...] = (1.0, 1.0, 1.0)
    layout: str = "nchw"
    input: str | None = None  # the model input fed; default: the only float input


@dataclass
class Calibration:
    batches: list[Feeds]
    samples: int
    origin: str
    names: list[str] = field(default_factory=list)


def load_calibration(
    source: str | os.PathLike[str] | ImageCalibration,
    specs: Sequence[TensorSpec],
    size: int | None = None,
    batch_size: int = BATCH,
) -> Calibration:
    """Batches of at most `batch_size` samples (the model's static batch when it has one), `size` samples in all."""
    if size is not None and size <= 0:
        raise InvalidModelError(f"--calibration-size must be positive, got {size}")
    if isinstance(source, ImageCalibration):
        arrays = _read_images(source, specs)
        origin = f"images {source.images}"
        where = source.images
    else:
        where = Path(source)
        arrays = _read_npz(where)
        arrays.pop("labels", None)
        origin = f"data {where}"
    _check(where, arrays, specs)
    samples = min(len(next(iter(arrays.values()))), size or DEFAULT_SIZE)
    return _batched(where, arrays, specs, samples, batch_size, origin)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise InvalidModelError(f"{path}: no such calibration file (--calibration takes an .npz, one array per model input, or a directory of images)")
    if path.is_dir():
        raise InvalidModelError(f"{path}: a directory of images needs its preprocessing in the model's manifest (calibration: {{images: ..., size: [h, w], mean: [...], std: [...]}})")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise InvalidModelError(f"{path}: not a readable .npz calibration file: {error}") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise InvalidModelError(f"{path}: not an .npz calibration file: it holds one unnamed array; save one array per input with numpy.savez")
    try:
        with loaded as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise InvalidModelError(f"{path}: not a readable .npz calibration file: {error}") from None


def _check(where: Path, arrays: dict[str, np.ndarray], specs: Sequence[TensorSpec]) -> None:
    names = [spec.name for spec in specs]
    missing = [name for name in names if name not in arrays]
    unknown = sorted(set(arrays) - set(names))
    if missing or unknown:
        raise InvalidModelError(
            f"{where}: calibration arrays must be named like the model's inputs ({', '.join(names)}); "
            f"missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}"
        )
    for spec in specs:
        array = arrays[spec.name]
        wanted = np.dtype(spec.dtype)
        if array.ndim == 0 or len(array) == 0:
            raise InvalidModelError(f"{where}: calibration array {spec.name!r} holds no samples (shape {list(array.shape)})")
        if array.dtype.kind not in "fiub" or (wanted.kind == "f") != (array.dtype.kind == "f") or (wanted.kind == "b") != (array.dtype.kind == "b"):
            raise InvalidModelError(f"{where}: calibration array {spec.name!r} is {array.dtype}; input {spec.describe()} is {wanted}")
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise InvalidModelError(f"{where}: calibration array {spec.name!r} holds NaN or infinite values")
        if spec.dims is not None and array.ndim not in (len(spec.dims), len(spec.dims) + 1):
            raise InvalidModelError(
                f"{where}: calibration array {spec.name!r} has shape {list(array.shape)}; input {spec.describe()} "
                f"needs samples stacked on its first axis ({len(spec.dims)} dims)"
            )
    counts = {name: len(arrays[name]) for name in names}
    if len(set(counts.values())) > 1:
        raise InvalidModelError(f"{where}: every calibration array needs the same number of samples, got {counts}")


def _batched(where: Path, arrays: dict[str, np.ndarray], specs: Sequence[TensorSpec], samples: int, batch_size: int, origin: str) -> Calibration:
    """validate.data's batching: the model's static batch size, full-input arrays, shape checks."""
    from converter.validate.data import dataset_from_arrays

    dataset = dataset_from_arrays(where, arrays, specs, batch_size=batch_size, limit=samples)
    return Calibration(dataset.batches, dataset.samples, origin, [spec.name for spec in specs])


def _read_images(source: ImageCalibration, specs: Sequence[TensorSpec]) -> dict[str, np.ndarray]:
    folder = source.images
    if not folder.is_dir():
        raise InvalidModelError(f"{folder}: no such directory of calibration images")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise InvalidModelError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) to calibrate with")
    floats = [spec for spec in specs if np.dtype(spec.dtype).kind == "f"]
    target = next((spec for spec in specs if spec.name == source.input), None) if source.input else (floats[0] if len(floats) == 1 else None)
    if target is None or len(specs) != 1:
        raise InvalidModelError(f"{folder}: calibration images feed a model with one float input (the model has {', '.join(s.describe() for s in specs)})")
    if source.layout not in LAYOUTS:
        raise InvalidModelError(f"calibration layout must be one of {', '.join(LAYOUTS)}, got {source.layout!r}")
    try:
        from PIL import Image
    except ImportError:
        raise InvalidModelError("reading calibration images needs Pillow: pip install pillow") from None
    height, width = source.size
    mean = np.asarray(source.mean, np.float32)
    std = np.asarray(source.std, np.float32)
    images = []
    for path in files:
        try:
            with Image.open(path) as image:
                rgb = image.convert("RGB").resize((width, height), Image.BILINEAR)
        except OSError as error:
            raise InvalidModelError(f"{path}: not a readable image: {error}") from None
        images.append((np.asarray(rgb, np.float32) - mean) / std)
    batch = np.stack(images)
    if source.layout == "nchw":
        batch = batch.transpose(0, 3, 1, 2)
    return {target.name: np.ascontiguousarray(batch, dtype=np.dtype(target.dtype))}
