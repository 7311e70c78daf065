"""fold_if: static ranks through If bodies, Ifs with a known condition inlined, a branch that
cannot run folded away. Checked on a test-built model with nested Ifs and on the real silero-vad
ONNX model (25 Ifs chosen by the sample rate `sr`), in OpenVINO against onnxruntime."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from converter import convert_model, save_model
from converter.config import load_config
from converter.frontends.options import FrontendOptions
from converter.ir.graph import Graph
from converter.passes.fold_if import TypeConflict, intersect
from converter.ir.types import ElementType, Shape, TensorType
from converter.runtime.openvino_backend import compile_ir
from nested_if_model import nested_if_model

SILERO = "silero_vad/data/silero_vad.onnx"


def _ops(graph: Graph) -> Counter[str]:
    counts: Counter[str] = Counter()
    for node in graph.nodes():
        counts[node.op.type] += 1
        for body in node.bodies.values():
            counts += _ops(body)
    return counts


def _if_outputs(graph: Graph) -> list:
    found = []
    for node in graph.nodes():
        if node.op.type == "If":
            found += node.outputs
        for body in node.bodies.values():
            found += _if_outputs(body)
    return found


def _session(model: onnx.ModelProto | str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    source = model if isinstance(model, str) else model.SerializeToString()
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def _run(compiled, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    names = {name for port in compiled.inputs for name in port.get_names()}
    result = compiled({k: v for k, v in feeds.items() if k in names})
    return [result[port].copy() for port in compiled.outputs]  # the request reuses its buffers


def _without_fold_if() -> list[str]:
    return [name for name in load_config().passes if name != "fold_if"]


# ------------------------------------------------------------------ nested Ifs, built here


def test_nested_ifs_run_in_openvino_and_match_onnxruntime(tmp_path: Path) -> None:
    model = nested_if_model()
    graph = convert_model(model)
    # 4 Ifs: the rank-changing squeeze-if is gone (its squeezed branch cannot reach the Transpose);
    # the data-dependent and mode-dependent ones stay, all with static output ranks
    assert _ops(graph)["If"] == 3
    assert all(v.shape.rank is not None for v in _if_outputs(graph))
    compiled = compile_ir(save_model(graph, tmp_path / "m.xml")[0])
    session = _session(model)
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    for mode in (1, 0, 7):
        for data in (np.abs(x), -np.abs(x), x):
            feeds = {"x": data, "mode": np.array(mode, np.int64)}
            np.testing.assert_allclose(_run(compiled, feeds)[0], session.run(None, feeds)[0], rtol=1e-4, atol=1e-5)


def test_without_fold_if_openvino_refuses_the_nested_ifs(tmp_path: Path) -> None:
    graph = convert_model(nested_if_model(), passes=_without_fold_if())
    assert any(v.shape.rank is None for v in _if_outputs(graph))
    with pytest.raises(RuntimeError, match="dynamic rank"):
        compile_ir(save_model(graph, tmp_path / "m.xml")[0])


def test_a_frozen_mode_inlines_the_taken_branches(tmp_path: Path) -> None:
    model = nested_if_model()
    source = tmp_path / "nested.onnx"
    onnx.save(model, source)
    session = _session(model)
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    for mode, ifs in ((1, 1), (7, 0), (0, 0)):
        graph = convert_model(source, options=FrontendOptions(inputs=(f"mode->{mode}",)))
        assert _ops(graph)["If"] == ifs  # mode 1 keeps the data-dependent If only
        compiled = compile_ir(save_model(graph, tmp_path / f"m{mode}.xml")[0])
        expected = session.run(None, {"x": x, "mode": np.array(mode, np.int64)})[0]
        np.testing.assert_allclose(_run(compiled, {"x": x})[0], expected, rtol=1e-4, atol=1e-5)


def test_intersect_keeps_what_either_type_proves_and_rejects_contradictions() -> None:
    f32 = ElementType.f32
    merged = intersect(TensorType(f32, Shape((None, 4))), TensorType(f32, Shape((3, None))))
    assert merged == TensorType(f32, Shape((3, 4)))
    assert intersect(TensorType(f32, Shape.dynamic_rank()), TensorType(f32, Shape((2,)))).shape.dims == (2,)  # type: ignore[arg-type]
    with pytest.raises(TypeConflict):
        intersect(TensorType(f32, Shape((None, 4))), TensorType(f32, Shape((4,))))


# ------------------------------------------------------------------ silero-vad, the real model


@pytest.fixture(scope="module")
def silero() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("silero_vad")
    if spec is None or spec.origin is None:
        pytest.skip("silero-vad is not installed (tests/model-packages.txt)")
    return Path(spec.origin).parent / "data" / "silero_vad.onnx"


def speech_like(sample_rate: int, seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """Harmonics of 150 Hz switched on and off at 3 Hz (syllable-like), over seeded noise."""
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    voiced = (np.sin(2 * np.pi * 3 * t) > 0).astype(np.float32)
    harmonics = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((150, 300, 450, 900), 1))
    noise = np.random.default_rng(seed).standard_normal(t.size)
    return (0.3 * voiced * harmonics + 0.02 * noise).astype(np.float32)


def stream(run, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """silero's own chunking (OnnxWrapper): 512 samples at 16 kHz (256 at 8 kHz) after 64 (32) of
    context, the state carried from chunk to chunk. Returns every chunk's probability and state."""
    chunk, context_size = (512, 64) if sample_rate == 16000 else (256, 32)
    audio = speech_like(sample_rate)
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros((1, context_size), np.float32)
    probabilities, states = [], []
    for start in range(0, audio.size - chunk + 1, chunk):
        window = np.concatenate([context, audio[None, start : start + chunk]], axis=1)
        context = window[:, -context_size:]
        probability, state = run({"input": window, "state": state, "sr": np.array(sample_rate, np.int64)})
        probabilities.append(probability)
        states.append(state)
    return np.concatenate(probabilities), np.stack(states)


def test_silero_runs_in_openvino_with_a_dynamic_sample_rate(silero: Path, tmp_path: Path) -> None:
    assert _ops(convert_model(silero, passes=[]))["If"] == 25
    graph = convert_model(silero)
    assert _ops(graph)["If"] == 1  # the sample-rate If; the 24 shape-driven ones are folded
    assert all(v.shape.rank is not None for v in _if_outputs(graph))
    compiled = compile_ir(save_model(graph, tmp_path / "FP32" / "silero.xml")[0])
    session = _session(str(silero))
    for sample_rate in (16000, 8000):
        expected = stream(lambda feeds: session.run(None, feeds), sample_rate)
        actual = stream(lambda feeds: _run(compiled, feeds), sample_rate)
        for a, e in zip(actual, expected):
            np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)
        assert np.ptp(expected[0]) > 0.2  # the detector's answer follows the signal: voiced and silent chunks differ


@pytest.mark.parametrize("sample_rate", [16000, 8000])
def test_silero_with_a_frozen_sample_rate_has_no_if(silero: Path, sample_rate: int, tmp_path: Path) -> None:
    graph = convert_model(silero, options=FrontendOptions(inputs=(f"sr->{sample_rate}",)))
    assert _ops(graph)["If"] == 0 and [v.names[0] for v in graph.inputs] == ["input", "state"]
    compiled = compile_ir(save_model(graph, tmp_path / "FP32" / "silero.xml")[0])
    session = _session(str(silero))
    expected = stream(lambda feeds: session.run(None, feeds), sample_rate)
    actual = stream(lambda feeds: _run(compiled, feeds), sample_rate)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)
