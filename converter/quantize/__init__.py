"""INT8 post-training quantization of an optimized FP32 graph (docs/quantization.md).

    calibration data ─▶ statistics (FP32 graph, onnxruntime) ─▶ ranges (minmax | percentile | entropy)
        ─▶ plans (smoothing, asymmetric or symmetric FakeQuantize) ─▶ bias correction
        ─▶ policy (layers whose measured cost stands out stay float; --max-accuracy-drop)
        ─▶ FakeQuantize on activations, i8 Const → Convert → Multiply weights

`quantize(graph, calibration, options)` returns the INT8 graph and a report of every decision.
The same graph and calibration data always give the same IR, byte for byte.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from converter.errors import InvalidModelError
from converter.ir.graph import Graph
from converter.quantize.calibration import Calibration, ImageCalibration, load_calibration
from converter.quantize.estimators import ESTIMATORS, METHODS
from converter.quantize.placement import Plan, apply, compress_embeddings, fake_quantize_limits, find_embeddings, find_layers

__all__ = [
    "Calibration", "ImageCalibration", "METHODS", "QuantizeOptions", "QuantizeReport", "Validation",
    "load_calibration", "quantize",
]

POLICY_SAMPLES = 8  # calibration samples the default policy measures each layer's cost on


@dataclass
class Validation:
    """Data for --max-accuracy-drop: batches, and how to score an output set (higher is better)."""

    batches: list[Mapping[str, np.ndarray]]
    metric: str  # "accuracy", "top1" or "cosine"
    output: int | None = None  # the classifier output (accuracy, top1)
    labels: np.ndarray | None = None


@dataclass
class QuantizeOptions:
    method: str = "minmax"
    max_drop: float | None = None
    validation: Validation | None = None
    policy: bool = True  # keep float the layers whose isolated cost stands out
    bias_correction: bool = True
    smoothing: bool = True
    policy_samples: int = POLICY_SAMPLES


@dataclass
class QuantizeReport:
    method: str
    samples: int
    layers: int = 0
    quantized: list[str] = field(default_factory=list)
    kept_float: dict[str, str] = field(default_factory=dict)  # layer → why
    costs: dict[str, float] = field(default_factory=dict)  # layer → relative MSE it adds alone
    smoothed: int = 0
    bias_corrected: int = 0
    embeddings: int = 0  # embedding tables stored as int8 rows
    search: object | None = None  # policy.DropSearch with --max-accuracy-drop
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step

    def summary(self) -> str:
        text = (f"INT8: {len(self.quantized)} of {self.layers} layers quantized ({self.method}, {self.samples} calibration samples; "
                f"{self.smoothed} smoothed, {self.bias_corrected} bias-corrected"
                + (f"; {self.embeddings} embedding table{'s' * (self.embeddings != 1)} int8" if self.embeddings else "") + ")")
        if self.kept_float:
            text += "; kept float: " + ", ".join(f"{name} ({why})" for name, why in self.kept_float.items())
        search = self.search
        if search is not None:
            text += f"; accuracy: FP32 {search.fp32:.4f}, all INT8 {search.int8_all:.4f}, final {search.final:.4f}"
        return text


def quantize(graph: Graph, calibration: Calibration, options: QuantizeOptions | None = None) -> tuple[Graph, QuantizeReport]:
    from converter.quantize import bias, policy, smooth, statistics

    options = options or QuantizeOptions()
    if options.method not in ESTIMATORS:
        raise InvalidModelError(f"--calibration-method takes {', '.join(METHODS)}, got {options.method!r}")
    started = time.perf_counter()
    report = QuantizeReport(options.method, calibration.samples)
    layers = find_layers(graph)
    report.layers = len(layers)
    if not layers:
        quantized = graph.copy()
        report.embeddings = len(find_embeddings(quantized))
        compress_embeddings(quantized, find_embeddings(quantized))
        report.seconds = time.perf_counter() - started
        return quantized, report
    nodes = graph.nodes()
    observed = [nodes[layer.activation].outputs[layer.activation_index] for layer in layers]
    matmuls = {i for i, layer in enumerate(layers) if layer.op == "MatMul"} if options.smoothing else set()
    stats = statistics.collect(graph, observed, calibration.batches, options.method != "minmax", matmuls)
    report.phases["statistics"] = time.perf_counter() - started
    by_layer = {layer.position: item for layer, item in zip(layers, stats)}
    weights = {layer.position: nodes[layer.position].inputs[layer.weight_port].const for layer in layers}
    factors = smooth.smoothing_factors(layers, by_layer, weights) if options.smoothing else {}
    plans: dict[int, Plan] = {}
    for layer in layers:
        item = by_layer[layer.position]
        s = factors.get(layer.activation_key)
        low, high = smooth.smoothed_range(item, s) if s is not None else ESTIMATORS[options.method](item)
        limits = fake_quantize_limits(low, high)
        if limits is None:
            report.kept_float[layer.label] = "constant activation"
            continue
        plans[layer.position] = Plan(limits, s)
    candidates = [layer for layer in layers if layer.position in plans]
    report.smoothed = sum(1 for layer in candidates if plans[layer.position].smoothing is not None)
    probe = _first_samples(graph, calibration.batches, options.policy_samples)
    corrections = bias.measure(graph, candidates, plans, calibration.batches) if options.bias_correction else {}
    report.phases["bias correction"] = time.perf_counter() - started - sum(report.phases.values())
    enabled = list(range(len(candidates)))
    if options.policy or corrections or options.max_drop is not None:
        gated = policy.GatedModel(graph, candidates, plans, corrections)
        if corrections and not _corrections_help(gated, enabled, probe, policy):
            corrections = {}
            gated = policy.GatedModel(graph, candidates, plans)
        if options.policy:
            costs = policy.isolated_costs(gated, probe)
            report.costs = {layer.label: cost for layer, cost in zip(candidates, costs)}
            for index in policy.keep_critical(costs):
                report.kept_float[candidates[index].label] = f"alone it moves the outputs by {np.sqrt(costs[index]):.1%}"
                enabled.remove(index)
        if options.max_drop is not None:
            if options.validation is None:
                raise InvalidModelError("--max-accuracy-drop needs validation data (--data VAL.npz)")
            enabled, report.search = policy.within_drop(gated, enabled, options.validation.batches, _metric(options.validation), options.max_drop)
            for label, score in report.search.reverted:
                report.kept_float[label] = f"reverted for accuracy ({score:.4f} without it)"
    report.phases["policy"] = time.perf_counter() - started - sum(report.phases.values())
    chosen = [candidates[i] for i in enabled]
    report.quantized = [layer.label for layer in chosen]
    report.bias_corrected = sum(1 for layer in chosen if layer.position in corrections)
    quantized = apply(graph, chosen, plans, corrections)
    embeddings = find_embeddings(quantized)
    compress_embeddings(quantized, embeddings)
    report.embeddings = len(embeddings)
    report.seconds = time.perf_counter() - started
    return quantized, report


def _first_samples(graph: Graph, batches: Sequence[Mapping[str, np.ndarray]], samples: int) -> list[Mapping[str, np.ndarray]]:
    """The leading batches holding `samples` samples; the last one is cut when every input's batch
    dim is dynamic (a batch fixed by the model stays whole)."""
    dynamic = all(v.shape.dims and v.shape.dims[0] is None for v in graph.inputs)
    taken: list[Mapping[str, np.ndarray]] = []
    total = 0
    for batch in batches:
        if total >= samples:
            break
        count = len(next(iter(batch.values())))
        if dynamic and total + count > samples:
            batch = {name: array[: samples - total] for name, array in batch.items()}
        taken.append(batch)
        total += count
    return taken or list(batches[:1])


def _corrections_help(gated, enabled: list[int], probe, policy) -> bool:
    """Bias correction assumes the error is the same on every sample; where it is not (a
    transformer's outlier tokens) it can hurt: keep it only if the whole model gets closer to FP32."""
    reference = gated.run((), probe)
    with_corrections = policy.relative_error(reference, gated.run(enabled, probe))
    plain = policy.GatedModel(gated.source, gated.layers, gated.plans)
    return with_corrections <= policy.relative_error(reference, plain.run(enabled, probe))


def _metric(validation: Validation):
    from converter.quantize import policy

    if validation.metric == "accuracy" and validation.output is not None and validation.labels is not None:
        return policy.accuracy_metric(validation.output, validation.labels)
    if validation.metric == "top1" and validation.output is not None:
        return policy.top1_metric(validation.output)
    return policy.cosine_metric
