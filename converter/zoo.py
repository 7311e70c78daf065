"""The zoo job, one model at a time: find models, convert them, validate them, remember them.

This is the library half of `irforge zoo`; the Prefect flow (`flows/zoo.py`) fans it out and
isolates each model in a child process. Each model's IRs go to
OUT/<its path in the zoo without suffix>/<PRECISION>/<stem>.xml, so two models of the same name in
different folders never overwrite each other. A model's IRs are written into a staging folder
and swapped into place whole, and its result record (`irforge-model.json`, which holds its report
rows and the cache key) is written last: an interrupted run leaves either the previous complete
model or none, never a mix. A model whose files, irforge version and settings are unchanged is not
converted again: its recorded rows are reused, marked `cached`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from converter.errors import ConverterError, InvalidModelError
from converter.frontends import SUFFIXES

MODEL_SUFFIXES = tuple(SUFFIXES)  # every format a frontend reads
RECORD = "irforge-model.json"
STAGING, TRASH = ".staging", ".trash"


def find_models(directory: str | os.PathLike[str], exclude: Sequence[Path] = ()) -> list[Path]:
    """Every model under `directory` (hidden folders and `exclude`d ones skipped), sorted;
    InvalidModelError says what is wrong with the directory."""
    directory = Path(directory)
    if not directory.exists():
        raise InvalidModelError(f"{directory}: no such directory")
    if not directory.is_dir():
        raise InvalidModelError(f"{directory}: is a file, not a directory of models (irforge convert takes one model)")
    skipped = [Path(p).resolve() for p in exclude]
    saved_models = sorted(p.parent for p in directory.rglob("saved_model.pb"))
    models = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts) or any(path.resolve().is_relative_to(f) for f in skipped):
            continue
        if path in saved_models:
            models.append(path)  # a SavedModel is a folder; nothing inside it is a model of its own
            continue
        if not path.is_file() or any(path.is_relative_to(folder) for folder in saved_models):
            continue
        suffix = path.suffix.lower()
        if suffix in MODEL_SUFFIXES and (suffix != ".xml" or is_ir(path)):
            models.append(path)
        elif _is_mxnet_symbol(path):
            models.append(path)  # an MXNet checkpoint is named by its symbol; its .params are its weights
    models = [m for m in models if not _paired_caffe_net(m)]
    if not models:
        raise InvalidModelError(f"{directory}: no models found (looked for {', '.join(MODEL_SUFFIXES)} and MXNet NAME-symbol.json files in every sub-folder)")
    return models


def _is_mxnet_symbol(path: Path) -> bool:
    from converter.frontends.mxnet import is_symbol_file

    return is_symbol_file(path)


def _paired_caffe_net(path: Path) -> bool:
    """A Caffe .prototxt with its .caffemodel beside it: the .caffemodel names the model."""
    if path.suffix.lower() != ".prototxt":
        return False
    from converter.frontends.caffe import is_paired_net

    return is_paired_net(path)


def is_ir(path: Path) -> bool:
    """An OpenVINO IR .xml (its root element is <net>), not any XML file."""
    try:
        head = path.read_bytes()[:512].lstrip()
    except OSError:
        return False
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2 :].lstrip()
    return head.startswith(b"<net")


def model_key(model: Path, zoo: Path, others: Sequence[Path] = ()) -> str:
    """The model's name in reports and its folder under OUT: its path in the zoo without the suffix,
    or with it when another model of the zoo has the same path otherwise (net.keras and net.h5)."""
    plain = model.relative_to(zoo).with_suffix("").as_posix()
    if any(other != model and other.relative_to(zoo).with_suffix("").as_posix() == plain for other in others):
        return model.relative_to(zoo).as_posix()
    return plain


def model_files(model: Path) -> list[Path]:
    """Every file the model is made of: the model, its external data or weights, its manifest and data."""
    from converter.validate.manifest import find_manifest, manifest_path

    if model.is_dir():  # a SavedModel: every file of its folder
        return sorted(f for f in model.rglob("*") if f.is_file())
    files = {model}
    if model.suffix.lower() == ".xml":
        files.add(model.with_suffix(".bin"))
    elif model.suffix.lower() == ".onnx":
        files.update(_onnx_external_files(model))
    elif _is_mxnet_symbol(model):
        from converter.frontends.mxnet import source_files as mxnet_files

        files.update(mxnet_files(model))
    elif model.suffix.lower() in (".caffemodel", ".prototxt"):
        from converter.frontends.caffe import source_files

        try:
            files.update(source_files(model))
        except InvalidModelError:
            pass  # a model without its net is reported by its conversion
    manifest = manifest_path(model)
    if manifest is not None:
        files.add(manifest)
        try:
            found = find_manifest(model)
            data, calibration = found.data, found.calibration
        except InvalidModelError:
            data = calibration = None  # a broken manifest is reported by validation; its bytes still count
        if data is not None:
            files.add(data)
        if isinstance(calibration, Path):
            files.add(calibration)
        elif calibration is not None:  # a directory of images
            files.update(p for p in calibration.images.rglob("*") if p.is_file())
    return sorted(f for f in files if f.is_file())


def _onnx_external_files(model: Path) -> set[Path]:
    import onnx

    try:
        proto = onnx.load(os.fspath(model), load_external_data=False)
    except Exception:  # an unreadable model is reported by its conversion, not here
        return set()
    found = set()
    for tensor in list(proto.graph.initializer):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = next((entry.value for entry in tensor.external_data if entry.key == "location"), None)
            if location:
                found.add(model.parent / location)
    return found


def cache_key(model: Path, settings_text: str, options: dict) -> str:
    """What decides a model's result: the bytes of all its files, irforge's version, the settings."""
    from converter import __version__

    digest = hashlib.sha256()
    digest.update(json.dumps({"irforge": __version__, "settings": settings_text, "options": options}, sort_keys=True).encode())
    for path in model_files(model):
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@dataclass
class ModelResult:
    """What one model produced: report rows, per-output rows, its failures and how long it took."""

    model: str
    status: str = "pass"  # pass, fail (validation), error (not converted or not validated)
    rows: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    convert_seconds: float = 0.0
    cached: bool = False

    def as_cached(self) -> ModelResult:
        rows = [{**row, "cached": True} for row in self.rows]
        return ModelResult(self.model, self.status, rows, self.outputs, self.failures, self.convert_seconds, True)


def error_result(key: str, model: Path, message: str, precisions: Sequence[str]) -> ModelResult:
    """A model that was not converted or not validated: one `error` row per precision."""
    from converter.frontends import SUFFIXES

    framework = "savedmodel" if model.is_dir() else "mxnet" if _is_mxnet_symbol(model) else SUFFIXES.get(model.suffix.lower(), "")
    row = {"model": key, "framework": framework, "backend": "", "status": "error", "message": message}
    rows = [{**row, "precision": precision} for precision in precisions]
    return ModelResult(key, "error", rows, [], [message.splitlines()[0]])


def convert_variants(model: Path, output_dir: Path, key: str, settings, precisions: Sequence[str]) -> list:
    """Write OUT/KEY/<PRECISION>/<stem>.xml for each precision, swapped into place whole."""
    from converter.api import load_model, optimize
    from converter.passes.compress_fp16 import compress_fp16
    from converter.serialize.writer import write_ir
    from converter.validate.validation import Variant

    from converter.validate.manifest import find_manifest

    manifest = find_manifest(model)
    graph, _ = optimize(load_model(model, manifest.frontend), list(settings.passes))
    staging = output_dir / STAGING / f"{key.replace('/', '__')}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    # INT8 for the models whose manifest names calibration data (and only those, even when asked for)
    precisions = [p for p in precisions if p != "int8"] + (["int8"] if manifest.calibration is not None else [])
    try:
        for precision in precisions:
            if precision == "int8":
                from converter.quantize.pipeline import quantize_model

                variant_graph, _ = quantize_model(graph, manifest)
            else:
                variant_graph = compress_fp16(graph.copy()) if precision == "fp16" else graph
            try:
                write_ir(variant_graph, staging / precision.upper() / f"{model.stem}.xml")
            except OSError as error:
                raise OutputError(f"{output_dir}: could not write the {precision.upper()} IR of {key}: {error.strerror or error}") from error
        final = output_dir / key
        try:
            _swap_in(staging, final, output_dir / TRASH / staging.name)
        except OSError as error:
            raise OutputError(f"{output_dir}: could not move the IRs of {key} into place: {error.strerror or error}") from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # give the space back now (a full disk), not at the run's end
        raise
    return [Variant(precision, final / precision.upper() / f"{model.stem}.xml") for precision in precisions]


class OutputError(Exception):
    """The output folder could not take a model's IRs (a full disk, a quota, permissions): that
    model gets an error row, nothing half-written stays, and the others go on."""


def discard_staging(output_dir: Path, key: str) -> None:
    """Remove what a killed conversion of `key` left in the staging folder (its process could not)."""
    folder = output_dir / STAGING
    prefix = key.replace("/", "__") + "."
    for path in folder.iterdir() if folder.is_dir() else []:
        if path.name.startswith(prefix) and path.name[len(prefix) :].isdigit():
            shutil.rmtree(path, ignore_errors=True)


def _swap_in(staging: Path, final: Path, trash: Path) -> None:
    """Replace `final` by `staging` with renames only; a kill in between leaves no record, so the
    next run converts the model again."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        trash.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(trash, ignore_errors=True)
        os.replace(final, trash)
    os.replace(staging, final)
    shutil.rmtree(trash, ignore_errors=True)


