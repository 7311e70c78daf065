"""Embedded preprocessing absorbed by the first convolution, exactly:

    conv((R·x − m) / s, W)  =  conv(x · t, W′) + B

R reverses (permutes) channels: W′ is W with its input channels permuted the same way. The scale
becomes t = 1/s (in the raw channel order) on a Multiply right before the convolution, which the
pipeline's `fuse_linear` folds into W′ (conv(x·t, W) → conv(x, W·t)), as it does for any input-side
scale. The mean becomes B = −conv(m/s, W), by linearity, with the convolution's own padding: when
nothing is padded every position sees every tap and B is one value per output channel; with zero
padding the border positions see zeros, not −m/s, so B is a constant of the output's spatial shape
(which needs a static input). Either way `fuse_linear` merges B into the convolution's bias Add.
Layout Transposes between the input and the convolution are kept and looked through.
Anything else (a dynamic padded input, a first op that is not a convolution) keeps the explicit ops.
"""

from __future__ import annotations

import math

import numpy as np

from converter.ir.graph import Graph, Node
from converter.ops.core import const
from converter.ops.elementwise import Add, Multiply
from converter.ops.shape import Transpose
from converter.ops.spec import const_ints
from converter.prepare.preprocess import Embedded, InputPlan


def fold_into_first_layer(graph: Graph, plan: InputPlan, embedded: Embedded) -> bool:
    """Rewire `embedded` into the convolution it feeds, if it can absorb it exactly; True if done."""
    users = graph.users()
    axis = plan.channel_axis
    value = embedded.prepared
    transposes: list[Node] = []
    while True:
        readers = users.get(value, [])
        if len(readers) != 1 or value in graph.outputs:
            return False
        node, port = readers[0]
        if node.op.type != "Transpose":
            break
        order = const_ints(node.inputs[1])
        if port != 0 or order is None or axis is None and (plan.reverse or _vector(plan)):
            return False
        if axis is not None:
            axis = order.index(axis)
        transposes.append(node)
        value = node.outputs[0]
    conv = node
    if conv.op.type not in ("Convolution", "GroupConvolution") or port != 0:
        return False
    weights = conv.inputs[1].const
    data = conv.inputs[0]
    if weights is None or not np.issubdtype(weights.dtype, np.floating) or data.shape.rank is None:
        return False
    if axis is not None and axis != 1:
        return False
    grouped = conv.op.type == "GroupConvolution"
    channels = weights.shape[0] * weights.shape[2] if grouped else weights.shape[1]
    if plan.reverse and (grouped or channels != len(plan.channels())):
        return False
    scale = _full(plan.scale, channels)
    mean = _full(plan.mean, channels)
    if (scale is None and plan.scale is not None) or (mean is None and plan.mean is not None):
        return False
    shift = None
    if mean is not None:
        shift = _mean_bias(conv, weights, mean / (scale if scale is not None else 1.0))
        if shift is None:
            return False
    order_raw = plan.channels() if plan.reverse else np.arange(channels)
    new_weights = weights
    if plan.reverse:
        new_weights = np.empty_like(weights)
        new_weights[:, order_raw] = weights
    x = embedded.raw
    for node in transposes:
        x = Transpose(x, node.inputs[1], name=node.name)
    if scale is not None:
        factor = np.empty(channels, np.float64)
        factor[order_raw] = 1.0 / scale
        x = Multiply(x, const(factor.astype(weights.dtype).reshape((1, channels) + (1,) * (data.shape.rank - 2))), name=f"{plan.name}/scale")
    out = conv.op(x, const(new_weights), *conv.inputs[2:], name=conv.name, **conv.attrs)
    if shift is not None:
        out = Add(out, const(shift.astype(weights.dtype)), name=f"{plan.name}/mean")
    graph.replace_values({conv.outputs[0]: out})
    return True


def _vector(plan: InputPlan) -> bool:
    return any(v is not None and len(v) > 1 for v in (plan.mean, plan.scale))


