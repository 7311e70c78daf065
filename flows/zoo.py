"""The zoo flow: every model of a directory tree, converted, validated and reported.

    discover → convert (per model, in its own process) → validate (per model, in its own process) → report

`convert_zoo` is the Prefect flow (the nightly deployment runs it; `irforge zoo` calls it). The
task runner is chosen per run: threads (as many as cores) by default, a local Dask cluster or an
existing one (`runner="dask"`, `runner="dask://host:8786"`). A model that fails becomes rows with
its error; the flow itself fails only when irforge does (a bug, a full disk).
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, runtime
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.futures import as_completed

from tasks.zoo import RunReport, ZooSettings, convert, discover, report, validate

LOCK = ".irforge.lock"


@flow(name="irforge-zoo", log_prints=True)
def convert_zoo(
    zoo_dir: str,
    out_dir: str,
    precisions: list[str] | None = None,
    backends: list[str] | None = None,
    force: bool = False,
    timeout: float = 600.0,
    config: str | None = None,
    history: str | None = None,
    memory_limit: int | None = None,
) -> RunReport:
    """Convert and validate every model under `zoo_dir` into `out_dir`; the reports go to
    OUT/reports/<run id>/ and OUT/reports/latest/. `timeout` (seconds) and `memory_limit` (bytes;
    None: half the machine's memory, 0: none) bound each model's conversion and validation."""
    from converter.config import load_config
    from converter.zoo import clean_interrupted

    settings = ZooSettings(
        zoo_dir=str(Path(zoo_dir).resolve()),
        out_dir=str(Path(out_dir).resolve()),
        config=str(Path(config).resolve()) if config else None,
        precisions=tuple(precisions or load_config(config).precisions),
        backends=tuple(backends or ("onnxruntime", "openvino")),
        force=force,
        timeout=timeout,
        history=history,
        memory_limit=memory_limit,
    )
    out = Path(settings.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{str(runtime.flow_run.id or os.getpid())[:8]}"
    with exclusive(out):
        clean_interrupted(out)
        _clear_progress(out)
        models = discover(settings)
        progress = create_progress_artifact(progress=0.0, key="irforge-zoo-progress", description=f"{len(models)} models")
        converted = convert.map([model for model, _ in models], [key for _, key in models], settings=settings)
        validated = validate.map(converted, settings=settings)
        results = []
        for done, future in enumerate(as_completed(validated), start=1):
            results.append(future.result())
            _show_progress(progress, 100.0 * done / len(models))
        results.sort(key=lambda result: result["model"])
        summary = report(results, settings, run_id, started.isoformat())
        clean_interrupted(out)  # the (now empty) staging folders
    print(f"{summary.passed} of {summary.models} models passed ({summary.cached} cached); report: {summary.report_dir}")
    return summary


@contextmanager
def exclusive(out: Path):
    """One zoo run at a time writes an output folder."""
    with open(out / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"{out}: another irforge zoo run is writing this folder") from None
        yield


def _show_progress(artifact, percent: float) -> None:
    """The progress artifact is for the UI: a Prefect API still down after the client's retries
    (a server restart) must not cost the run its results."""
    import httpx

    try:
        update_progress_artifact(artifact, progress=percent)
    except httpx.HTTPError as error:
        print(f"warning: progress not sent to the Prefect API: {type(error).__name__}: {error}")


def _clear_progress(out: Path) -> None:
    from tasks.zoo import PROGRESS

    for path in (out / PROGRESS).glob("*.json") if (out / PROGRESS).is_dir() else []:
        path.unlink(missing_ok=True)


def task_runner(runner: str, workers: int | None = None):
    """"threads" (default), "dask" (a local cluster of 2 worker processes) or "dask://HOST:PORT"."""
    if runner == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers or os.cpu_count() or 2)
    if runner == "dask" or runner.startswith("dask://"):
        import dask
        from prefect_dask import DaskTaskRunner

        # Each model runs in a child of the worker; Dask's workers are daemonic by default, and a
        # daemonic process may not start children. Remote workers need the same setting:
        # DASK_DISTRIBUTED__WORKER__DAEMON=False (docs/pipeline.md).
        dask.config.set({"distributed.worker.daemon": False})
        if runner == "dask":
            return DaskTaskRunner(cluster_kwargs={"n_workers": workers or 2, "threads_per_worker": 1, "processes": True})
        return DaskTaskRunner(address="tcp://" + runner.removeprefix("dask://"))
    raise ValueError(f"--runner takes threads, dask or dask://HOST:PORT, got {runner!r}")
