"""converter.ir.half: the integer-arithmetic f32 → f16 cast gives numpy's bits on every rounding
boundary (each f16 value, the halfway points between neighbours and one f32 step either side,
subnormals, overflow to infinity, ±0, ±inf, NaN), and FP16 compression keeps numpy's values."""

from __future__ import annotations

import numpy as np
import pytest

from converter.ir.graph import Graph
from converter.ir.half import BLOCK, FAST_FROM, half_in_range, to_half
from converter.ir.types import ElementType, Shape
from converter.ops.core import const, parameter
from converter.ops.elementwise import Add
from converter.passes.compress_fp16 import F16_MAX, compress_fp16


def _numpy_bits(values: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return values.astype(np.float16).view(np.uint16)


def _boundaries() -> np.ndarray:
    """Every f16 value (as f32), every midpoint between neighbouring f16 values and the f32 values
    one step below and above each midpoint, with both signs."""
    halves = np.arange(0x7C00, dtype=np.uint16).view(np.float16).astype(np.float32)  # 0 … 65504
    upper = np.append(halves[1:], np.float32(65536.0))  # the step above 65504 is infinity's rounding edge
    midpoints = ((halves.astype(np.float64) + upper) / 2).astype(np.float32)  # exact in f32
    down = np.nextafter(midpoints, np.float32(0))
    up = np.nextafter(midpoints, np.float32(np.inf))
    positive = np.concatenate([halves, midpoints, down, up, np.float32([65519.996, 65520.0, 1e5, 3.4e38, np.inf])])
    tiny = np.float32([1e-45, 2.9e-8, 2.98e-8, 5.96e-8, 1e-8, 6.1e-5, 6.103515625e-05])
    values = np.concatenate([positive, tiny, -positive, -tiny])
    assert values.size > 2 * FAST_FROM
    return values


def test_every_rounding_boundary_matches_numpy() -> None:
    values = _boundaries()
    expected = _numpy_bits(values)
    np.testing.assert_array_equal(to_half(values).view(np.uint16), expected)
    rng = np.random.default_rng(0)
    shuffled = values[rng.permutation(values.size)]  # boundaries spread over blocks in any order
    np.testing.assert_array_equal(to_half(shuffled).view(np.uint16), _numpy_bits(shuffled))


def test_random_bit_patterns_match_numpy_nan_blocks_included() -> None:
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 1 << 32, size=3 * BLOCK + 17, dtype=np.uint64).astype(np.uint32)
    values = bits.view(np.float32)
    assert np.isnan(values).any()
    np.testing.assert_array_equal(to_half(values).view(np.uint16), _numpy_bits(values))
    payload = np.full(FAST_FROM * 2, 1.5, dtype=np.float32)
    payload.view(np.uint32)[7] = 0xFFC12345  # a negative NaN with a payload: numpy's bits for it
    np.testing.assert_array_equal(to_half(payload).view(np.uint16), _numpy_bits(payload))


def test_shapes_and_small_arrays() -> None:
    values = np.random.default_rng(2).standard_normal((3, 5, 7)).astype(np.float32)  # below FAST_FROM
    assert to_half(values).shape == (3, 5, 7)
    np.testing.assert_array_equal(to_half(values), values.astype(np.float16))
    large = np.random.default_rng(3).standard_normal((64, 3, 5, 5)).astype(np.float32)[:, :, ::2]  # not contiguous
    np.testing.assert_array_equal(to_half(large), large.astype(np.float16))
    assert to_half(np.zeros((0, 4), np.float32)).shape == (0, 4)


@pytest.mark.parametrize("size", [FAST_FROM - 1, FAST_FROM, BLOCK + 3])
def test_half_in_range_stops_at_the_first_value_f16_cannot_hold(size: int) -> None:
    values = np.random.default_rng(4).uniform(-F16_MAX, F16_MAX, size).astype(np.float32)
    values[0] = F16_MAX
    result = half_in_range(values)
    assert result is not None
    np.testing.assert_array_equal(result.view(np.uint16), _numpy_bits(values))
    for bad in (np.nextafter(np.float32(F16_MAX), np.float32(np.inf)), np.inf, -np.inf, np.nan):
        broken = values.copy()
        broken[-1] = bad
        assert half_in_range(broken) is None
    out = np.empty(size, np.float16)
    assert half_in_range(values, out=out) is out
    np.testing.assert_array_equal(out, values.astype(np.float16))


def test_compression_stores_numpys_f16_values() -> None:
    rng = np.random.default_rng(5)
    in_range = (rng.standard_normal(40_000) * np.float32(10.0) ** rng.integers(-9, 4, 40_000)).astype(np.float32)
    clamped = in_range.copy()
    clamped[::97] = 1e6  # 1% out of range: clamped to ±65504, then cast
    clamped[5] = np.nan
    x = parameter("x", ElementType.f32, Shape.of(40_000))
    graph = Graph([x], [Add(Add(x.outputs[0], const(in_range, name="a")), const(clamped, name="b"))])
    compressed = compress_fp16(graph)
    first = compressed.outputs[0].producer
    stored_a = first.inputs[0].producer.inputs[1].producer.inputs[0].const
    stored_b = first.inputs[1].producer.inputs[0].const
    np.testing.assert_array_equal(stored_a.view(np.uint16), _numpy_bits(in_range))
    np.testing.assert_array_equal(stored_b.view(np.uint16), _numpy_bits(np.clip(clamped, -F16_MAX, F16_MAX)))
