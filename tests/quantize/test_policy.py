"""The measured decisions: gated evaluation, isolated costs, the budget policy, bias correction, smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from converter.quantize import bias, policy
from converter.quantize.placement import Plan, apply, fake_quantize_limits, find_layers
from converter.quantize.smooth import smoothed_range, smoothing_factors
from converter.quantize.statistics import TensorStats, collect
from converter.runtime import execute
from helpers import attention_block, conv_net, ir


def plans_for(graph, layers, batches):
    nodes = graph.nodes()
    stats = collect(graph, [nodes[l.activation].outputs[l.activation_index] for l in layers], batches, histograms=False)
    return {l.position: Plan(fake_quantize_limits(s.low, s.high)) for l, s in zip(layers, stats)}


@pytest.fixture(scope="module")
def conv():
    graph = ir(conv_net())
    feed = np.random.default_rng(0).standard_normal((16, 3, 8, 8)).astype(np.float32)
    batches = [{"x": feed[:8]}, {"x": feed[8:]}]
    layers = find_layers(graph)
    return graph, layers, plans_for(graph, layers, batches), batches


def test_the_gated_model_matches_the_quantized_graph(conv) -> None:
    graph, layers, plans, batches = conv
    gated = policy.GatedModel(graph, layers, plans)
    np.testing.assert_allclose(gated.run((), batches)[0][0], execute(graph, batches[0])[0], rtol=1e-5, atol=1e-6)
    quantized = execute(apply(graph, layers, plans), batches[0])[0]
    np.testing.assert_allclose(gated.run(range(len(layers)), batches)[0][0], quantized, rtol=1e-4, atol=1e-5)
    only_first = execute(apply(graph, layers[:1], plans), batches[0])[0]
    np.testing.assert_allclose(gated.run((0,), batches)[0][0], only_first, rtol=1e-4, atol=1e-5)


def test_isolated_costs_are_relative_errors(conv) -> None:
    graph, layers, plans, batches = conv
    costs = policy.isolated_costs(policy.GatedModel(graph, layers, plans), batches)
    assert len(costs) == 3 and all(0 < c < 0.01 for c in costs)


def test_the_budget_keeps_the_costliest_float_until_the_rest_fit() -> None:
    assert policy.keep_critical([1e-4, 1e-4, 1e-4]) == []
    assert policy.keep_critical([1e-4, 9e-3, 1e-3, 3e-3], budget=5e-3) == [1]
    assert policy.keep_critical([1e-4, 9e-3, 1e-3, 3e-3], budget=3e-3) == [1, 3]
    assert policy.keep_critical([]) == []


def test_within_drop_reverts_until_the_metric_is_close_enough(conv) -> None:
    graph, layers, plans, batches = conv
    gated = policy.GatedModel(graph, layers, plans)
    enabled, search = policy.within_drop(gated, [0, 1, 2], batches, policy.cosine_metric, 0.0)
    assert search.fp32 == pytest.approx(1.0) and search.fp32 - search.final <= 1e-12 and enabled == []
    enabled, search = policy.within_drop(gated, [0, 1, 2], batches, policy.cosine_metric, 0.5)
    assert enabled == [0, 1, 2] and not search.reverted


def test_bias_correction_removes_the_mean_shift(conv) -> None:
    graph, layers, plans, batches = conv
    coarse = {position: Plan((0.0, plan.limits[1] * 4)) if plan.limits[0] == 0 else Plan(plan.limits) for position, plan in plans.items()}
    corrections = bias.measure(graph, layers, coarse, batches)
    assert set(corrections) == {layer.position for layer in layers}  # each has a bias Add
    reference = np.concatenate([execute(graph, b)[0] for b in batches])
    plain = np.concatenate([execute(apply(graph, layers, coarse), b)[0] for b in batches])
    corrected = np.concatenate([execute(apply(graph, layers, coarse, corrections), b)[0] for b in batches])
    assert np.abs((corrected - reference).mean(axis=0)).max() < np.abs((plain - reference).mean(axis=0)).max()


def test_smoothing_evens_out_an_outlier_channel() -> None:
    graph = ir(attention_block())
    layers = find_layers(graph)
    peak = np.ones(16, np.float32)
    peak[3] = 50.0
    even = np.ones(16, np.float32)
    stats = {l.position: TensorStats(-50.0, 50.0, channel_low=-peak, channel_high=peak) for l in layers[:3]}
    stats[layers[3].position] = TensorStats(-1.0, 1.0, channel_low=-even, channel_high=even)
    weights = {l.position: graph.nodes()[l.position].inputs[1].const for l in layers}
    factors = smoothing_factors(layers, stats, weights)
    assert set(factors) == {layers[0].activation_key}  # the Q/K/V input; the output projection's is even
    s = factors[layers[0].activation_key]
    assert s[3] > 5 * np.median(s)  # the outlier channel is divided most
    limits = fake_quantize_limits(*smoothed_range(stats[layers[0].position], s))
    smoothed = {l.position: Plan(limits, s) for l in layers[:3]} | {layers[3].position: Plan((-50.0, 50.0))}
    feed = np.clip(np.random.default_rng(0).standard_normal((2, 4, 16)), -1, 1).astype(np.float32) * peak
    fp32 = execute(graph, [feed])[0]
    error_smoothed = np.abs(execute(apply(graph, layers, smoothed), [feed])[0] - fp32).max()
    error_plain = np.abs(execute(apply(graph, layers, {l.position: Plan((-50.0, 50.0)) for l in layers}), [feed])[0] - fp32).max()
    assert error_smoothed < error_plain
