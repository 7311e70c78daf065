"""The text of the model-preparation options, parsed once (the legacy Model Optimizer's grammar):

    --input   NAME[1,3,224,224]{f32}   shape (`?` or -1: dynamic) and element type, both optional
              NAME->VALUE  NAME[2]{i64}->[1,2]   frozen to a constant
              several: comma-separated at the top level, or the option repeated
    --output  TENSOR,TENSOR
    --mean-values / --scale-values  NAME[123.68,116.78,103.94],other[...]  or  [..] / one number: every input
    --layout  NAME(nhwc)  NAME(nhwc->nchw)  (nchw)  nchw ; --source-layout / --target-layout: NAME(nhwc), nhwc

Pure Python on purpose: the CLI parses these before anything heavy is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from converter.errors import ConverterError

ELEMENT_TYPES = {
    "f64": "f64", "f32": "f32", "f16": "f16", "bf16": "bf16",
    "i64": "i64", "i32": "i32", "i16": "i16", "i8": "i8",
    "u64": "u64", "u32": "u32", "u16": "u16", "u8": "u8", "boolean": "boolean",
    # numpy / ONNX spellings people type
    "float64": "f64", "float32": "f32", "float16": "f16", "float": "f32", "double": "f64", "half": "f16",
    "int64": "i64", "int32": "i32", "int16": "i16", "int8": "i8",
    "uint64": "u64", "uint32": "u32", "uint16": "u16", "uint8": "u8", "bool": "boolean",
}

Dim = int | None


@dataclass(frozen=True)
class InputRequest:
    """One `--input` entry."""

    name: str
    shape: tuple[Dim, ...] | None = None  # None: keep the model's
    element_type: str | None = None  # IR spelling (f32, u8, ...); None: keep the model's
    value: tuple[float | int | bool, ...] | None = None  # frozen to these values (flattened)
    value_is_list: bool = False  # `->[5]` rather than `->5`

    @property
    def frozen(self) -> bool:
        return self.value is not None

    def text(self) -> str:
        """The entry as the user would write it (for error messages)."""
        shape = "" if self.shape is None else "[" + ",".join("?" if d is None else str(d) for d in self.shape) + "]"
        kind = "" if self.element_type is None else "{" + self.element_type + "}"
        value = ""
        if self.value is not None:
            value = "->" + ("[" + ",".join(_number_text(v) for v in self.value) + "]" if self.value_is_list else _number_text(self.value[0]))
        return f"{self.name}{shape}{kind}{value}"


@dataclass(frozen=True)
class LayoutRequest:
    """One `--layout` / `--source-layout` / `--target-layout` entry; name None: every input."""

    name: str | None
    source: str | None  # lower-case letters, one per dim ('?' for a dim without a meaning)
    target: str | None


def split_top_level(text: str) -> list[str]:
    """`a[1,2],b{f32}->[3,4]` → ['a[1,2]', 'b{f32}->[3,4]']: commas inside [] () {} do not split."""
    parts, depth, current = [], 0, []
    for char in text:
        if char in "[({":
            depth += 1
        elif char in "])}":
            depth -= 1
            if depth < 0:
                raise ConverterError(f"{text!r}: unbalanced {char!r}")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise ConverterError(f"{text!r}: an opening bracket is not closed")
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def split_entries(texts: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The entries of a repeatable, comma-separated option (or a manifest's list)."""
    if texts is None:
        return ()
    if isinstance(texts, str):
        texts = [texts]
    return tuple(entry for text in texts for entry in split_top_level(text))


_INPUT = re.compile(r"(?P<name>.*?)(?:\[(?P<shape>[^\[\]]*)\])?(?:\{(?P<type>[^{}]*)\})?(?:->(?P<value>.+))?")
_INPUT_TYPE_FIRST = re.compile(r"(?P<name>.*?)\{(?P<type>[^{}]*)\}\[(?P<shape>[^\[\]]*)\](?:->(?P<value>.+))?")


def parse_input(entry: str) -> InputRequest:
    """One `--input` entry: NAME, NAME[shape], NAME{type}, NAME[shape]{type}, any of them ->VALUE."""
    text = entry.strip()
    match = _INPUT_TYPE_FIRST.fullmatch(text) or _INPUT.fullmatch(text)
    if match is None or not match.group("name").strip():
        raise ConverterError(f"--input {entry!r}: expected NAME[d0,d1,...]{{type}}->VALUE (each part optional but the name)")
    name = match.group("name").strip()
    if any(char in name for char in "[]{}") or "->" in name:
        raise ConverterError(f"--input {entry!r}: expected NAME[d0,d1,...]{{type}}->VALUE, e.g. images[1,3,224,224]{{f32}}")
    shape = None if match.group("shape") is None else parse_shape(match.group("shape"), f"--input {entry!r}")
    element_type = None
    if match.group("type") is not None:
        spelled = match.group("type").strip().lower()
        if spelled not in ELEMENT_TYPES:
            raise ConverterError(f"--input {entry!r}: unknown element type {spelled!r} (f32, f16, i64, i32, u8, boolean, ...)")
        element_type = ELEMENT_TYPES[spelled]
    value, is_list = (None, False)
    if match.group("value") is not None:
        value, is_list = parse_value(match.group("value"), f"--input {entry!r}")
    return InputRequest(name, shape, element_type, value, is_list)


