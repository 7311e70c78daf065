"""nnet3 files (`src/nnet3/nnet-nnet.cc`): `.raw` (an Nnet) and `.mdl` (a TransitionModel, then an
AmNnetSimple: the Nnet, its context and priors).

    <Nnet3>
    input-node name=input dim=40
    component-node name=tdnn1.affine component=tdnn1.affine input=Append(Offset(input, -1), input)
    output-node name=output input=output.log-softmax objective=linear
    <blank line>
    <NumComponents> N
    <ComponentName> tdnn1.affine <NaturalGradientAffineComponent> <LearningRate> ... </NaturalGradientAffineComponent>
    ...
    </Nnet3>

The config section is text lines in both forms; each component body is `<Tag> values` pairs up
to its closing tag, read generically (`read_fields`): matrices, vectors, integer vectors,
scalars, bools, and tags without a value (flags). Binary int32 and float are both sized
(5 bytes), so only integer fields a handler reads need naming (`INT_FIELDS`), and integer
vectors (`INT_VECTOR_FIELDS`), whose first byte is a size too. Bodies of component types
irforge does not know are skipped to their closing tag, so every unsupported type of a model is
reported at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from converter.frontends.kaldi.tokens import KaldiFormatError, TokenReader
from converter.frontends.kaldi.transition import skip_transition_model

NODE_KINDS = ("input-node", "component-node", "output-node", "dim-range-node")
MAX_COMPONENTS = 100_000  # Kaldi's own bound

INT_FIELDS = frozenset(
    {
        "Dim", "InputDim", "OutputDim", "BlockDim", "TimePeriod", "Rank", "RankIn", "RankOut", "RankInOut",
        "UpdatePeriod", "InputXDim", "InputYDim", "InputZDim", "PoolXSize", "PoolYSize", "PoolZSize",
        "PoolXStep", "PoolYStep", "PoolZStep", "MaxRowsProcess", "NumComponents", "InputPeriod", "OutputPeriod",
        "LeftContext", "RightContext", "NumLogCountFeatures", "SpecAugmentMaxRegions", "TimeMaskMaxFrames",
        "NumFiltersIn", "NumFiltersOut", "HeightIn", "HeightOut", "HeightSubsampleOut",
    }
)  # fmt: skip
INT_VECTOR_FIELDS = frozenset({"TimeOffsets", "Sizes", "ColumnMap", "RequiredTimeOffsets"})
INT_PAIR_FIELDS = frozenset({"Offsets"})  # TimeHeightConvolution's (time, height) offsets; PerElementOffset's are floats
NESTED_OBJECTS = frozenset({"Model", "ConvolutionModel"})  # tags that open an object whose fields follow inline


@dataclass
class Component:
    """One component as stored: its type (`AffineComponent`) and fields by snake_case tag."""

    name: str
    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    known: bool = True  # False: a type irforge has no handler for, its body skipped


@dataclass
class ConfigNode:
    """One config line: its kind (`component-node`, ...), name and key=value pairs."""

    kind: str
    name: str
    values: dict[str, str]
    line: str


@dataclass
class Nnet3:
    nodes: list[ConfigNode]
    components: dict[str, Component]
    left_context: int | None = None  # as a .mdl records it
    right_context: int | None = None


def snake_case(tag: str) -> str:
    """`LinearParams` → `linear_params`, `InputXDim` → `input_x_dim`, `L2Regularize` → `l2_regularize`."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", tag)
    return words.lower()


# ---------------------------------------------------------------- the file


