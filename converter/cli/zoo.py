"""`irforge zoo`: the Prefect flow over a directory of models, with a progress display.

Exit 0 when every model converts and passes validation, 3 when any model failed (its rows say
why; the others finished), 2 on bad input, 1 on an internal error of the flow itself.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from converter.cli.app import (
    EXIT_BAD_INPUT,
    EXIT_VALIDATION_FAILED,
    check_output_dir,
    console,
    escape,
    fail,
    internal_error,
    split_list,
    stdout,
)
from converter.cli.validate import BACKEND_CHOICES, print_models


def zoo(
    directory: Annotated[Optional[Path], typer.Argument(help="A directory of models, searched recursively (default: the bundled example zoo).")] = None,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="IRs in OUT/<model path>/<PRECISION>/; reports in OUT/reports/<run>/ and OUT/reports/latest/.")] = Path("out"),
    runner: Annotated[str, typer.Option("--runner", help="threads (default), dask (a local cluster of 2 worker processes) or dask://HOST:PORT.")] = "threads",
    precision: Annotated[Optional[str], typer.Option("--precision", help="Comma-separated: fp32, fp16 (default: the config's, both); models whose manifest names calibration data get int8 too.")] = None,
    backend: Annotated[str, typer.Option("--backend", help="IR backends: onnxruntime, openvino or both.")] = "both",
    force: Annotated[bool, typer.Option("--force", help="Convert every model again, even unchanged ones.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds one model's conversion, or its validation, may take before it is killed.")] = 600.0,
    memory_limit: Annotated[Optional[str], typer.Option("--memory-limit", help="Address space one model's conversion, or its validation, may use, e.g. 4G (default: half the machine's memory; 0: no limit).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="Pipeline config YAML (default: configs/default.yaml).")] = None,
    history: Annotated[Optional[str], typer.Option("--history", help="SQLAlchemy URL of the run history (default: SQLite in OUT/history.sqlite).")] = None,
    submit: Annotated[bool, typer.Option("--submit", help="Do not run here: trigger a run of the nightly deployment on the Prefect server.")] = False,
) -> None:
    """Convert and validate every model in DIRECTORY as a Prefect flow; one bad model never stops the others.

    Exit 0 when every model passes, 3 when any model failed, 2 on bad input, 1 on an internal error.
    """
    from converter import ConverterError
    from converter.config import PRECISIONS, load_config
    from converter.zoo import find_models

    try:
        directory = directory if directory is not None else _example_zoo()
        if backend not in BACKEND_CHOICES:
            raise fail(f"--backend takes {', '.join(BACKEND_CHOICES)}, got {backend!r}", EXIT_BAD_INPUT)
        if runner not in ("threads", "dask") and not runner.startswith("dask://"):
            raise fail(f"--runner takes threads, dask or dask://HOST:PORT, got {runner!r}", EXIT_BAD_INPUT)
        if timeout <= 0:
            raise fail("--timeout must be positive", EXIT_BAD_INPUT)
        memory_bytes = _memory_limit(memory_limit)
        check_output_dir(output_dir)
        settings = load_config(config)  # a broken config is bad input, not one error per model
        precisions = split_list(precision) if precision is not None else list(settings.precisions)
        if not precisions or set(precisions) - set(PRECISIONS):
            raise fail(f"--precision takes a comma-separated list of {', '.join(PRECISIONS)}", EXIT_BAD_INPUT)
        models = find_models(directory, exclude=[output_dir])
    except ConverterError as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
    if submit:
        raise typer.Exit(_submit(directory, output_dir))

    parameters = dict(
        zoo_dir=str(directory),
        out_dir=str(output_dir),
        precisions=precisions,
        backends=list(BACKEND_CHOICES[backend]),
        force=force,
        timeout=timeout,
        config=str(config) if config else None,
        history=history,
        memory_limit=memory_bytes,
    )
    try:
        summary, api = _run_with_progress(parameters, runner, output_dir, len(models))
        frame = _read_frame(Path(summary.report_dir))
    except typer.Exit:
        raise
    except Exception as error:
        raise internal_error(f"running the zoo {directory}", error) from None

    print_models(frame.astype(object).where(frame.notna(), None).to_dict("records"), f"{summary.models} models from {directory}")
    failed = frame[frame["status"].isin(["fail", "error"])]
    for model, rows in failed.groupby("model", sort=True):
        message = next((m for m in rows["message"] if m), "")
        status = "error" if (rows["status"] == "error").any() else "fail"
        console.print(f"[bold red]{status}:[/] {escape(str(model))}: {escape(message.splitlines()[0] if message else '')}", highlight=False, soft_wrap=True)
    cached = f", {summary.cached} unchanged (cached)" if summary.cached else ""
    changes = f"; {summary.changes} changes since the last run" if summary.changes else ""
    stdout.print(f"{summary.passed} of {summary.models} models passed{cached}{changes}", highlight=False)
    stdout.print(f"report: {Path(summary.report_dir) / 'report.html'} (latest: {output_dir / 'reports' / 'latest'})", highlight=False)
    if api is not None and summary.flow_run_id:
        from flows.server import flow_run_url

        stdout.print(f"flow run: {flow_run_url(summary.flow_run_id, api)}", highlight=False)
    if summary.failed:
        raise typer.Exit(EXIT_VALIDATION_FAILED)


def _memory_limit(text: str | None) -> int | None:
    if text is None:
        return None
    from tasks.isolation import parse_size

    try:
        return parse_size(text)
    except ValueError as error:
        raise fail(f"--memory-limit: {error}", EXIT_BAD_INPUT) from None


def _example_zoo() -> Path:
    from examples import zoo_dir

    return zoo_dir()


def _run_with_progress(parameters: dict, runner: str, output_dir: Path, total: int):
    """Run the flow in this process; a thread shows each model's stage from OUT/.progress/."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    _quiet_prefect()
    api = _prefect_api()
    from flows.zoo import convert_zoo, task_runner
    from tasks.zoo import read_stages

    stop = threading.Event()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console.unwrap(), transient=True) as progress:
        bar = progress.add_task("starting Prefect" + (" (a temporary server: 10-25 s)" if api is None else ""), total=total)

        def watch() -> None:
            while not stop.wait(0.25):
                stages = read_stages(output_dir)
                done = sum(1 for s in stages if s["stage"] == "done")
                busy = [f"{s['stage']} {s['model']}" for s in stages if s["stage"] != "done"]
                if stages:
                    progress.update(bar, completed=done, description=escape(", ".join(busy[:2]) or "reporting"))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            summary = convert_zoo.with_options(task_runner=task_runner(runner))(**parameters)
        finally:
            stop.set()
            watcher.join()
    return summary, api


