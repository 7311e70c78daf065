"""`irforge server` / `irforge serve` without a server: what they import, and their bad-input errors."""

from __future__ import annotations

import socket
from pathlib import Path

import onnx
import pytest

from cli_support import assert_clean_failure, irforge
from models import tiny_add_relu


@pytest.fixture(autouse=True)
def prefect_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every irforge subprocess gets a fresh PREFECT_HOME and no configured API."""
    home = tmp_path / "prefect-home"
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_UI_URL", raising=False)
    return home




def _zoo(tmp_path: Path) -> Path:
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    onnx.save(tiny_add_relu(), zoo / "tiny.onnx")
    return zoo


@pytest.mark.parametrize("cron", ["61 2 * * *", "0 2 * *", "every night"])
def test_serve_rejects_a_bad_cron_before_starting_a_server(tmp_path: Path, prefect_home: Path, cron: str) -> None:
    result = irforge("serve", _zoo(tmp_path), "-o", tmp_path / "out", "--cron", cron)
    assert_clean_failure(result, "--cron", cron)
    assert not (prefect_home / "irforge-server.json").exists()


def test_serve_rejects_a_missing_zoo(tmp_path: Path) -> None:
    assert_clean_failure(irforge("serve", tmp_path / "nowhere", "-o", tmp_path / "out"), "nowhere", "directory")


def test_serve_with_an_api_url_that_does_not_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/api"  # closed again before irforge runs
    monkeypatch.setenv("PREFECT_API_URL", url)
    assert_clean_failure(irforge("serve", _zoo(tmp_path), "-o", tmp_path / "out"), "PREFECT_API_URL", url)


def test_server_start_on_a_port_in_use(prefect_home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = irforge("server", "start", "--port", str(port))
    assert_clean_failure(result, f"port {port}", "in use", "--port")
    assert not (prefect_home / "irforge-server.json").exists()


def test_stop_and_status_without_a_server() -> None:
    stopped = irforge("server", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "no irforge Prefect server is running" in stopped.stdout
    status = irforge("server", "status")
    assert status.returncode == 0, status.stderr
    assert "not running" in status.stdout
    assert "temporary Prefect server" in status.stdout


def test_ui_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.server import flow_run_url, ui_url

    assert flow_run_url("abc", "http://127.0.0.1:4242/api") == "http://127.0.0.1:4242/runs/flow-run/abc"
    assert ui_url("http://prefect.lab:4200/api/") == "http://prefect.lab:4200"
    cloud = "https://api.prefect.cloud/api/accounts/A/workspaces/W"
    assert ui_url(cloud) == "https://app.prefect.cloud/account/A/workspace/W"
    monkeypatch.setenv("PREFECT_UI_URL", "https://prefect.example.com/ui/")
    assert flow_run_url("abc", "http://10.0.0.5:4200/api") == "https://prefect.example.com/ui/runs/flow-run/abc"
