"""Helpers the Kaldi component handlers share: checked weights and the affine map x·Wᵀ + b."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.kaldi.frames import i64
from converter.frontends.kaldi.graph import KaldiContext, Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.matmul import MatMul
from converter.ops.shape import Reshape


def matrix(array: object, what: str, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    """A field that must be a matrix (of the given rows and columns)."""
    if not isinstance(array, np.ndarray) or array.ndim != 2:
        raise Unsupported(f"{what} must be a matrix")
    if (rows is not None and array.shape[0] != rows) or (cols is not None and array.shape[1] != cols):
        raise Unsupported(f"{what} is {array.shape[0]} x {array.shape[1]}, expected {rows or '?'} x {cols or '?'}")
    return array


def vector(array: object, what: str, dim: int | None = None) -> np.ndarray:
    """A field that must be a vector (of the given dimension)."""
    if not isinstance(array, np.ndarray) or array.ndim != 1:
        raise Unsupported(f"{what} must be a vector")
    if dim is not None and array.shape[0] != dim:
        raise Unsupported(f"{what} has {array.shape[0]} entries, expected {dim}")
    return array


def integers(array: object, what: str) -> list[int]:
    if not isinstance(array, np.ndarray) or array.ndim != 1:
        raise Unsupported(f"{what} must be a list of integers")
    return [int(v) for v in array]


def input_dim(x: Value) -> int:
    dims = x.shape.dims
    assert dims is not None and dims[-1] is not None
    return int(dims[-1])


def check_dim(x: Value, dim: int | None, what: str = "dim") -> None:
    if dim is not None and input_dim(x) != dim:
        raise Unsupported(f"the input has {input_dim(x)} dims, the component's {what} is {dim}")


def affine(ctx: KaldiContext, x: Value, weights: np.ndarray, bias: np.ndarray | None) -> Value:
    """x · Wᵀ (+ b): Kaldi stores W as [output dim, input dim]."""
    if weights.shape[1] != input_dim(x):
        raise Unsupported(f"the weights take {weights.shape[1]} dims, the input has {input_dim(x)}")
    y = MatMul(x, ctx.floats(weights), transpose_b=True)
    if bias is not None and bias.shape[0] > 0:
        if bias.shape[0] != weights.shape[0]:
            raise Unsupported(f"the bias has {bias.shape[0]} entries for {weights.shape[0]} outputs")
        y = ew.Add(y, ctx.floats(bias))
    return y


def per_dim(values: np.ndarray, dim: int, what: str) -> np.ndarray:
    """A vector over the dims, or over blocks of them (Kaldi repeats it for each block)."""
    if dim % values.shape[0] != 0:
        raise Unsupported(f"{what} has {values.shape[0]} entries, which do not divide {dim} dims")
    return np.tile(values, dim // values.shape[0])


def blocks(x: Value, size: int) -> Value:
    """[n, k·size] → [n·k, size]: Kaldi's reinterpretation of a matrix as rows of blocks."""
    return Reshape(x, i64([-1, size]), special_zero=False)


def unblocks(x: Value, width: int) -> Value:
    """[n·k, size] → [n, width]."""
    return Reshape(x, i64([-1, width]), special_zero=False)


def split_columns(x: Value, sizes: Sequence[int]) -> list[Value]:
    from converter.frontends.kaldi.frames import columns

    parts, offset = [], 0
    for size in sizes:
        parts.append(columns(x, offset, size))
        offset += size
    return parts
