"""The zoo flow on a real temporary Prefect API: isolation, caching, interruption, Dask, history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest

from models import OnnxBuilder, cnn, tiny_add_relu
from sized_models import digits_cnn

ROOT = Path(__file__).resolve().parents[2]
VOLATILE = ["latency_ms", "convert_s", "cached"]


def _mlp(seed: int) -> onnx.ModelProto:
    b = OnnxBuilder(seed)
    hidden = b.op("Relu", [b.linear("x", 8, 16)])
    return b.model([onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", 8])], [(b.linear(hidden, 16, 4), "y")])


def _zoo(folder: Path, extra: dict[str, onnx.ModelProto | bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    models = {"a/mlp.onnx": _mlp(1), "b/mlp.onnx": _mlp(2), "tiny.onnx": tiny_add_relu(), "cnn.onnx": cnn(batch="N"), **(extra or {})}
    for name, model in models.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(model if isinstance(model, bytes) else model.SerializeToString())
    return folder


def _run(zoo: Path, out: Path, runner: str = "threads", **options):
    from flows.zoo import convert_zoo, task_runner

    summary = convert_zoo.with_options(task_runner=task_runner(runner))(str(zoo), str(out), **options)
    return summary, pd.read_parquet(Path(summary.report_dir) / "report.parquet")


def test_bad_crashing_and_hanging_models_fail_alone(prefect_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRFORGE_CHILD_HOOK", "fault_hooks:misbehave")
    garbage = np.random.default_rng(0).integers(0, 256, 800, dtype=np.uint8).tobytes()
    zoo = _zoo(tmp_path / "zoo", {"corrupted.onnx": garbage, "crash_me.onnx": _mlp(3), "hang_me.onnx": _mlp(4)})
    started = time.monotonic()
    summary, frame = _run(zoo, tmp_path / "out", timeout=8)
    assert time.monotonic() - started < 120
    assert (summary.models, summary.passed, summary.failed) == (7, 4, 3)
    per_model = {model: rows for model, rows in frame.groupby("model")}
    for good in ("a/mlp", "b/mlp", "tiny", "cnn"):
        variants = per_model[good][per_model[good]["precision"] != "source"]
        assert len(variants) == 4 and (variants["status"] == "pass").all()
    for bad, message in (("corrupted", "not a valid ONNX file"), ("crash_me", "killed by SIGABRT"), ("hang_me", "timed out after 8 s")):
        rows = per_model[bad]
        assert sorted(rows["precision"]) == ["fp16", "fp32"], rows  # a row per model × precision
        assert (rows["status"] == "error").all() and rows["message"].str.contains(message).all(), rows["message"].tolist()
    assert not (tmp_path / "out" / "crash_me").exists()


def test_unchanged_models_are_not_converted_again(prefect_api: str, tmp_path: Path) -> None:
    zoo = _zoo(tmp_path / "zoo")
    first, rows = _run(zoo, tmp_path / "out")
    assert first.cached == 0 and not rows["cached"].any()
    second, cached_rows = _run(zoo, tmp_path / "out")
    assert second.cached == 4 and cached_rows["cached"].all()
    pd.testing.assert_frame_equal(rows.drop(columns=["cached"]), cached_rows.drop(columns=["cached"]))
    onnx.save(_mlp(7), zoo / "b" / "mlp.onnx")
    third, third_rows = _run(zoo, tmp_path / "out")
    assert third.cached == 3
    assert set(third_rows.loc[~third_rows["cached"], "model"]) == {"b/mlp"}
    forced, forced_rows = _run(zoo, tmp_path / "out", force=True)
    assert forced.cached == 0 and not forced_rows["cached"].any()


def test_killed_run_then_rerun_completes_cleanly(prefect_api: str, tmp_path: Path) -> None:
    zoo = _zoo(tmp_path / "zoo", {f"more/m{i}.onnx": _mlp(10 + i) for i in range(6)})
    out = tmp_path / "out"
    environment = {**os.environ, "PREFECT_API_URL": prefect_api}
    command = [sys.executable, "-m", "converter.cli", "zoo", str(zoo), "-o", str(out)]
    process = subprocess.Popen(command, env=environment, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / ".progress").glob("*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the CLI, the forkserver and any model still converting
    process.wait()
    assert process.returncode == -signal.SIGKILL

    rerun = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    frame = pd.read_csv(out / "reports" / "latest" / "report.csv")
    assert frame["model"].nunique() == 10 and (frame.loc[frame["precision"] != "source", "status"] == "pass").all()
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name in (".staging", ".trash")]
    assert not leftovers
    for model in frame["model"].unique():
        for precision in ("FP32", "FP16"):
            xml = next((out / model / precision).glob("*.xml"))
            assert xml.with_suffix(".bin").is_file()
    assert {"report.csv", "report.html", "report.md", "report.parquet"} <= {p.name for p in (out / "reports" / "latest").iterdir()}
    assert all((folder / "report.html").is_file() for folder in (out / "reports").iterdir())  # no half-written run folder


def test_dask_runner_gives_the_same_rows(prefect_api: str, tmp_path: Path) -> None:
    zoo = _zoo(tmp_path / "zoo")
    _, threads = _run(zoo, tmp_path / "threads")
    _, dask = _run(zoo, tmp_path / "dask", runner="dask")
    pd.testing.assert_frame_equal(threads.drop(columns=VOLATILE), dask.drop(columns=VOLATILE))


def test_history_reports_a_regression(prefect_api: str, tmp_path: Path) -> None:
    model, heldout = digits_cnn()
    zoo = tmp_path / "zoo"
    (zoo / "digits").mkdir(parents=True)
    onnx.save(model, zoo / "digits" / "digits.onnx")
    np.savez(zoo / "digits" / "heldout.npz", **heldout)
    (zoo / "digits" / "digits.yaml").write_text("data: heldout.npz\nmetric: accuracy\n")
    onnx.save(tiny_add_relu(), zoo / "tiny.onnx")
    first, _ = _run(zoo, tmp_path / "out")
    worse = onnx.load(zoo / "digits" / "digits.onnx")
    for tensor in worse.graph.initializer:  # a badly trained replacement: the classifier's weights shuffled
        if len(tensor.dims) == 2:
            array = onnx.numpy_helper.to_array(tensor).copy()
            np.random.default_rng(0).shuffle(array.reshape(-1))
            tensor.CopyFrom(onnx.numpy_helper.from_array(array, tensor.name))
    onnx.save(worse, zoo / "digits" / "digits.onnx")
    second, _ = _run(zoo, tmp_path / "out")
    assert second.changes > 0
    changes = pd.read_csv(Path(second.report_dir) / "changes.csv")
    regression = changes[(changes["model"] == "digits/digits") & (changes["change"] == "accuracy regression")]
    assert not regression.empty, changes
    assert "Changed since the last run" in (Path(second.report_dir) / "report.md").read_text()
    from converter.validate.history import open_history

    runs = open_history(None, tmp_path / "out" / "history.sqlite").runs()
    assert list(runs["run_id"]) == [first.run_id, second.run_id]
