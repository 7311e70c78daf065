"""Per-model manifests: how to feed and judge one model, written beside it.

`NAME.yaml` beside `NAME.onnx`, or `irforge.yaml` in the model's folder (for every model of that
folder without a NAME.yaml). Every key is optional; see docs/validation.md:

    inputs: {image: [1, 1, 8, 8]}      # shapes of dynamic inputs (as --input-shape)
    data: digits_test.npz              # real inputs, relative to the manifest
    labels: labels                     # the .npz array of class labels (default: labels)
    metric: accuracy                   # max_rel (default), accuracy, top1, top5, cosine
    output: logits                     # the classifier output for accuracy and top-k
    samples: 200                       # use at most this many samples of the data
    batch_size: 32                     # samples per run when the batch dim is dynamic
    tolerances: {fp16: {accuracy_drop: 0.02}}   # override configs/default.yaml per precision
    frontend: {signature: classify, input_layout: nchw}   # how to read the model (converter/frontends/options.py)
    calibration: calibration.npz       # INT8 calibration data (as data:), or a directory of images:
    calibration: {images: photos/, size: [224, 224], mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5],
                  layout: nchw, samples: 300}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from converter.errors import InvalidModelError
from converter.yaml_files import parse_yaml
from converter.frontends.options import FrontendOptions, options_from_mapping

METRICS = ("max_rel", "accuracy", "top1", "top5", "cosine")
FOLDER_MANIFEST = "irforge.yaml"
_KEYS = {"inputs", "data", "labels", "metric", "output", "samples", "batch_size", "tolerances", "frontend", "calibration"}
_IMAGE_KEYS = {"images", "size", "mean", "std", "layout", "input", "samples"}


@dataclass(frozen=True)
class Manifest:
    path: Path | None = None
    inputs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    data: Path | None = None
    labels: str = "labels"
    metric: str | None = None
    output: str | None = None
    samples: int | None = None
    batch_size: int = 32
    tolerances: dict[str, dict[str, float]] = field(default_factory=dict)
    frontend: FrontendOptions = field(default_factory=FrontendOptions)
    calibration: Path | Any = None  # an .npz, or a quantize.calibration.ImageCalibration
    calibration_samples: int | None = None


def manifest_path(model: str | os.PathLike[str]) -> Path | None:
    """The manifest that applies to `model`, if any."""
    model = Path(model)
    for candidate in (model.with_suffix(".yaml"), model.parent / FOLDER_MANIFEST):
        if candidate.is_file() and candidate != model:
            return candidate
    return None


def find_manifest(model: str | os.PathLike[str]) -> Manifest:
    path = manifest_path(model)
    return load_manifest(path) if path is not None else Manifest()


def load_manifest(path: str | os.PathLike[str]) -> Manifest:
    path = Path(path)
    try:
        data = parse_yaml(path, path.read_bytes(), "manifest") or {}
    except OSError as error:
        raise InvalidModelError(f"{path}: cannot read the manifest: {error}") from None
    if not isinstance(data, dict):
        raise InvalidModelError(f"{path}: a manifest is a mapping of {', '.join(sorted(_KEYS))}")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise InvalidModelError(f"{path}: unknown manifest key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    metric = data.get("metric")
    if metric is not None and metric not in METRICS:
        raise InvalidModelError(f"{path}: metric {metric!r} is not one of {', '.join(METRICS)}")
    return Manifest(
        path=path,
        inputs=_shapes(path, data.get("inputs") or {}),
        data=(path.parent / _text(path, "data", data["data"])) if data.get("data") else None,
        labels=str(data.get("labels") or "labels"),
        metric=metric,
        output=data.get("output"),
        samples=_positive(path, "samples", data.get("samples")),
        batch_size=_positive(path, "batch_size", data.get("batch_size")) or 32,
        tolerances=_tolerances(path, data.get("tolerances") or {}),
        frontend=options_from_mapping(data.get("frontend") or {}, f"{path}"),
        **_calibration(path, data.get("calibration")),
    )


def _calibration(path: Path, value: Any) -> dict[str, Any]:
    """calibration: FILE.npz, or {images: DIR, size: [h, w], mean, std, layout, input, samples}."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"calibration": path.parent / value}
    if isinstance(value, dict) and "images" in value:
        _text(path, "calibration.images", value["images"])
    usage = "calibration is an .npz path or {images: DIR, size: [h, w], mean: [r, g, b], std: [r, g, b], layout: nchw|nhwc}"
    if not isinstance(value, dict) or "images" not in value or "size" not in value or set(value) - _IMAGE_KEYS:
        raise InvalidModelError(f"{path}: {usage}")
    from converter.quantize.calibration import ImageCalibration

    def numbers(key: str, default: tuple[float, ...], count: int) -> tuple[float, ...]:
        given = value.get(key, default)
        if not isinstance(given, list | tuple) or len(given) != count or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in given):
            raise InvalidModelError(f"{path}: calibration.{key} takes {count} numbers; {usage}")
        return tuple(float(v) for v in given)

    size = numbers("size", (), 2)
    if any(v <= 0 or v != int(v) for v in size):
        raise InvalidModelError(f"{path}: calibration.size takes [height, width] in pixels")
    std = numbers("std", (1.0, 1.0, 1.0), 3)
    if any(v == 0 for v in std):
        raise InvalidModelError(f"{path}: calibration.std must not be 0")
    images = ImageCalibration(
        path.parent / str(value["images"]),
        (int(size[0]), int(size[1])),
        numbers("mean", (0.0, 0.0, 0.0), 3),
        std,
        str(value.get("layout", "nchw")),
        value.get("input"),
    )
    return {"calibration": images, "calibration_samples": _positive(path, "calibration.samples", value.get("samples"))}


def _text(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidModelError(f"{path}: {key} is a file name, got {value!r}")
    return value


def _shapes(path: Path, inputs: Any) -> dict[str, tuple[int, ...]]:
    if not isinstance(inputs, dict) or not all(
        isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape) for shape in inputs.values()
    ):
        raise InvalidModelError(f"{path}: inputs maps each input name to a list of sizes, e.g. {{image: [1, 3, 224, 224]}}")
    return {str(name): tuple(shape) for name, shape in inputs.items()}


def _positive(path: Path, key: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidModelError(f"{path}: {key} must be a positive integer, got {value!r}")
    return value


def _tolerances(path: Path, tolerances: Any) -> dict[str, dict[str, float]]:
    from converter.config import TOLERANCE_KEYS

    if not isinstance(tolerances, dict):
        raise InvalidModelError(f"{path}: tolerances maps a precision (fp32, fp16) to its bounds")
    result = {}
    for precision, bounds in tolerances.items():
        if not isinstance(bounds, dict) or set(bounds) - set(TOLERANCE_KEYS):
            raise InvalidModelError(f"{path}: tolerances.{precision} takes {', '.join(TOLERANCE_KEYS)}")
        try:
            result[str(precision)] = {key: float(value) for key, value in bounds.items()}
        except (TypeError, ValueError):
            raise InvalidModelError(f"{path}: tolerances.{precision}: every bound must be a number, got {bounds}") from None
    return result
