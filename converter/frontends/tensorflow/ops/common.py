"""Helpers the TF handlers share: integer constants, axes, and NHWC ↔ NCHW layout.

TensorFlow computes in NHWC by default while IR convolutions and pools are NCHW. A
channels-last op becomes Transpose → IR op → Transpose back, so the IR keeps TF's
semantics exactly; `sink_transposes` then cancels the pairs between consecutive ops.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.tensorflow.tensors import Unsupported
from converter.ir.arrays import contiguous_transpose
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops.core import Convert, const
from converter.ops.shape import Transpose
from converter.ops.spec import normalize_axis

INT64_MAX = np.iinfo(np.int64).max


def i64(values: int | Sequence[int]) -> Value:
    return const(np.array(values, dtype=np.int64))


def as_i64(value: Value) -> Value:
    """An integer input as i64 (constants converted in place, no Convert node)."""
    if value.element_type is ElementType.i64:
        return value
    if value.const is not None:
        return const(np.asarray(value.const).astype(np.int64))
    return Convert(value, destination_type=ElementType.i64)


def scalar_like(x: Value, number: float) -> Value:
    return const(np.array(number, dtype=x.element_type.numpy))


def known_rank(x: Value, what: str) -> int:
    if x.shape.rank is None:
        raise Unsupported(f"{what} needs the input rank to be known")
    return x.shape.rank


def checked_axis(axis: int, rank: int, what: str) -> int:
    normalized = normalize_axis(int(axis), rank)
    if not 0 <= normalized < rank:
        raise Unsupported(f"{what}: axis {axis} is out of range for rank {rank}")
    return normalized


def static_entries(value: Value) -> list[int | None] | None:
    """The entries of a 0-D or 1-D integer tensor known before running (None where not), through
    the shape arithmetic exporters write (`tf.stack([tf.shape(x)[0], 8, 8, 4])`), or None when
    even the length is unknown."""
    array = value.const
    if array is not None:
        return [int(v) for v in np.asarray(array).reshape(-1)]
    node = value.producer
    kind = node.op.type
    if kind == "ShapeOf":
        dims = node.inputs[0].shape.dims
        return None if dims is None else list(dims)
    if kind == "Convert":
        return static_entries(node.inputs[0])
    if kind == "Concat" and value.shape.rank == 1:
        parts = [static_entries(v) for v in node.inputs]
        return None if any(p is None for p in parts) else [e for p in parts for e in p]  # type: ignore[union-attr]
    if kind in ("Unsqueeze", "Reshape", "Squeeze") and value.shape.dims in ((), (1,)):
        inner = static_entries(node.inputs[0])
        if inner is not None and len(inner) == 1:
            return inner
    dims = value.shape.dims
    if dims == ():
        return [None]
    if dims is not None and len(dims) == 1 and dims[0] is not None:
        return [None] * dims[0]
    return None


# ---------------------------------------------------------------- layout

CHANNELS_LAST_FORMATS = ("NHWC", "NDHWC", "NWC")
CHANNELS_FIRST_FORMATS = ("NCHW", "NCDHW", "NCW")


def is_channels_last(data_format: str) -> bool:
    if data_format in CHANNELS_LAST_FORMATS:
        return True
    if data_format in CHANNELS_FIRST_FORMATS:
        return False
    raise Unsupported(f"data_format {data_format!r} is not supported")


def to_channels_first_perm(rank: int) -> list[int]:
    return [0, rank - 1, *range(1, rank - 1)]


def to_channels_last_perm(rank: int) -> list[int]:
    return [0, *range(2, rank), 1]


def permuted(x: Value, perm: list[int]) -> Value:
    """x transposed by perm; a constant is transposed in place (no Transpose node)."""
    if x.const is not None:
        return const(contiguous_transpose(x.const, perm))
    return Transpose(x, i64(perm))


def channels_first(x: Value, data_format: str, rank: int) -> Value:
    return permuted(x, to_channels_first_perm(rank)) if is_channels_last(data_format) else x


def channels_last(y: Value, data_format: str, rank: int) -> Value:
    """Back to the op's data format from the IR's channels-first result."""
    return permuted(y, to_channels_last_perm(rank)) if is_channels_last(data_format) else y


def spatial(values: Sequence[int], data_format: str, rank: int, name: str) -> list[int]:
    """The spatial entries of a per-dimension attribute (strides, ksize, dilations) in data_format order."""
    if len(values) != rank:
        raise Unsupported(f"{name} has {len(values)} values for rank {rank}")
    values = [int(v) for v in values]
    batch, channel = (values[0], values[-1]) if is_channels_last(data_format) else (values[0], values[1])
    if batch != 1 or channel != 1:
        raise Unsupported(f"{name} {values} must be 1 on the batch and channel dimensions")
    return values[1:-1] if is_channels_last(data_format) else values[2:]


def window_padding(padding: str, explicit_paddings: Sequence[int], data_format: str, rank: int) -> dict[str, object]:
    """TF padding → IR auto_pad and pads. TF's SAME puts the odd padding at the end (same_upper)."""
    count = rank - 2
    zeros = [0] * count
    if padding == "SAME":
        return {"auto_pad": "same_upper", "pads_begin": zeros, "pads_end": zeros}
    if padding == "VALID":
        return {"auto_pad": "valid", "pads_begin": zeros, "pads_end": zeros}
    if padding == "EXPLICIT":
        if len(explicit_paddings) != 2 * rank:
            raise Unsupported(f"explicit_paddings has {len(explicit_paddings)} values for rank {rank}")
        pairs = [(int(explicit_paddings[2 * i]), int(explicit_paddings[2 * i + 1])) for i in range(rank)]
        spatial_pairs = pairs[1:-1] if is_channels_last(data_format) else pairs[2:]
        outer = [pairs[0], pairs[-1] if is_channels_last(data_format) else pairs[1]]
        if any(p != (0, 0) for p in outer):
            raise Unsupported("explicit padding of the batch or channel dimension")
        return {"auto_pad": "explicit", "pads_begin": [p[0] for p in spatial_pairs], "pads_end": [p[1] for p in spatial_pairs]}
    raise Unsupported(f"padding {padding!r} is not SAME, VALID or EXPLICIT")
