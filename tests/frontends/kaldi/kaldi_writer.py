"""Kaldi files written by the tests, byte for byte as Kaldi's writers lay them out (io-funcs.cc,
kaldi-matrix.cc, compressed-matrix.cc, nnet-nnet.cc, nnet1's Component::Write, TransitionModel).

`Writer` is the token stream; `nnet3_bytes`, `mdl_bytes` and `nnet1_bytes` write whole models
described with kaldi_reference's objects (which also compute their outputs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


class Writer:
    """Kaldi's token format, binary ("\\0B" header) or text."""

    def __init__(self, binary: bool):
        self.binary = binary
        self.out = bytearray(b"\0B" if binary else b"")

    def raw(self, data: bytes | str) -> Writer:
        self.out += data.encode() if isinstance(data, str) else data
        return self

    def newline(self) -> Writer:
        if not self.binary:
            self.out += b"\n"
        return self

    def token(self, token: str) -> Writer:
        return self.raw(token + " ")

    def int(self, value: int) -> Writer:
        if self.binary:
            return self.raw(b"\x04" + np.int32(value).tobytes())
        return self.raw(f"{int(value)} ")

    def float(self, value: float) -> Writer:
        if self.binary:
            return self.raw(b"\x04" + np.float32(value).tobytes())
        return self.raw(f"{float(np.float32(value)):.7g} ")

    def double(self, value: float) -> Writer:
        if self.binary:
            return self.raw(b"\x08" + np.float64(value).tobytes())
        return self.raw(f"{value:.7g} ")

    def bool(self, value: bool) -> Writer:
        return self.raw(("T" if value else "F") + ("" if self.binary else " "))

    def matrix(self, matrix: np.ndarray, double: bool = False) -> Writer:
        matrix = np.asarray(matrix)
        if self.binary:
            self.token("DM" if double else "FM").int(matrix.shape[0]).int(matrix.shape[1])
            return self.raw(matrix.astype("<f8" if double else "<f4").tobytes())
        if matrix.shape[1] == 0:
            return self.raw(" [ ]\n")
        text = "".join("\n  " + "".join(f"{float(v):.7g} " for v in row) for row in np.asarray(matrix, np.float32))
        return self.raw(" [" + text + "]\n")

    def vector(self, vector: np.ndarray, double: bool = False) -> Writer:
        vector = np.asarray(vector)
        if self.binary:
            self.token("DV" if double else "FV").int(vector.shape[0])
            return self.raw(vector.astype("<f8" if double else "<f4").tobytes())
        return self.raw(" [ " + "".join(f"{float(v):.7g} " for v in np.asarray(vector, np.float32)) + "]\n")

    def int_vector(self, values: Iterable[int]) -> Writer:
        values = np.asarray(list(values), dtype="<i4")
        if self.binary:
            return self.raw(b"\x04" + np.int32(len(values)).tobytes() + values.tobytes())
        return self.raw("[ " + "".join(f"{int(v)} " for v in values) + "]\n")

    def compressed(self, token: str, min_value: float, value_range: float, data: np.ndarray, headers: np.ndarray | None = None) -> Writer:
        """A compressed matrix as stored: CM (data [cols, rows] uint8 + headers [cols, 4] uint16),
        CM2 ([rows, cols] uint16) or CM3 ([rows, cols] uint8)."""
        assert self.binary, "compressed matrices are written uncompressed in text files"
        rows, cols = (data.shape[1], data.shape[0]) if token == "CM" else data.shape
        header = np.array([min_value, value_range], "<f4").tobytes() + np.array([rows, cols], "<i4").tobytes()
        self.token(token).raw(header)
        if token == "CM":
            assert headers is not None
            self.raw(np.asarray(headers, "<u2").tobytes())
        return self.raw(np.ascontiguousarray(data).astype("<u2" if token == "CM2" else "u1").tobytes())

    def int_pairs(self, pairs: Iterable[tuple[int, int]]) -> Writer:
        pairs = np.asarray(list(pairs), dtype="<i4").reshape(-1, 2)
        if self.binary:
            return self.raw(b"\x04" + np.int32(len(pairs)).tobytes() + pairs.tobytes())
        return self.raw("[ " + "".join(f"{a},{b} " for a, b in pairs) + "]\n")

    def value(self, value: Any) -> Writer:
        """A field's value, by its Python type: ints, floats, bools, matrices, vectors, Ints(...), Pairs(...)."""
        if isinstance(value, Ints):
            return self.int_vector(value.values)
        if isinstance(value, Pairs):
            return self.int_pairs(value.values)
        if isinstance(value, (bool, np.bool_)):
            return self.bool(bool(value))
        if isinstance(value, (int, np.integer)):
            return self.int(int(value))
        if isinstance(value, (float, np.floating)):
            return self.float(float(value))
        if isinstance(value, Compressed):
            return self.compressed(*value.args)
        array = np.asarray(value)
        return self.matrix(array) if array.ndim == 2 else self.vector(array)

    def fields(self, fields: Sequence[tuple[str, Any]]) -> Writer:
        """`<Tag> value` pairs; a value None writes the tag alone (a flag), a tuple several values."""
        for tag, value in fields:
            self.token(f"<{tag}>")
            if value is None:
                continue
            for item in value if isinstance(value, tuple) else (value,):
                self.value(item)
        return self

    def bytes(self) -> bytes:
        return bytes(self.out)


