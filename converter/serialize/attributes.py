"""How attribute values are spelled in the IR's `<data>` element, both ways."""

from __future__ import annotations

import math
from typing import Any

from converter.ir.types import ElementType, Shape
from converter.ops.spec import Attr, AttrKind


def format_float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(float(value))


def format_attr(attr: Attr, value: Any) -> str:
    kind = attr.kind
    if kind is AttrKind.INT:
        return str(int(value))
    if kind is AttrKind.FLOAT:
        return format_float(value)
    if kind is AttrKind.BOOL:
        return "true" if value else "false"
    if kind is AttrKind.STR:
        return str(value)
    if kind is AttrKind.INTS:
        return ", ".join(str(int(v)) for v in value)
    if kind is AttrKind.FLOATS:
        return ", ".join(format_float(v) for v in value)
    if kind is AttrKind.STRS:
        return ",".join(value)
    if kind is AttrKind.ELEMENT_TYPE:
        return value.value
    if kind is AttrKind.SHAPE:
        return format_partial_shape(value)
    raise AssertionError(kind)


def parse_attr(attr: Attr, text: str) -> Any:
    kind = attr.kind
    text = text.strip()
    if kind is AttrKind.INT:
        return int(text)
    if kind is AttrKind.FLOAT:
        return float(text)
    if kind is AttrKind.BOOL:
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"not a boolean: {text!r}")
        return text.lower() in ("true", "1")
    if kind is AttrKind.STR:
        return text
    if kind is AttrKind.INTS:
        return tuple(int(v) for v in _split(text))
    if kind is AttrKind.FLOATS:
        return tuple(float(v) for v in _split(text))
    if kind is AttrKind.STRS:
        return tuple(_split(text))
    if kind is AttrKind.ELEMENT_TYPE:
        return ElementType(text)
    if kind is AttrKind.SHAPE:
        return parse_partial_shape(text)
    raise AssertionError(kind)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def format_partial_shape(shape: Shape) -> str:
    """Parameter shapes: `?,3,8,8`; `...` for unknown rank; empty for scalars."""
    if shape.dims is None:
        return "..."
    return ",".join("?" if d is None else str(d) for d in shape.dims)


def parse_partial_shape(text: str) -> Shape:
    if text == "...":
        return Shape.dynamic_rank()
    dims: list[int | None] = []
    for part in _split(text):
        if part in ("?", "-1"):
            dims.append(None)
        else:
            dims.append(int(part))
    return Shape(tuple(dims))


def format_static_shape(dims: tuple[int, ...]) -> str:
    """Const shapes, as OpenVINO writes them: `4, 3, 3, 3`."""
    return ", ".join(str(d) for d in dims)


def escape_names(names: list[str]) -> str:
    return ",".join(name.replace(",", "\\,") for name in names)


def unescape_names(text: str) -> list[str]:
    names: list[str] = []
    current = ""
    escaped = False
    for char in text:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            names.append(current)
            current = ""
        else:
            current += char
    if current or names:
        names.append(current)
    return [name for name in names if name]
