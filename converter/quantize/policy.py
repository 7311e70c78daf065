"""Which layers stay float, decided by measurement.

`GatedModel` compiles the FP32 graph once with every candidate layer's quantization behind a
boolean gate (an extra input), so any subset of layers can be evaluated in one onnxruntime run
without rebuilding the graph. On top of it:

- `isolated_costs`: each layer quantized alone, its output error relative to FP32 (the noise
  that layer adds);
- `keep_critical`: the default policy — layers whose isolated cost is far above the others'
  (more than OUTLIER × the median) stay float: in a CNN the first layer or a thin bottleneck, in a
  transformer the MatMuls reading LayerNorm or GELU outliers. No model type is asked for;
- `within_drop`: for `--max-accuracy-drop D` — measure the whole model, then each layer's share
  (the metric with only that layer reverted), and revert the worst until the drop is within D.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.core import const, parameter
from converter.ops.activation import Clamp
from converter.ops.elementwise import Multiply, Round, Select
from converter.ops.indexing import Gather
from converter.quantize.placement import LEVELS, Layer, Plan, layer_weight
from converter.quantize.weights import dequantize, quantize_per_channel

GATES = "irforge_quantization_gates"
# The default policy's budget: the outputs' relative mean squared error the quantized layers may
# add together, 0.5% (7% RMS; a cosine similarity to FP32 of about 0.9975).
BUDGET = 5e-3

Outputs = list[list[np.ndarray]]  # per batch, per output
Metric = Callable[[Outputs, Outputs], float]  # (FP32 outputs, candidate outputs) → score, higher is better


class GatedModel:
    def __init__(
        self,
        graph: Graph,
        layers: Sequence[Layer],
        plans: Mapping[int, Plan],
        corrections: Mapping[int, np.ndarray] | None = None,
        threads: int = 2,  # onnxruntime's kernels give the same results on any count
    ):
        from converter.quantize.bias import bias_node, channel_axis, corrected_bias
        from converter.runtime.onnxruntime_backend import OnnxRuntimeExecutable

        self.layers = list(layers)
        gated = graph.copy()
        nodes = gated.nodes()
        gates = parameter(GATES, ElementType.boolean, Shape((len(self.layers),)))
        axis = const(np.array(0, np.int64))
        for index, layer in enumerate(self.layers):
            node = nodes[layer.position]
            plan = plans[layer.position]
            gate = Gather(gates.outputs[0], const(np.array(index, np.int64)), axis)
            x = node.inputs[0]
            weight = node.inputs[layer.weight_port].const
            quantized = dequantize(*quantize_per_channel(layer_weight(layer, weight, plan), layer.channel_axes))
            inputs = list(node.inputs)
            inputs[0] = Select(gate, _grid(x, plan), x)
            inputs[layer.weight_port] = Select(gate, const(quantized), const(weight))
            node.inputs = inputs
            shift = (corrections or {}).get(layer.position)
            found = bias_node(gated, node) if shift is not None else None
            if found is not None:
                add, port = found
                rank = node.outputs[0].shape.rank or 0
                original = add.inputs[port].const
                bias = corrected_bias(original, shift, rank - channel_axis(layer, rank))
                if bias is not None:
                    add_inputs = list(add.inputs)
                    add_inputs[port] = Select(gate, const(bias), const(np.broadcast_to(original, bias.shape).copy()))
                    add.inputs = add_inputs
        self.graph = Graph([*gated.parameters, gates], gated.outputs, gated.name)
        self.executable = OnnxRuntimeExecutable(self.graph, threads=threads)
        self.source = graph
        self.plans = dict(plans)

    def run(self, enabled: Collection[int], batches: Sequence[Mapping[str, np.ndarray]]) -> Outputs:
        """Outputs per batch with the layers at indices `enabled` (into self.layers) quantized."""
        from converter.validate.runners import ordered_feeds

        gates = np.zeros(len(self.layers), dtype=bool)
        gates[list(enabled)] = True
        results = []
        for batch in batches:
            feeds = ordered_feeds(self.source, batch)
            results.append([np.asarray(x) for x in self.executable([*feeds, gates])])
        return results


def _grid(x, plan: Plan):
    """FakeQuantize with equal input and output limits in 4 ops instead of its lowering's 14:
    round(x / step) clamped to the levels, times step (the same grid; only the last bit of the
    division may differ). Evaluation only: the IR gets the real FakeQuantize."""
    low, high = plan.limits
    step = (high - low) / (LEVELS - 1)
    scale = np.float32(1.0 / step) / (plan.smoothing if plan.smoothing is not None else np.float32(1.0))
    levels = Round(Multiply(x, const(np.asarray(scale, np.float32))))
    clamped = Clamp(levels, min=float(round(low / step)), max=float(round(high / step)))
    return Multiply(clamped, const(np.array(step, np.float32)))


def relative_error(reference: Outputs, outputs: Outputs) -> float:
    """Σ‖y − y_fp32‖² / Σ‖y_fp32‖² over the float outputs of every batch (0: identical)."""
    noise = signal = 0.0
    for expected_batch, actual_batch in zip(reference, outputs):
        for expected, actual in zip(expected_batch, actual_batch):
            if expected.dtype.kind != "f":
                continue
            e = expected.astype(np.float64)
            noise += float(np.sum((actual.astype(np.float64) - e) ** 2))
            signal += float(np.sum(e**2))
    return noise / signal if signal else 0.0


def isolated_costs(model: GatedModel, batches: Sequence[Mapping[str, np.ndarray]]) -> list[float]:
    reference = model.run((), batches)
    return [relative_error(reference, model.run((index,), batches)) for index in range(len(model.layers))]


def keep_critical(costs: Sequence[float], budget: float = BUDGET) -> list[int]:
    """Indices of the layers to keep float: the costliest first, until the sum of the others'
    isolated costs (the output error they add, as independent noise adds) is within `budget`."""
    order = sorted(range(len(costs)), key=lambda i: (-costs[i], i))
    total = float(sum(costs))
    kept = []
    for index in order:
        if total <= budget:
            break
        kept.append(index)
        total -= costs[index]
    return kept


@dataclass
class DropSearch:
    """What the accuracy-driven step did: the metric before and after, each reverted layer's gain."""

    fp32: float
    int8_all: float
    final: float
    reverted: list[tuple[str, float]] = field(default_factory=list)  # (layer, metric with it reverted)