def read_nnet3(reader: TokenReader, known_types: frozenset[str] | set[str]) -> Nnet3:
    """An Nnet3 (the reader at `<Nnet3>`)."""
    reader.expect("<Nnet3>")
    lines = _config_lines(reader)
    nodes = [_config_node(line, reader) for line in lines]
    reader.expect("<NumComponents>")
    start = reader.pos
    count = reader.read_int()
    if not 0 <= count < MAX_COMPONENTS:
        raise reader.fail(f"the nnet has {count} components", start)
    components: dict[str, Component] = {}
    for _ in range(count):
        reader.expect("<ComponentName>")
        name = reader.read_token()
        start = reader.pos
        opening = reader.read_token()
        if not (opening.startswith("<") and opening.endswith(">") and len(opening) > 2):
            raise reader.fail(f"component {name!r}: expected its type as <Type>, got {opening[:30]!r}", start)
        type_name = opening[1:-1]
        if name in components:
            raise reader.fail(f"two components are named {name!r}", start)
        if type_name in known_types:
            components[name] = Component(name, type_name, read_fields(reader, type_name))
        else:
            skip_body(reader, type_name)
            components[name] = Component(name, type_name, known=False)
    reader.expect("</Nnet3>")
    return Nnet3(nodes, components)


def read_mdl_tail(reader: TokenReader, nnet: Nnet3) -> None:
    """What follows the Nnet in an AmNnetSimple: its left and right context, then the priors."""
    if reader.peek_token() != "<LeftContext>":
        return
    reader.expect("<LeftContext>")
    nnet.left_context = reader.read_int()
    reader.expect("<RightContext>")
    nnet.right_context = reader.read_int()
    if reader.peek_token() == "<Priors>":
        reader.expect("<Priors>")
        reader.read_vector()


def read_model_file(reader: TokenReader, known_types: frozenset[str] | set[str]) -> Nnet3:
    """A `.raw` or a `.mdl` (the reader at its first token)."""
    if reader.peek_token() == "<TransitionModel>":
        skip_transition_model(reader)
        start = reader.pos
        following = reader.peek_token()
        if following != "<Nnet3>":
            raise reader.fail(f"after the transition model comes {following!r}, not an nnet3 <Nnet3>", start)
        nnet = read_nnet3(reader, known_types)
        read_mdl_tail(reader, nnet)
        return nnet
    return read_nnet3(reader, known_types)


# ---------------------------------------------------------------- config lines


def _config_lines(reader: TokenReader) -> list[str]:
    """The lines after `<Nnet3>` up to the first empty one (the rest of the `<Nnet3>` line must be empty)."""
    lines: list[str] = []
    first = True
    while True:
        end = reader.data.find(b"\n", reader.pos)
        if end < 0:
            raise reader.fail("truncated: the config section has no end (an empty line)")
        raw = reader.data[reader.pos : end]
        start, reader.pos = reader.pos, end + 1
        try:
            line = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            raise reader.fail("the config section is not text", start) from None
        if first:
            if line.strip():
                raise reader.fail(f"expected a newline after <Nnet3>, got {line[:30]!r}", start)
            first = False
            continue
        if not line.strip():
            return lines
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append(line)


def parse_config_line(line: str) -> tuple[str, dict[str, str]]:
    """`first-token key=value ...` as Kaldi's ConfigLine reads it: a value runs to the last
    whitespace before the next `=` (so `input=Offset(a, -1) dim=3` works), or is quoted."""
    parts = line.split(None, 1)
    if not parts or "=" in parts[0]:
        raise ValueError("a config line starts with its kind (input-node, component-node, ...)")
    first, rest = parts[0], parts[1] if len(parts) > 1 else ""
    values: dict[str, str] = {}
    position, size = 0, len(rest)
    while position < size:
        if rest[position].isspace():
            position += 1
            continue
        equals = rest.find("=", position)
        if equals <= position:
            raise ValueError(f"expected key=value at {rest[position:position + 30]!r}")
        key = rest[position:equals]
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-.]*", key):
            raise ValueError(f"invalid key {key!r}")
        if equals + 1 < size and rest[equals + 1] in "'\"":
            quote = rest[equals + 1]
            closing = rest.find(quote, equals + 2)
            if closing < 0:
                raise ValueError(f"no closing quote for {key}")
            values[key] = rest[equals + 2 : closing]
            position = closing + 1
            continue
        terminating = size
        following = rest.find("=", equals + 1)
        if following >= 0:
            space = max(rest.rfind(" ", 0, following), rest.rfind("\t", 0, following))
            if space > equals:
                terminating = space
        values[key] = rest[equals + 1 : terminating].strip()
        position = terminating
    return first, values


