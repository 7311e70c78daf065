"""Helpers the TFLite handlers share: integer constants, fused activations, windows and NHWC ↔ NCHW.

TFLite computes images in NHWC while IR convolutions and pools are NCHW. A channels-last op
becomes Transpose → IR op (+ bias, activation) → Transpose back, so the IR keeps TFLite's
semantics exactly; `sink_transposes` then cancels the pairs between consecutive ops.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.tflite.tensors import Unsupported
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import activation as act
from converter.ops import elementwise as ew
from converter.ops.core import Convert, const
from converter.ops.shape import Reshape, Transpose
from converter.ops.spec import normalize_axis

TO_NCHW = [0, 3, 1, 2]
TO_NHWC = [0, 2, 3, 1]


def i64(values: int | Sequence[int]) -> Value:
    return const(np.array(values, dtype=np.int64))


def as_i64(value: Value) -> Value:
    """An integer input as i64 (constants converted in place, no Convert node)."""
    if value.element_type is ElementType.i64:
        return value
    if value.const is not None:
        return const(np.asarray(value.const).astype(np.int64))
    return Convert(value, destination_type=ElementType.i64)


def constant_ints(value: Value, what: str) -> list[int]:
    """The entries of an input that must be constant (an axis, a permutation, a shape)."""
    if value.const is None:
        raise Unsupported(f"{what} must be a constant")
    return [int(v) for v in np.asarray(value.const).reshape(-1)]


def scalar_like(x: Value, number: float) -> Value:
    return const(np.array(number, dtype=x.element_type.numpy))


def checked_axis(axis: int, rank: int, what: str) -> int:
    normalized = normalize_axis(int(axis), rank)
    if not 0 <= normalized < rank:
        raise Unsupported(f"{what}: axis {axis} is out of range for rank {rank}")
    return normalized


def known_rank(x: Value, what: str) -> int:
    if x.shape.rank is None:
        raise Unsupported(f"{what} needs the input rank to be known")
    return x.shape.rank


def check_rank(x: Value, rank: int, what: str) -> None:
    if x.shape.rank is not None and x.shape.rank != rank:
        raise Unsupported(f"{what}: input of rank {x.shape.rank}, expected {rank}")


# ---------------------------------------------------------------- fused activations


def fused_activation(x: Value, function: str) -> Value:
    """The fused activation as TFLite's kernels for convolutions, pools and arithmetic apply it: a
    clamp to the activation's range. TANH and SIGN_BIT have no range, so these kernels leave the
    result as it is (FULLY_CONNECTED refuses them; the recurrent kernels apply them as functions)."""
    if function in ("NONE", "TANH", "SIGN_BIT"):
        return x
    if function == "RELU":
        return act.Relu(x)
    if function == "RELU_N1_TO_1":
        return act.Clamp(x, min=-1.0, max=1.0)
    if function == "RELU6":
        return act.Clamp(x, min=0.0, max=6.0)
    raise Unsupported(f"fused activation {function!r}")


# ---------------------------------------------------------------- layout and windows


def nchw(x: Value) -> Value:
    """NHWC → NCHW; a constant is transposed in place (no Transpose node)."""
    if x.const is not None:
        return const(np.ascontiguousarray(np.transpose(x.const, TO_NCHW)))
    return Transpose(x, i64(TO_NCHW))


def nhwc(y: Value) -> Value:
    return Transpose(y, i64(TO_NHWC))


def window(padding: str, stride_h: int, stride_w: int) -> dict[str, object]:
    """TFLite padding → IR auto_pad. SAME puts the odd padding at the end (same_upper)."""
    if stride_h < 1 or stride_w < 1:
        raise Unsupported(f"strides ({stride_h}, {stride_w}) must be positive")
    if padding not in ("SAME", "VALID"):
        raise Unsupported(f"padding {padding!r}")
    return {
        "strides": [stride_h, stride_w],
        "auto_pad": "same_upper" if padding == "SAME" else "valid",
        "pads_begin": [0, 0],
        "pads_end": [0, 0],
    }


def channel_bias(y: Value, bias: Value | None) -> Value:
    """y (NCHW) + a per-channel bias."""
    if bias is None:
        return y
    rank = known_rank(y, "bias")
    shape = [1, -1] + [1] * (rank - 2)
    if bias.const is not None:
        return ew.Add(y, const(np.asarray(bias.const).reshape(shape)))
    return ew.Add(y, Reshape(bias, i64(shape), special_zero=False))


def static_dims(x: Value, what: str) -> tuple[int, ...]:
    dims = x.shape.dims
    if dims is None or any(d is None for d in dims):
        raise Unsupported(f"{what} needs a static shape, has {x.shape}")
    return dims  # type: ignore[return-value]
