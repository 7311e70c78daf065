"""The nightly deployment end to end, with real processes: `irforge server start`, `irforge serve`
on it, a run submitted with `submit_run` and executed by the serving process, then both stopped.

Slow-ish (about a minute): a Prefect server's first start-up and the runner's 10 s polling.
The test process talks to the API over plain HTTP, so it never imports Prefect itself (other
flow tests in the same session may have bound Prefect to their temporary server).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import onnx
import pytest

from flow_waits import free_port, wait_for
from models import tiny_add_relu

pytestmark = pytest.mark.slow

CRON = "0 2 * * *"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}




def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    environment.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
        OPENVINO_TELEMETRY_DISABLE="1",
    )
    return environment


def _irforge(env: dict[str, str], cwd: Path, *args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "converter.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def local_server(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, int]]:
    """`irforge server start` on a free port → (API URL, server pid); stopped (and checked) after."""
    port = free_port()
    started = _irforge(env, tmp_path, "server", "start", "--port", str(port))
    assert started.returncode == 0, started.stderr
    url = f"http://127.0.0.1:{port}/api"
    assert f"Prefect API: {url}" in started.stdout
    assert f"Prefect UI: http://127.0.0.1:{port}" in started.stdout
    pid = json.loads((Path(env["PREFECT_HOME"]) / "irforge-server.json").read_text())["pid"]
    try:
        yield url, pid
    finally:
        stopped = _irforge(env, tmp_path, "server", "stop", timeout=60)
        if _alive(pid):  # leave no server behind, whatever failed
            os.killpg(pid, signal.SIGKILL)
    assert stopped.returncode == 0, stopped.stderr
    assert f"stopped the Prefect server at {url}" in stopped.stdout
    assert not _alive(pid)
    assert not (Path(env["PREFECT_HOME"]) / "irforge-server.json").exists()
    assert "not running" in _irforge(env, tmp_path, "server", "status").stdout


def test_nightly_deployment_serves_a_submitted_run(local_server: tuple[str, int], env: dict[str, str], tmp_path: Path) -> None:
    url, _ = local_server
    api = httpx.Client(base_url=url, timeout=10)
    status = _irforge(env, tmp_path, "server", "status")
    assert f"running: {url}" in status.stdout and "healthy" in status.stdout, status.stdout
    assert f"irforge runs use: {url} (the local server)" in status.stdout

    zoo, out = tmp_path.resolve() / "zoo", tmp_path.resolve() / "out"
    zoo.mkdir()
    onnx.save(tiny_add_relu(), zoo / "tiny.onnx")
    serving_env = {**env, "PREFECT_API_URL": url}
    log = (tmp_path / "serve.out").open("w"), (tmp_path / "serve.err").open("w")
    command = [sys.executable, "-m", "converter.cli", "serve", "zoo", "-o", "out", "--cron", CRON]
    serving = subprocess.Popen(command, env=serving_env, cwd=tmp_path, stdout=log[0], stderr=log[1])
    try:

        def deployment() -> dict | None:
            assert serving.poll() is None, (tmp_path / "serve.err").read_text()
            response = api.get("/deployments/name/irforge-zoo/nightly")
            return response.json() if response.status_code == 200 else None

        registered = wait_for("the deployment irforge-zoo/nightly", deployment, timeout=60)
        assert [entry["schedule"]["cron"] for entry in registered["schedules"]] == [CRON]
        assert registered["parameters"]["zoo_dir"] == str(zoo) and registered["parameters"]["out_dir"] == str(out)
        assert registered["entrypoint"] == "flows.zoo.convert_zoo"

        def announced() -> str | None:
            text = (tmp_path / "serve.out").read_text()
            return text if "UI:" in text else None

        printed = wait_for("serve's announcement", announced, timeout=30)
        assert f"serving irforge-zoo/nightly: {zoo} → {out}" in printed
        assert f"schedule: {CRON} (UTC)" in printed
        assert f"UI: {url.removesuffix('/api')}/deployments/deployment/{registered['id']}" in printed

        submit = "from flows.nightly import submit_run\nprint(submit_run())\n"
        submitted = subprocess.run([sys.executable, "-c", submit], env=serving_env, capture_output=True, text=True, timeout=60)
        assert submitted.returncode == 0, submitted.stderr
        run_id = submitted.stdout.split()[-1]

        def final_state() -> dict | None:
            assert serving.poll() is None, (tmp_path / "serve.err").read_text()
            run = api.get(f"/flow_runs/{run_id}").json()
            return run if run["state_type"] in FINAL else None

        run = wait_for(f"flow run {run_id} to finish", final_state, timeout=120)
        assert run["state_type"] == "COMPLETED", (run["state"], (tmp_path / "serve.err").read_text()[-3000:])
        assert run["deployment_id"] == registered["id"]
        assert (out / "reports" / "latest" / "report.csv").is_file()
    finally:
        serving.send_signal(signal.SIGTERM)  # the runner shuts down gracefully on SIGTERM
        try:
            code = serving.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serving.kill()
            code = serving.wait()
        for handle in log:
            handle.close()
    assert code == 0, (tmp_path / "serve.err").read_text()[-3000:]
    # Prefect pauses a served deployment's schedule when its process stops.
    assert api.get(f"/deployments/{registered['id']}").json()["paused"] is True
