"""`irforge zoo`: every model converted and validated, one bad model never stops the others."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pandas as pd

from cli_support import irforge
from models import tiny_add_relu, with_unknown_ops

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_bundled_example_zoo_passes(tmp_path: Path) -> None:
    result = irforge("zoo", EXAMPLES, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stdout + result.stderr
    frame = pd.read_parquet(tmp_path / "out" / "report.parquet")
    models = sorted(frame["model"].unique())
    assert "digits/digits_cnn" in models and "detectors/yolo_head" in models
    assert len(frame) == 5 * len(models)  # source + {fp32, fp16} × {onnxruntime, openvino}
    digits = frame[frame["model"] == "digits/digits_cnn"]
    assert (digits["samples"] == 360).all() and (digits["accuracy"] > 0.95).all()
    for name in ("report.csv", "report.md", "report.html", "outputs.csv"):
        assert (tmp_path / "out" / name).is_file()
    assert (tmp_path / "out" / "detectors" / "yolo_head" / "FP16" / "yolo_head.xml").is_file()


def test_bad_models_become_rows_and_the_rest_finish(tmp_path: Path) -> None:
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    onnx.save(tiny_add_relu(), zoo / "good.onnx")
    onnx.save(with_unknown_ops(), zoo / "unsupported.onnx")
    (zoo / "garbage.onnx").write_bytes(np.random.default_rng(0).integers(0, 256, 512, dtype=np.uint8).tobytes())
    result = irforge("zoo", zoo, "-o", tmp_path / "out")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "1 of 3 models passed" in result.stdout
    frame = pd.read_csv(tmp_path / "out" / "report.csv", keep_default_na=False)
    by_model = {model: rows for model, rows in frame.groupby("model")}
    assert set(by_model) == {"good", "unsupported", "garbage"}
    assert (by_model["good"].loc[by_model["good"]["precision"] != "source", "status"] == "pass").all()
    assert list(by_model["unsupported"]["status"]) == ["error"]
    assert "FrobnicateA" in by_model["unsupported"]["message"].iloc[0]
    assert "not a valid ONNX file" in by_model["garbage"]["message"].iloc[0]
    assert not (tmp_path / "out" / "garbage").exists()  # nothing half-written for a model that failed


def test_second_run_overwrites_cleanly(tmp_path: Path) -> None:
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    onnx.save(tiny_add_relu(), zoo / "m.onnx")
    assert irforge("zoo", zoo, "-o", tmp_path / "out").returncode == 0
    first = (tmp_path / "out" / "m" / "FP32" / "m.xml").read_bytes()
    assert irforge("zoo", zoo, "-o", tmp_path / "out").returncode == 0
    assert (tmp_path / "out" / "m" / "FP32" / "m.xml").read_bytes() == first
    leftovers = [p for p in (tmp_path / "out").rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers
