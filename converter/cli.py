"""The `irforge` command. Heavy frameworks are imported only inside commands.

Exit codes: 0 ok, 2 bad input or unsupported model, 1 internal error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    name="irforge",
    help="Convert trained models (ONNX) to OpenVINO IR v11, optimized and verified.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
stdout = Console()

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def _fail(message: str, code: int) -> typer.Exit:
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def convert(
    model: Annotated[Path, typer.Argument(help="The model file (.onnx, or an IR .xml to re-optimize).")],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="IRs go to OUTDIR/FP32/NAME.xml, OUTDIR/FP16/NAME.xml.")] = Path("."),
    name: Annotated[Optional[str], typer.Option("--name", help="Base name of the IR files (default: the model's file name).")] = None,
    precision: Annotated[Optional[str], typer.Option("--precision", help="Comma-separated: fp32, fp16 (default: the config's, both).")] = None,
    passes: Annotated[Optional[str], typer.Option("--passes", help="Comma-separated pass list replacing the configured pipeline ('' for none).")] = None,
    disable_pass: Annotated[Optional[list[str]], typer.Option("--disable-pass", help="Skip this pass (repeatable).")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Check the graph after every pass, structurally and numerically.")] = False,
    config: Annotated[Optional[Path], typer.Option("--config", help="Pipeline config YAML (default: configs/default.yaml).")] = None,
    fp16_guard: Annotated[Optional[float], typer.Option("--fp16-guard", help="Keep in f32 the weights whose f16 rounding moves outputs by more than this (relative to the output's magnitude).")] = None,
) -> None:
    """Convert MODEL to optimized OpenVINO IR, in FP32 and FP16."""
    from converter import ConverterError
    from converter.api import load_model, optimize
    from converter.config import PRECISIONS, load_config
    from converter.passes.compress_fp16 import compress_fp16, compress_fp16_guarded
    from converter.serialize.writer import serialize_streaming, write_serialized

    base = name or model.stem
    try:
        settings = load_config(config)
        precisions = _split_list(precision) if precision is not None else list(settings.precisions)
        if not precisions or set(precisions) - set(PRECISIONS):
            raise _fail(f"--precision takes a comma-separated list of {', '.join(PRECISIONS)}", EXIT_BAD_INPUT)
        names = _split_list(passes) if passes is not None else list(settings.passes)
        names = [p for p in names if p not in set(disable_pass or [])]
        graph, report = optimize(load_model(model), names, verify=verify, config=config)
        serialized = {}
        guard_report = None
        for variant in precisions:
            variant_graph = graph
            if variant == "fp16" and fp16_guard is not None:
                variant_graph, guard_report = compress_fp16_guarded(graph.copy(), rtol=fp16_guard)
            elif variant == "fp16":
                variant_graph = compress_fp16(graph.copy())
            serialized[variant] = serialize_streaming(variant_graph)
    except ConverterError as error:
        raise _fail(str(error), EXIT_BAD_INPUT) from None
    except (KeyError, typer.Exit) as error:
        if isinstance(error, typer.Exit):
            raise
        raise _fail(str(error).strip('"'), EXIT_BAD_INPUT) from None
    except Exception as error:  # a bug: say so, keep the traceback for the report
        console.print_exception()
        raise _fail(f"internal error while converting {model}: {type(error).__name__}: {error}", EXIT_INTERNAL) from None

    _print_pass_report(report)
    if guard_report is not None:
        kept = ", ".join(f"{name} ({effect:.1e})" for name, effect in guard_report.kept_f32.items()) or "none"
        stdout.print(f"FP16 guard: kept in f32: {kept}; outputs move by {guard_report.final_max_relative:.1e} relative", highlight=False)
    for variant, (xml, weights) in serialized.items():
        xml_path, bin_path = write_serialized(xml, weights, output_dir / variant.upper() / f"{base}.xml")
        stdout.print(f"{variant.upper()}: wrote {xml_path} ({weights.size:,} bytes of weights)", highlight=False)


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _print_pass_report(report) -> None:
    if not report.records:
        return
    table = Table(title="passes")
    for column in ("pass", "ops", "removed", "added", "ms", "max |diff|"):
        table.add_column(column)
    for r in report.records:
        removed = ", ".join(f"{k}×{v}" for k, v in r.removed.items())
        added = ", ".join(f"{k}×{v}" for k, v in r.added.items())
        diff = "" if r.max_abs_diff is None else f"{r.max_abs_diff:.1e}"
        table.add_row(r.name, f"{r.ops_before} → {r.ops_after}", removed, added, f"{1000 * r.seconds:.1f}", diff)
    stdout.print(table)


@app.command()
def info(model: Annotated[Path, typer.Argument(help="The model file (.onnx or IR .xml).")]) -> None:
    """Show MODEL's inputs, outputs, op histogram and unsupported ops."""
    from converter import ConverterError

    try:
        if model.suffix.lower() == ".xml":
            _info_ir(model)
        elif model.suffix.lower() == ".onnx":
            _info_onnx(model)
        else:
            raise _fail(f"{model}: unknown model format (supported: .onnx, OpenVINO IR .xml)", EXIT_BAD_INPUT)
    except ConverterError as error:
        raise _fail(str(error), EXIT_BAD_INPUT) from None


