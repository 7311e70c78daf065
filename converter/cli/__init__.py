"""The `irforge` command. Each command lives in its own module; all are registered here, in
the order `irforge --help` lists them. Heavy frameworks are imported only inside commands.

Exit codes: 0 ok, 2 bad input or unsupported model, 3 an IR failed validation, 1 internal error.
"""

from __future__ import annotations

import sys

from converter.cli.app import app
from converter.cli.convert import convert, info
from converter.cli.export import export_onnx
from converter.cli.server import serve, server_app
from converter.cli.validate import report, validate
from converter.cli.zoo import zoo

app.command()(convert)
app.command()(validate)
app.command()(zoo)
app.command()(serve)
app.command()(report)
app.command()(info)
app.command(name="export-onnx")(export_onnx)
app.add_typer(server_app, name="server")


def main() -> None:  # pragma: no cover - console entry point wrapper
    sys.exit(app())


__all__ = ["app", "main"]