def _quiet_prefect() -> None:
    """Prefect logs every task at INFO; the progress display says it better."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # Prefect's client retries a call that found the API gone 5 times (2 + 4 + ... + 32 s); 7 rides
    # out a server restarted or upgraded in up to about 4 minutes (docs/reliability.md)
    os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", "7")


def _prefect_api() -> str | None:
    """The Prefect API this run reports to: PREFECT_API_URL, else `irforge server start`'s, else None
    (Prefect starts a temporary server; say once how to keep one running)."""
    from flows.server import resolve_api_url, use_api_url

    url, _ = resolve_api_url()
    if url is not None:
        use_api_url(url)
        return url
    console.print("note: no Prefect server is running, so this run starts a temporary one; `irforge server start` keeps one running (runs then start in about 3 s)", highlight=False)
    return None


def _submit(directory: Path, output_dir: Path) -> int:
    _quiet_prefect()
    url = _prefect_api()
    if url is None:
        raise fail("--submit needs a Prefect server with the nightly deployment: start one with `irforge server start` and `irforge serve`", EXIT_BAD_INPUT)
    from flows.nightly import submit_run
    from flows.server import ServerError, flow_run_url

    try:
        run_id = submit_run(parameters={"zoo_dir": str(directory.resolve()), "out_dir": str(output_dir.resolve())})
    except ServerError as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
    stdout.print(f"submitted flow run {run_id}: {flow_run_url(run_id, url)}", highlight=False, soft_wrap=True)
    return 0


def _read_frame(report_dir: Path):
    from converter.validate.report import read_report

    return read_report(report_dir)
