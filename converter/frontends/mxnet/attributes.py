"""MXNet attribute strings → Python values, by the type a handler's signature declares.

MXNet stores every operator parameter as text, as dmlc's parameter parser reads it: tuples as
"(3, 3)", "[3, 3]", "(3,)" or a bare "3"; optional values as "None"; booleans as "True", "true"
or "1"; integers of Python 2 files as "3L". A handler declares `kernel: tuple[int, ...] = ()`,
`no_bias: bool = False`, `axis: int | None = None`, and the text is parsed as that type.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any


class Unsupported(Exception):
    """Something irforge cannot express (an attribute value, an input); names the reason."""


@functools.cache
def type_hints(handler: Callable[..., Any]) -> dict[str, Any]:
    return typing.get_type_hints(handler)


@functools.cache
def signature(handler: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(handler)


def parse_attribute(name: str, text: str, hint: Any) -> Any:
    try:
        return _parse(text.strip(), hint)
    except (ValueError, TypeError):
        raise Unsupported(f"attribute {name}={text!r} is not a {_spell(hint)}") from None


def _parse(text: str, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if text == "None" and len(options) < len(typing.get_args(hint)):
            return None
        for option in options:
            try:
                return _parse(text, option)
            except (ValueError, TypeError):
                continue
        raise ValueError(text)
    if origin is tuple:
        element = typing.get_args(hint)[0]
        return tuple(_parse(item, element) for item in split_tuple(text))
    if hint is bool:
        lowered = text.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ValueError(text)
    if hint is int:
        return int(text[:-1] if text.endswith("L") else text)
    if hint is float:
        return float(text)
    if hint is str:
        return text
    raise TypeError(f"no parser for {hint!r}")


def split_tuple(text: str) -> list[str]:
    """ "(1, 2)", "[1,2]", "(1,)", "()" or "1" → its items as text."""
    if text[:1] in "([" and text[-1:] in ")]":
        inner = text[1:-1]
        return [item.strip() for item in inner.split(",") if item.strip()]
    return [text] if text else []


def _spell(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_spell(arg) for arg in typing.get_args(hint))
    if origin is tuple:
        return f"tuple of {_spell(typing.get_args(hint)[0])}"
    return getattr(hint, "__name__", str(hint))
