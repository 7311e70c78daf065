"""Errors a user can act on. Anything else escaping the library is a bug (exit 1)."""

from __future__ import annotations


class ConverterError(Exception):
    """Base class: the input is at fault, not irforge (CLI exit code 2). The message is one line
    (a value quoted from a hostile file may hold line breaks: they become spaces)."""

    def __str__(self) -> str:
        return " ".join(super().__str__().splitlines())


class InvalidModelError(ConverterError):
    """The file is missing, truncated, malformed or inconsistent."""


class NoReferenceError(ConverterError):
    """The source framework cannot run here (Kaldi): validation compares the IRs with one another instead."""


class UnsupportedOpsError(ConverterError):
    """The model uses ops irforge cannot convert. Lists all of them at once."""

    def __init__(self, source: str, unsupported: dict[str, list[str]], hint: str = ""):
        self.source = source
        self.unsupported = dict(sorted(unsupported.items()))
        details = "; ".join(
            f"{op} (nodes: {', '.join(_shorten(nodes))})" for op, nodes in self.unsupported.items()
        )
        super().__init__(f"{source}: unsupported ops: {details}" + (f" — {hint}" if hint else ""))


class NodeConversionError(ConverterError):
    """One node could not be converted (an attribute value or input irforge rejects)."""

    def __init__(self, source: str, node_name: str, op_type: str, reason: str):
        self.source = source
        self.node_name = node_name
        self.op_type = op_type
        self.reason = reason
        super().__init__(f"{source}: node {node_name!r} ({op_type}): {reason}")


def _shorten(names: list[str], limit: int = 5) -> list[str]:
    if len(names) <= limit:
        return names
    return names[:limit] + [f"... {len(names) - limit} more"]
