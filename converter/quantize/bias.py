"""Bias correction: int8 rounding shifts each output channel's mean (depthwise convolutions
most); measure the shift on calibration data and take it out of the layer's bias.

One probe graph runs every layer twice on its FP32 input, as is and quantized (its plan's
FakeQuantize, int8 weights), so one pass over the calibration batches gives every layer's
per-channel mean error E[y_int8 − y_fp32]. It is subtracted from the constant bias Add that
follows the layer (Convolution → Add is how every frontend writes a bias).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from converter.ir.graph import Graph, Node
from converter.ops.core import const
from converter.quantize.placement import Layer, Plan, fake_quantize, layer_weight
from converter.quantize.statistics import ActivationRunner
from converter.quantize.weights import quantized_weight


def channel_axis(layer: Layer, rank: int) -> int:
    """The output's channel axis: 1 for convolutions, the last for MatMul."""
    return 1 if layer.op in ("Convolution", "GroupConvolution") else rank - 1


def bias_node(graph: Graph, node: Node) -> tuple[Node, int] | None:
    """The Add holding the layer's constant bias, and the port of that constant."""
    users = graph.users().get(node.outputs[0], [])
    if len(users) != 1 or node.outputs[0] in graph.outputs:
        return None
    add, port = users[0]
    if add.op.type != "Add" or add.inputs[1 - port].const is None:
        return None
    return add, 1 - port


def measure(graph: Graph, layers: Sequence[Layer], plans: Mapping[int, Plan], batches: Sequence[Mapping[str, np.ndarray]]) -> dict[int, np.ndarray]:
    """Per layer position: the per-channel mean error its quantization adds (only layers with a bias Add)."""
    probe = graph.copy()
    nodes = probe.nodes()
    measured: list[Layer] = []
    observed = []
    for layer in layers:
        node = nodes[layer.position]
        if bias_node(probe, node) is None:
            continue
        plan = plans[layer.position]
        inputs = list(node.inputs)
        inputs[0] = fake_quantize(inputs[0], plan)
        inputs[layer.weight_port] = quantized_weight(layer_weight(layer, inputs[layer.weight_port].const, plan), layer.channel_axes)
        twin = node.op.node(*inputs, **node.attrs)
        measured.append(layer)
        observed += [node.outputs[0], twin.outputs[0]]
    if not measured:
        return {}
    runner = ActivationRunner(probe, observed)
    sums: list[np.ndarray | float] = [0.0] * len(measured)
    counts = [0] * len(measured)
    for batch in batches:
        arrays = runner.run(batch)[1]
        for i, layer in enumerate(measured):
            fp32, int8 = arrays[2 * i], arrays[2 * i + 1]
            axis = channel_axis(layer, fp32.ndim)
            difference = np.moveaxis(int8.astype(np.float64) - fp32, axis, -1).reshape(-1, fp32.shape[axis])
            sums[i] = difference.sum(axis=0) + sums[i]
            counts[i] += len(difference)
    return {layer.position: (np.asarray(total) / count).astype(np.float32) for layer, total, count in zip(measured, sums, counts) if count}


def corrected_bias(bias: np.ndarray, shift: np.ndarray, axis_from_end: int) -> np.ndarray | None:
    """bias − shift, shaped like the broadcast of both; None when the bias is not per channel."""
    channels = len(shift)
    if bias.ndim >= axis_from_end and bias.shape[-axis_from_end] not in (1, channels):
        return None
    shape = [1] * max(bias.ndim, axis_from_end)
    shape[-axis_from_end] = channels
    try:
        target = np.broadcast_shapes(bias.shape, tuple(shape))
    except ValueError:
        return None
    return (np.broadcast_to(bias, target) - shift.reshape(shape)).astype(bias.dtype)


def corrected_bias_input(graph: Graph, layer: Layer, node: Node, shift: np.ndarray) -> bool:
    """Replace the layer's bias constant by bias − shift; False when it has no such bias."""
    found = bias_node(graph, node)
    if found is None:
        return False
    add, port = found
    rank = node.outputs[0].shape.rank or 0
    bias = corrected_bias(add.inputs[port].const, shift, rank - channel_axis(layer, rank))
    if bias is None:
        return False
    inputs = list(add.inputs)
    inputs[port] = const(bias)
    add.inputs = inputs
    return True
