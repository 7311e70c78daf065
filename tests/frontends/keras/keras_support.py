"""Helpers for the Keras frontend tests: Keras runs the reference, OpenVINO runs the IR irforge writes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

RTOL, ATOL = 1e-4, 1e-5
FORMATS = (".keras", ".h5")


def random_input(shape: Sequence[int], seed: int = 0, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def randomize(model, seed: int = 0) -> None:
    """Random weights everywhere (biases, moving statistics), variances positive."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        shape = tuple(weight.shape)
        if "count" in weight.path or not np.issubdtype(np.dtype(weight.dtype), np.floating):
            continue
        values = rng.standard_normal(shape).astype(np.float32) * 0.5
        if "variance" in weight.path:
            values = np.abs(values) + 0.5
        weight.assign(values)


def reference_outputs(model, inputs: list[np.ndarray]) -> list[np.ndarray]:
    result = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    results = result if isinstance(result, (list, tuple)) else [result]
    return [np.asarray(r) for r in results]


def run_ir(graph, tmp_path: Path, feeds: dict[str, np.ndarray], stem: str = "model") -> list[np.ndarray]:
    from converter import save_model
    from converter.validate.runners import IrRunner

    xml_path, _ = save_model(graph, tmp_path / f"{stem}.xml")
    return IrRunner(xml_path, "openvino").run(feeds)


def check_keras_model(
    model,
    tmp_path: Path,
    inputs: list[np.ndarray] | None = None,
    formats: Sequence[str] = FORMATS,
    rtol: float = RTOL,
    atol: float = ATOL,
    optimize: bool = False,
) -> dict[str, object]:
    """Save `model` in each format, convert, run in OpenVINO and compare with Keras. Returns the graphs by format."""
    from converter.frontends.keras import convert_keras

    if inputs is None:
        inputs = [random_input((2, *t.shape[1:]), seed=i) for i, t in enumerate(model.inputs)]
    expected = reference_outputs(model, inputs)
    graphs = {}
    for suffix in formats:
        path = tmp_path / f"model{suffix}"
        model.save(path)
        graph = convert_keras(path)
        if optimize:
            from converter.api import optimize as run_passes

            graph, _ = run_passes(graph)
        feeds = dict(zip([v.names[0] for v in graph.inputs], inputs))
        actual = run_ir(graph, tmp_path, feeds, stem=f"model_{suffix[1:]}")
        assert len(actual) == len(expected), f"{suffix}: {len(actual)} outputs, Keras gives {len(expected)}"
        for index, (got, want) in enumerate(zip(actual, expected)):
            assert got.shape == want.shape, f"{suffix} output {index}: shape {got.shape}, Keras {want.shape}"
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{suffix} output {index}")
        graphs[suffix] = graph
    return graphs