def validate_variants(model: Path, key: str, variants: list, settings, backends: tuple[str, ...] | None, convert_seconds: float) -> ModelResult:
    from converter.validate.manifest import find_manifest
    from converter.validate.runners import IR_BACKENDS
    from converter.validate.validation import ValidationOptions, validate_model

    validation = validate_model(
        model,
        variants,
        settings,
        ValidationOptions(backends=tuple(backends or IR_BACKENDS)),
        find_manifest(model),
        display_name=key,
        convert_seconds=convert_seconds,
    )
    status = "fail" if validation.failures else "pass"
    return ModelResult(key, status, validation.rows, validation.outputs, validation.failures, convert_seconds)


# ------------------------------------------------------------------ result records (the cache)


def record_path(output_dir: Path, key: str) -> Path:
    return output_dir / key / RECORD


def write_record(output_dir: Path, result: ModelResult, key: str) -> None:
    """Remember a converted model's result; an error result is not remembered (it is retried)."""
    from converter.files import atomic_write_text

    folder = output_dir / result.model
    if result.status == "error" or not folder.is_dir():
        return
    atomic_write_text(folder / RECORD, json.dumps({"cache_key": key, "result": asdict(result)}, indent=1, default=_plain) + "\n")


def read_record(output_dir: Path, model: str, key: str) -> ModelResult | None:
    """The remembered result of `model` if it was made with the same cache key and its IRs are all there."""
    path = record_path(output_dir, model)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if record.get("cache_key") != key:
        return None
    result = ModelResult(**record["result"])
    folder = output_dir / model
    for row in result.rows:
        if row.get("precision") not in ("source", "") and not any(folder.glob(f"{str(row['precision']).upper()}/*.xml")):
            return None
    return result.as_cached()


