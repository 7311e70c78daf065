"""The zoo job: find every model in a directory tree, convert it, validate it, report.

Each model's IRs go to OUT/<its folder relative to the zoo>/<stem>/<PRECISION>/<stem>.xml, so
two models of the same name in different folders never overwrite each other. One model's
failure becomes its report rows (status `error`, with the message) and never stops the others.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from converter.errors import ConverterError, InvalidModelError

MODEL_SUFFIXES = (".onnx",)


def find_models(directory: str | os.PathLike[str]) -> list[Path]:
    """Every model file under `directory`, sorted; InvalidModelError says what is wrong with it."""
    directory = Path(directory)
    if not directory.exists():
        raise InvalidModelError(f"{directory}: no such directory")
    if not directory.is_dir():
        raise InvalidModelError(f"{directory}: is a file, not a directory of models (irforge convert takes one model)")
    models = sorted(p for p in directory.rglob("*") if p.suffix.lower() in MODEL_SUFFIXES and p.is_file())
    if not models:
        raise InvalidModelError(f"{directory}: no models found (looked for {', '.join(MODEL_SUFFIXES)} files in every sub-folder)")
    return models


def model_key(model: Path, zoo: Path) -> str:
    """The model's name in reports and its folder under OUT: its path in the zoo without the suffix."""
    return model.relative_to(zoo).with_suffix("").as_posix()


@dataclass
class ModelResult:
    """What one model of the zoo produced: report rows, per-output rows, and its failures."""

    model: str
    rows: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    status: str = "pass"  # pass, fail (validation), error (not converted or not validated)
    convert_seconds: float = 0.0


def convert_and_validate(
    model: Path,
    zoo: Path,
    output_dir: Path,
    backends: tuple[str, ...] | None = None,
    config: str | os.PathLike[str] | None = None,
) -> ModelResult:
    """Convert `model` for every configured precision, then validate every IR on every backend."""
    from converter.config import load_config
    from converter.frontends import detect_format
    from converter.validate.manifest import find_manifest
    from converter.validate.runners import IR_BACKENDS
    from converter.validate.validation import ValidationOptions, validate_model

    key = model_key(model, zoo)
    result = ModelResult(key)
    try:
        settings = load_config(config)
        manifest = find_manifest(model)
        started = time.perf_counter()
        variants = convert_variants(model, output_dir / key, settings)
        result.convert_seconds = round(time.perf_counter() - started, 4)
        validation = validate_model(
            model,
            variants,
            settings,
            ValidationOptions(backends=backends or IR_BACKENDS),
            manifest,
            display_name=key,
            convert_seconds=result.convert_seconds,
        )
        result.rows, result.outputs, result.failures = validation.rows, validation.outputs, validation.failures
        result.status = "fail" if validation.failures else "pass"
    except ConverterError as error:
        result.status, result.failures = "error", [str(error)]
        result.rows = [_error_row(key, model, str(error))]
    except Exception as error:  # an irforge bug: record it with its trace, keep going
        message = f"internal error: {type(error).__name__}: {error}"
        result.status, result.failures = "error", [message]
        result.rows = [_error_row(key, model, f"{message}\n{traceback.format_exc(limit=8)}")]
    return result


def convert_variants(model: Path, directory: Path, settings) -> list:
    """Write DIRECTORY/<PRECISION>/<stem>.xml for each configured precision; returns the variants."""
    from converter.api import load_model, optimize
    from converter.passes.compress_fp16 import compress_fp16
    from converter.serialize.writer import write_ir
    from converter.validate.validation import Variant

    graph, _ = optimize(load_model(model), list(settings.passes))
    variants = []
    for precision in settings.precisions:
        variant_graph = compress_fp16(graph.copy()) if precision == "fp16" else graph
        xml_path, _ = write_ir(variant_graph, directory / precision.upper() / f"{model.stem}.xml")
        variants.append(Variant(precision, xml_path))
    return variants


def _error_row(key: str, model: Path, message: str) -> dict:
    from converter.frontends import SUFFIXES

    return {
        "model": key,
        "framework": SUFFIXES.get(model.suffix.lower(), ""),
        "precision": "",
        "backend": "",
        "status": "error",
        "message": message,
        "source_bytes": model.stat().st_size if model.is_file() else None,
    }