def within_drop(
    model: GatedModel,
    enabled: Sequence[int],
    batches: Sequence[Mapping[str, np.ndarray]],
    metric: Metric,
    max_drop: float,
) -> tuple[list[int], DropSearch]:
    """Revert layers, the worst first (measured one by one), until FP32's score − INT8's ≤ max_drop."""
    reference = model.run((), batches)
    fp32 = metric(reference, reference)
    current = list(enabled)
    score = metric(reference, model.run(current, batches))
    search = DropSearch(fp32, score, score)
    if fp32 - score <= max_drop or not current:
        return current, search
    gains = {index: metric(reference, model.run([i for i in current if i != index], batches)) for index in current}
    for index in sorted(current, key=lambda i: (-gains[i], i)):
        current.remove(index)
        score = metric(reference, model.run(current, batches))
        search.reverted.append((model.layers[index].label, score))
        if fp32 - score <= max_drop:
            break
    search.final = score
    return current, search


def cosine_metric(reference: Outputs, outputs: Outputs) -> float:
    """The mean per-sample cosine similarity to FP32, of the worst float output."""
    worst = math.inf
    for position in range(len(reference[0]) if reference else 0):
        expected = [batch[position] for batch in reference]
        if expected[0].dtype.kind != "f":
            continue
        cosines = []
        for e, a in zip(expected, (batch[position] for batch in outputs)):
            e2 = e.reshape(len(e), -1).astype(np.float64) if e.ndim > 1 else e.reshape(1, -1).astype(np.float64)
            a2 = a.reshape(e2.shape).astype(np.float64)
            norms = np.linalg.norm(e2, axis=1) * np.linalg.norm(a2, axis=1)
            cosines.extend(np.where(norms > 0, np.sum(e2 * a2, axis=1) / np.where(norms > 0, norms, 1), 1.0))
        worst = min(worst, float(np.mean(cosines)))
    return 1.0 if worst == math.inf else worst


def top1_metric(output: int) -> Metric:
    def agreement(reference: Outputs, outputs: Outputs) -> float:
        e = np.concatenate([batch[output].reshape(len(batch[output]), -1) for batch in reference])
        a = np.concatenate([batch[output].reshape(len(batch[output]), -1) for batch in outputs])
        return float(np.mean(e.argmax(axis=1) == a.argmax(axis=1)))

    return agreement


def accuracy_metric(output: int, labels: np.ndarray) -> Metric:
    def accuracy(_reference: Outputs, outputs: Outputs) -> float:
        predicted = np.concatenate([batch[output].reshape(len(batch[output]), -1).argmax(axis=1) for batch in outputs])
        return float(np.mean(predicted == labels[: len(predicted)]))

    return accuracy
