"""Converting Kaldi models written by the tests and running their IRs reloaded from disk."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from converter.api import load_model, optimize, save_model
from converter.validate.runners import IrRunner
from kaldi_reference import Nnet1Model, Nnet3Model
from kaldi_writer import nnet1_bytes, nnet3_bytes

RTOL, ATOL = 1e-4, 1e-5


def run_kaldi_file(path: Path, feeds: Mapping[str, np.ndarray], tmp_path: Path, backend: str = "openvino") -> dict[str, np.ndarray]:
    """Convert the file through the public API (passes included), write the IR, reload it from
    disk, run it: the outputs by their output node's name (the last name of each IR output)."""
    graph, _ = optimize(load_model(path))
    xml = tmp_path / f"{path.stem}.xml"
    save_model(graph, xml)
    runner = IrRunner(xml, backend)
    outputs = runner.run({k: np.asarray(v, np.float32) for k, v in feeds.items()})
    return {value.names[-1]: array for value, array in zip(runner.graph.outputs, outputs)}


def run_kaldi_bytes(data: bytes, feeds: Mapping[str, np.ndarray], tmp_path: Path, suffix: str = ".raw", backend: str = "openvino") -> dict[str, np.ndarray]:
    path = tmp_path / f"model{suffix}"
    path.write_bytes(data)
    return run_kaldi_file(path, feeds, tmp_path, backend)


def assert_frames(actual: np.ndarray, expected: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> None:
    assert actual.shape == expected.shape, f"IR frames {actual.shape}, reference frames {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def check_nnet3(model: Nnet3Model, feeds: Mapping[str, np.ndarray], tmp_path: Path, binary: bool, rtol: float = RTOL, atol: float = ATOL) -> dict[str, tuple[int, np.ndarray]]:
    """The model written as an nnet3 .raw converts and its IR's frames match the frame-by-frame reference."""
    expected = model.reference(dict(feeds))
    actual = run_kaldi_bytes(nnet3_bytes(model, binary), feeds, tmp_path)
    for name, (_, frames) in expected.items():
        assert_frames(actual[name], frames, rtol, atol)
    return expected


def check_nnet1(model: Nnet1Model, features: np.ndarray, tmp_path: Path, binary: bool, rtol: float = RTOL, atol: float = ATOL) -> int:
    """The chain written as an nnet1 converts and matches; returns the first output frame (the left context)."""
    first, expected = model.reference(features)
    actual = run_kaldi_bytes(nnet1_bytes(model.components, binary), {"input": features}, tmp_path, suffix=".nnet")
    assert_frames(actual["output"], expected, rtol, atol)
    return first


def random(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)
