"""A local Prefect server for irforge, and which Prefect API a run talks to.

Without `PREFECT_API_URL` every Prefect process starts its own temporary server (12–21 s, and no
scheduler, so no nightly run). `irforge server start` runs one real `prefect server start` on
127.0.0.1 in the background instead; its pid, URL and log file are kept in
PREFECT_HOME/irforge-server.json so that `stop`, `status` and later runs find it.

Prefect reads its settings once, when first imported. `use_api_url` therefore sets the environment
variable (inherited by the processes Prefect starts) and refreshes Prefect's global settings when
it is already loaded. Nothing here imports Prefect at module level.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STATE_FILE = "irforge-server.json"
LOG_FILE = "irforge-server.log"
LOCK_FILE = "irforge-server.lock"
DEFAULT_PORT = 4200
STOP_GRACE_SECONDS = 15.0


class ServerError(RuntimeError):
    """The local server could not be started, or a configured API does not answer."""


class PortInUseError(ServerError):
    """The port is held by a program that is not irforge's server (bad input: choose another)."""


def prefect_home() -> Path:
    from prefect.settings import get_current_settings

    return Path(get_current_settings().home).expanduser()


def state_path() -> Path:
    return prefect_home() / STATE_FILE


def local_server_state() -> dict | None:
    """The recorded local server ({"pid", "url", "port", "log"}) if its process still lives; a
    stale record (the process is gone) is removed."""
    path = state_path()
    try:
        state = json.loads(path.read_text())
        pid = int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _is_server_process(pid):
        path.unlink(missing_ok=True)
        return None
    return state


def start_local_server(port: int = DEFAULT_PORT, timeout: float = 120) -> str:
    """Start `prefect server start` on 127.0.0.1:PORT in the background and wait until it is
    healthy; returns its API URL. An irforge server already running is reused (whatever its port)."""
    home = prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    with _start_lock(home):  # two concurrent starts: the second waits, then reuses the first's server
        return _start_locked(home, port, timeout)


def _start_locked(home: Path, port: int, timeout: float) -> str:
    state = local_server_state()
    if state is not None:
        if not wait_healthy(state["url"], timeout, pid=int(state["pid"])):
            raise ServerError(f"the irforge Prefect server (pid {state['pid']}) does not answer at {state['url']}; see {state['log']}")
        return state["url"]
    url = api_url_for(port)
    if not port_is_free(port):
        if is_healthy(url, timeout=1.0):
            raise PortInUseError(
                f"port {port} on 127.0.0.1 is in use by a Prefect server not started by irforge; "
                f"use it with PREFECT_API_URL={url}, or choose another port with --port"
            )
        raise PortInUseError(f"port {port} on 127.0.0.1 is in use by another program; choose another with --port")
    log = home / LOG_FILE
    process = _spawn(port, url, log, home)
    _write_state({"pid": process.pid, "url": url, "port": port, "log": str(log)})
    if not wait_healthy(url, timeout, pid=process.pid):
        exited = process.poll() is not None
        _terminate(process.pid)
        state_path().unlink(missing_ok=True)
        what = "exited" if exited else f"did not answer within {timeout:.0f} s"
        raise ServerError(f"the Prefect server on port {port} {what}: {_last_line(log)} (log: {log})")
    return url


def stop_local_server() -> bool:
    """Stop the recorded local server (SIGTERM to its process group, SIGKILL after 15 s).
    False when none was running."""
    state = local_server_state()
    state_path().unlink(missing_ok=True)
    if state is None:
        return False
    _terminate(int(state["pid"]))
    return True


def server_status() -> dict:
    """{"running", "url", "pid", "log", "healthy", "deployments"} of the local server; the
    deployment count is None when the API does not answer."""
    state = local_server_state()
    if state is None:
        return {"running": False, "url": None, "pid": None, "log": None, "healthy": False, "deployments": None}
    healthy = is_healthy(state["url"])
    return {
        "running": True,
        "url": state["url"],
        "pid": int(state["pid"]),
        "log": state.get("log"),
        "healthy": healthy,
        "deployments": count_deployments(state["url"]) if healthy else None,
    }


