"""`irforge zoo` from the command line: the bundled zoo, bad models as rows, progress and exit codes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pandas as pd

from browser import load_in_chromium
from cli_support import irforge
from models import tiny_add_relu, with_unknown_ops


def _in_a_terminal(command: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> tuple[int, str]:
    """Run `command` with a pseudo-terminal as stdout and stderr (as a person would see it)."""
    main, secondary = pty.openpty()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary, env={**env, "COLUMNS": "100"}, cwd=cwd)
    os.close(secondary)
    output = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(main)
    return process.wait(timeout=30), output.decode(errors="replace")


def test_bundled_example_zoo_in_a_terminal(tmp_path: Path, prefect_env: dict[str, str]) -> None:
    """The README's first command after the install: with no ZOO_DIR, the example zoo (every format
    irforge reads, one model broken on purpose), a progress display, and where the report is."""
    code, screen = _in_a_terminal([sys.executable, "-m", "converter.cli", "zoo", "-o", "out"], prefect_env, tmp_path)
    assert code == 3, screen  # the broken model, and only it
    assert "━" in screen and ("converting" in screen or "validating" in screen), screen  # the progress bar and a stage
    assert "18 of 19 models passed" in screen and "reports/latest" in screen, screen
    frame = pd.read_parquet(tmp_path / "out" / "reports" / "latest" / "report.parquet")
    assert set(frame.loc[frame["status"].isin(["fail", "error"]), "model"]) == {"broken/truncated"}
    expected = {"digits/digits_cnn", "external/resnet_external", "ir/cnn_ir", "detectors/yolo_head", "keras/keras_cnn.keras", "keras/keras_cnn.h5", "tensorflow/mlp_frozen", "tensorflow/regressor_savedmodel", "kaldi/tdnn", "caffe/classifier", "mxnet/digits-symbol", "tflite/cnn_float", "tflite/cnn_int8"}
    assert expected <= set(frame["model"])
    assert set(frame.loc[frame["model"].str.startswith("keras/"), "framework"]) == {"keras"}
    assert set(frame.loc[frame["model"] == "mxnet/digits-symbol", "framework"]) == {"mxnet"}
    assert set(frame.loc[frame["model"].str.startswith("tflite/"), "framework"]) == {"tflite"}
    digits = frame[frame["model"] == "digits/digits_cnn"]
    assert (digits["samples"] == 360).all() and (digits["accuracy"] > 0.95).all()
    assert (tmp_path / "out" / "detectors" / "yolo_head" / "FP16" / "yolo_head.xml").is_file()
    dom, messages = load_in_chromium(tmp_path / "out" / "reports" / "latest" / "report.html", tmp_path)
    assert not messages and "digits/digits_cnn" in dom and "broken/truncated" in dom


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
