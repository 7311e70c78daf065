"""Kaldi's token format, read in place: what `src/base/io-funcs.cc` and the matrix and vector
readers of `src/matrix/` define.

A Kaldi object file is binary when it starts with "\\0B", text otherwise. Both forms are a
sequence of whitespace-terminated tokens (`<Tag>`, `FM`, ...) and values:

- binary basic types: one size byte, then the value little-endian (int32: size 4; float: 4,
  double: 8); bool: the byte `T` or `F`;
- binary matrices: `FM` / `DM`, rows and cols as sized int32, then the row-major data;
  vectors `FV` / `DV`, the dim as a sized int32, then the data; compressed matrices `CM`,
  `CM2`, `CM3` (compressed.py); integer vectors: the element size byte, a raw int32 count,
  the raw elements;
- text: whitespace-separated words; matrices `[` rows separated by newlines `]`, vectors and
  integer vectors `[ v1 v2 ... ]`.

Binary arrays are numpy views of the file's bytes (read-only). Every read is bounds-checked:
a truncated or malformed file raises one KaldiFormatError with the byte offset.
"""

from __future__ import annotations

import mmap
import os
from typing import Union

import numpy as np

from converter.frontends.kaldi.compressed import decompress

Buffer = Union[bytes, mmap.mmap]  # both index to ints, slice to bytes and find()
WHITESPACE = b" \t\n\r\v\f"
BINARY_ARRAYS = (b"FM ", b"DM ", b"CM ", b"FV ", b"DV ")


