"""The pipeline configuration: pass order, precisions and tolerances, read from YAML."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from converter.errors import InvalidModelError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

# Package data of the top-level `configs` package (repo: configs/default.yaml), so it is found the
# same way in the checkout, an editable install and a wheel; never relative to this file.
DEFAULT_CONFIG: Traversable = files("configs") / "default.yaml"
PRECISIONS = ("fp32", "fp16")


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    per_tensor: bool = False  # rtol relative to the output's largest magnitude (see validate.compare)


@dataclass(frozen=True)
class PipelineConfig:
    passes: tuple[str, ...]
    precisions: tuple[str, ...] = PRECISIONS
    tolerances: dict[str, Tolerance] = field(default_factory=dict)

    def tolerance(self, key: str) -> Tolerance:
        return self.tolerances.get(key, Tolerance(1e-4, 1e-5))


def load_config(path: str | os.PathLike[str] | None = None) -> PipelineConfig:
    """Read a pipeline config YAML: `path`, or DEFAULT_CONFIG when it is None."""
    source: Path | Traversable = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise InvalidModelError(f"{source}: cannot read the pipeline config: {error}") from None
    from converter.passes import PASSES

    passes = tuple(data.get("passes", ()))
    unknown = [p for p in passes if p not in PASSES]
    if unknown:
        raise InvalidModelError(f"{source}: unknown pass(es) {unknown}; known: {', '.join(sorted(PASSES))}")
    precisions = tuple(data.get("precisions", PRECISIONS))
    if set(precisions) - set(PRECISIONS):
        raise InvalidModelError(f"{source}: precisions must be among {PRECISIONS}, got {list(precisions)}")
    tolerances = {
        key: Tolerance(float(value["rtol"]), float(value["atol"]), bool(value.get("per_tensor", False)))
        for key, value in (data.get("tolerances") or {}).items()
    }
    return PipelineConfig(passes, precisions, tolerances)
