"""`irforge zoo` from the command line: the bundled zoo, bad models as rows, progress and exit codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pandas as pd

from cli_support import irforge
from models import tiny_add_relu, with_unknown_ops


def test_bundled_example_zoo(tmp_path: Path, prefect_env: dict[str, str]) -> None:
    """With no ZOO_DIR: the example zoo, every format irforge reads, one model broken on purpose."""
    result = irforge("zoo", "-o", tmp_path / "out", env=prefect_env, cwd=tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr  # the broken model, and only it
    assert "of 10 models passed" in result.stdout and "9 of 10" in result.stdout
    assert "reports/latest" in result.stdout
    frame = pd.read_parquet(tmp_path / "out" / "reports" / "latest" / "report.parquet")
    failed = frame[frame["status"].isin(["fail", "error"])]
    assert set(failed["model"]) == {"broken/truncated"}
    models = set(frame["model"])
    assert {"digits/digits_cnn", "external/resnet_external", "ir/cnn_ir", "detectors/yolo_head"} <= models
    digits = frame[frame["model"] == "digits/digits_cnn"]
    assert (digits["samples"] == 360).all() and (digits["accuracy"] > 0.95).all()
    assert (tmp_path / "out" / "detectors" / "yolo_head" / "FP16" / "yolo_head.xml").is_file()


def test_bad_models_become_rows_and_the_rest_finish(tmp_path: Path, prefect_env: dict[str, str]) -> None:
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    onnx.save(tiny_add_relu(), zoo / "good.onnx")
    onnx.save(with_unknown_ops(), zoo / "unsupported.onnx")
    (zoo / "garbage.onnx").write_bytes(np.random.default_rng(0).integers(0, 256, 512, dtype=np.uint8).tobytes())
    result = irforge("zoo", zoo, "-o", tmp_path / "out", env=prefect_env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "1 of 3 models passed" in result.stdout
    assert "error: unsupported:" in result.stderr and "FrobnicateA" in result.stderr
    frame = pd.read_csv(tmp_path / "out" / "reports" / "latest" / "report.csv", keep_default_na=False)
    by_model = {model: rows for model, rows in frame.groupby("model")}
    assert (by_model["good"].loc[by_model["good"]["precision"] != "source", "status"] == "pass").all()
    assert sorted(by_model["unsupported"]["precision"]) == ["fp16", "fp32"]
    assert (by_model["unsupported"]["status"] == "error").all()
    assert "not a valid ONNX file" in by_model["garbage"]["message"].iloc[0]
    assert not (tmp_path / "out" / "garbage").exists()  # nothing half-written for a model that failed


def test_second_run_is_cached_and_rerenders(tmp_path: Path, prefect_env: dict[str, str]) -> None:
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    onnx.save(tiny_add_relu(), zoo / "m.onnx")
    assert irforge("zoo", zoo, "-o", tmp_path / "out", env=prefect_env).returncode == 0
    first = (tmp_path / "out" / "m" / "FP32" / "m.xml").read_bytes()
    again = irforge("zoo", zoo, "-o", tmp_path / "out", env=prefect_env)
    assert again.returncode == 0 and "1 unchanged (cached)" in again.stdout, again.stdout
    assert (tmp_path / "out" / "m" / "FP32" / "m.xml").read_bytes() == first
    assert len(list((tmp_path / "out" / "reports").glob("2*"))) == 2  # one folder per run, latest → the newest
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.endswith(".tmp")]


def test_zoo_bad_options(tmp_path: Path) -> None:
    onnx.save(tiny_add_relu(), tmp_path / "m.onnx")
    for option, value, message in (("--runner", "spark", "--runner takes"), ("--precision", "int4", "--precision takes"), ("--timeout", "0", "--timeout")):
        result = irforge("zoo", tmp_path, "-o", tmp_path / "out", option, value)
        assert result.returncode == 2 and message in result.stderr, result.stderr
