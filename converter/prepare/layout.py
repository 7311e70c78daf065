"""`--input-layout nchw`: the application feeds channels-first images to a channels-last (TF, Keras,
TFLite) model. Each 4-D/5-D input becomes channels-first, followed by the Transpose back to the
model's layout; transpose sinking then cancels it against the frontend's own NHWC→NCHW Transpose,
so the IR starts straight at the first convolution.

The new Parameter records its layout in rt_info (`layout="[N,C,H,W]"`, OpenVINO's attribute), which
is also how validation knows to feed it the source's NHWC data transposed."""

from __future__ import annotations

import numpy as np

from converter.errors import InvalidModelError
from converter.ir.graph import Graph
from converter.ir.types import Shape
from converter.ops.core import const, parameter
from converter.ops.shape import Transpose

LAYOUT_NAMES = {4: "[N,C,H,W]", 5: "[N,C,D,H,W]"}


def to_channels_first(rank: int) -> tuple[int, ...]:
    """The permutation of an N…C array into N C …: (0, 3, 1, 2) for rank 4."""
    return (0, rank - 1, *range(1, rank - 1))


def to_channels_last(rank: int) -> tuple[int, ...]:
    return (0, *range(2, rank), 1)


def feed_channels_first(graph: Graph, source: str) -> Graph:
    """Every 4-D/5-D input of `graph` fed channels-first; an error when there is none."""
    changed = False
    for position, old in enumerate(list(graph.parameters)):
        dims = old.outputs[0].shape.dims
        if dims is None or len(dims) not in LAYOUT_NAMES:
            continue
        rank = len(dims)
        names = list(old.outputs[0].names)
        new = parameter(old.name, old.outputs[0].element_type, Shape(tuple(dims[i] for i in to_channels_first(rank))))
        new.rt_info = {"layout": {"version": "0", "layout": LAYOUT_NAMES[rank]}}
        back = Transpose(new.outputs[0], const(np.array(to_channels_last(rank), np.int64)))
        graph.replace_values({old.outputs[0]: back})
        new.outputs[0].names[:] = names
        back.names.clear()
        graph.parameters[position] = new
        changed = True
    if not changed:
        raise InvalidModelError(f"{source}: --input-layout nchw: the model has no 4-D or 5-D input")
    return graph


def channels_first_feed(array: np.ndarray, node) -> np.ndarray:
    """`array` for Parameter `node`: transposed when the node was made channels-first by
    `feed_channels_first` and the array is in the source's channels-last layout (validation feeds
    the source model's inputs); anything else passes through."""
    layout = node.rt_info.get("layout", {}).get("layout")
    if layout not in LAYOUT_NAMES.values() or array.ndim != layout.count(",") + 1:
        return array
    dims = node.outputs[0].shape.dims
    if dims is None or _fits(array.shape, dims):
        return array
    transposed = array.transpose(to_channels_first(array.ndim))
    return np.ascontiguousarray(transposed) if _fits(transposed.shape, dims) else array


def _fits(shape: tuple[int, ...], dims) -> bool:
    return len(shape) == len(dims) and all(d is None or d == s for s, d in zip(shape, dims))
