"""Quantization as `irforge convert` and the zoo run it: calibration and validation data from the
command line or the model's manifest, then `quantize`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from converter.errors import InvalidModelError
from converter.ir.graph import Graph
from converter.quantize import QuantizeOptions, QuantizeReport, Validation, quantize
from converter.quantize.calibration import ImageCalibration, load_calibration
from converter.validate.manifest import Manifest

NEEDS_CALIBRATION = "int8 needs calibration data: --calibration FILE.npz (one array per model input), or calibration: in the model's manifest"


def calibration_source(given: str | os.PathLike[str] | None, manifest: Manifest) -> Path | ImageCalibration | None:
    return Path(given) if given is not None else manifest.calibration


def quantize_model(
    graph: Graph,
    manifest: Manifest,
    calibration: str | os.PathLike[str] | None = None,
    size: int | None = None,
    method: str = "minmax",
    max_drop: float | None = None,
    data: str | os.PathLike[str] | None = None,
) -> tuple[Graph, QuantizeReport]:
    """The INT8 graph of an optimized FP32 graph; InvalidModelError when the data does not fit."""
    from converter.validate.runners import graph_specs

    source = calibration_source(calibration, manifest)
    if source is None:
        raise InvalidModelError(NEEDS_CALIBRATION)
    if max_drop is not None and not 0 <= max_drop < 1:
        raise InvalidModelError(f"--max-accuracy-drop takes a fraction in [0, 1), e.g. 0.01 for one point; got {max_drop}")
    specs = graph_specs(graph.inputs)
    loaded = load_calibration(source, specs, size or manifest.calibration_samples)
    validation = None
    if max_drop is not None:
        validation = _validation(graph, data or manifest.data, manifest, specs)
    return quantize(graph, loaded, QuantizeOptions(method=method, max_drop=max_drop, validation=validation))


def _validation(graph: Graph, data: str | os.PathLike[str] | Path | None, manifest: Manifest, specs) -> Validation:
    from converter.runtime import execute
    from converter.validate.data import load_dataset
    from converter.validate.metrics import class_scores

    if data is None:
        raise InvalidModelError("--max-accuracy-drop needs validation data: --data VAL.npz, or data: in the model's manifest")
    dataset = load_dataset(data, specs, manifest.labels, manifest.batch_size, manifest.samples)
    names = [value.names or [value.name] for value in graph.outputs]
    if manifest.output is not None:
        output = next((i for i, n in enumerate(names) if manifest.output in n), None)
        if output is None:
            raise InvalidModelError(f"the manifest names output {manifest.output!r}; the model's outputs are {', '.join(n[0] for n in names)}")
    else:
        first = execute(graph, dataset.batches[0])
        output = next((i for i, array in enumerate(first) if class_scores(array) is not None), None)
    metric = manifest.metric or ("accuracy" if dataset.labels is not None and output is not None else "cosine")
    if metric == "accuracy" and (dataset.labels is None or output is None):
        raise InvalidModelError(f"{data}: accuracy needs labels (an array named {manifest.labels!r}) and a classifier output")
    if metric not in ("accuracy", "top1"):
        metric = "cosine"
    labels = None if dataset.labels is None else np.asarray(dataset.labels)
    return Validation(dataset.batches, metric, output, labels)
