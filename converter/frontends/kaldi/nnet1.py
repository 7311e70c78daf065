"""nnet1 files (`src/nnet/nnet-nnet.cc`, `nnet-component.cc`): a chain of components.

    <Nnet>
    <AffineTransform> 1024 440          the marker (case-insensitive), output dim, input dim
    <LearnRateCoef> 1 <BiasLearnRateCoef> 1 <MaxNorm> 0
     [ ... ]                             then the component's data: its matrices and vectors
     [ ... ]
    <!EndOfComponent>
    <Sigmoid> 1024 1024
    <!EndOfComponent>
    </Nnet>

A component's data is read generically: `<Tag> value` pairs (one value each) and untagged
arrays in order (integer vectors for Splice, Copy and BlockSoftmax). ParallelComponent holds
nested nnets (`<NestedNnetCount> n`, then n × `<NestedNnet> i <Nnet> ... </Nnet>`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from converter.frontends.kaldi.nnet3 import snake_case
from converter.frontends.kaldi.tokens import TokenReader

MARKERS = {
    name.lower(): name
    for name in (
        "AffineTransform", "LinearTransform", "ConvolutionalComponent", "LstmProjected", "BlstmProjected",
        "RecurrentComponent", "Softmax", "HiddenSoftmax", "BlockSoftmax", "Sigmoid", "Tanh", "ParametricRelu",
        "Dropout", "LengthNormComponent", "Rbm", "Splice", "Copy", "AddShift", "Rescale", "KlHmm",
        "AveragePoolingComponent", "MaxPoolingComponent", "SentenceAveragingComponent",
        "SimpleSentenceAveragingComponent", "FramePoolingComponent", "ParallelComponent", "MultiBasisComponent",
    )
}  # fmt: skip
MARKERS.update({"lstmprojectedstreams": "LstmProjected", "blstmprojectedstreams": "BlstmProjected"})
INT_VECTOR_TYPES = frozenset({"Splice", "Copy", "BlockSoftmax"})
INT_FIELDS = frozenset({"PoolSize", "PoolStep", "PoolStride", "PatchDim", "PatchStep", "PatchStride", "CellDim", "NestedNnet"})
END = "<!EndOfComponent>"
MAX_NESTING = 8


@dataclass
class Nnet1Component:
    type: str  # the canonical marker name, e.g. "AffineTransform"
    output_dim: int
    input_dim: int
    index: int  # position in its nnet, from 1
    data: list[Any] = field(default_factory=list)  # untagged arrays, in order
    fields: dict[str, Any] = field(default_factory=dict)  # `<Tag> value`, by snake_case tag
    nested: list[list[Nnet1Component]] = field(default_factory=list)  # ParallelComponent's nnets

    @property
    def name(self) -> str:
        return f"{self.index}:{self.type}"


def marker_type(token: str) -> str | None:
    """The component type a `<Marker>` names, or None."""
    if not (token.startswith("<") and token.endswith(">")):
        return None
    return MARKERS.get(token[1:-1].lower())


def read_nnet1(reader: TokenReader, known_types: frozenset[str] | set[str], depth: int = 0) -> list[Nnet1Component]:
    """The components up to `</Nnet>` or the end of the file (an opening `<Nnet>` is optional).
    Types irforge does not know are skipped to their `<!EndOfComponent>`, for the report."""
    if depth > MAX_NESTING:
        raise reader.fail("ParallelComponents nested too deep")
    components: list[Nnet1Component] = []
    if reader.peek_token() == "<Nnet>":
        reader.read_token()
    while True:
        token = None if reader.at_end() else reader.peek_token()
        if token is None or token == "</Nnet>":
            if token is not None:
                reader.read_token()
            return components
        start = reader.pos
        reader.read_token()
        kind = marker_type(token)
        if kind is None:
            raise reader.fail(f"expected an nnet1 component marker (<AffineTransform>, <Sigmoid>, ...), got {token[:30]!r}", start)
        output_dim, input_dim = reader.read_int(), reader.read_int()
        if output_dim < 0 or input_dim < 0:
            raise reader.fail(f"{kind} with dimensions {output_dim} x {input_dim}", start)
        component = Nnet1Component(kind, output_dim, input_dim, len(components) + 1)
        if kind == "ParallelComponent":
            _read_parallel(reader, component, known_types, depth)
        elif kind in known_types:
            _read_data(reader, component)
        else:
            _skip_data(reader, kind)
        if not reader.at_end() and _next_tag(reader) == END:
            reader.read_token()
        components.append(component)


def _next_tag(reader: TokenReader) -> str | None:
    """The next token when it is a `<...>` tag (binary data starting here is no tag)."""
    if reader.binary and reader.peek_byte() != ord("<"):
        return None
    token = reader.peek_token()
    return token if token is not None and token.startswith("<") else None


def _read_data(reader: TokenReader, component: Nnet1Component) -> None:
    while not reader.at_end():
        tag = _next_tag(reader)
        if tag is not None:
            if tag in (END, "</Nnet>") or marker_type(tag) is not None:
                return
            reader.read_token()
            name = tag[1:-1]
            component.fields[snake_case(name)] = _tag_value(reader, name)
        elif component.type in INT_VECTOR_TYPES:
            component.data.append(reader.read_int_vector())
        elif reader.looks_like_array():
            component.data.append(reader.read_array())
        else:
            raise reader.fail(f"{component.type}: expected a <Tag>, a matrix or a vector")


def _tag_value(reader: TokenReader, name: str) -> Any:
    """One value: an array (ConvolutionalComponent's `<Filters>`), a bool, a number or a word
    (nnet1's Rbm writes `<VisibleType> bern`)."""
    if reader.looks_like_array():
        return reader.read_array()
    if reader.binary:
        if reader.at_bool():
            return reader.read_bool()
        if reader.peek_byte() in (4, 8):
            return reader.read_scalar(integer=name in INT_FIELDS)
        return reader.read_token()
    word = reader.peek_token()
    if word in ("T", "F"):
        return reader.read_bool()
    try:
        float(word or "")
    except ValueError:
        return reader.read_token()
    return reader.read_scalar(integer=name in INT_FIELDS)


def _skip_data(reader: TokenReader, kind: str) -> None:
    """Up to the `<!EndOfComponent>` (not consumed): a byte search in binary, a token scan in text."""
    if reader.binary:
        found = reader.data.find(END.encode("ascii") + b" ", reader.pos)
        if found < 0:
            raise reader.fail(f"truncated: no {END} after a {kind}")
        reader.pos = found
        return
    while reader.peek_token() not in (END, None):
        reader.read_token()
    if reader.at_end():
        raise reader.fail(f"truncated: no {END} after a {kind}")


def _read_parallel(reader: TokenReader, component: Nnet1Component, known_types: frozenset[str] | set[str], depth: int) -> None:
    reader.expect("<NestedNnetCount>")
    start = reader.pos
    count = reader.read_int()
    if not 0 < count <= 1000:
        raise reader.fail(f"a ParallelComponent with {count} nested nnets", start)
    for _ in range(count):
        reader.expect("<NestedNnet>")
        reader.read_int()
        component.nested.append(read_nnet1(reader, known_types, depth + 1))
    reader.expect("</ParallelComponent>")
