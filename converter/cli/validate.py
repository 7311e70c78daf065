"""`irforge validate` (a written IR against its source model) and `irforge report` (re-render a report)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from converter.cli.app import (
    EXIT_BAD_INPUT,
    EXIT_VALIDATION_FAILED,
    check_output_dir,
    console,
    escape,
    fail,
    internal_error,
    stdout,
)
from converter.cli.frontend_options import (
    Batch,
    CaffeRandomWeights,
    Framework,
    InputLayout,
    Inputs,
    KerasTrace,
    Layout,
    MeanValues,
    Outputs,
    ReverseInputChannels,
    ScaleValues,
    Signature,
    SourceLayout,
    TargetLayout,
    frontend_options,
)

if TYPE_CHECKING:
    from rich.table import Table

BACKEND_CHOICES = {"onnxruntime": ("onnxruntime",), "openvino": ("openvino",), "both": ("onnxruntime", "openvino")}


def validate(
    model: Annotated[Path, typer.Argument(help="The source model (.onnx, SavedModel folder, .pb, .keras/.h5), given the options it was converted with.")],
    ir_dir: Annotated[Path, typer.Argument(help="What `irforge convert -o IR_DIR` wrote: IR_DIR/FP32/NAME.xml, IR_DIR/FP16/NAME.xml.")],
    name: Annotated[Optional[str], typer.Option("--name", help="The IR's base name, when IR_DIR holds several.")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="Real inputs: an .npz with one array per model input (samples first) and optional 'labels'.")] = None,
    input_shape: Annotated[Optional[list[str]], typer.Option("--input-shape", help="NAME[d0,d1,...] for a dynamic input (repeatable; default: searched).")] = None,
    report_dir: Annotated[Optional[Path], typer.Option("--report-dir", "-o", help="Where report.csv/.parquet/.md/.html go (default: IR_DIR).")] = None,
    backend: Annotated[str, typer.Option("--backend", help="IR backends: onnxruntime, openvino or both.")] = "both",
    metric: Annotated[Optional[str], typer.Option("--metric", help="Verdict metric: max_rel, accuracy, top1, top5, cosine (default: the manifest's, else accuracy with labels, else max_rel).")] = None,
    samples: Annotated[Optional[int], typer.Option("--samples", help="Use at most this many samples of the data.")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="Pipeline config YAML with the tolerances (default: configs/default.yaml).")] = None,
    signature: Signature = None,
    inputs: Inputs = None,
    outputs: Outputs = None,
    input_layout: InputLayout = None,
    keras_trace: KerasTrace = False,
    framework: Framework = None,
    caffe_random_weights: CaffeRandomWeights = False,
    batch: Batch = None,
    mean_values: MeanValues = None,
    scale_values: ScaleValues = None,
    reverse_input_channels: ReverseInputChannels = False,
    layout: Layout = None,
    source_layout: SourceLayout = None,
    target_layout: TargetLayout = None,
) -> None:
    """Reload every IR in IR_DIR, run it, and compare it with MODEL run in its own framework.

    Exit 0 when every variant passes, 3 when one fails validation, 2 on bad input, 1 on an internal error.
    """
    from converter import ConverterError
    from converter.config import load_config
    from converter.validate.inputs import parse_input_shape
    from converter.validate.manifest import METRICS, find_manifest
    from converter.validate.report import to_frame, write_output_rows, write_reports
    from converter.validate.validation import ValidationOptions, find_variants, validate_model

    try:
        if backend not in BACKEND_CHOICES:
            raise fail(f"--backend takes {', '.join(BACKEND_CHOICES)}, got {backend!r}", EXIT_BAD_INPUT)
        if metric is not None and metric not in METRICS:
            raise fail(f"--metric takes {', '.join(METRICS)}, got {metric!r}", EXIT_BAD_INPUT)
        target = report_dir or ir_dir
        check_output_dir(target, "--report-dir")
        settings = load_config(config)
        variants = find_variants(ir_dir, name)
        options = ValidationOptions(
            data=data,
            input_shapes=dict(parse_input_shape(text) for text in input_shape or []),
            backends=BACKEND_CHOICES[backend],
            metric=metric,
            samples=samples,
            frontend=frontend_options(
                model, signature, inputs, outputs, input_layout, keras_trace, framework, caffe_random_weights,
                batch, mean_values, scale_values, reverse_input_channels, layout, source_layout, target_layout,
            ),
        )
        result = validate_model(model, variants, settings, options, find_manifest(model))
        paths = write_reports(to_frame(result.rows), target, title=f"irforge validation: {model.name}")
        write_output_rows(result.outputs, target)
    except ConverterError as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
    except typer.Exit:
        raise
    except Exception as error:
        raise internal_error(f"validating {model}", error) from None

    print_rows(result.rows, f"{model.name}: {result.inputs}")
    stdout.print(f"report: {paths['html']} (and report.csv, report.parquet, report.md)", highlight=False)
    for failure in result.failures:
        console.print(f"[bold red]fail:[/] {escape(failure)}", highlight=False, soft_wrap=True)
    if result.failures:
        raise typer.Exit(EXIT_VALIDATION_FAILED)


def report(
    table: Annotated[Path, typer.Argument(help="A report folder (report.parquet or report.csv in it), or the .csv / .parquet itself.")],
    output_dir: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="Where report.md and report.html go (default: beside the table).")] = None,
    title: Annotated[str, typer.Option("--title", help="The report's title.")] = "irforge validation report",
) -> None:
    """Re-render report.md and report.html from a saved report table (and its changes.csv, if any)."""
    import pandas as pd

    from converter import ConverterError
    from converter.files import atomic_write_text
    from converter.validate.report import CHANGES_FILE_NAME, conform_changes, read_report, render_html, render_markdown

    try:
        frame = read_report(table)
        folder = table if table.is_dir() else table.parent
        changes_file = folder / CHANGES_FILE_NAME
        changes = conform_changes(pd.read_csv(changes_file, dtype=str, keep_default_na=False)) if changes_file.is_file() else None
        target = output_dir or folder
        check_output_dir(target)
        target.mkdir(parents=True, exist_ok=True)
        markdown = atomic_write_text(target / "report.md", render_markdown(frame, title, changes=changes))
        html = atomic_write_text(target / "report.html", render_html(frame, title, changes=changes))
    except ConverterError as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
    except Exception as error:
        raise internal_error(f"rendering {table}", error) from None
    stdout.print(f"wrote {markdown} and {html} ({len(frame)} rows)", highlight=False)


SHORT_BACKENDS = {"onnxruntime": "ort", "openvino": "ov"}
STATUS_COLORS = {"pass": "green", "fail": "red", "error": "red"}


def _table(title: str, caption: str) -> Table:
    from rich import box
    from rich.table import Table

    return Table(
        title=escape(title),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        caption=caption,
        caption_justify="left",
        pad_edge=False,
        collapse_padding=True,
    )


def _status(status: str) -> str:
    color = STATUS_COLORS.get(status)
    return f"[{color}]{escape(status)}[/]" if color else escape(status)


def print_rows(rows: list[dict], title: str) -> None:
    """One line per variant of one model: how close it is to the source, its size and speed."""
    table = _table(title, "ort: onnxruntime (IR lowered to ONNX), ov: OpenVINO; max_rel: max|diff| / max|source|")
    for column in ("variant", "status", "max_rel", "cosine", "top1", "accuracy", "KiB", "ms"):
        table.add_column(column, no_wrap=True, justify="left" if column in ("variant", "status") else "right")
    for row in rows:
        size = (row.get("xml_bytes") or 0) + (row.get("bin_bytes") or 0) or row.get("source_bytes") or 0
        precision, backend = row.get("precision", ""), row.get("backend", "")
        table.add_row(
            precision if precision in ("source", "") else f"{precision} {SHORT_BACKENDS.get(backend, backend)}",
            _status(row.get("status", "")),
            _number(row.get("max_rel"), ".1e"),
            _number(row.get("cosine"), ".6f"),
            _number(row.get("top1_agreement"), ".1%"),
            _number(row.get("accuracy"), ".2%"),
            f"{size / 1024:,.1f}" if size else "",
            _number(row.get("latency_ms"), ".2f"),
        )
    stdout.print(table)


def print_models(rows: list[dict], title: str) -> None:
    """One line per model of a zoo: each precision's verdict over the backends, its worst error and size."""
    int8 = any(row.get("precision") == "int8" for row in rows)  # models with calibration data
    table = _table(title, "fp32/fp16/int8: worst verdict over the backends; err: max_rel, max|diff| / max|source|; KiB: FP32, FP16")
    table.add_column("model", no_wrap=True, overflow="ellipsis", max_width=26)
    for column in ("fp32", "fp16", *(("int8",) if int8 else ()), "fp32 err", "fp16 err", "acc", "KiB", "KiB"):
        table.add_column(column, no_wrap=True, min_width=len(column) + (1 if column in ("fp32", "fp16", "int8") else 0), justify="left" if column in ("fp32", "fp16", "int8") else "right")
    by_model: dict[str, list[dict]] = {}
    for row in rows:
        by_model.setdefault(str(row.get("model", "")), []).append(row)
    for model, model_rows in by_model.items():
        cells = {}
        for precision in ("fp32", "fp16", "int8"):
            mine = [r for r in model_rows if r.get("precision") == precision]
            statuses = {r.get("status") for r in mine}
            cells[precision] = next((s for s in ("error", "fail", "pass") if s in statuses), "")
            cells[f"{precision} err"] = _number(max((r.get("max_rel") for r in mine if r.get("max_rel") is not None), default=None), ".1e")
            cells[f"{precision} size"] = next(((r.get("xml_bytes") or 0) + (r.get("bin_bytes") or 0) for r in mine), 0)
        if any(r.get("status") == "error" for r in model_rows) and not cells["fp32"]:
            cells["fp32"] = cells["fp16"] = "error"
        fp16_accuracy = [r.get("accuracy") for r in model_rows if r.get("precision") == "fp16" and r.get("accuracy") is not None]
        table.add_row(
            escape(model),
            _status(cells["fp32"]),
            _status(cells["fp16"]),
            *((_status(cells["int8"]),) if int8 else ()),
            cells["fp32 err"],
            cells["fp16 err"],
            _number(min(fp16_accuracy, default=None), ".2%"),
            f"{cells['fp32 size'] / 1024:,.0f}" if cells["fp32 size"] else "",
            f"{cells['fp16 size'] / 1024:,.0f}" if cells["fp16 size"] else "",
        )
    stdout.print(table)


def _number(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return format(value, spec)
