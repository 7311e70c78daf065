"""The pipeline configuration: pass order, precisions and tolerances, read from YAML."""

from __future__ import annotations

import functools
import json
import os
import zlib
from dataclasses import dataclass, field, fields
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from converter.errors import InvalidModelError
from converter.files import atomic_write_text

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

# Package data of the top-level `configs` package (repo: configs/default.yaml), so it is found the
# same way in the checkout, an editable install and a wheel; never relative to this file.
DEFAULT_CONFIG: Traversable = files("configs") / "default.yaml"
PRECISIONS = ("fp32", "fp16", "int8")  # int8 only with calibration data (converter/quantize)
DEFAULT_PRECISIONS = ("fp32", "fp16")


@dataclass(frozen=True)
class Tolerance:
    """How close an IR must stay to its reference. `rtol`/`atol` bound every element (the
    `max_rel` verdict); the others bound the metric a manifest or `--metric` chooses."""

    rtol: float
    atol: float
    per_tensor: bool = False  # rtol relative to the output's largest magnitude (see validate.compare)
    cosine: float = 0.9999  # lowest cosine similarity of any output
    top1: float = 0.99  # lowest share of samples whose top-1 class agrees with the source
    top5: float = 0.99  # lowest share whose source top-1 class is in the IR's top 5
    accuracy_drop: float = 0.0  # largest accuracy loss against the source


TOLERANCE_KEYS = tuple(f.name for f in fields(Tolerance))


@dataclass(frozen=True)
class PipelineConfig:
    passes: tuple[str, ...]
    precisions: tuple[str, ...] = DEFAULT_PRECISIONS
    tolerances: dict[str, Tolerance] = field(default_factory=dict)

    def tolerance(self, key: str) -> Tolerance:
        return self.tolerances.get(key, Tolerance(1e-4, 1e-5))


def load_config(path: str | os.PathLike[str] | None = None) -> PipelineConfig:
    """Read a pipeline config YAML: `path`, or DEFAULT_CONFIG when it is None."""
    source: Path | Traversable = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        data = _parse(source, source.read_bytes())
    except OSError as error:
        raise InvalidModelError(f"{source}: cannot read the pipeline config: {error}") from None
    from converter.passes import PASSES

    if not isinstance(data, dict):
        raise InvalidModelError(f"{source}: a pipeline config is a mapping of passes, precisions and tolerances")
    passes = _names(source, "passes", data.get("passes", ()))
    unknown = [p for p in passes if p not in PASSES]
    if unknown:
        raise InvalidModelError(f"{source}: unknown pass(es) {unknown}; known: {', '.join(sorted(PASSES))}")
    precisions = _names(source, "precisions", data.get("precisions", DEFAULT_PRECISIONS))
    if set(precisions) - set(PRECISIONS):
        raise InvalidModelError(f"{source}: precisions must be among {PRECISIONS}, got {list(precisions)}")
    tolerances_data = data.get("tolerances") or {}
    if not isinstance(tolerances_data, dict):
        raise InvalidModelError(f"{source}: tolerances maps a precision (verify, fp32, fp16, int8) to its bounds")
    tolerances = {str(key): _tolerance(source, key, value) for key, value in tolerances_data.items()}
    return PipelineConfig(passes, precisions, tolerances)


@functools.lru_cache(maxsize=16)
def _parse(source: object, data: bytes) -> object:
    """The YAML of a config, parsed once per distinct file and bytes (a zoo run loads it per model);
    LibYAML's loader when PyYAML has it. Callers only read the result.

    Across processes the parsed document is kept as JSON in the cache folder, found by the
    bytes (see `parsed_config_cache`): importing PyYAML costs about 30 ms, a tenth of a small
    model's whole `irforge convert`. A cache that cannot be read or written is skipped."""
    cache = parsed_config_cache(data)
    text = data.decode("utf-8", "surrogateescape")
    if cache is not None:
        try:
            entry = json.loads(cache.read_bytes())
            if isinstance(entry, dict) and entry.get("yaml") == text and "parsed" in entry:
                return entry["parsed"]
        except (OSError, ValueError):
            pass
    from converter.yaml_files import parse_yaml

    parsed = parse_yaml(source, data, "pipeline config")
    parsed = {} if parsed is None else parsed
    if cache is not None:
        _store(cache, text, parsed)
    return parsed


def parsed_config_cache(data: bytes) -> Path | None:
    """Where the parsed form of a config with these bytes is cached: IRFORGE_CACHE_DIR, else
    $XDG_CACHE_HOME/irforge or ~/.cache/irforge; None when IRFORGE_CACHE_DIR is empty (off).
    The name is a CRC-32 of the bytes and their length (no hashlib import: a few ms of every
    start-up); the entry holds the config's text too, and is used only when that text matches."""
    folder = os.environ.get("IRFORGE_CACHE_DIR")
    if folder == "":
        return None
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "irforge")
    return Path(folder) / f"config-{zlib.crc32(data):08x}-{len(data)}.json"


def _store(cache: Path, text: str, parsed: object) -> None:
    """Write the config's text and its parsed form atomically; a document JSON cannot hold the same
    way (YAML dates, sets, non-string keys) or a folder that cannot be written leaves no cache."""
    try:
        entry = json.dumps({"yaml": text, "parsed": parsed}, allow_nan=True)
        if json.loads(entry)["parsed"] != parsed:
            return
        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cache, entry)
    except (OSError, TypeError, ValueError):
        pass


def _names(source: object, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise InvalidModelError(f"{source}: {key} is a list of names")
    return tuple(value)


def _tolerance(source: object, key: str, value: object) -> Tolerance:
    if not isinstance(value, dict) or "rtol" not in value or "atol" not in value or set(value) - set(TOLERANCE_KEYS):
        raise InvalidModelError(f"{source}: tolerances.{key} needs rtol and atol, and takes {', '.join(TOLERANCE_KEYS)}")
    try:
        return Tolerance(**{name: bool(v) if name == "per_tensor" else float(v) for name, v in value.items()})
    except (TypeError, ValueError):
        raise InvalidModelError(f"{source}: tolerances.{key}: every bound must be a number, got {value}") from None