def _full(values: tuple[float, ...] | None, channels: int) -> np.ndarray | None:
    if values is None:
        return None
    if len(values) == 1:
        return np.full(channels, values[0], np.float64)
    return np.asarray(values, np.float64) if len(values) == channels else None


def _mean_bias(conv: Node, weights: np.ndarray, shift: np.ndarray) -> np.ndarray | None:
    """−conv(an image of the per-channel `shift`, W) with the convolution's zero padding, in float64:
    [1, O, 1, …] when no position is padded, else [1, O, *output spatial dims] (static shapes only)."""
    data, out = conv.inputs[0], conv.outputs[0]
    spatial = data.shape.rank - 2
    w = weights.astype(np.float64)
    if conv.op.type == "GroupConvolution":  # [G, O/G, C/G, k…] → per output channel, over its group's inputs
        groups, per_out, per_in = w.shape[:3]
        taps = np.einsum("goc...,gc->go...", w, shift.reshape(groups, per_in)).reshape(groups * per_out, *w.shape[3:])
    else:
        taps = np.einsum("oc...,c->o...", w, shift)
    kernel = w.shape[-spatial:] if spatial else ()
    in_dims = data.shape.dims[2:]
    out_dims = out.shape.dims[2:] if out.shape.dims is not None else (None,) * spatial
    pads = _pads_begin(conv, in_dims, kernel)
    if pads is None:
        return None
    if _unpadded(conv, in_dims, kernel):
        return -taps.reshape(taps.shape[0], -1).sum(axis=1).reshape((1, -1) + (1,) * spatial)
    if any(d is None for d in (*in_dims, *out_dims)):
        return None
    bias = taps
    dilations = conv.attrs["dilations"] or (1,) * spatial
    for axis in range(spatial):
        inside = _inside(out_dims[axis], in_dims[axis], kernel[axis], conv.attrs["strides"][axis], dilations[axis], pads[axis])
        # contract the kernel axis (always at position 1 + axis after earlier contractions moved outputs to the end)
        bias = np.tensordot(bias, inside, axes=([1], [1]))
    # bias is now [O, out_0, out_1, …]
    return -bias.reshape((1,) + bias.shape)


def _inside(out_size: int, in_size: int, kernel: int, stride: int, dilation: int, pad: int) -> np.ndarray:
    """[out, kernel]: whether tap k of output position i reads a real element (not padding)."""
    positions = np.arange(out_size)[:, None] * stride - pad + np.arange(kernel)[None, :] * dilation
    return ((positions >= 0) & (positions < in_size)).astype(np.float64)


def _pads_begin(conv: Node, in_dims, kernel) -> list[int] | None:
    mode = conv.attrs["auto_pad"]
    spatial = len(kernel)
    if mode == "valid":
        return [0] * spatial
    if mode == "explicit":
        return list(conv.attrs["pads_begin"])
    dilations = conv.attrs["dilations"] or (1,) * spatial
    pads = []
    for axis in range(spatial):
        total = _same_total(in_dims[axis], kernel[axis], conv.attrs["strides"][axis], dilations[axis])
        if total is None:
            if (kernel[axis] - 1) * dilations[axis] == 0:
                total = 0
            else:
                return [None] * spatial  # type: ignore[list-item]  # known once the shape is
        pads.append(total // 2 if mode == "same_upper" else total - total // 2)
    return pads


def _same_total(size: int | None, kernel: int, stride: int, dilation: int) -> int | None:
    if size is None:
        return None
    return max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)


def _unpadded(conv: Node, in_dims, kernel) -> bool:
    mode = conv.attrs["auto_pad"]
    if mode == "valid":
        return True
    if mode == "explicit":
        return not any(conv.attrs["pads_begin"]) and not any(conv.attrs["pads_end"])
    dilations = conv.attrs["dilations"] or (1,) * len(kernel)
    for axis, size in enumerate(in_dims):
        total = _same_total(size, kernel[axis], conv.attrs["strides"][axis], dilations[axis])
        if total is None and (kernel[axis] - 1) * dilations[axis] != 0:
            return False
        if total:
            return False
    return True
