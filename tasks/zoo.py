"""The zoo's Prefect tasks: discover, convert, validate, report. Thin wrappers over `converter.zoo`.

Convert and validate each run the library's job in a child process (`tasks.isolation`) so that a
crash or a hang fails one model only. They pass plain data (paths, dicts) between them, which is
what a Dask worker on another machine can receive. Each writes the model's current stage to
OUT/.progress/ for the CLI's progress display.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from prefect import task

from tasks.isolation import run_isolated

PROGRESS = ".progress"


@dataclass(frozen=True)
class ZooSettings:
    """Everything a zoo run's tasks need, as plain data (a deployment's parameters are JSON)."""

    zoo_dir: str
    out_dir: str
    config: str | None = None
    precisions: tuple[str, ...] = ("fp32", "fp16")
    backends: tuple[str, ...] = ("onnxruntime", "openvino")
    force: bool = False
    timeout: float = 600.0
    history: str | None = None
    memory_limit: int | None = None  # bytes per model's process; None: half the machine's memory; 0: none

    def options(self) -> dict:
        """What, beside the model's bytes and irforge's version, decides a model's result."""
        return {"precisions": list(self.precisions), "backends": list(self.backends)}

    def settings_text(self) -> str:
        from converter.config import DEFAULT_CONFIG

        return Path(self.config).read_text() if self.config else DEFAULT_CONFIG.read_text()

    def child_memory_limit(self) -> int | None:
        from tasks.isolation import default_memory_limit

        if self.memory_limit is None:
            return default_memory_limit()
        return self.memory_limit or None


@task(name="discover")
def discover(settings: ZooSettings) -> list[tuple[str, str]]:
    """Every model of the zoo and its key (its name in reports, its folder under OUT); the output
    folder is skipped when it lies inside the zoo."""
    from converter.zoo import find_models, model_key

    zoo = Path(settings.zoo_dir)
    models = find_models(zoo, exclude=[Path(settings.out_dir)])
    return [(str(path), model_key(path, zoo, models)) for path in models]


@dataclass
class Converted:
    """What the convert task hands to the validate task."""

    model: str
    key: str
    cache_key: str
    variants: list[tuple[str, str]] = field(default_factory=list)
    convert_seconds: float = 0.0
    cached: dict | None = None  # the remembered ModelResult, when nothing changed
    error: str = ""


@task(name="convert", task_run_name="convert {key}")
def convert(model: str, key: str, settings: ZooSettings) -> Converted:
    from converter.zoo import cache_key, read_record

    path, out = Path(model), Path(settings.out_dir)
    digest = cache_key(path, settings.settings_text(), settings.options())
    remembered = None if settings.force else read_record(out, key, digest)
    if remembered is not None:
        write_stage(out, key, "done", remembered.status)
        return Converted(model, key, digest, cached=asdict(remembered))
    write_stage(out, key, "converting")
    outcome = run_isolated(
        "converter.zoo:convert_job",
        (path, out, key, settings.config, list(settings.precisions)),
        settings.timeout,
        settings.child_memory_limit(),
    )
    if not outcome.ok:
        from converter.zoo import discard_staging

        discard_staging(out, key)  # a killed child leaves its half-written staging folder
        return Converted(model, key, digest, error=f"conversion {outcome.detail}")
    if "error" in outcome.value:
        return Converted(model, key, digest, error=outcome.value["error"])
    return Converted(model, key, digest, [tuple(v) for v in outcome.value["variants"]], outcome.value["convert_seconds"])


