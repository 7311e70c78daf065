"""`irforge zoo`: convert and validate every model of a directory tree, then report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from converter.cli.app import (
    EXIT_BAD_INPUT,
    EXIT_VALIDATION_FAILED,
    check_output_dir,
    console,
    fail,
    internal_error,
    stdout,
)
from converter.cli.validate import BACKEND_CHOICES, print_models, write_output_details


def zoo(
    directory: Annotated[Path, typer.Argument(help="A directory of models (searched recursively; NAME.yaml manifests beside them).")],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="IRs in OUTDIR/<model path>/<PRECISION>/, the reports in OUTDIR.")] = Path("out"),
    backend: Annotated[str, typer.Option("--backend", help="IR backends: onnxruntime, openvino or both.")] = "both",
    config: Annotated[Optional[Path], typer.Option("--config", help="Pipeline config YAML (default: configs/default.yaml).")] = None,
) -> None:
    """Convert and validate every model in DIRECTORY; one bad model never stops the others.

    Exit 0 when every model converts and passes validation, 3 when any fails, 2 on bad input,
    1 on an internal error of the run itself.
    """
    from converter import ConverterError
    from converter.config import load_config
    from converter.validate.report import to_frame, write_reports
    from converter.zoo import find_models

    try:
        if backend not in BACKEND_CHOICES:
            raise fail(f"--backend takes {', '.join(BACKEND_CHOICES)}, got {backend!r}", EXIT_BAD_INPUT)
        check_output_dir(output_dir)
        load_config(config)  # a broken config is bad input, not one error per model
        models = find_models(directory)
    except ConverterError as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
    except typer.Exit:
        raise
    try:
        results = _run(models, directory, output_dir, BACKEND_CHOICES[backend], config)
        frame = to_frame([row for result in results for row in result.rows])
        paths = write_reports(frame, output_dir, title=f"irforge zoo: {directory}")
        write_output_details([row for result in results for row in result.outputs], output_dir)
    except Exception as error:
        raise internal_error(f"running the zoo {directory}", error) from None

    print_models([row for result in results for row in result.rows], f"{len(models)} models from {directory}")
    failed = [result for result in results if result.status != "pass"]
    for result in failed:
        for failure in result.failures:
            console.print(f"[bold red]{result.status}:[/] {escape(result.model)}: {escape(failure.splitlines()[0])}", highlight=False, soft_wrap=True)
    stdout.print(f"{len(results) - len(failed)} of {len(results)} models passed; report: {paths['html']}", highlight=False)
    if failed:
        raise typer.Exit(EXIT_VALIDATION_FAILED)


def _run(models: list[Path], directory: Path, output_dir: Path, backends: tuple[str, ...], config: Path | None) -> list:
    from rich.progress import Progress

    from converter.zoo import convert_and_validate

    results = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("converting", total=len(models))
        for model in models:
            progress.update(task, description=escape(model.name))
            results.append(convert_and_validate(model, directory, output_dir, backends, config))
            progress.advance(task)
    return results
