"""nnet3 descriptors (`src/nnet3/nnet-descriptor.cc`): the expressions that glue nodes together.

    <descriptor> ::= <node-name>
                   | Append(<descriptor>, <descriptor> [, ...])   features concatenated
                   | Sum(<descriptor>, <descriptor> [, ...])      added (same dim)
                   | Offset(<descriptor>, <t-offset> [, <x-offset>])   frame t reads frame t + offset
                   | Scale(<scale>, <descriptor>)
                   | Const(<value>, <dim>)
                   | IfDefined(<descriptor>)                       zero where not computable
                   | ReplaceIndex(<descriptor>, t|x, <value>)      the one frame t = value
                   | Failover(<d>, <d>) | Switch(<d>, ...) | Round(<d>, <t-modulus>)

Parsed into a small tree; the converter (graph.py) gives each kind its meaning over a window of
frames. Failover, Switch and Round with a modulus above 1 depend on absolute time indexes and are
reported unsupported (Round(x, 1), as x-vector configs write it, is x).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

UNSUPPORTED_KINDS = ("Failover", "Switch", "Round")
KEYWORDS = ("Append", "Sum", "Offset", "Scale", "Const", "IfDefined", "ReplaceIndex", *UNSUPPORTED_KINDS)
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*$")


class DescriptorError(ValueError):
    """A descriptor that does not parse."""


@dataclass(frozen=True)
class Node:
    name: str


@dataclass(frozen=True)
class Append:
    parts: tuple[Descriptor, ...]


@dataclass(frozen=True)
class Sum:
    parts: tuple[Descriptor, ...]


@dataclass(frozen=True)
class Offset:
    inner: Descriptor
    t: int
    x: int = 0


@dataclass(frozen=True)
class Scale:
    alpha: float
    inner: Descriptor


@dataclass(frozen=True)
class Const:
    value: float
    dim: int


@dataclass(frozen=True)
class IfDefined:
    inner: Descriptor


@dataclass(frozen=True)
class ReplaceIndex:
    inner: Descriptor
    variable: str  # "t" or "x"
    value: int


@dataclass(frozen=True)
class Round:
    """Round(x, m): frame t reads x at the multiple of m at or below t (identity when m is 1)."""

    inner: Descriptor
    modulus: int


@dataclass(frozen=True)
class Unsupported:
    """Failover, Switch or Round: parsed so the whole model can be reported at once."""

    kind: str
    parts: tuple[Descriptor, ...]


Descriptor = Node | Append | Sum | Offset | Scale | Const | IfDefined | ReplaceIndex | Round | Unsupported


def tokenize(text: str) -> list[str]:
    """Names, numbers and the punctuation ( ) , as separate tokens."""
    tokens = [token for token in re.split(r"\s*([(),])\s*|\s+", text.strip()) if token]
    if not tokens:
        raise DescriptorError("empty descriptor")
    return tokens


MAX_NESTING = 100
"""Real descriptors nest a few levels; the parser and every walk over the result recurse per level."""


def parse(text: str) -> Descriptor:
    tokens = tokenize(text)
    depth = deepest = 0
    for token in tokens:
        depth += (token == "(") - (token == ")")
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise DescriptorError(f"nested {deepest} levels deep (at most {MAX_NESTING})")
    stream = iter(tokens + ["<end>"])
    parser = _Parser(stream)
    descriptor = parser.descriptor()
    if parser.current != "<end>":
        raise DescriptorError(f"unexpected {parser.current!r} after the descriptor")
    return descriptor


class _Parser:
    def __init__(self, tokens: Iterator[str]):
        self.tokens = tokens
        self.current = next(tokens)

    def advance(self) -> str:
        token = self.current
        self.current = next(self.tokens, "<end>")
        return token

    def expect(self, token: str, where: str) -> None:
        if self.current != token:
            raise DescriptorError(f"{where}: expected {token!r}, got {self.current!r}")
        self.advance()

    def integer(self, where: str) -> int:
        token = self.advance()
        try:
            return int(token)
        except ValueError:
            raise DescriptorError(f"{where}: expected an integer, got {token!r}") from None

    def number(self, where: str) -> float:
        token = self.advance()
        try:
            return float(token)
        except ValueError:
            raise DescriptorError(f"{where}: expected a number, got {token!r}") from None

    def descriptor(self) -> Descriptor:
        token = self.advance()
        if token not in KEYWORDS:
            if token in ("(", ")", ",", "<end>") or not NAME.match(token):
                raise DescriptorError(f"expected a node name or a descriptor, got {token!r}")
            return Node(token)
        self.expect("(", token)
        if token in ("Append", "Sum", "Switch"):
            parts = [self.descriptor()]
            while self.current == ",":
                self.advance()
                parts.append(self.descriptor())
            self.expect(")", token)
            if token == "Append":
                return Append(tuple(parts))
            if token == "Sum":
                return Sum(tuple(parts))
            return Unsupported(token, tuple(parts))
        if token == "Offset":
            inner = self.descriptor()
            self.expect(",", token)
            t = self.integer(token)
            x = 0
            if self.current == ",":
                self.advance()
                x = self.integer(token)
            self.expect(")", token)
            return Offset(inner, t, x)
        if token == "Scale":
            alpha = self.number(token)
            self.expect(",", token)
            inner = self.descriptor()
            self.expect(")", token)
            return Scale(alpha, inner)
        if token == "Const":
            value = self.number(token)
            self.expect(",", token)
            dim = self.integer(token)
            if dim <= 0:
                raise DescriptorError(f"Const: dimension {dim}")
            self.expect(")", token)
            return Const(value, dim)
        if token == "IfDefined":
            inner = self.descriptor()
            self.expect(")", token)
            return IfDefined(inner)
        if token == "ReplaceIndex":
            inner = self.descriptor()
            self.expect(",", token)
            variable = self.advance()
            if variable not in ("t", "x"):
                raise DescriptorError(f"ReplaceIndex: expected t or x, got {variable!r}")
            self.expect(",", token)
            value = self.integer(token)
            self.expect(")", token)
            return ReplaceIndex(inner, variable, value)
        if token == "Failover":
            first = self.descriptor()
            self.expect(",", token)
            second = self.descriptor()
            self.expect(")", token)
            return Unsupported(token, (first, second))
        inner = self.descriptor()  # Round
        self.expect(",", token)
        modulus = self.integer(token)
        if modulus <= 0:
            raise DescriptorError(f"Round: modulus {modulus}")
        self.expect(")", token)
        return Round(inner, modulus)


def children(descriptor: Descriptor) -> tuple[Descriptor, ...]:
    if isinstance(descriptor, (Append, Sum, Unsupported)):
        return descriptor.parts
    if isinstance(descriptor, (Offset, Scale, IfDefined, ReplaceIndex, Round)):
        return (descriptor.inner,)
    return ()


def walk(descriptor: Descriptor) -> Iterator[Descriptor]:
    """The descriptor and all its sub-expressions, outermost first."""
    yield descriptor
    for child in children(descriptor):
        yield from walk(child)


def node_names(descriptor: Descriptor) -> list[str]:
    """The nodes a descriptor reads, in order of appearance."""
    return [d.name for d in walk(descriptor) if isinstance(d, Node)]
