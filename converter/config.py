"""The pipeline configuration: pass order, precisions and tolerances, read from YAML."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from converter.errors import InvalidModelError

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
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
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise InvalidModelError(f"{path}: cannot read the pipeline config: {error}") from None
    from converter.passes import PASSES

    passes = tuple(data.get("passes", ()))
    unknown = [p for p in passes if p not in PASSES]
    if unknown:
        raise InvalidModelError(f"{path}: unknown pass(es) {unknown}; known: {', '.join(sorted(PASSES))}")
    precisions = tuple(data.get("precisions", PRECISIONS))
    if set(precisions) - set(PRECISIONS):
        raise InvalidModelError(f"{path}: precisions must be among {PRECISIONS}, got {list(precisions)}")
    tolerances = {
        key: Tolerance(float(value["rtol"]), float(value["atol"]), bool(value.get("per_tensor", False)))
        for key, value in (data.get("tolerances") or {}).items()
    }
    return PipelineConfig(passes, precisions, tolerances)
