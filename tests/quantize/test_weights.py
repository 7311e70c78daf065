"""Per-output-channel symmetric int8 weights and the i8 Const → Convert → Multiply pattern."""

from __future__ import annotations

import numpy as np
import pytest

from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.conv import Convolution
from converter.ops.core import const, parameter
from converter.quantize.weights import LIMIT, dequantize, quantize_per_channel, quantized_weight
from converter.runtime import execute


def test_round_trip_error_is_at_most_half_a_step_per_channel() -> None:
    weight = np.random.default_rng(0).standard_normal((8, 3, 3, 3)).astype(np.float32) * np.arange(1, 9, dtype=np.float32)[:, None, None, None]
    values, scale = quantize_per_channel(weight, (0,))
    assert values.dtype == np.int8 and scale.shape == (8, 1, 1, 1)
    assert np.abs(values).max() == LIMIT  # each channel's peak lands on ±127
    assert np.all(np.abs(values) <= LIMIT)
    error = np.abs(dequantize(values, scale) - weight)
    assert np.all(error <= scale / 2 + 1e-7)


def test_matmul_weights_keep_one_scale_per_output_column_or_row() -> None:
    weight = np.random.default_rng(1).standard_normal((16, 4)).astype(np.float32)
    _, by_column = quantize_per_channel(weight, (1,))
    _, by_row = quantize_per_channel(weight, (0,))
    assert by_column.shape == (1, 4) and by_row.shape == (16, 1)
    np.testing.assert_allclose(by_column[0], np.abs(weight).max(axis=0) / LIMIT, rtol=1e-6)


def test_an_all_zero_channel_stays_exactly_zero() -> None:
    weight = np.zeros((2, 5), np.float32)
    weight[1] = [0.5, -1, 2, 0, 1]
    values, scale = quantize_per_channel(weight, (0,))
    assert np.all(values[0] == 0) and np.all(np.isfinite(scale))
    np.testing.assert_array_equal(dequantize(values, scale)[0], 0)


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_the_pattern_runs_as_its_dequantized_weight(backend: str) -> None:
    weight = np.random.default_rng(2).standard_normal((4, 3, 3, 3)).astype(np.float32)
    x = parameter("x", ElementType.f32, Shape((1, 3, 8, 8)))
    pattern = quantized_weight(weight, (0,), "conv")
    assert pattern.producer.op.type == "Multiply"
    convert = pattern.producer.inputs[0].producer
    assert convert.op.type == "Convert" and convert.inputs[0].const.dtype == np.int8
    conv = Convolution(x.outputs[0], pattern, strides=(1, 1), pads_begin=(0, 0), pads_end=(0, 0), dilations=(1, 1))
    feed = np.random.default_rng(3).standard_normal((1, 3, 8, 8)).astype(np.float32)
    actual = execute(Graph([x], [conv]), [feed], backend)[0]
    x2 = parameter("x", ElementType.f32, Shape((1, 3, 8, 8)))
    dequantized = const(dequantize(*quantize_per_channel(weight, (0,))))
    reference = Convolution(x2.outputs[0], dequantized, strides=(1, 1), pads_begin=(0, 0), pads_end=(0, 0), dilations=(1, 1))
    np.testing.assert_allclose(actual, execute(Graph([x2], [reference]), [feed])[0], rtol=1e-5, atol=1e-5)
