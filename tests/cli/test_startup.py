"""Start-up cost: `irforge --help` imports the CLI and nothing heavy (numpy, the graph core,
frameworks). Checked by the modules a fresh process ends up with, not by a time."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "numpy", "onnx", "onnxruntime", "openvino", "tensorflow", "keras", "ml_dtypes", "pandas", "prefect",
    "pydantic", "h5py", "yaml", "google.protobuf", "scipy", "dask", "pyarrow", "rich",
    "converter.api", "converter.ir", "converter.ops", "converter.passes", "converter.frontends",
    "converter.serialize", "converter.runtime", "converter.validate", "converter.config",
)

RUN = r"""
import json, sys
sys.argv = ["irforge", *sys.argv[1:]]
from converter.cli import app
try:
    app()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def _modules(*args: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_imports_nothing_heavy():
    modules = _modules("--help")
    assert "converter.cli" in modules and "typer" in modules
    assert _heavy(modules) == []


def test_command_help_imports_nothing_heavy():
    for command in ("convert", "validate", "zoo", "info"):
        assert _heavy(_modules(command, "--help")) == [], command


def test_import_converter_is_light_and_the_api_loads_on_use():
    code = "import sys, converter; light = 'numpy' not in sys.modules; from converter import convert_model, save_model, read_model; print(light, callable(convert_model), 'converter.api' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "True", "True"]


LEAN = r"""
import json, sys
import typer.main
built = []
original = typer.main.get_command_from_info
def recording(command_info, **kwargs):
    built.append(command_info.name or command_info.callback.__name__)
    return original(command_info, **kwargs)
typer.main.get_command_from_info = recording
sys.argv = ["irforge", *sys.argv[1:]]
from converter.cli import app
try:
    app()
except SystemExit:
    pass
print(json.dumps(built))
"""


def test_a_command_run_from_the_console_builds_only_that_command():
    """`irforge convert ...` turns only convert's signature into Click options; its help and errors
    read as the whole app's (app(args=...), CliRunner and `irforge --help` build every command)."""
    full_app = "import sys; from converter.cli import app; app(args=sys.argv[1:], prog_name='irforge')"
    for args in (["convert", "--help"], ["info", "--help"], ["convert"]):
        lean = subprocess.run([sys.executable, "-c", LEAN, *args], capture_output=True, text=True, check=True)
        lines = lean.stdout.strip().splitlines()
        assert json.loads(lines[-1]) == [args[0]]
        full = subprocess.run([sys.executable, "-c", full_app, *args], capture_output=True, text=True)
        assert "\n".join(lines[:-1]).strip() == full.stdout.strip() and lean.stderr == full.stderr
    result = subprocess.run([sys.executable, "-c", LEAN, "--help"], capture_output=True, text=True, check=True)
    assert len(json.loads(result.stdout.strip().splitlines()[-1])) > 2
