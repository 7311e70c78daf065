"""contiguous_transpose against numpy's own transpose: every permutation of assorted shapes (axes of
size 1, merged runs, the tiled 2-D path above its size threshold), dtypes and non-contiguous views."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from converter.ir.arrays import TILED_ELEMENTS, contiguous_transpose

SHAPES = [(), (5,), (1, 1), (3, 1, 4), (2, 3, 4, 5), (1, 1, 7, 9), (3, 3, 1, 6), (0, 4, 2)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_every_permutation_matches_numpy(shape: tuple[int, ...]) -> None:
    array = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    for perm in itertools.permutations(range(len(shape))):
        result = contiguous_transpose(array, perm)
        expected = array.transpose(perm).copy(order="C")
        assert result.flags.c_contiguous and result.shape == expected.shape
        assert np.array_equal(result, expected), perm


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8, np.float64, np.int64])
@pytest.mark.parametrize(
    ("shape", "perm"),
    [
        ((3, 3, 130, 257), (3, 2, 0, 1)),  # a 3×3 HWIO filter → OIHW, tiled, ragged tiles
        ((1, 1, 300, 520), (3, 2, 0, 1)),  # a 1×1 filter: a plain matrix transpose once size-1 axes go
        ((700, 100), (1, 0)),
        ((4, 90, 200), (2, 1, 0)),
        ((20, 30, 40, 5), (0, 3, 1, 2)),
    ],
    ids=str,
)
def test_large_transposes_match_numpy(shape: tuple[int, ...], perm: tuple[int, ...], dtype: type) -> None:
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    assert array.size >= TILED_ELEMENTS or len(shape) == 4
    expected = array.transpose(perm).copy(order="C")
    result = contiguous_transpose(array, perm)
    assert result.dtype == array.dtype and result.flags.c_contiguous
    assert np.array_equal(result, expected)


def test_views_are_transposed_as_their_values() -> None:
    base = np.arange(2 * 3 * 300 * 400, dtype=np.float32).reshape(2, 3, 300, 400)
    for view in (base[:, :, ::2, 1:], base.transpose(0, 1, 3, 2), base[1:, :, :, ::-1]):
        for perm in ((3, 2, 0, 1), (0, 1, 3, 2), (2, 3, 1, 0)):
            assert np.array_equal(contiguous_transpose(view, perm), view.transpose(perm).copy(order="C"))