def _info_onnx(model: Path) -> None:
    import onnx

    from converter.frontends.onnx.converter import default_opset, find_unsupported
    from converter.frontends.onnx.loader import load_onnx
    from converter.frontends.onnx.ops import HANDLERS

    onnx_model = load_onnx(model)
    graph = onnx_model.graph
    initializers = {t.name for t in graph.initializer}
    rows = []
    for kind, infos in (("input", [i for i in graph.input if i.name not in initializers]), ("output", graph.output)):
        for value_info in infos:
            tensor_type = value_info.type.tensor_type
            type_name = onnx.TensorProto.DataType.Name(tensor_type.elem_type).lower()
            if tensor_type.HasField("shape"):
                dims = [str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?") for d in tensor_type.shape.dim]
                shape = "[" + ", ".join(dims) + "]"
            else:
                shape = "?"
            rows.append((kind, value_info.name, type_name, shape))
    histogram: dict[str, int] = {}
    for node in graph.node:
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        histogram[key] = histogram.get(key, 0) + 1
    unsupported = find_unsupported(graph, HANDLERS, default_opset(onnx_model))
    _print_info(model, rows, histogram, set(unsupported), f"opset {default_opset(onnx_model)}")


def _info_ir(model: Path) -> None:
    from converter import read_model

    graph = read_model(model)
    rows = [("input", v.name, v.element_type.value, str(v.shape)) for v in graph.inputs]
    rows += [("output", v.name, v.element_type.value, str(v.shape)) for v in graph.outputs]
    _print_info(model, rows, graph.op_histogram(), set(), "OpenVINO IR")


def _print_info(model: Path, rows: list[tuple[str, str, str, str]], histogram: dict[str, int], unsupported: set[str], kind: str) -> None:
    table = Table(title=f"{model.name}: inputs and outputs")
    for column in ("kind", "name", "type", "shape"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))  # "[batch, 3]" is not rich markup
    stdout.print(table)
    ops_table = Table(title=f"{sum(histogram.values())} nodes, {kind}")
    ops_table.add_column("op")
    ops_table.add_column("count", justify="right")
    ops_table.add_column("supported")
    for op, count in sorted(histogram.items(), key=lambda item: (-item[1], item[0])):
        ops_table.add_row(op, str(count), "no" if op in unsupported else "yes")
    stdout.print(ops_table)
    if unsupported:
        stdout.print(f"unsupported ops: {', '.join(sorted(unsupported))}", highlight=False)


@app.command()
def zoo(
    directory: Annotated[Path, typer.Argument(help="A directory of models (searched recursively).")],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="One sub-folder per model, plus report.json.")] = Path("out"),
) -> None:
    """Convert and validate every model in DIRECTORY; one bad model never stops the others."""
    import json

    from rich.progress import Progress

    from converter.zoo import convert_and_validate, find_models

    models = find_models(directory)
    if not models:
        raise _fail(f"{directory}: no models found", EXIT_BAD_INPUT)
    reports = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("converting", total=len(models))
        for model in models:
            progress.update(task, description=model.name)
            reports.append(convert_and_validate(model, output_dir))
            progress.advance(task)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "report.json").write_text(json.dumps([r.as_row() for r in reports], indent=1) + "\n")

    table = Table(title=f"{len(models)} models from {directory}", caption="diff: max |IR − source| / max |source output|")
    for column in ("model", "status", "s", "FP32 KiB", "FP16 KiB", "FP32 diff", "FP16 diff"):
        table.add_column(column, overflow="fold")
    for r in reports:
        worst = {
            precision: max((v for k, v in r.max_scaled_diff.items() if k.startswith(precision)), default=float("nan"))
            for precision in ("fp32", "fp16")
        }
        table.add_row(
            Path(r.model).stem,
            r.status,
            f"{r.convert_seconds:.2f}",
            f"{r.bin_bytes.get('fp32', 0) / 1024:,.1f}",
            f"{r.bin_bytes.get('fp16', 0) / 1024:,.1f}",
            f"{worst['fp32']:.1e}",
            f"{worst['fp16']:.1e}",
        )
    stdout.print(table)
    for r in reports:
        if r.status != "ok":
            stdout.print(escape(f"{Path(r.model).name}: {r.status}: {r.message.splitlines()[0]}"), highlight=False, soft_wrap=True)
    stdout.print(f"report: {output_dir / 'report.json'}", highlight=False)
    if any(r.status == "error" for r in reports):
        raise typer.Exit(EXIT_INTERNAL)
    if any(r.status != "ok" for r in reports):
        raise typer.Exit(EXIT_BAD_INPUT)


def main() -> None:  # pragma: no cover - console entry point wrapper
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    app()
