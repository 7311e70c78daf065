"""TFLite L2_NORMALIZATION and LOCAL_RESPONSE_NORMALIZATION over the last (channel) axis.

L2_NORMALIZATION: x / max(‖x‖, 1e-6), which is NormalizeL2 with eps 1e-12 in max mode (the
epsilon under the square root). LOCAL_RESPONSE_NORMALIZATION: x / (bias + alpha · Σ x²)^beta,
the sum over channels c ± radius; the IR divides alpha by the window's size, so it gets
alpha × size, in NCHW between Transposes (OpenVINO's CPU plugin normalizes across axis 1), with
bias 1 (the CPU plugin's LRN is wrong for others: the bias is factored out).
"""

from __future__ import annotations

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import check_rank, i64, known_rank, nchw, nhwc, scalar_like
from converter.frontends.tflite.tensors import Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops import normalization as ops

L2_EPSILON = 1e-6  # TFLite's, on the norm


def L2_NORMALIZATION(ctx: TFLiteContext, x: Value, *, fused_activation_function: str = "NONE") -> Value:
    if fused_activation_function != "NONE":
        raise Unsupported(f"fused activation {fused_activation_function} (TFLite's kernel refuses it too)")
    rank = known_rank(x, "L2_NORMALIZATION")
    return ops.NormalizeL2(x, i64([rank - 1]), eps=L2_EPSILON**2, eps_mode="max")


def LOCAL_RESPONSE_NORMALIZATION(
    ctx: TFLiteContext, x: Value, *, radius: int = 0, bias: float = 0.0, alpha: float = 0.0, beta: float = 0.0
) -> Value:
    check_rank(x, 4, "LOCAL_RESPONSE_NORMALIZATION")
    if radius < 0:
        raise Unsupported(f"radius {radius}")
    if bias <= 0:
        raise Unsupported(f"bias {bias} (irforge needs a positive one)")
    size = 2 * radius + 1
    # OpenVINO's CPU plugin (2026.4) computes LRN wrongly unless bias is 1:
    # x / (bias + a·S)^β = bias^−β · x / (1 + (a / bias)·S)^β.
    y = ops.LRN(nchw(x), i64([1]), alpha=alpha * size / bias, beta=beta, bias=1.0, size=size)
    if bias != 1.0:
        y = ew.Multiply(y, scalar_like(y, bias**-beta))
    return nhwc(y)


HANDLERS: dict[str, Handler] = {
    "L2_NORMALIZATION": L2_NORMALIZATION,
    "LOCAL_RESPONSE_NORMALIZATION": LOCAL_RESPONSE_NORMALIZATION,
}
GRID_PRESERVING: frozenset[str] = frozenset()