def resolve_api_url() -> tuple[str | None, str]:
    """Which API a run should use: PREFECT_API_URL (environment or profile) → "configured"; else
    the local irforge server if it runs and answers → "local"; else (None, "temporary"): Prefect
    starts a temporary server of its own."""
    from prefect.settings import get_current_settings

    configured = get_current_settings().api.url
    if configured:
        return configured, "configured"
    state = local_server_state()
    if state is not None and is_healthy(state["url"]):
        return state["url"], "local"
    return None, "temporary"


def use_api_url(url: str) -> None:
    """Make this process, and every process it starts, talk to `url`."""
    os.environ["PREFECT_API_URL"] = url
    if "prefect.context" in sys.modules:
        # Prefect built its settings from the environment at import time; rebuild them.
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()


def ui_url(api_url: str) -> str:
    """The UI's base URL: PREFECT_UI_URL when set, else derived from the API URL the way Prefect
    does (a server's /api stripped; Prefect Cloud's api → app host and account/workspace path)."""
    explicit = os.environ.get("PREFECT_UI_URL")
    if explicit:
        return explicit.rstrip("/")
    url = api_url.rstrip("/").replace("https://api.prefect.cloud/api", "https://app.prefect.cloud/api", 1)
    url = url.removesuffix("/api").replace("/api/", "/")
    return url.replace("/accounts/", "/account/").replace("/workspaces/", "/workspace/")


def flow_run_url(flow_run_id: object, api_url: str) -> str:
    return f"{ui_url(api_url)}/runs/flow-run/{flow_run_id}"


def deployment_url(deployment_id: object, api_url: str) -> str:
    return f"{ui_url(api_url)}/deployments/deployment/{deployment_id}"


def api_url_for(port: int) -> str:
    return f"http://127.0.0.1:{port}/api"


def is_healthy(url: str, timeout: float = 3.0) -> bool:
    import httpx

    try:
        return httpx.get(f"{url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def wait_healthy(url: str, timeout: float, pid: int | None = None) -> bool:
    """Poll /health until it answers 200; gives up early when the server process `pid` exits."""
    deadline = time.monotonic() + timeout
    while True:
        if is_healthy(url):
            return True
        if (pid is not None and not _is_alive(pid)) or time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


def count_deployments(url: str) -> int | None:
    import httpx

    try:
        response = httpx.post(f"{url.rstrip('/')}/deployments/count", json={}, timeout=5)
        response.raise_for_status()
        return int(response.json())
    except (httpx.HTTPError, ValueError):
        return None


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR as uvicorn uses it: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _spawn(port: int, url: str, log: Path, home: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": url,
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "wb") as output:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=home,
            env=env,
            start_new_session=True,  # outlives this process and gets its own process group
        )


@contextmanager
def _start_lock(home: Path) -> Iterator[None]:
    with open(home / LOCK_FILE, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _write_state(state: dict) -> None:
    path = state_path()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(temporary, path)


def _terminate(pid: int) -> None:
    """SIGTERM the server's process group, SIGKILL it if it still lives after the grace period."""
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while _is_alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.2)
    if _is_alive(pid):
        _signal_group(pid, signal.SIGKILL)
        time.sleep(0.2)
    _reap(pid)


def _signal_group(pid: int, signal_number: int) -> None:
    try:
        os.killpg(pid, signal_number)  # the server leads its own session, so its pgid is its pid
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, signal_number)


def _reap(pid: int) -> None:
    """Collect the exit status when the server is our own child (started in this process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _is_alive(pid: int) -> bool:
    """Running and not a zombie (a detached server's zombie lingers until its new parent reaps it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_server_process(pid: int) -> bool:
    """Alive and still a Prefect server (a recycled pid belongs to some other program)."""
    if not _is_alive(pid):
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True
    return b"prefect" in command and b"server" in command


def _last_line(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no output"
    return lines[-1] if lines else "no output"
