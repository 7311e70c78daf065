"""`python -m converter.cli ...` runs the `irforge` command."""

from converter.cli import app

app()
