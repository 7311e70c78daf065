"""TFLite shape ops → IR shape ops: RESHAPE, SQUEEZE, EXPAND_DIMS, CONCATENATION, PAD, PADV2, TRANSPOSE."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import as_i64, checked_axis, fused_activation, i64
from converter.frontends.tflite.tensors import Unsupported
from converter.ir.graph import Value
from converter.ops import shape as ops
from converter.ops.core import const
from converter.ops.indexing import Gather
from converter.ops.spec import const_ints


def RESHAPE(ctx: TFLiteContext, x: Value, shape: Value | None = None, *, new_shape: Sequence[int] | None = None) -> Value:
    """The target is the shape input when it is a vector, else the new_shape option ([0] in old
    files means a scalar). -1 is inferred; 0 is a zero-sized dimension."""
    if shape is not None and shape.shape.rank == 1:
        return ops.Reshape(x, as_i64(shape), special_zero=False)
    if new_shape is None:
        raise Unsupported("RESHAPE without a shape vector or a new_shape option")
    target = [] if list(new_shape) == [0] else [int(d) for d in new_shape]
    return ops.Reshape(x, i64(target), special_zero=False)


def SQUEEZE(ctx: TFLiteContext, x: Value, *, squeeze_dims: Sequence[int] | None = None) -> Value:
    """The listed axes (each of size 1), or every axis known to be 1."""
    dims = x.shape.dims
    if squeeze_dims:
        if dims is not None:
            for axis in squeeze_dims:
                size = dims[checked_axis(axis, len(dims), "SQUEEZE")]
                if size not in (1, None):
                    raise Unsupported(f"SQUEEZE: dimension {axis} has size {size}, not 1")
        return ops.Squeeze(x, i64(list(squeeze_dims)))
    if dims is None:
        return ops.Squeeze(x)
    return ops.Squeeze(x, i64([i for i, d in enumerate(dims) if d == 1]))


def EXPAND_DIMS(ctx: TFLiteContext, x: Value, axis: Value) -> Value:
    """A negative axis counts from the end of the result, as the IR's Unsqueeze does."""
    return ops.Unsqueeze(x, as_i64(axis))


def CONCATENATION(ctx: TFLiteContext, *values: Value, axis: int = 0, fused_activation_function: str = "NONE") -> Value:
    if not values:
        raise Unsupported("CONCATENATION needs at least one input")
    rank = values[0].shape.rank
    if rank is not None:
        axis = checked_axis(axis, rank, "CONCATENATION")
    y = values[0] if len(values) == 1 else ops.Concat(*values, axis=axis)
    return fused_activation(y, fused_activation_function)


def _pads(paddings: Value) -> tuple[Value, Value]:
    """paddings [rank, 2] → (pads_begin, pads_end)."""
    if paddings.const is not None:
        array = np.asarray(paddings.const).astype(np.int64)
        if array.ndim != 2 or array.shape[1] != 2:
            raise Unsupported(f"paddings of shape {list(array.shape)}, expected [rank, 2]")
        return i64(array[:, 0].tolist()), i64(array[:, 1].tolist())
    pads = as_i64(paddings)
    return Gather(pads, i64(0), i64(1)), Gather(pads, i64(1), i64(1))


def PAD(ctx: TFLiteContext, x: Value, paddings: Value) -> Value:
    """Pads with zeros (for a quantized tensor: its zero point, the real 0)."""
    begin, end = _pads(paddings)
    return ops.Pad(x, begin, end, const(np.zeros((), dtype=x.element_type.numpy)), pad_mode="constant")


def PADV2(ctx: TFLiteContext, x: Value, paddings: Value, constant_values: Value | None = None) -> Value:
    if constant_values is None:
        return PAD(ctx, x, paddings)
    begin, end = _pads(paddings)
    fill = constant_values if constant_values.shape.rank == 0 else ops.Reshape(constant_values, i64([]), special_zero=False)
    return ops.Pad(x, begin, end, fill, pad_mode="constant")


def TRANSPOSE(ctx: TFLiteContext, x: Value, perm: Value) -> Value:
    order = const_ints(perm)
    if order is not None and x.shape.rank is not None and sorted(order) != list(range(x.shape.rank)):
        raise Unsupported(f"TRANSPOSE: {order} is not a permutation of {x.shape.rank} axes")
    return ops.Transpose(x, as_i64(perm))


HANDLERS: dict[str, Handler] = {
    "RESHAPE": RESHAPE,
    "SQUEEZE": SQUEEZE,
    "EXPAND_DIMS": EXPAND_DIMS,
    "CONCATENATION": CONCATENATION,
    "PAD": PAD,
    "PADV2": PADV2,
    "TRANSPOSE": TRANSPOSE,
}
# Ops that move values without computing new ones: on the input's grid, the output needs no rounding.
GRID_PRESERVING: frozenset[str] = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS", "CONCATENATION", "PAD", "PADV2", "TRANSPOSE"})
