"""Kaldi's token format: basic types, matrices, vectors, integer vectors and compressed matrices,
binary and text, and every truncation a clear error."""

from __future__ import annotations

import numpy as np
import pytest

from converter.frontends.kaldi.compressed import decompress
from converter.frontends.kaldi.tokens import KaldiFormatError, open_reader
from kaldi_writer import Writer
from kaldi_reference import decompress_reference

RNG = np.random.default_rng(7)


def reader_of(w: Writer):
    return open_reader(w.bytes())


@pytest.mark.parametrize("binary", [True, False])
def test_basic_types_and_tokens(binary: bool) -> None:
    w = Writer(binary).token("<Dim>").int(-40).token("<Scale>").float(0.125).double(2.5).bool(True).bool(False).token("</End>")
    r = reader_of(w)
    assert r.binary is binary
    assert r.peek_token() == "<Dim>"
    r.expect("<Dim>")
    assert r.read_int() == -40
    assert r.read_token() == "<Scale>"
    assert r.read_float() == 0.125
    assert r.read_float() == 2.5  # a double read where a float is expected, as Kaldi allows
    assert r.read_bool() is True and r.read_bool() is False
    r.expect("</End>")
    assert r.at_end()


@pytest.mark.parametrize("binary", [True, False])
def test_matrices_vectors_and_integer_vectors(binary: bool) -> None:
    m, v = RNG.standard_normal((3, 5)).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
    w = Writer(binary).matrix(m).vector(v).int_vector([-3, 0, 7]).matrix(np.zeros((0, 0))).vector(np.zeros(0))
    r = reader_of(w)
    tol = 0 if binary else 1e-6  # text keeps 7 significant digits, as Kaldi writes
    np.testing.assert_allclose(r.read_matrix(), m, rtol=tol)
    np.testing.assert_allclose(r.read_vector(), v, rtol=tol)
    assert r.read_int_vector().tolist() == [-3, 0, 7]
    assert r.read_matrix().size == 0 and r.read_vector().size == 0
    assert r.at_end()


@pytest.mark.parametrize("binary", [True, False])
def test_read_array_tells_matrices_from_vectors(binary: bool) -> None:
    r = reader_of(Writer(binary).matrix(np.ones((1, 3))).vector(np.ones(3)))
    assert r.read_array().shape == (1, 3)
    assert r.read_array().shape == (3,)


def test_double_matrices_are_read_as_float32() -> None:
    m = RNG.standard_normal((2, 3))
    r = reader_of(Writer(True).matrix(m, double=True).vector(m[0], double=True))
    matrix, vector = r.read_matrix(), r.read_vector()
    assert matrix.dtype == np.float32 and vector.dtype == np.float32
    np.testing.assert_array_equal(matrix, m.astype(np.float32))


def test_binary_arrays_are_views_of_the_file() -> None:
    data = Writer(True).matrix(np.ones((4, 4))).bytes()
    matrix = open_reader(data).read_matrix()
    assert not matrix.flags.owndata and not matrix.flags.writeable


def test_text_matrices_with_infinities_and_semicolons() -> None:
    r = open_reader(b" [ 1 -inf ; nan 2 ]\n [\n  1 2\n  3 4 ]\n")
    first = r.read_matrix()
    assert np.isneginf(first[0, 1]) and np.isnan(first[1, 0])
    np.testing.assert_array_equal(r.read_matrix(), [[1, 2], [3, 4]])


@pytest.mark.parametrize("token", ["CM", "CM2", "CM3"])
def test_compressed_matrices_decompress_as_kaldi_does(token: str) -> None:
    rows, cols = 6, 5
    original = RNG.uniform(-3, 2, (rows, cols)).astype(np.float32)
    low, span = float(original.min()), float(original.max() - original.min())
    if token == "CM":
        # Column percentiles on the global uint16 grid, bytes placed piecewise within them.
        headers = np.sort(RNG.integers(0, 65536, (cols, 4)), axis=1).astype(np.uint16)
        data = RNG.integers(0, 256, (cols, rows)).astype(np.uint8)
        data[:, :4] = [0, 64, 192, 255]  # each piece's ends
    else:
        levels = 65535 if token == "CM2" else 255
        data = np.round((original - low) / span * levels).astype(np.uint16 if token == "CM2" else np.uint8)
        headers = None
    r = reader_of(Writer(True).compressed(token, low, span, data, headers).matrix(np.ones((1, 1))))
    matrix = r.read_matrix()
    assert matrix.shape == (rows, cols) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix, decompress_reference(token, low, span, data, headers))
    if token != "CM":
        np.testing.assert_allclose(matrix, original, atol=span / (65535 if token == "CM2" else 255))
    assert r.read_matrix().shape == (1, 1)  # the reader is past the compressed data


def test_compressed_cm_percentile_pieces() -> None:
    """Byte 0 is p0, 64 is p25, 192 is p75 and 255 is p100 of its column."""
    headers = np.array([[0, 16384, 49152, 65535]], np.uint16)
    data = np.array([[0, 64, 192, 255, 128]], np.uint8)
    values = decompress("CM", -1.0, 2.0, data, headers)[:, 0]
    grid = -1.0 + 2.0 * np.array([0, 16384, 49152, 65535]) / 65535
    np.testing.assert_allclose(values[:4], grid, atol=1e-6)
    np.testing.assert_allclose(values[4], (grid[1] + grid[2]) / 2, atol=1e-6)


def test_empty_compressed_matrix() -> None:
    assert reader_of(Writer(True).compressed("CM2", 0.0, 0.0, np.zeros((3, 0)), None)).read_matrix().shape == (0, 0)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\0", "binary header"),
        (b"\0X<Nnet3>", "binary header"),
        (b"\0BFM \x04\x02\x00\x00\x00\x04\x03\x00\x00\x00" + b"\0" * 8, "truncated: a 2 x 3 matrix"),
        (b"\0BFM \x04\x02\x00", "truncated"),
        (b"\0BFM \x02\x02\x00\x00\x00", "size byte"),
        (b"\0BFV \x04\xff\xff\xff\xff", "dimension -1"),
        (b"\0BCM2 " + b"\0" * 8, "truncated: a compressed matrix header"),
        (b" [ 1 2 3 \n", "no closing ]"),
        (b" [ 1 x 3 ]", "expected numbers"),
        (b" [\n 1 2\n 3 ]", "rows of different lengths"),
        (b"", "end of the file"),
    ],
)
def test_truncated_and_garbage_arrays_are_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(KaldiFormatError, match=message) as caught:
        open_reader(data).read_array()
    assert "at byte" in str(caught.value)


def test_integer_vectors_of_another_type_are_refused() -> None:
    with pytest.raises(KaldiFormatError, match="element size 4"):
        open_reader(b"\0B\x08\x01\x00\x00\x00" + b"\0" * 8).read_int_vector()
