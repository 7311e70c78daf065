"""Where FakeQuantize goes: the layers whose int8 kernels OpenVINO's CPU plugin runs.

A layer is a Convolution, GroupConvolution or MatMul with an f32 constant weight. Its weight
becomes per-output-channel int8 (weights.py) and its activation input gets a per-tensor
FakeQuantize (levels 256), with the ranges OpenVINO's low-precision transformations turn into
u8 or i8 kernels:

- non-negative ranges (after ReLU, ReLU6, Sigmoid…) are unsigned, [0, high];
- ranges whose negative part is small next to the positive one (GELU, Swish) are asymmetric:
  unsigned with a zero point, the low end nudged so that zero is exactly on the grid;
- others are signed and symmetric, [-128·s, 127·s]: zero on the grid, no zero point.

MatMuls between two activations (attention scores, attention × values) stay float: their int8
gain is small and their error the largest in a transformer. A layer's `Plan` may also smooth
its activation (smooth.py): a Multiply divides each channel by its factor before the
FakeQuantize and the weight's rows are multiplied by the same factors.

Layers are named by their position in `graph.nodes()`, which survives `graph.copy()`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType
from converter.ops.core import const
from converter.ops.elementwise import Multiply
from converter.ops.quantization import FakeQuantize
from converter.quantize.weights import quantized_weight

LEVELS = 256
WEIGHTED = ("Convolution", "GroupConvolution", "MatMul")
SKEWED = 0.25  # a negative part below this share of the positive one gets an asymmetric range


@dataclass(frozen=True)
class Layer:
    position: int  # of the op in graph.nodes()
    op: str
    name: str
    weight_port: int
    channel_axes: tuple[int, ...]  # weight axes that keep their own scale
    input_axis: int  # the weight axis an activation channel multiplies (MatMul only; -1 otherwise)
    activation: int  # position of the activation's producer in graph.nodes()
    activation_index: int  # which output of that producer

    @property
    def label(self) -> str:
        return f"{self.name or '?'} ({self.op})"

    @property
    def activation_key(self) -> tuple[int, int]:
        return self.activation, self.activation_index


@dataclass(frozen=True)
class Plan:
    """How one layer is quantized: the FakeQuantize range of its (smoothed) activation, and the
    per-input-channel factors its activation is divided by (None: not smoothed)."""

    limits: tuple[float, float]
    smoothing: np.ndarray | None = None

    def key(self) -> tuple:
        return (self.limits, None if self.smoothing is None else self.smoothing.tobytes())


def find_layers(graph: Graph) -> list[Layer]:
    nodes = graph.nodes()
    positions = {id(node): i for i, node in enumerate(nodes)}
    layers = []
    for position, node in enumerate(nodes):
        placed = _weight_of(node)
        if placed is None:
            continue
        port, axes, input_axis = placed
        activation = node.inputs[0]
        if activation.element_type is not ElementType.f32 or activation.const is not None:
            continue
        layers.append(Layer(position, node.op.type, node.name, port, axes, input_axis, positions[id(activation.producer)], activation.index))
    return layers


def _weight_of(node: Node) -> tuple[int, tuple[int, ...], int] | None:
    """(the weight's input port, its output-channel axes, its input-channel axis), or None."""
    if node.op.type not in WEIGHTED or len(node.inputs) < 2:
        return None
    weight = node.inputs[1].const
    if weight is None or weight.dtype != np.float32 or weight.ndim < 2:
        return None
    if node.op.type == "Convolution":
        return 1, (0,), -1
    if node.op.type == "GroupConvolution":
        return 1, (0, 1), -1
    if node.attrs.get("transpose_a"):
        return None
    rows, columns = weight.ndim - 2, weight.ndim - 1
    return (1, (rows,), columns) if node.attrs.get("transpose_b") else (1, (columns,), rows)


EMBEDDING_ROWS = 1024  # a Gather table at least this tall is an embedding worth storing as int8


def find_embeddings(graph: Graph) -> list[int]:
    """Positions of the Gathers that read rows of a large constant f32 table (token embeddings)."""
    found = []
    for position, node in enumerate(graph.nodes()):
        if node.op.type != "Gather" or len(node.inputs) < 3:
            continue
        table, axis = node.inputs[0].const, node.inputs[2].const
        if table is None or axis is None or table.dtype != np.float32 or table.ndim != 2 or int(axis) != 0:
            continue
        if table.shape[0] >= EMBEDDING_ROWS and node.attrs.get("batch_dims", 0) == 0:
            found.append(position)
    return found


def compress_embeddings(graph: Graph, positions: Collection[int]) -> None:
    """Each table row as int8 with its own scale (in place). The Convert is marked as decompression,
    as OpenVINO marks compressed weights, so its CPU plugin gathers int8 rows and keeps the table small."""
    from converter.passes.compress_fp16 import DECOMPRESSION

    nodes = graph.nodes()
    for position in positions:
        node = nodes[position]
        table = quantized_weight(node.inputs[0].const, (0,), node.name)
        convert = table.producer.inputs[0].producer
        convert.rt_info = {key: dict(value) for key, value in DECOMPRESSION.items()}
        inputs = list(node.inputs)
        inputs[0] = table
        node.inputs = inputs


def activation_value(graph: Graph, layer: Layer) -> Value:
    return graph.nodes()[layer.activation].outputs[layer.activation_index]


def fake_quantize_limits(low: float, high: float) -> tuple[float, float] | None:
    """The FakeQuantize [low, high] for a calibrated range; None when the range is empty or not finite."""
    if not (np.isfinite(low) and np.isfinite(high)) or high <= 0 and low >= 0:
        return None
    if low >= 0:
        return 0.0, float(np.float32(high))
    if high > 0 and -low < SKEWED * high:
        step = (high - low) / (LEVELS - 1)
        zero = round(-low / step)
        return float(np.float32(-zero * step)), float(np.float32((LEVELS - 1 - zero) * step))
    step = max(-low / 128.0, max(high, 0.0) / 127.0)
    return float(np.float32(-128.0 * step)), float(np.float32(127.0 * step))


def fake_quantize(x: Value, plan: Plan, name: str = "") -> Value:
    low, high = (const(np.array(v, np.float32)) for v in plan.limits)
    if plan.smoothing is not None:
        # OpenVINO's CPU FakeQuantize takes per-channel limits on axis 1 only: divide first
        x = Multiply(x, const((1.0 / plan.smoothing).astype(np.float32)), name=f"{name}_smoothing" if name else "")
    return FakeQuantize(x, low, high, low, high, levels=LEVELS, name=name)


def layer_weight(layer: Layer, weight: np.ndarray, plan: Plan) -> np.ndarray:
    """The float weight the int8 one approximates: smoothed rows multiplied by their factors."""
    if plan.smoothing is None:
        return weight
    shape = [1] * weight.ndim
    shape[layer.input_axis] = len(plan.smoothing)
    return (weight * plan.smoothing.reshape(shape)).astype(np.float32)


def apply(
    graph: Graph,
    layers: Collection[Layer],
    plans: Mapping[int, Plan],
    corrections: Mapping[int, np.ndarray] | None = None,
) -> Graph:
    """A copy of `graph` with `layers` quantized as `plans` (by layer position) say; `corrections`
    maps a layer to the per-channel mean shift taken out of its bias (bias.py). Layers sharing an
    activation and a plan share one FakeQuantize."""
    from converter.quantize.bias import corrected_bias_input

    graph = graph.copy()
    nodes = graph.nodes()
    shared: dict[tuple, Value] = {}
    for layer in sorted(layers, key=lambda item: item.position):
        plan = plans[layer.position]
        node = nodes[layer.position]
        key = (layer.activation_key, plan.key())
        if key not in shared:
            source = nodes[layer.activation].outputs[layer.activation_index]
            shared[key] = fake_quantize(source, plan, f"{node.name}_activation_fq" if node.name else "")
        weight = layer_weight(layer, node.inputs[layer.weight_port].const, plan)
        inputs = list(node.inputs)
        inputs[0] = shared[key]
        inputs[layer.weight_port] = quantized_weight(weight, layer.channel_axes, node.name)
        node.inputs = inputs
        shift = (corrections or {}).get(layer.position)
        if shift is not None:
            corrected_bias_input(graph, layer, node, shift)
    return graph