def _config_node(line: str, reader: TokenReader) -> ConfigNode:
    try:
        kind, values = parse_config_line(line)
    except ValueError as error:
        raise KaldiFormatError(f"config line {line[:60]!r}: {error}", reader.pos) from None
    if kind not in NODE_KINDS:
        raise KaldiFormatError(f"config line {line[:60]!r}: unknown kind {kind!r} (expected {', '.join(NODE_KINDS)})", reader.pos)
    if "name" not in values:
        raise KaldiFormatError(f"config line {line[:60]!r}: no name=", reader.pos)
    return ConfigNode(kind, values["name"], values, line)


# ---------------------------------------------------------------- component bodies


def read_fields(reader: TokenReader, type_name: str) -> dict[str, Any]:
    """A component's `<Tag> values` up to `</Type>` (or `<Type>` again: old writers' closing tag)."""
    fields: dict[str, Any] = {}
    closing, opening = f"</{type_name}>", f"<{type_name}>"
    while True:
        start = reader.pos
        token = reader.read_token()
        if token == closing or (token == opening and fields):
            return fields
        if token == opening:
            continue
        if token[1:-1] in NESTED_OBJECTS or (token.startswith("</") and token[2:-1] in NESTED_OBJECTS):
            continue
        if not (token.startswith("<") and token.endswith(">") and len(token) > 2):
            raise reader.fail(f"{type_name}: expected a <Tag> or {closing}, got {token[:30]!r}", start)
        tag = token[1:-1]
        fields[snake_case(tag)] = _read_values(reader, tag, type_name)


def _read_values(reader: TokenReader, tag: str, type_name: str) -> Any:
    """The values after a tag, up to the next tag: none (a flag: True), one, or a tuple."""
    values: list[Any] = []
    while True:
        if reader.at_end():
            raise reader.fail(f"truncated: {type_name} ends inside <{tag}>")
        if reader.binary:
            head = reader.peek_byte()
            if head == ord("<"):
                break
            values.append(_binary_value(reader, tag, head))
        else:
            word = reader.peek_token()
            assert word is not None
            if word.startswith("<"):
                break
            values.append(_text_value(reader, tag, word))
    if not values:
        return True
    return values[0] if len(values) == 1 else tuple(values)


def _binary_value(reader: TokenReader, tag: str, head: int | None) -> Any:
    if reader.looks_like_array():
        return reader.read_array()
    if reader.at_bool():
        return reader.read_bool()
    if tag in INT_VECTOR_FIELDS:
        return reader.read_int_vector()
    if tag in INT_PAIR_FIELDS:
        return reader.read_int_pairs()
    if head in (4, 8):
        return reader.read_scalar(integer=tag in INT_FIELDS)
    return reader.read_token()


def _text_value(reader: TokenReader, tag: str, word: str) -> Any:
    if word.startswith("["):
        if tag in INT_PAIR_FIELDS and b"," in reader.data[reader.pos : reader.data.find(b"]", reader.pos)]:
            return reader.read_int_pairs()
        return reader.read_int_vector() if tag in INT_VECTOR_FIELDS else reader.read_array()
    if word in ("T", "F"):
        return reader.read_bool()
    if tag in INT_FIELDS:
        return reader.read_int()
    try:
        float(word)
    except ValueError:
        return reader.read_token()
    return reader.read_float()


def skip_body(reader: TokenReader, type_name: str) -> None:
    """Past `</Type>`: a byte search in binary (the body's layout is unknown), a token scan in text."""
    closing = f"</{type_name}>"
    if reader.binary:
        marker = closing.encode("ascii")
        found = reader.data.find(marker, reader.pos)
        if found < 0:
            raise reader.fail(f"truncated: no {closing} after a {type_name}")
        reader.pos = found
        reader.read_token()
        return
    while reader.read_token() != closing:
        pass