class Ints:
    """An integer vector field (WriteIntegerVector), as opposed to a float vector."""

    def __init__(self, values: Iterable[int]):
        self.values = [int(v) for v in values]


class Pairs:
    """An integer pair vector field (WriteIntegerPairVector)."""

    def __init__(self, values: Iterable[tuple[int, int]]):
        self.values = [(int(a), int(b)) for a, b in values]


class Compressed:
    """A compressed matrix field: the arguments of Writer.compressed."""

    def __init__(self, *args: Any):
        self.args = args


# ---------------------------------------------------------------- whole models


def nnet3_section(w: Writer, config_lines: Sequence[str], components: Sequence[tuple[str, str, Sequence[tuple[str, Any]]]]) -> Writer:
    """An Nnet3 as Nnet::Write writes it: config lines, a blank line, the components."""
    w.token("<Nnet3>").raw("\n")
    for line in config_lines:
        w.raw(line + "\n")
    w.raw("\n")
    w.token("<NumComponents>").int(len(components)).newline()
    for name, type_name, fields in components:
        w.token("<ComponentName>").token(name).token(f"<{type_name}>").fields(fields).token(f"</{type_name}>").newline()
    return w.token("</Nnet3>")


def transition_model(w: Writer, num_pdfs: int) -> Writer:
    """A small TransitionModel: one phone, a 2-state HMM topology, one triple per pdf."""
    w.token("<TransitionModel>").newline()
    if w.binary:
        w.token("<Topology>").int_vector([1]).int_vector([-1, 0]).int(1)
        w.int(2)  # states of the one entry
        w.int(0).int(2).int(0).float(0.5).int(1).float(0.5)  # state 0: pdf class 0, two transitions
        w.int(-1).int(0)  # the final state
        w.token("</Topology>")
    else:
        w.raw("<Topology>\n<TopologyEntry>\n<ForPhones>\n1\n</ForPhones>\n")
        w.raw("<State> 0 <PdfClass> 0 <Transition> 0 0.5 <Transition> 1 0.5 </State>\n<State> 1 </State>\n")
        w.raw("</TopologyEntry>\n</Topology>\n")
    w.token("<Triples>").int(num_pdfs).newline()
    for pdf in range(num_pdfs):
        w.int(1).int(0).int(pdf).newline()
    w.token("</Triples>").newline()
    w.token("<LogProbs>").newline().vector(np.full(2 * num_pdfs, np.log(0.5))).token("</LogProbs>").newline()
    return w.token("</TransitionModel>").newline()


def nnet3_bytes(model: Any, binary: bool) -> bytes:
    """A `.raw`: the model's Nnet3."""
    return nnet3_section(Writer(binary), model.config_lines(), model.component_fields()).bytes()


def mdl_bytes(model: Any, binary: bool, num_pdfs: int, left: int, right: int) -> bytes:
    """A `.mdl`: TransitionModel, then AmNnetSimple (the Nnet3, its context, its priors)."""
    w = transition_model(Writer(binary), num_pdfs)
    nnet3_section(w, model.config_lines(), model.component_fields())
    w.token("<LeftContext>").int(left).token("<RightContext>").int(right)
    w.token("<Priors>").vector(np.full(num_pdfs, 1.0 / num_pdfs))
    return w.bytes()


def nnet1_bytes(components: Sequence[Any], binary: bool) -> bytes:
    """An nnet1 as Nnet::Write writes it: each component's marker, output and input dims, data, separator."""
    w = Writer(binary)
    w.token("<Nnet>").newline()
    for component in components:
        write_nnet1_component(w, component)
    return w.token("</Nnet>").newline().bytes()


def write_nnet1_component(w: Writer, component: Any) -> None:
    w.token(f"<{component.marker}>").int(component.output_dim).int(component.input_dim).newline()
    component.write_data(w)
    w.token("<!EndOfComponent>").newline()
