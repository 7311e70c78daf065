"""`irforge export-onnx`: an IR written back out as a standard ONNX model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from converter.cli.app import EXIT_BAD_INPUT, fail


def export_onnx(
    model: Annotated[Path, typer.Argument(help="The IR's .xml (its .bin beside it).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .onnx file to write.")],
    fold_fp16: Annotated[bool, typer.Option("--fold-fp16", help="Store f16-compressed weights as f32 initializers (default: f16 initializers + Cast, as in the IR).")] = False,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Run onnx.checker (full_check) before writing.")] = True,
) -> None:
    """Write the IR MODEL as a standard ONNX model (opset 21), checked with onnx.checker."""
    from converter import ConverterError
    from converter.api import export_onnx as export

    try:
        path = export(model, output, fold_fp16=fold_fp16, check=check)
    except ConverterError as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
    typer.echo(f"wrote {path}")
