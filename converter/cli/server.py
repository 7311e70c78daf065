"""`irforge server start|stop|status` (a local Prefect server) and `irforge serve` (the nightly run).

Prefect is imported only inside the commands, after the API URL is settled (`flows.server`):
`irforge --help` stays fast, and Prefect binds the URL it finds when first imported.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from converter.cli.app import TYPER_SETTINGS, EXIT_BAD_INPUT, EXIT_INTERNAL, check_output_dir, console, fail, internal_error, stdout
from converter.cli.validate import BACKEND_CHOICES

DEFAULT_PORT = 4200  # Prefect's own default, as in flows.server
DEFAULT_CRON = "0 2 * * *"

server_app = typer.Typer(name="server", help="A local Prefect server (127.0.0.1) for zoo runs and the nightly schedule.", **TYPER_SETTINGS)

PortOption = Annotated[int, typer.Option("--port", min=1, max=65535, help="Port of the local server on 127.0.0.1.")]


@server_app.command("start")
def start(
    port: PortOption = DEFAULT_PORT,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait for it to answer.")] = 120.0,
) -> None:
    """Start a Prefect server in the background (reused if one already runs); prints its URLs.

    Later `irforge zoo` and `irforge serve` runs use it unless PREFECT_API_URL says otherwise.
    """
    from flows.server import local_server_state, resolve_api_url

    running = local_server_state()
    url = _start(port, timeout)
    if running is not None:
        _say(f"already running (pid {running['pid']})")
    _print_urls(url)
    _say(f"log: {local_server_state()['log']}")
    configured, source = resolve_api_url()
    if source == "configured" and configured.rstrip("/") != url:
        _note(f"PREFECT_API_URL is set to {configured}: irforge runs use that, not this server")
    else:
        _say(f"for the prefect CLI: export PREFECT_API_URL={url}")


@server_app.command("stop")
def stop() -> None:
    """Stop the local Prefect server started by `irforge server start`."""
    from flows.server import local_server_state, stop_local_server

    state = local_server_state()
    if stop_local_server():
        _say(f"stopped the Prefect server at {state['url']} (pid {state['pid']})")
    else:
        _say("no irforge Prefect server is running")


@server_app.command("status")
def status() -> None:
    """Whether the local server runs, and which Prefect API irforge runs use."""
    from flows.server import resolve_api_url, server_status, ui_url

    state = server_status()
    if state["running"]:
        health = "healthy" if state["healthy"] else "NOT answering"
        _say(f"running: {state['url']} (pid {state['pid']}, {health})")
        _say(f"UI: {ui_url(state['url'])}")
        if state["deployments"] is not None:
            _say(f"deployments: {state['deployments']}")
        _say(f"log: {state['log']}")
    else:
        _say("not running")
    url, source = resolve_api_url()
    uses = {
        "configured": f"{url} (PREFECT_API_URL)",
        "local": f"{url} (the local server)",
        "temporary": "a temporary Prefect server per run (no schedules)",
    }[source]
    _say(f"irforge runs use: {uses}")


def serve(
    directory: Annotated[Path, typer.Argument(help="The zoo: a directory of models.")],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Where each run writes IRs and OUT/reports/.")],
    cron: Annotated[str, typer.Option("--cron", help="When to run: a five-field cron expression, in UTC.")] = DEFAULT_CRON,
    name: Annotated[str, typer.Option("--name", help="Deployment name: irforge-zoo/NAME.")] = "nightly",
    backend: Annotated[str, typer.Option("--backend", help="IR backends: onnxruntime, openvino or both.")] = "both",
    config: Annotated[Optional[Path], typer.Option("--config", help="Pipeline config YAML (default: configs/default.yaml).")] = None,
    port: PortOption = DEFAULT_PORT,
) -> None:
    """Serve the zoo run as the deployment irforge-zoo/NAME on a cron schedule; runs until stopped.

    Executes the scheduled runs and those submitted with `irforge zoo --submit` or
    `prefect deployment run irforge-zoo/NAME`. Uses PREFECT_API_URL when set, else the local
    server, starting it (on --port) if none runs: Prefect's temporary server cannot schedule.
    """
    from converter import ConverterError

    try:
        if not directory.is_dir():
            raise fail(f"{directory}: the zoo must be a directory", EXIT_BAD_INPUT)
        if backend not in BACKEND_CHOICES:
            raise fail(f"--backend takes {', '.join(BACKEND_CHOICES)}, got {backend!r}", EXIT_BAD_INPUT)
        check_output_dir(output_dir)
        if config is not None and not config.is_file():
            raise fail(f"{config}: --config must be a YAML file", EXIT_BAD_INPUT)
        if not name or "/" in name:
            raise fail(f"--name {name!r}: a deployment name, without '/'", EXIT_BAD_INPUT)
    except ConverterError as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None

    from flows.nightly import DEFAULT_NAME, FLOW_NAME, check_cron, serve_nightly
    from flows.server import deployment_url

    try:
        check_cron(cron)  # before a server is started for nothing
    except ValueError as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
    url, source = _connect(port)

    def announce(deployment_id: object) -> None:
        _say(f"serving {FLOW_NAME}/{name}: {directory.resolve()} → {output_dir.resolve()}")
        _say(f"schedule: {cron} (UTC)")
        _say(f"Prefect API: {url} ({source})")
        _say(f"UI: {deployment_url(deployment_id, url)}")
        if name == DEFAULT_NAME:  # what `irforge zoo --submit` triggers
            _say(f"run it now: irforge zoo {directory} -o {output_dir} --submit")
        else:
            _say(f"run it now: PREFECT_API_URL={url} prefect deployment run '{FLOW_NAME}/{name}'")
        sys.stdout.flush()  # this process keeps running: whoever reads a pipe sees the lines now

    params = {"backends": list(BACKEND_CHOICES[backend]), "config": str(config.resolve()) if config else None}
    try:
        serve_nightly(directory, output_dir, cron=cron, name=name, announce=announce, **params)
    except KeyboardInterrupt:
        pass
    except Exception as error:
        raise internal_error(f"serving {FLOW_NAME}/{name}", error) from None


def _connect(port: int) -> tuple[str, str]:
    """The API to serve on: PREFECT_API_URL if it answers, else the local server (started if needed)."""
    from flows.server import resolve_api_url, use_api_url

    url, source = resolve_api_url()
    if source == "configured":
        problem = _api_problem(url)
        if problem:
            raise fail(f"PREFECT_API_URL={url} does not answer: {problem}", EXIT_BAD_INPUT)
    elif url is None:
        url, source = _start(port, 120.0), "local"
        _note(f"started a local Prefect server at {url} (`irforge server stop` stops it)")
    use_api_url(url)
    return url, source


def _start(port: int, timeout: float) -> str:
    from flows.server import PortInUseError, ServerError, start_local_server

    try:
        return start_local_server(port=port, timeout=timeout)
    except PortInUseError as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
    except ServerError as error:
        raise fail(str(error), EXIT_INTERNAL) from None


def _api_problem(url: str) -> str:
    """Empty when the API answers its health check (with Prefect's own client, so credentials apply)."""
    from flows.server import use_api_url

    use_api_url(url)
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    return f"{type(error).__name__}: {error}" if error else ""


def _print_urls(url: str) -> None:
    from flows.server import ui_url

    _say(f"Prefect API: {url}")
    _say(f"Prefect UI: {ui_url(url)}")


def _say(text: str) -> None:
    """One line on stdout, as is: no markup, no wrapping (URLs and paths stay whole in a pipe)."""
    stdout.print(text, markup=False, highlight=False, soft_wrap=True)


def _note(text: str) -> None:
    console.print(f"note: {text}", markup=False, highlight=False, soft_wrap=True)
