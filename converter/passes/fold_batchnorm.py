"""fold_batchnorm: BatchNormInference with constant statistics → Multiply + Add.

y = (x - mean) / sqrt(var + eps) * gamma + beta  =  x * scale + shift, with
scale = gamma / sqrt(var + eps) and shift = beta - mean * scale, both shaped
[1, C, 1, ...] to broadcast over channels-first data. `fuse_linear` then folds
the Multiply into a preceding convolution or MatMul.
"""

from __future__ import annotations

import numpy as np

from converter.ir.graph import Graph, Value
from converter.ops.core import const
from converter.ops.elementwise import Add, Multiply


def fold_batchnorm(graph: Graph) -> Graph:
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if node.op.type != "BatchNormInference":
            continue
        x, gamma, beta, mean, variance = node.inputs
        arrays = [v.const for v in (gamma, beta, mean, variance)]
        if any(a is None for a in arrays) or not x.element_type.is_float or x.shape.rank is None:
            continue
        gamma_, beta_, mean_, variance_ = (a.astype(np.float64) for a in arrays)  # type: ignore[union-attr]
        scale = gamma_ / np.sqrt(variance_ + node.attrs["epsilon"])
        shift = beta_ - mean_ * scale
        channel_shape = (1, -1) + (1,) * max(x.shape.rank - 2, 0)
        dtype = x.element_type.numpy
        scaled = Multiply(x, const(scale.reshape(channel_shape).astype(dtype)), name=f"{node.name}/scale")
        mapping[node.outputs[0]] = Add(scaled, const(shift.reshape(channel_shape).astype(dtype)), name=node.name)
    graph.replace_values(mapping)
    return graph
