"""Real trained models from PyPI wheels quantized with no model-type flag (issue 11, done-when 2:
accuracy here; latency is measured in bench/quantize_compare.py, never in tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from converter.api import load_model, optimize
from converter.quantize import QuantizeOptions, load_calibration, quantize
from converter.runtime import execute
from converter.validate.runners import graph_specs
import packaged_models as pm


def calibrate(graph, arrays: dict[str, np.ndarray], folder: Path):
    np.savez(folder / "calibration.npz", **arrays)
    return load_calibration(folder / "calibration.npz", graph_specs(graph.inputs))


def test_efficientnet_lite0_agrees_with_fp32_on_real_photos(tmp_path: Path) -> None:
    graph = optimize(load_model(pm.efficientnet_lite0()))[0]
    photos = pm.imagenet_photos(7, seed=0)  # 10 photos and 7 crops / flips / brightness changes of each
    chelsea = photos[8 * pm.photo_names().index("chelsea")]
    assert execute(graph, [chelsea[None]])[0].argmax() in range(281, 286)  # a cat: the checkpoint is read right
    calibration = calibrate(graph, {"images": pm.imagenet_photos(3, seed=1)}, tmp_path)  # other crops
    quantized, report = quantize(graph, calibration, QuantizeOptions(policy_samples=2))
    assert len(report.quantized) >= 45  # of 50: the speed comes from the convolutions
    fp32 = np.concatenate([execute(graph, [photos[i : i + 40]])[0] for i in (0, 40)])
    int8 = np.concatenate([execute(quantized, [photos[i : i + 40]], "openvino")[0] for i in (0, 40)])
    assert np.mean(fp32.argmax(1) == int8.argmax(1)) >= 0.9


def test_minilm_sentence_embeddings_stay_within_cosine_0995(tmp_path: Path) -> None:
    graph = optimize(load_model(pm.minilm()))[0]
    calibration = calibrate(graph, pm.minilm_inputs(pm.SENTENCES[:24], 32), tmp_path)
    quantized, report = quantize(graph, calibration)
    assert len(report.quantized) >= 24  # most MatMuls int8; the few that cost most stay float
    feeds = pm.minilm_inputs(pm.SENTENCES[24:], 32)  # sentences the calibration never saw
    fp32 = execute(graph, feeds)[1]
    int8 = execute(quantized, feeds, "openvino")[1]
    cosine = np.sum(fp32 * int8, 1) / np.linalg.norm(fp32, axis=1) / np.linalg.norm(int8, axis=1)
    assert cosine.mean() >= 0.995, report.summary()


def test_the_tokenizer_and_encoder_match_sentence_transformers() -> None:
    feeds = pm.minilm_inputs(["A man is eating food.", "A man is eating a piece of bread."], 16)
    graph = optimize(load_model(pm.minilm()))[0]
    a, b = execute(graph, feeds)[1]
    assert np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b) == pytest.approx(0.7553, abs=2e-3)  # the model card's example
