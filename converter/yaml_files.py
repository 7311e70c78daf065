"""YAML files a user writes (pipeline configs, manifests), read with a safe loader; every way
one can be broken (not UTF-8, bad syntax, nested beyond reason, unknown tags) is one line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from converter.errors import InvalidModelError

if TYPE_CHECKING:
    import yaml


def parse_yaml(source: object, data: bytes | str, what: str) -> Any:
    """The document in `data` (None when empty). `what` names the file's role in the messages."""
    import yaml  # 30 ms here (its regular expressions, LibYAML): only when a file is parsed

    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidModelError(f"{source}: cannot read the {what}: not UTF-8 text (byte {error.start})") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(data, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        raise InvalidModelError(f"{source}: cannot read the {what}: {one_line(error)}") from None
    except RecursionError:
        raise InvalidModelError(f"{source}: cannot read the {what}: nested too deeply") from None


def one_line(error: yaml.YAMLError) -> str:
    """PyYAML's message (problem, where) without its multi-line excerpt of the file."""
    import yaml

    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        text = " ".join(part for part in (error.context, error.problem) if part)
        return " ".join(text.split()) + where
    return " ".join(str(error).split())
