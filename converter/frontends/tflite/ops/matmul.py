"""TFLite FULLY_CONNECTED → IR MatMul (weights [N, K] read transposed) + bias + activation;
BATCH_MATMUL → IR MatMul (batch dims broadcast, adj_x / adj_y transpose the last two axes)."""

from __future__ import annotations

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import fused_activation, i64
from converter.frontends.tflite.tensors import Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.matmul import MatMul
from converter.ops.shape import Reshape


def FULLY_CONNECTED(
    ctx: TFLiteContext,
    x: Value,
    weights: Value,
    bias: Value | None = None,
    *,
    fused_activation_function: str = "NONE",
    weights_format: str = "DEFAULT",
    keep_num_dims: bool = False,
    asymmetric_quantize_inputs: bool = False,
    quantized_bias_type: str = "FLOAT32",
) -> Value:
    """y = x · weightsᵀ + bias over the last axis of x. Without keep_num_dims TFLite first folds
    every other axis into one: the result is [rows, N]. (asymmetric_quantize_inputs only
    changes how hybrid kernels round; the IR computes the real product.)"""
    if weights_format != "DEFAULT":
        raise Unsupported(f"weights_format {weights_format}")
    if fused_activation_function in ("TANH", "SIGN_BIT"):
        raise Unsupported(f"fused activation {fused_activation_function} (TFLite's kernel refuses it too)")
    if weights.shape.rank != 2 or weights.shape[1] is None:
        raise Unsupported(f"weights of shape {weights.shape}, expected [N, K]")
    depth = weights.shape[1]
    if not keep_num_dims and x.shape.rank != 2:
        x = Reshape(x, i64([-1, depth]), special_zero=False)
    y = MatMul(x, weights, transpose_a=False, transpose_b=True)
    if bias is not None:
        y = ew.Add(y, bias)
    return fused_activation(y, fused_activation_function)


def BATCH_MATMUL(
    ctx: TFLiteContext, x: Value, y: Value, *, adj_x: bool = False, adj_y: bool = False, asymmetric_quantize_inputs: bool = False
) -> Value:
    """x · y over the last two axes, the leading ones broadcast. (asymmetric_quantize_inputs only
    changes how hybrid kernels round; the IR computes the real product.)"""
    for operand in (x, y):
        if operand.shape.rank is not None and operand.shape.rank < 2:
            raise Unsupported(f"BATCH_MATMUL of a rank-{operand.shape.rank} operand")
    return MatMul(x, y, transpose_a=adj_x, transpose_b=adj_y)


HANDLERS: dict[str, Handler] = {"FULLY_CONNECTED": FULLY_CONNECTED, "BATCH_MATMUL": BATCH_MATMUL}
GRID_PRESERVING: frozenset[str] = frozenset()
