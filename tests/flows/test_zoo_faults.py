"""The zoo flow under faults (issue 14): each trial runs the real flow on a real Prefect API over a
small zoo copied from examples/zoo, with one fault, and checks that the faulty model gets an
`error` row per precision saying why, that every other model passes, and that nothing
half-written is left in the output folder.

Faults come from real mechanisms: a child process that gets SIGSEGV, one that sleeps past the
per-model deadline, one that allocates until the per-model memory limit (RLIMIT_AS) stops it
(`fault_hooks.py`, active only through IRFORGE_CHILD_HOOK, which these tests set), a tmpfs of 2 MiB
as the output folder, a `prefect server start` stopped and started again while a run goes on,
and SIGKILL of the flow's process. docs/reliability.md says what each shows and what it costs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import onnx
import pandas as pd
import pytest

from flow_waits import free_port, wait_for
from models import OnnxBuilder

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "zoo"
# a few of the example zoo's models, small and quick to validate: ONNX, TFLite and an OpenVINO IR
GOOD = {
    "onnx/cnn_classifier.onnx": "classifiers/cnn_classifier.onnx",
    "tflite/cnn_float.tflite": "tflite/cnn_float.tflite",
    "ir/cnn_ir.xml": "ir/cnn_ir.xml",
    "ir/cnn_ir.bin": "ir/cnn_ir.bin",
}
GOOD_KEYS = ["onnx/cnn_classifier", "tflite/cnn_float", "ir/cnn_ir"]
MEMORY_LIMIT = 1536 << 20  # the trials' per-model limit: the good models need about 0.9 GiB of address space
HOOK = {"IRFORGE_CHILD_HOOK": "fault_hooks:misbehave"}


def _zoo(folder: Path, extra: dict[str, str] | None = None) -> Path:
    """GOOD, plus `extra` {name in the zoo: example model to copy there}."""
    for name, example in {**GOOD, **(extra or {})}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EXAMPLES / example, folder / name)
    return folder


def _run(zoo: Path, out: Path, workers: int | None = None, **options) -> pd.DataFrame:
    from flows.zoo import convert_zoo, task_runner

    options.setdefault("memory_limit", MEMORY_LIMIT)
    summary = convert_zoo.with_options(task_runner=task_runner("threads", workers))(str(zoo), str(out), **options)
    return pd.read_csv(Path(summary.report_dir) / "report.csv")


def _assert_outcome(frame: pd.DataFrame, good: list[str], bad: dict[str, str]) -> None:
    """Every good model passes on every precision; each bad one has an error row per precision
    whose message holds the given text."""
    assert sorted(frame["model"].unique()) == sorted([*good, *bad]), frame["model"].unique()
    for key in good:
        rows = frame[(frame["model"] == key) & (frame["precision"] != "source")]
        assert sorted(rows["precision"].unique()) == ["fp16", "fp32"] and (rows["status"] == "pass").all(), rows.to_dict("records")
    for key, message in bad.items():
        rows = frame[frame["model"] == key]
        assert sorted(rows["precision"]) == ["fp16", "fp32"], rows.to_dict("records")
        assert (rows["status"] == "error").all(), rows.to_dict("records")
        assert rows["message"].str.contains(message, regex=False).all(), rows["message"].tolist()


def _assert_nothing_half_written(out: Path, bad: list[str] = ()) -> None:
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name in (".staging", ".trash")]
    assert not leftovers, leftovers
    for xml in out.rglob("*.xml"):
        ElementTree.parse(xml)  # complete
        assert xml.with_suffix(".bin").is_file(), xml
    for key in bad:
        assert not list((out / key).rglob("*")), key  # a failed model leaves no IR and no record
    for report in (out / "reports").iterdir():
        assert report.name == "latest" or (report / "report.html").is_file(), report


# ------------------------------------------------------------------ (a) (b) (c): a model's own process


def test_segfaulting_model_fails_alone(prefect_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRFORGE_CHILD_HOOK", HOOK["IRFORGE_CHILD_HOOK"])
    zoo = _zoo(tmp_path / "zoo", {"faults/segfault.onnx": "classifiers/cnn_classifier.onnx"})
    frame = _run(zoo, tmp_path / "out")
    _assert_outcome(frame, GOOD_KEYS, {"faults/segfault": "conversion crashed: the process was killed by SIGSEGV"})
    _assert_nothing_half_written(tmp_path / "out", ["faults/segfault"])


def test_hanging_model_is_killed_at_its_deadline(prefect_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRFORGE_CHILD_HOOK", HOOK["IRFORGE_CHILD_HOOK"])
    zoo = _zoo(tmp_path / "zoo", {"faults/stall.onnx": "classifiers/cnn_classifier.onnx"})
    started = time.monotonic()
    frame = _run(zoo, tmp_path / "out", timeout=12)
    assert time.monotonic() - started < 60  # the hour-long sleep was cut at 12 s
    _assert_outcome(frame, GOOD_KEYS, {"faults/stall": "conversion timed out after 12 s (killed)"})
    _assert_nothing_half_written(tmp_path / "out", ["faults/stall"])


def test_model_allocating_without_bound_stops_at_the_memory_limit(prefect_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRFORGE_CHILD_HOOK", HOOK["IRFORGE_CHILD_HOOK"])
    zoo = _zoo(tmp_path / "zoo", {"faults/balloon.onnx": "classifiers/cnn_classifier.onnx"})
    frame = _run(zoo, tmp_path / "out", timeout=60)
    message = "conversion out of memory: over the per-model memory limit of 1.5 GiB (--memory-limit)"
    _assert_outcome(frame, GOOD_KEYS, {"faults/balloon": message})
    _assert_nothing_half_written(tmp_path / "out", ["faults/balloon"])


# ------------------------------------------------------------------ (d) the output disk fills up


def _big_mlp() -> onnx.ModelProto:
    """4 MiB of FP32 weights: more than the whole small disk."""
    b = OnnxBuilder(5)
    hidden = b.op("Relu", [b.linear("x", 1024, 1024)])
    return b.model([onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", 1024])], [(b.linear(hidden, 1024, 4), "y")])


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A 2 MiB tmpfs mounted for the test (root, as here and in CI), or None where mounting is not
    permitted: the trial then makes the conversion's writes fail with ENOSPC through the hook."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True, text=True)
    try:
        yield folder if mounted.returncode == 0 else None
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", "-l", str(folder)], check=True)


def test_full_output_disk_fails_only_the_models_that_do_not_fit(
    prefect_api: str, small_disk: Path | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zoo = _zoo(tmp_path / "zoo")
    if small_disk is not None:
        out, big = small_disk / "out", "big/mlp"
    else:  # no mount here: the closest real mechanism is the write itself failing with ENOSPC
        monkeypatch.setenv("IRFORGE_CHILD_HOOK", HOOK["IRFORGE_CHILD_HOOK"])
        out, big = tmp_path / "out", "big/diskfull"
    (zoo / big).parent.mkdir(parents=True)
    onnx.save(_big_mlp(), zoo / f"{big}.onnx")
    frame = _run(zoo, out, workers=1)  # one model at a time: the big one's failed write never overlaps another's
    _assert_outcome(frame, GOOD_KEYS, {big: "could not write the FP32 IR of " + big + ": No space left on device"})
    _assert_nothing_half_written(out, [big])
    if small_disk is not None:
        assert shutil.disk_usage(small_disk).total <= 2 << 20
        # the space the big model took while it was written was given back
        assert shutil.disk_usage(small_disk).free > 1 << 20


# ------------------------------------------------------------------ (e) the Prefect server restarts mid-run




def _stages(out: Path) -> list[dict]:
    stages = []
    for path in (out / ".progress").glob("*.json") if (out / ".progress").is_dir() else []:
        try:
            stages.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue  # being replaced right now
    return stages


def _done(out: Path) -> int:
    return sum(1 for stage in _stages(out) if stage["stage"] == "done")


class PrefectServer:
    """`prefect server start` on a port of its own, in its own session, that a test can stop and
    start again on the same database (PREFECT_HOME)."""

    def __init__(self, home: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.log = log
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
        self.env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", OPENVINO_TELEMETRY_DISABLE="1")
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        started = time.monotonic()
        command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.port), "--no-ui"]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def healthy() -> bool:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("the Prefect server", healthy, timeout=150, interval=0.2)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.mark.slow
def test_prefect_server_restarted_mid_run(tmp_path: Path) -> None:
    server = PrefectServer(tmp_path / "prefect-home", tmp_path / "server.log")
    zoo = _zoo(tmp_path / "zoo")
    for name in ("digits/digits_cnn.onnx", "classifiers/resnet_small.onnx", "sequence/lstm_bidirectional.onnx"):
        shutil.copyfile(EXAMPLES / name, zoo / "onnx" / Path(name).name)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "converter.cli", "zoo", str(zoo), "-o", str(out), "--memory-limit", str(MEMORY_LIMIT)]
    try:
        server.start()
        flow_log = (tmp_path / "flow.out").open("w"), (tmp_path / "flow.err").open("w")
        flow = subprocess.Popen(command, env={**server.env, "PREFECT_API_URL": server.url}, cwd=ROOT, stdout=flow_log[0], stderr=flow_log[1])
        try:
            wait_for("a first model to finish", lambda: _done(out) >= 1, timeout=120, interval=0.1)
            server.stop()
            stopped_at = _done(out)
            assert stopped_at < 6, "the run ended before the server stopped: nothing was tested"
            # generous: on a loaded machine one model's convert + validate has taken over a minute
            try:
                wait_for("a model to finish while the server is down", lambda: _done(out) > stopped_at or flow.poll() is not None, timeout=180, interval=0.1)
            except AssertionError as error:
                raise AssertionError(f"{error}; stages {_stages(out)}; flow stderr: {(tmp_path / 'flow.err').read_text()[-3000:]}") from None
            restart_seconds = server.start()
            code = flow.wait(timeout=240)
        finally:
            if flow.poll() is None:
                flow.kill()
            for handle in flow_log:
                handle.close()
        stdout, stderr = (tmp_path / "flow.out").read_text(), (tmp_path / "flow.err").read_text()
        assert code == 0, stdout[-2000:] + stderr[-3000:]
        frame = pd.read_csv(out / "reports" / "latest" / "report.csv")
        _assert_outcome(frame, [*GOOD_KEYS, "onnx/digits_cnn", "onnx/resnet_small", "onnx/lstm_bidirectional"], {})
        _assert_nothing_half_written(out)
        # the restarted server (same database) knows the run, and saw it end
        run_id = stdout.split("/runs/flow-run/")[-1].split()[0]
        run = httpx.get(f"{server.url}/flow_runs/{run_id}", timeout=10).json()
        assert run["state_type"] == "COMPLETED", run
        print(f"server down for a restart of {restart_seconds:.1f} s while {6 - stopped_at} models were still running")
    finally:
        server.stop()


# ------------------------------------------------------------------ (f) kill -9 of the flow, then a rerun


def _session_processes(session: int) -> list[int]:
    """Processes (not zombies) of a session: the killed flow's forkserver and model children."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == session:
            found.append(int(stat.parent.name))
    return found


