"""MXNet SSD anchors: _contrib_MultiBoxPrior.

The anchors depend only on the feature map's height and width, so they are a constant [1, H·W·A,
4] (A = len(sizes) + len(ratios) − 1 per position), computed in float32 in the order MXNet's CPU
kernel computes them (contrib/multibox_prior.cc): per row r and column c the centre
((c + offset_x)·step_x, (r + offset_y)·step_y), steps 1/W and 1/H unless given; first every size
with the first ratio, then every other ratio with the first size; half-width
size·H/W·√ratio/2, half-height size/√ratio/2; `clip` clamps to [0, 1].
"""

from __future__ import annotations

import numpy as np

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.ir.graph import Value
from converter.ops.core import const


def _contrib_MultiBoxPrior(
    ctx: MXNetContext,
    data: Value,
    *,
    sizes: tuple[float, ...] = (1.0,),
    ratios: tuple[float, ...] = (1.0,),
    clip: bool = False,
    steps: tuple[float, ...] = (-1.0, -1.0),
    offsets: tuple[float, ...] = (0.5, 0.5),
) -> Value:
    dims = data.shape.dims
    if dims is None or len(dims) != 4 or dims[2] is None or dims[3] is None:
        raise Unsupported("MultiBoxPrior needs the feature map's static height and width")
    if not sizes or not ratios or len(steps) != 2 or len(offsets) != 2:
        raise Unsupported(f"sizes {sizes}, ratios {ratios}, steps {steps}, offsets {offsets}")
    height, width = int(dims[2]), int(dims[3])
    f32 = np.float32
    step_y, step_x = (f32(s) for s in steps)
    if step_y <= 0 or step_x <= 0:
        step_y, step_x = f32(1.0) / f32(height), f32(1.0) / f32(width)
    shapes = [(f32(size), np.sqrt(f32(ratios[0]))) for size in sizes] + [(f32(sizes[0]), np.sqrt(f32(r))) for r in ratios[1:]]
    half = np.array([[size * f32(height) / f32(width) * ratio / f32(2), size / ratio / f32(2)] for size, ratio in shapes], np.float32)
    rows = ((np.arange(height, dtype=f32) + f32(offsets[0])) * step_y).astype(f32)
    columns = ((np.arange(width, dtype=f32) + f32(offsets[1])) * step_x).astype(f32)
    centres = np.stack(np.broadcast_arrays(columns[None, :], rows[:, None]), axis=-1).reshape(-1, 1, 2)
    boxes = np.concatenate([centres - half[None], centres + half[None]], axis=-1).astype(f32)
    if clip:
        boxes = np.clip(boxes, 0.0, 1.0)
    return const(boxes.reshape(1, -1, 4))


HANDLERS: dict[str, Handler] = {"_contrib_MultiBoxPrior": _contrib_MultiBoxPrior}