@task(name="validate", task_run_name="validate {converted.key}")
def validate(converted: Converted, settings: ZooSettings) -> dict:
    """The model's ModelResult as a dict: cached, failed to convert, crashed, or validated."""
    from converter.zoo import ModelResult, error_result, write_record

    path, out = Path(converted.model), Path(settings.out_dir)
    if converted.cached is not None:
        return converted.cached
    if converted.error:
        result = error_result(converted.key, path, converted.error, settings.precisions)
    else:
        write_stage(out, converted.key, "validating")
        outcome = run_isolated(
            "converter.zoo:validate_job",
            (path, converted.key, converted.variants, settings.config, list(settings.backends), converted.convert_seconds),
            settings.timeout,
            settings.child_memory_limit(),
        )
        if outcome.ok:
            result = ModelResult(**outcome.value)
            try:
                write_record(out, result, converted.cache_key)
            except OSError as error:  # a full disk: the rows still count; the model is converted again next run
                _warn(f"{converted.key}: its result is not remembered for the next run: {error}")
        else:
            result = error_result(converted.key, path, f"validation {outcome.detail}", settings.precisions)
    write_stage(out, converted.key, "done", result.status)
    return asdict(result)


def write_stage(out: Path, key: str, stage: str, status: str = "") -> None:
    """OUT/.progress/<key>.json: the model's stage, read by the CLI's progress display."""
    from converter.files import atomic_write_text

    path = out / PROGRESS / f"{key.replace('/', '__')}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"model": key, "stage": stage, "status": status}))
    except OSError as error:  # only the progress display misses it; a full disk is the models' to report
        _warn(f"{key}: progress not shown: {error}")


def _warn(message: str) -> None:
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_logger, get_run_logger

    try:
        logger = get_run_logger()
    except MissingContextError:  # a task body called outside a run (tests call `.fn`)
        logger = get_logger("irforge.zoo")
    logger.warning(message)


def read_stages(out: Path) -> list[dict]:
    folder = out / PROGRESS
    stages = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            stages.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue  # being replaced right now
    return stages


@dataclass
class RunReport:
    run_id: str
    flow_run_id: str
    report_dir: str
    models: int
    passed: int
    failed: int
    cached: int
    changes: int


@task(name="report")
def report(results: list[dict], settings: ZooSettings, run_id: str, started: str) -> RunReport:
    """Tally every model's rows with pandas, keep them in the history, write OUT/reports/<run>/ and
    point OUT/reports/latest at it, and publish the table and a summary as Prefect artifacts."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    from converter.validate.history import changes_since, open_history
    from converter.validate.report import render_markdown, to_frame, write_output_rows, write_reports

    out = Path(settings.out_dir)
    frame = to_frame([row for result in results for row in result["rows"]])
    history = open_history(settings.history, out / "history.sqlite")
    history.append(run_id, started, frame)
    previous = history.previous(run_id)
    changes = changes_since(previous, frame) if previous is not None else None  # a first run has nothing to compare
    directory = out / "reports" / run_id
    staging = out / "reports" / f".{run_id}.tmp"  # a killed run leaves no half-written report folder
    title = f"irforge zoo: {settings.zoo_dir}"
    try:
        write_reports(frame, staging, title, changes=changes)
        write_output_rows([row for result in results for row in result["outputs"]], staging)
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _point_latest(out / "reports", run_id)
    create_table_artifact(key="irforge-zoo-report", table=_records(frame), description=title)
    create_markdown_artifact(key="irforge-zoo-summary", markdown=render_markdown(frame, title, changes=changes))
    statuses = [result["status"] for result in results]
    from prefect import runtime

    return RunReport(
        run_id,
        str(runtime.flow_run.id or ""),
        str(directory),
        len(results),
        statuses.count("pass"),
        len(statuses) - statuses.count("pass"),
        sum(1 for result in results if result.get("cached")),
        0 if changes is None else len(changes),
    )


def _point_latest(reports: Path, run_id: str) -> None:
    """OUT/reports/latest → the newest run's folder, replaced atomically (a symlink renamed over it)."""
    temporary = reports / f".latest.{os.getpid()}.tmp"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(run_id, target_is_directory=True)
    os.replace(temporary, reports / "latest")


def _records(frame) -> list[dict]:
    """Table artifact rows: JSON has no NaN, so missing values become None."""
    import pandas as pd

    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.astype(object).to_dict("records")]