def test_killed_flow_process_then_rerun_resumes(prefect_env: dict[str, str], tmp_path: Path) -> None:
    zoo = _zoo(
        tmp_path / "zoo",
        {
            "onnx/digits_cnn.onnx": "digits/digits_cnn.onnx",
            "onnx/resnet_small.onnx": "classifiers/resnet_small.onnx",
            "slow/slow_a.onnx": "classifiers/cnn_classifier.onnx",
            "slow/slow_b.onnx": "classifiers/cnn_classifier.onnx",
        },
    )
    keys = [*GOOD_KEYS, "onnx/digits_cnn", "onnx/resnet_small", "slow/slow_a", "slow/slow_b"]
    out = tmp_path / "out"
    tests = str(ROOT / "tests")  # where the child finds fault_hooks
    environment = {**prefect_env, **HOOK, "PYTHONPATH": os.pathsep.join(filter(None, [tests, prefect_env.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "converter.cli", "zoo", str(zoo), "-o", str(out), "--memory-limit", str(MEMORY_LIMIT)]
    process = subprocess.Popen(command, env=environment, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def finished() -> list[str]:
        return [key for key in keys if (out / key / "irforge-model.json").is_file()]

    def busy() -> bool:
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        return len(finished()) >= 2 and any(stage["stage"] == "converting" for stage in _stages(out))

    wait_for("two models finished and one converting", busy, timeout=150, interval=0.02)
    os.kill(process.pid, signal.SIGKILL)  # the flow's process only: its forkserver and children must follow
    process.wait()
    assert process.returncode == -signal.SIGKILL
    wait_for("the killed run's model processes to end", lambda: not _session_processes(process.pid), timeout=10, interval=0.1)

    done_before = finished()
    assert len(done_before) < len(keys), "the run ended before the kill: nothing was tested"
    before = {key: [(p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted((out / key).rglob("*.*"))] for key in done_before}

    rerun = subprocess.run(command, env=environment, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-3000:]
    frame = pd.read_csv(out / "reports" / "latest" / "report.csv")
    _assert_outcome(frame, keys, {})
    cached = frame.groupby("model")["cached"].all()
    assert sorted(cached[cached].index) == sorted(done_before), cached  # finished models were not redone, the rest were
    for key in done_before:  # not even rewritten
        assert [(p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted((out / key).rglob("*.*"))] == before[key], key
    _assert_nothing_half_written(out)
