"""Validation: run the source model in its own framework and each written IR, compare outputs.

    inputs.py      inputs a real model accepts (given shapes, or a search over dynamic dims)
    ranges.py      valid ranges of integer inputs (token ids below the embedding table's size)
    data.py        real inputs and labels from an .npz
    manifest.py    per-model manifests (NAME.yaml beside the model)
    runners.py     the Runner interface; IR runners (OpenVINO, onnxruntime) reloading from disk
    metrics.py     compare / measure: max abs, max rel, cosine, top-k agreement, accuracy
    validation.py  validate_model: rows of model × precision × backend with a verdict each
    report.py      the tidy DataFrame and its csv / parquet / md / html files

`compare`, `random_inputs`, `run_onnxruntime` and `run_ir` are importable from here (loaded on first
use, so importing a submodule stays light); the last three serve small models built in tests.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "Comparison": "metrics",
    "compare": "metrics",
    "is_float": "metrics",
    "random_inputs": "quick",
    "run_ir": "quick",
    "run_onnxruntime": "quick",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"converter.validate.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'converter.validate' has no attribute {name!r}")
