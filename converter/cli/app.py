"""The Typer application and what every command shares: consoles, exit codes, error lines."""

from __future__ import annotations

import copy
import gc
import sys
from pathlib import Path

from typing import Any

import typer

TYPER_SETTINGS = dict(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain Click help: Typer's rich help prints `<bool>` after every flag, as if it took a value.
    rich_markup_mode=None,
)


class IrforgeTyper(typer.Typer):
    """A Typer that, run as `irforge COMMAND ...` (from the console, on sys.argv), builds the Click
    command of COMMAND alone. Typer turns the signature of every registered function into Click
    parameters on each start, and most of that work was for the commands not run (a third of the
    CLI's own start-up). Anything else (`--help`, a subgroup, CliRunner) sees the whole app."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args or "args" in kwargs:
            return self._run(*args, **kwargs)  # called in process (a test, an embedding program)
        global _console_process
        _console_process = True
        try:
            return self._run()
        finally:
            # The process ends next. CPython's finalization runs full garbage collections over every
            # object left (the modules, the model's graph): 70-90 ms of a 300 ms `irforge convert`.
            # Frozen objects are skipped; their memory goes back to the OS with the process.
            gc.freeze()

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        if not args and "args" not in kwargs and len(sys.argv) > 1:
            chosen = [c for c in self.registered_commands if _command_name(c) == sys.argv[1]]
            if len(chosen) == 1:
                lean = copy.copy(self)
                lean.registered_commands = chosen
                lean.registered_groups = []
                # A group with a no-op callback parses `irforge COMMAND ...` as the whole app does
                # (a lone command would become the root and read COMMAND as its first argument).
                lean.registered_callback = typer.models.TyperInfo(callback=_no_options)
                return typer.Typer.__call__(lean, *args, **kwargs)
        return super().__call__(*args, **kwargs)


_console_process = False


def spare_full_collections() -> None:
    """In an `irforge` process run from the console (not `app([...])` in a test or a program), let
    the cyclic collector scan young objects less often and the whole heap practically never.

    For a command that converts one model and exits. The pass pipeline frees the nodes it drops by
    cutting their cycles itself, and runs a full collection itself where the weights are large
    (converter/passes/release.py); the automatic runs mostly walk live objects, the imported
    modules' above all: 40-80 ms of a 0.4-0.9 s `irforge convert` (each full collection 20-30 ms).
    Young cycles are still collected, every 2000 allocations: turned off entirely, the collector
    left up to 10 MB more of them at the peak (EfficientNet-B0)."""
    if _console_process:
        gc.set_threshold(2000, 10, 1000)


def _command_name(command: typer.models.CommandInfo) -> str:
    if command.name:
        return command.name
    return command.callback.__name__.lower().replace("_", "-") if command.callback else ""


def _no_options() -> None:
    """The lean group's callback: the whole app takes no options before its command either."""


app = IrforgeTyper(name="irforge", help="Convert trained models (ONNX) to OpenVINO IR v11, optimized and validated.", **TYPER_SETTINGS)


class _LazyConsole:
    """A rich Console made on first use: rich costs 16 ms to import, and `irforge convert` and
    `--help` print without it."""

    def __init__(self, **options: Any):
        self._options = options
        self._console = None

    def unwrap(self) -> Any:
        """The rich Console itself (for rich objects that take one, e.g. Progress)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unwrap(), name)


def escape(text: str) -> str:
    """rich.markup.escape, imported when first needed."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


console: Any = _LazyConsole(stderr=True)
stdout: Any = _LazyConsole()

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_VALIDATION_FAILED = 0, 1, 2, 3


def fail(message: str, code: int) -> typer.Exit:
    """Print one `error:` line and return the Exit to raise."""
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def internal_error(what: str, error: BaseException) -> typer.Exit:
    """A bug in irforge: the traceback for the report, then the error line, exit 1."""
    console.print_exception()
    return fail(f"internal error while {what}: {type(error).__name__}: {error}", EXIT_INTERNAL)


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def check_output_dir(path: Path, option: str = "--output-dir") -> None:
    """An output directory may be missing (it is created) but must not be a file."""
    from converter.errors import InvalidModelError

    if path.exists() and not path.is_dir():
        raise InvalidModelError(f"{path}: {option} must be a directory, but a file of that name exists")