def clean_interrupted(output_dir: Path) -> None:
    """Remove what a killed run left: staging and trash folders, temporary files."""
    for folder in (output_dir / STAGING, output_dir / TRASH, *output_dir.glob("reports/.*.tmp")):
        shutil.rmtree(folder, ignore_errors=True)
    if output_dir.is_dir():
        for temporary in output_dir.rglob(".*.tmp"):
            temporary.unlink(missing_ok=True)


def _plain(value):
    """JSON for numpy scalars and paths in rows."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot record {type(value).__name__}")


# ------------------------------------------------------------------ jobs (each runs in its own child process)


def convert_job(model: Path, output_dir: Path, key: str, config: str | None, precisions: Sequence[str]) -> dict:
    """Convert one model; returns its variants and seconds, or the error a user can act on."""
    from converter.config import load_config

    try:
        settings = load_config(config)
        started = time.perf_counter()
        variants = convert_variants(model, output_dir, key, settings, precisions)
        seconds = round(time.perf_counter() - started, 4)
        return {"variants": [(v.precision, str(v.xml)) for v in variants], "convert_seconds": seconds}
    except (ConverterError, OutputError) as error:
        return {"error": str(error)}
    except MemoryError:
        raise  # the child's runner names the memory limit (tasks/isolation.py)
    except Exception as error:  # an irforge bug: its trace goes in the report
        return {"error": _internal_error(error)}


def validate_job(model: Path, key: str, variants: Sequence[tuple[str, str]], config: str | None, backends: Sequence[str], convert_seconds: float) -> dict:
    """Validate one model's written variants; returns its ModelResult as a dict."""
    from converter.config import load_config
    from converter.validate.validation import Variant

    precisions = [precision for precision, _ in variants]
    try:
        settings = load_config(config)
        result = validate_variants(model, key, [Variant(p, Path(x)) for p, x in variants], settings, tuple(backends), convert_seconds)
    except ConverterError as error:
        result = error_result(key, model, str(error), precisions)
    except MemoryError:
        raise  # the child's runner names the memory limit (tasks/isolation.py)
    except Exception as error:  # an irforge bug: its trace goes in the report
        result = error_result(key, model, _internal_error(error), precisions)
    return asdict(result)


def _internal_error(error: Exception) -> str:
    return f"internal error: {type(error).__name__}: {error}\n{traceback.format_exc(limit=8)}"
