"""The Kaldi frontend: nnet1 (`.nnet`) and nnet3 (`.raw`, `.mdl`) acoustic models → IR graph,
without Kaldi.

tokens.py reads Kaldi's token format (binary and text, compressed matrices in compressed.py),
transition.py skips a `.mdl`'s TransitionModel, nnet3.py and nnet1.py read the two nnet formats,
descriptors.py parses nnet3's descriptors, frames.py lays nodes out over a window of frames,
graph.py walks the nodes and components/<family>.py holds one handler per component type.
docs/kaldi.md says how input frames map to output frames.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from converter.errors import InvalidModelError
from converter.ir.graph import Graph

KINDS = ("nnet1", "nnet3", "nnet3-am")


@dataclass(frozen=True)
class KaldiFile:
    """What a Kaldi file holds, told from its first bytes and tokens."""

    kind: str  # "nnet1", "nnet3" (.raw) or "nnet3-am" (.mdl: TransitionModel + nnet3)
    binary: bool


def sniff(data: bytes, source: str) -> KaldiFile:
    """Binary or text, nnet1 or nnet3, from the start of the file; InvalidModelError otherwise."""
    from converter.frontends.kaldi.nnet1 import marker_type
    from converter.frontends.kaldi.tokens import KaldiFormatError, open_reader

    try:
        reader = open_reader(data)
        first = reader.peek_token()
    except KaldiFormatError as error:
        raise InvalidModelError(f"{source}: not a Kaldi model ({error})") from None
    if first == "<Nnet3>":
        return KaldiFile("nnet3", reader.binary)
    if first == "<TransitionModel>":
        return KaldiFile("nnet3-am", reader.binary)
    if first == "<Nnet>":
        reader.read_token()
        following = _peek(reader)
        if following == "<NumComponents>":
            raise InvalidModelError(f"{source}: an nnet2 model; irforge reads nnet1 and nnet3 models")
        return KaldiFile("nnet1", reader.binary)
    if first is not None and marker_type(first) is not None:
        return KaldiFile("nnet1", reader.binary)
    shown = "an empty file" if first is None else f"it starts with {first[:24]!r}"
    raise InvalidModelError(f"{source}: not a Kaldi nnet1 or nnet3 model ({shown})")


def _peek(reader) -> str | None:
    from converter.frontends.kaldi.tokens import KaldiFormatError

    try:
        return reader.peek_token()
    except KaldiFormatError:
        return None


def convert_kaldi(path_or_bytes: str | os.PathLike[str] | bytes) -> Graph:
    """A Kaldi nnet1 or nnet3 model (a path or its bytes) as an IR graph over a window of frames:
    inputs named as the nnet names them ([frames, dim]; iVectors [1, dim]), one output per
    output node (nnet1: `input` → `output`)."""
    from converter.frontends.kaldi.components import NNET1_HANDLERS, NNET3_HANDLERS
    from converter.frontends.kaldi.graph import convert_nnet1, convert_nnet3
    from converter.frontends.kaldi.nnet1 import read_nnet1
    from converter.frontends.kaldi.nnet3 import read_model_file
    from converter.frontends.kaldi.tokens import KaldiFormatError, open_reader

    data, source = _load(path_or_bytes)
    name = Path(source).stem if not source.startswith("<") else "model"
    kind = sniff(data, source)
    try:
        reader = open_reader(data)
        if kind.kind == "nnet1":
            components = read_nnet1(reader, frozenset(NNET1_HANDLERS))
            _expect_end(reader)
            return convert_nnet1(components, source, NNET1_HANDLERS, name=name)
        nnet = read_model_file(reader, frozenset(NNET3_HANDLERS))
        _expect_end(reader)
    except KaldiFormatError as error:
        raise InvalidModelError(f"{source}: not a valid Kaldi {kind.kind} model, or truncated: {error}") from None
    return convert_nnet3(nnet, source, NNET3_HANDLERS, name=name)


def _expect_end(reader) -> None:
    if not reader.at_end():
        raise reader.fail("unexpected data after the end of the nnet")


def _load(path_or_bytes: str | os.PathLike[str] | bytes):
    if isinstance(path_or_bytes, (bytes, bytearray)):
        return bytes(path_or_bytes), "<Kaldi bytes>"
    from converter.frontends.kaldi.tokens import map_file

    source = os.fspath(path_or_bytes)
    if not Path(source).is_file():
        raise InvalidModelError(f"{source}: no such file")
    return map_file(source), source