def parse_shape(text: str, where: str) -> tuple[Dim, ...]:
    """`1,3,?,-1` → (1, 3, None, None); an empty text is a scalar's shape."""
    dims: list[Dim] = []
    for part in (p.strip() for p in text.split(",")) if text.strip() else ():
        if part in ("?", "-1"):
            dims.append(None)
        elif part.isdigit():
            dims.append(int(part))
        elif ".." in part:
            raise ConverterError(f"{where}: bounded dim {part!r}: irforge's IR dims are static or dynamic ('?'), not ranges")
        else:
            raise ConverterError(f"{where}: dim {part!r} is not a size, '?' or -1")
    return tuple(dims)


def parse_value(text: str, where: str) -> tuple[tuple[float | int | bool, ...], bool]:
    """`16000` → ((16000,), False); `[1, 2.5]` → ((1, 2.5), True); true/false are booleans."""
    text = text.strip()
    is_list = text.startswith("[")
    if is_list:
        if not text.endswith("]"):
            raise ConverterError(f"{where}: value {text!r} opens a list it does not close")
        text = text[1:-1]
    parts = [p.strip() for p in text.split(",")] if text.strip() else []
    if not parts:
        raise ConverterError(f"{where}: an empty value")
    if not is_list and len(parts) > 1:
        raise ConverterError(f"{where}: several values need brackets: ->[{text}]")
    return tuple(_number(part, where) for part in parts), is_list


def _number(text: str, where: str) -> float | int | bool:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ConverterError(f"{where}: {text!r} is not a number") from None


def _number_text(value: float | int | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else repr(value) if isinstance(value, float) else str(value)


def parse_outputs(texts: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    return split_entries(texts)


_PER_INPUT = re.compile(r"(?P<name>[^\[\]]*?)\s*\[(?P<values>[^\[\]]*)\]")


def parse_channel_values(text: str | None, option: str) -> dict[str | None, tuple[float, ...]]:
    """`--mean-values`/`--scale-values`: {name: values}; key None for `[..]` or a bare number (every input)."""
    if text is None or not text.strip():
        return {}
    result: dict[str | None, tuple[float, ...]] = {}
    for entry in split_top_level(text):
        match = _PER_INPUT.fullmatch(entry)
        if match is not None:
            name = match.group("name").strip() or None
            values = [v.strip() for v in match.group("values").split(",") if v.strip()]
        else:
            name, values = None, [entry]
        if not values:
            raise ConverterError(f"{option} {entry!r}: no values")
        numbers = []
        for value in values:
            try:
                numbers.append(float(value))
            except ValueError:
                raise ConverterError(f"{option} {entry!r}: {value!r} is not a number (expected NAME[v0,v1,...], [v0,...] or one number)") from None
        if name in result:
            raise ConverterError(f"{option}: {'the unnamed entry' if name is None else repr(name)} is given twice")
        result[name] = tuple(numbers)
    if None in result and len(result) > 1:
        raise ConverterError(f"{option} {text!r}: values without a name apply to every input; do not mix them with named ones")
    return result


_LAYOUT_ENTRY = re.compile(r"(?P<name>[^()]*?)\s*\((?P<layout>[^()]*)\)")


def parse_layouts(text: str | None, option: str) -> list[LayoutRequest]:
    """`--layout`: NAME(nhwc), NAME(nhwc->nchw), (nchw), nchw; `--source-layout`/`--target-layout`: no arrow."""
    if text is None or not text.strip():
        return []
    requests = []
    for entry in split_top_level(text):
        match = _LAYOUT_ENTRY.fullmatch(entry)
        name, body = (match.group("name").strip() or None, match.group("layout")) if match else (None, entry)
        if "->" in body:
            if option != "--layout":
                raise ConverterError(f"{option} {entry!r}: one layout per input here; `a->b` belongs to --layout")
            source, target = (parse_layout(part, f"{option} {entry!r}") for part in body.split("->", 1))
        else:
            layout = parse_layout(body, f"{option} {entry!r}")
            source, target = (None, layout) if option == "--target-layout" else (layout, None)
        requests.append(LayoutRequest(name, source, target))
    return requests


def parse_layout(text: str, where: str) -> str:
    """`nhwc`, `NCHW`, `[N,C,H,W]`, `nc??` → one lower-case letter (or '?') per dim."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        parts = [p.strip().lower() for p in text[1:-1].split(",")]
        if not all(len(p) == 1 for p in parts):
            raise ConverterError(f"{where}: layout {text!r}: one letter per dim, e.g. [N,C,H,W]")
        letters = "".join(parts)
    else:
        letters = text.lower()
    if not letters or not all(c.isalpha() or c == "?" for c in letters):
        raise ConverterError(f"{where}: layout {text!r}: letters (n, c, h, w, d, ...) or '?', e.g. nhwc")
    named = [c for c in letters if c != "?"]
    if len(set(named)) != len(named):
        raise ConverterError(f"{where}: layout {text!r} names a dim twice")
    return letters
