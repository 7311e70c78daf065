"""Which ops get FakeQuantize, with which ranges, and what the quantized graph looks like."""

from __future__ import annotations

import numpy as np
import pytest

from converter.quantize.placement import Plan, apply, fake_quantize_limits, find_layers
from converter.runtime import execute
from helpers import attention_block, conv_net, ir


def test_conv_and_matmul_layers_with_constant_weights_are_found() -> None:
    layers = find_layers(ir(conv_net()))
    assert [layer.op for layer in layers] == ["Convolution", "Convolution", "MatMul"]
    assert layers[0].channel_axes == (0,)
    assert layers[2].channel_axes == (0,) and layers[2].input_axis == 1  # Gemm transB: weight [out, in]


def test_attention_matmuls_between_activations_stay_float() -> None:
    graph = ir(attention_block())
    layers = find_layers(graph)
    assert len(layers) == 4  # Q, K, V and the output projection; QKᵀ and (·)V are not layers
    assert len({layer.activation_key for layer in layers[:3]}) == 1  # Q, K, V read the same input


def test_limits_unsigned_symmetric_and_asymmetric() -> None:
    assert fake_quantize_limits(0.0, 6.0) == (0.0, 6.0)
    low, high = fake_quantize_limits(-3.0, 2.0)
    step = (high - low) / 255
    assert low == pytest.approx(-128 * step) and high == pytest.approx(127 * step) and -low >= 3.0
    low, high = fake_quantize_limits(-0.17, 10.0)  # GELU-like: unsigned with a zero point
    step = (high - low) / 255
    assert low < 0 and -low / step == pytest.approx(round(-low / step), abs=1e-3)  # zero on the grid
    assert fake_quantize_limits(0.0, 0.0) is None
    assert fake_quantize_limits(-np.inf, 1.0) is None


def test_apply_quantizes_inputs_and_weights_and_shares_one_fake_quantize() -> None:
    graph = ir(attention_block())
    layers = find_layers(graph)
    plans = {layer.position: Plan((-4.0, 4.0)) for layer in layers}
    quantized = apply(graph, layers, plans)
    fqs = [node for node in quantized.nodes() if node.op.type == "FakeQuantize"]
    assert len(fqs) == 2  # Q/K/V share one; the output projection has its own
    int8 = [node for node in quantized.nodes() if node.op.type == "Const" and node.attrs["value"].dtype == np.int8]
    assert len(int8) == 4
    feed = np.random.default_rng(0).standard_normal((2, 5, 16)).astype(np.float32)
    expected, actual = execute(graph, [feed])[0], execute(quantized, [feed])[0]
    assert np.abs(actual - expected).max() < 0.05 * np.abs(expected).max()
    assert graph.op_histogram().get("FakeQuantize", 0) == 0  # the source graph is untouched


def test_apply_with_no_layers_copies_the_graph() -> None:
    graph = ir(conv_net())
    assert apply(graph, [], {}).op_histogram() == graph.op_histogram()
