"""Helpers the Caffe layer handlers share: static dims, axes, constants, per-channel vectors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.caffe.net import Unsupported
from converter.ir.graph import Value
from converter.ops.core import const
from converter.ops.shape import Reshape


def dims_of(x: Value, what: str) -> list[int]:
    """The input's dims, all known (Caffe blobs have static shapes)."""
    if x.shape.dims is None or any(d is None for d in x.shape.dims):
        raise Unsupported(f"{what} needs a static input shape, not {x.shape}")
    return [int(d) for d in x.shape.dims]  # type: ignore[arg-type]


def axis_of(axis: int, rank: int, what: str = "axis") -> int:
    """Caffe's CanonicalAxisIndex: -rank ≤ axis < rank."""
    if not -rank <= axis < rank:
        raise Unsupported(f"{what} {axis} is out of range for a {rank}-D blob")
    return axis + rank if axis < 0 else axis


def i64(values: int | Sequence[int]) -> Value:
    return const(np.array(values, dtype=np.int64))


def f32(array: np.ndarray | float) -> Value:
    return const(np.asarray(array, dtype=np.float32))


def along(vector: np.ndarray, rank: int, axis: int) -> Value:
    """A blob of the dims from `axis` on, as a constant that broadcasts against a rank-`rank` blob."""
    trailing = rank - axis - vector.ndim
    if trailing < 0:
        raise Unsupported(f"a {vector.ndim}-D parameter does not fit axis {axis} of a {rank}-D blob")
    return f32(vector.reshape(vector.shape + (1,) * trailing))


def reshaped(x: Value, dims: Sequence[int]) -> Value:
    if x.shape.dims is not None and tuple(x.shape.dims) == tuple(dims):
        return x
    return Reshape(x, i64(list(dims)), special_zero=False)


def spatial(values: Sequence[int], h: int | None, w: int | None, default: int, count: int, what: str) -> list[int]:
    """Caffe's per-spatial-dim values: `name_h`/`name_w` (2-D only), else one value for all dims or one per dim."""
    if h is not None or w is not None:
        if count != 2:
            raise Unsupported(f"{what}_h / {what}_w are for 2-D blobs only")
        if values:
            raise Unsupported(f"both {what} and {what}_h / {what}_w are given")
        return [default if h is None else h, default if w is None else w]
    if not values:
        return [default] * count
    if len(values) == 1:
        return [values[0]] * count
    if len(values) != count:
        raise Unsupported(f"{len(values)} {what} values for {count} spatial dims")
    return list(values)