class KaldiFormatError(Exception):
    """Malformed or truncated bytes; the frontend reports it as one InvalidModelError naming the file."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} (at byte {position})")
        self.position = position


class TokenReader:
    """Reads tokens and values from `data` starting at `position`, in Kaldi's binary or text form."""

    def __init__(self, data: Buffer, binary: bool, position: int = 0):
        self.data = data
        self.size = len(data)
        self.binary = binary
        self.pos = position

    # ------------------------------------------------------------ low level

    def fail(self, message: str, position: int | None = None) -> KaldiFormatError:
        return KaldiFormatError(message, self.pos if position is None else position)

    def _byte(self, index: int) -> int:
        return self.data[index]

    def take(self, count: int, what: str) -> bytes:
        """The next `count` bytes, consumed."""
        if count < 0 or self.pos + count > self.size:
            raise self.fail(f"truncated: {what} needs {count} bytes, {max(self.size - self.pos, 0)} left")
        chunk = bytes(self.data[self.pos : self.pos + count])
        self.pos += count
        return chunk

    def skip_whitespace(self) -> None:
        while self.pos < self.size and self._byte(self.pos) in WHITESPACE:
            self.pos += 1

    def at_end(self) -> bool:
        """Only whitespace is left."""
        position = self.pos
        self.skip_whitespace()
        end = self.pos >= self.size
        self.pos = position
        return end

    def peek_byte(self) -> int | None:
        """The next byte (whitespace skipped in text mode, as Kaldi's Peek does), not consumed."""
        position = self.pos
        if not self.binary:
            self.skip_whitespace()
        value = self._byte(self.pos) if self.pos < self.size else None
        self.pos = position
        return value

    def _word(self) -> tuple[str, int]:
        """The next whitespace-delimited word and the offset just past it (nothing consumed)."""
        start = self.pos
        while start < self.size and self._byte(start) in WHITESPACE:
            start += 1
        if start >= self.size:
            raise self.fail("truncated: expected a token, got the end of the file", start)
        end = start
        while end < self.size and self._byte(end) not in WHITESPACE:
            end += 1
            if end - start > 4096:
                raise self.fail("not a Kaldi token (no whitespace within 4096 bytes)", start)
        raw = bytes(self.data[start:end])
        try:
            return raw.decode("ascii"), end
        except UnicodeDecodeError:
            raise self.fail(f"not a Kaldi token: {raw[:20]!r}", start) from None

    # ------------------------------------------------------------ tokens

    def read_token(self) -> str:
        """A token and the one whitespace character that ends it (the end of the file also ends one)."""
        word, end = self._word()
        self.pos = end + 1 if end < self.size else end
        return word

    def peek_token(self) -> str | None:
        """The next token, not consumed; None at the end of the file."""
        if self.at_end():
            return None
        return self._word()[0]

    def expect(self, token: str) -> None:
        start = self.pos
        word = self.read_token()
        if word != token:
            raise self.fail(f"expected {token}, got {_shown(word)}", start)

    # ------------------------------------------------------------ basic types

    def _sized(self, what: str, sizes: tuple[int, ...]) -> tuple[int, bytes]:
        start = self.pos
        byte = self.take(1, what)[0]
        size = byte - 256 if byte > 127 else byte  # a signed char: negative for unsigned types
        if size not in sizes:
            raise self.fail(f"expected {what} (a size byte of {' or '.join(map(str, sizes))}), got {size}", start)
        return size, self.take(size, what)

    def read_int(self) -> int:
        if self.binary:
            _, raw = self._sized("an int32", (4,))
            return int(np.frombuffer(raw, "<i4")[0])
        start = self.pos
        word = self.read_token()
        try:
            return int(word)
        except ValueError:
            raise self.fail(f"expected an integer, got {_shown(word)}", start) from None

    def read_float(self) -> float:
        if self.binary:
            size, raw = self._sized("a float", (4, 8))
            return float(np.frombuffer(raw, "<f4" if size == 4 else "<f8")[0])
        start = self.pos
        word = self.read_token()
        try:
            return float(np.float32(float(word)))
        except ValueError:
            raise self.fail(f"expected a number, got {_shown(word)}", start) from None

    def read_scalar(self, integer: bool) -> int | float:
        """An int32 or a float, whichever the field holds: in binary both are sized; the size byte says how long."""
        return self.read_int() if integer else self.read_float()

    def at_bool(self) -> bool:
        """Binary: whether a bool starts here (T or F not followed by more of a word)."""
        head = self.data[self.pos : self.pos + 2]
        return head[:1] in (b"T", b"F") and not (len(head) == 2 and (chr(head[1]).isalnum() or head[1:] == b"_"))

    def read_bool(self) -> bool:
        if not self.binary:
            self.skip_whitespace()
        start = self.pos
        char = self.take(1, "a bool")
        if char not in (b"T", b"F"):
            raise self.fail(f"expected a bool (T or F), got {char!r}", start)
        return char == b"T"

    # ------------------------------------------------------------ arrays

    def read_int_vector(self) -> np.ndarray:
        """An integer vector (ReadIntegerVector): int32 elements."""
        if self.binary:
            start = self.pos
            size = self.take(1, "an integer vector")[0]
            if size != 4:
                raise self.fail(f"expected an int32 vector (element size 4), got element size {size}", start)
            count = int(np.frombuffer(self.take(4, "an integer vector's length"), "<i4")[0])
            if count < 0:
                raise self.fail(f"an integer vector of negative length {count}", start)
            return self._view("<i4", count, "an integer vector's elements")
        words = self._bracketed("an integer vector")
        try:
            return np.array([int(w) for w in words.split()], dtype=np.int32)
        except ValueError:
            raise self.fail("expected integers in an integer vector") from None

    def read_int_pairs(self) -> np.ndarray:
        """An integer pair vector (ReadIntegerPairVector): [count, 2] int32; text `[ a,b c,d ]`."""
        if self.binary:
            start = self.pos
            size = self.take(1, "an integer pair vector")[0]
            if size != 4:
                raise self.fail(f"expected int32 pairs (element size 4), got element size {size}", start)
            count = int(np.frombuffer(self.take(4, "an integer pair vector's length"), "<i4")[0])
            if count < 0:
                raise self.fail(f"an integer pair vector of negative length {count}", start)
            return self._view("<i4", 2 * count, "an integer pair vector's elements").reshape(count, 2)
        words = self._bracketed("an integer pair vector").split()
        try:
            return np.array([[int(v) for v in word.split(b",")] for word in words], dtype=np.int32).reshape(-1, 2)
        except ValueError:
            raise self.fail("expected integer pairs a,b in an integer pair vector") from None

    def read_matrix(self) -> np.ndarray:
        """A float32 matrix [rows, cols] (double and compressed matrices converted as Kaldi reads them)."""
        if not self.binary:
            return self._text_array(matrix=True)
        start = self.pos
        token = self.read_token()
        if token in ("CM", "CM2", "CM3"):
            return self._compressed(token)
        if token not in ("FM", "DM"):
            raise self.fail(f"expected a matrix (FM, DM, CM, CM2 or CM3), got {_shown(token)}", start)
        rows, cols = self.read_int(), self.read_int()
        if rows < 0 or cols < 0:
            raise self.fail(f"a matrix of {rows} x {cols}", start)
        data = self._view("<f4" if token == "FM" else "<f8", rows * cols, f"a {rows} x {cols} matrix")
        return _float32(data).reshape(rows, cols)

    def read_vector(self) -> np.ndarray:
        """A float32 vector (double vectors converted)."""
        if not self.binary:
            return self._text_array(matrix=False)
        start = self.pos
        token = self.read_token()
        if token not in ("FV", "DV"):
            raise self.fail(f"expected a vector (FV or DV), got {_shown(token)}", start)
        dim = self.read_int()
        if dim < 0:
            raise self.fail(f"a vector of dimension {dim}", start)
        return _float32(self._view("<f4" if token == "FV" else "<f8", dim, f"a vector of {dim}"))

    def read_array(self) -> np.ndarray:
        """A matrix (2-D) or a vector (1-D), whichever comes: told apart by the binary token, or in
        text by the newline a matrix has before its first row."""
        if not self.binary:
            return self._text_array(matrix=None)
        if self.data[self.pos : self.pos + 3] in (b"FV ", b"DV "):
            return self.read_vector()
        return self.read_matrix()

    def looks_like_array(self) -> bool:
        """Whether a matrix or a vector starts here (binary: its token; text: a `[`)."""
        if self.binary:
            head = self.data[self.pos : self.pos + 4]
            return head[:3] in BINARY_ARRAYS or head in (b"CM2 ", b"CM3 ")
        if self.at_end():
            return False
        return self._word()[0].startswith("[")

    def _view(self, dtype: str, count: int, what: str) -> np.ndarray:
        itemsize = np.dtype(dtype).itemsize
        nbytes = count * itemsize
        if self.pos + nbytes > self.size:
            raise self.fail(f"truncated: {what} needs {nbytes} bytes, {self.size - self.pos} left")
        array = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += nbytes
        return array

    def _compressed(self, token: str) -> np.ndarray:
        start = self.pos
        header = self.take(16, "a compressed matrix header")
        min_value, value_range = (float(v) for v in np.frombuffer(header[:8], "<f4"))
        rows, cols = (int(v) for v in np.frombuffer(header[8:], "<i4"))
        if rows < 0 or cols < 0:
            raise self.fail(f"a compressed matrix of {rows} x {cols}", start)
        if cols == 0:
            return np.zeros((0, 0), dtype=np.float32)
        if token == "CM":
            headers = self._view("<u2", 4 * cols, "a compressed matrix's column headers").reshape(cols, 4)
            data = self._view("u1", rows * cols, "a compressed matrix's data").reshape(cols, rows)
            return decompress(token, min_value, value_range, data, headers)
        dtype = "<u2" if token == "CM2" else "u1"
        data = self._view(dtype, rows * cols, "a compressed matrix's data").reshape(rows, cols)
        return decompress(token, min_value, value_range, data)

    def _bracketed(self, what: str) -> bytes:
        """Text mode: the bytes between `[` and the matching `]`, both consumed (and one newline after)."""
        start = self.pos
        word, end = self._word()
        if word == "[]":
            self.pos = end
            return b""
        if not word.startswith("["):
            raise self.fail(f"expected {what} starting with [, got {_shown(word)}", start)
        opening = end - len(word)
        closing = self.data.find(b"]", opening)
        if closing < 0:
            raise self.fail(f"truncated: {what} has no closing ]", start)
        inner = bytes(self.data[opening + 1 : closing])
        self.pos = closing + 1
        return inner

    def _text_array(self, matrix: bool | None) -> np.ndarray:
        """A text matrix (rows separated by newlines or ';') or vector; `matrix=None`: whichever it is."""
        start = self.pos
        inner = self._bracketed("a matrix or vector")
        if matrix is None:
            first = inner.lstrip(b" \t")[:1]
            matrix = first in (b"\n", b"\r")
        try:
            if not matrix:
                return _parse_floats(inner.split()).reshape(-1)
            rows = [line.split() for line in inner.replace(b";", b"\n").split(b"\n")]
            rows = [row for row in rows if row]
            if not rows:
                return np.zeros((0, 0), dtype=np.float32)
            cols = len(rows[0])
            if any(len(row) != cols for row in rows):
                raise self.fail("a text matrix with rows of different lengths", start)
            return _parse_floats([w for row in rows for w in row]).reshape(len(rows), cols)
        except ValueError:
            raise self.fail("expected numbers in a text matrix or vector", start) from None


def _parse_floats(words: list[bytes]) -> np.ndarray:
    if not words:
        return np.zeros(0, dtype=np.float32)
    return np.array(words).astype(np.float32)


def _float32(array: np.ndarray) -> np.ndarray:
    return array if array.dtype == np.float32 and array.dtype.byteorder in ("=", "<", "|") else array.astype(np.float32)


def _shown(word: str) -> str:
    return repr(word if len(word) <= 24 else word[:21] + "...")


def map_file(path: str | os.PathLike[str]) -> Buffer:
    """The file's bytes, memory-mapped read-only (an empty file gives empty bytes)."""
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            return b""
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


def open_reader(data: Buffer) -> TokenReader:
    """A reader at the start of a Kaldi object: binary after a "\\0B" header, text otherwise."""
    if len(data) >= 1 and data[0] == 0:
        if len(data) < 2 or data[1] != ord("B"):
            raise KaldiFormatError("starts with a zero byte but not the binary header \\0B", 0)
        return TokenReader(data, binary=True, position=2)
    return TokenReader(data, binary=False, position=0)
