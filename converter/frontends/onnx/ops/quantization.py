"""ONNX quantization ops → IR element-wise arithmetic, exact to ONNX's integer semantics.

- DequantizeLinear: Convert + Subtract(zero point) + Multiply(scale). With a constant input this is
  OpenVINO's compressed-weight pattern (`Const i8 → Convert f32 → Subtract → Multiply`), which
  fold_constants keeps.
- QuantizeLinear: Divide + Round(half_to_even) + Add(zero point) + Clamp + Convert (FakeQuantize
  would recompute the quotient from its interval and round differently at ties); to float8: Divide +
  Add + a NaN-keeping Clamp when `saturate` + Convert.
- QLinearMatMul / QLinearConv / MatMulInteger / ConvInteger: the integer products run as float32
  MatMul / Convolution on (value - zero point), exact while every partial sum stays below 2^24, then
  requantize like onnxruntime: round(accumulator * (scale_a * scale_b / scale_y)) + zero point.
- DynamicQuantizeLinear expands into its ONNX function body (which uses QuantizeLinear).
- 4-bit types (int4 / uint4 / float4 E2M1, OpenVINO's packed i4 / u4 / f4e2m1): quantized like the
  8-bit ones (integers clamped to [-8, 7] / [0, 15]; float4 saturated to ±6, having no infinities);
  dequantized by the same Convert + Subtract + Multiply (OpenVINO's int4 weight-compression pattern).
"""

from __future__ import annotations

import numpy as np

from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported, element_type
from converter.frontends.onnx.ops.conv import Conv, channel_vector
from converter.frontends.onnx.ops.shape import checked_axis, known_rank
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops.activation import Clamp
from converter.ops.core import Convert, const
from converter.ops.indexing import Gather
from converter.ops.matmul import MatMul
from converter.ops.shape import Reshape

E = ElementType
F32 = ElementType.f32

FLOAT8_MAX = {E.f8e4m3: 448.0, E.f8e5m2: 57344.0}
"""The largest finite value of each float8 type (what `saturate` clamps to)."""

FLOAT4_MAX = 6.0
"""The largest finite value of float4 E2M1 (which has no infinities or NaN)."""

INTEGER_QUANTIZED = (E.i8, E.u8, E.i16, E.u16, E.i4, E.u4)
DEQUANTIZABLE = (*INTEGER_QUANTIZED, E.i32, *FLOAT8_MAX, E.f4e2m1)
EIGHT_BIT = (E.i8, E.u8)


# ------------------------------------------------------------------ shared helpers


def as_float32(value: Value) -> Value:
    return value if value.element_type is F32 else Convert(value, destination_type=F32)


def to_float8(x: Value, target: ElementType, saturate: int) -> Value:
    """Convert to float8; with `saturate`, out-of-range values (infinities too) clamp to the largest
    finite value, NaN stays NaN. OpenVINO's Convert itself gives NaN (e4m3) or infinity (e5m2)."""
    if x.element_type in FLOAT8_MAX:
        x = as_float32(x)
    if saturate:
        limit = FLOAT8_MAX[target]
        clamped = Clamp(x, min=-limit, max=limit)
        x = ew.Select(ew.IsNaN(x), x, clamped) if x.element_type.is_float else clamped
    return Convert(x, destination_type=target)


def to_float4(x: Value) -> Value:
    """Convert to float4 E2M1 the way ONNX's reference (ml_dtypes) does: round to nearest even,
    saturate to ±6 (infinities too); NaN, which E2M1 cannot hold, becomes -0 as ml_dtypes makes
    it (OpenVINO's Convert alone would give ±6)."""
    if x.element_type is not F32 and not x.element_type.is_float:
        x = as_float32(x)
    clamped = Clamp(x, min=-FLOAT4_MAX, max=FLOAT4_MAX)
    if x.element_type.is_float:
        negative_zero = const(np.array(-0.0, dtype=x.element_type.numpy))
        clamped = ew.Select(ew.IsNaN(x), negative_zero, clamped)
    return Convert(clamped, destination_type=E.f4e2m1)


def to_nibble_integer(x: Value, target: ElementType) -> Value:
    """Convert to int4 / uint4 as ONNX's reference does: a float truncates toward zero, then the
    integer keeps its low 4 bits (two's complement), like every integer narrowing in ONNX's Cast.
    (OpenVINO's Convert from a float straight to u4 clamps negatives to 0 instead.)"""
    if x.element_type.is_float:
        x = Convert(x, destination_type=E.i32)
    return Convert(x, destination_type=target)


def _reshaped(value: Value, shape: list[int]) -> Value:
    array = value.const
    if array is not None:
        return const(np.asarray(array).reshape(shape))
    return Reshape(value, const(np.array(shape, dtype=np.int64)), special_zero=False)


def _is_zero(value: Value | None) -> bool:
    """True when absent or a constant of zeros (its Subtract/Add can be left out)."""
    if value is None:
        return True
    array = value.const
    return array is not None and not np.any(np.asarray(array, dtype=np.float32))


def _along_axis(param: Value, x: Value, axis: int, block_size: int, op: str) -> Value:
    """A scale or zero point shaped to broadcast against x: per-tensor as a scalar, per-axis [C] as
    [C, 1, ...] at `axis`, blocked (same rank as x) with each entry repeated block_size times."""
    rank = param.shape.rank
    if rank is None:
        raise Unsupported(f"{op}: the rank of the scale / zero point is unknown")
    if block_size > 0:
        return _expand_blocks(param, x, axis, block_size, op)
    if block_size < 0:
        raise Unsupported(f"{op}: block_size={block_size}")
    if rank == 0:
        return param
    if rank == 1 and param.shape[0] == 1:
        return _reshaped(param, [])
    if rank == 1:
        x_rank = known_rank(x, op)
        axis = checked_axis(axis, x_rank, op)
        return _reshaped(param, [-1] + [1] * (x_rank - 1 - axis))
    raise Unsupported(f"{op}: a {rank}-D scale / zero point needs block_size")


def _expand_blocks(param: Value, x: Value, axis: int, block_size: int, op: str) -> Value:
    x_rank = known_rank(x, op)
    if param.shape.rank != x_rank:
        raise Unsupported(f"{op}: blocked scale of rank {param.shape.rank} for an input of rank {x_rank}")
    axis = checked_axis(axis, x_rank, op)
    size = x.shape[axis]
    if size is None:
        raise Unsupported(f"{op}: blocked quantization along a dynamic axis")
    blocks = -(-size // block_size)
    if param.shape[axis] not in (None, blocks):
        raise Unsupported(f"{op}: {param.shape[axis]} blocks along axis {axis}, expected {blocks}")
    indices = np.arange(size, dtype=np.int64) // block_size
    array = param.const
    if array is not None:
        return const(np.take(array, indices, axis=axis))
    return Gather(param, const(indices), const(np.array(axis, dtype=np.int64)))


def _quantize_to_integer(q: Value, zero_point: Value | None, target: ElementType) -> Value:
    """round_half_to_even(q) + zero point, saturated to `target` (q in float32)."""
    q = ew.Round(q, mode="half_to_even")
    if not _is_zero(zero_point):
        q = ew.Add(q, as_float32(zero_point))  # type: ignore[arg-type]
    info = target.iinfo()
    return Convert(Clamp(q, min=float(info.min), max=float(info.max)), destination_type=target)


# ------------------------------------------------------------------ DequantizeLinear / QuantizeLinear


def DequantizeLinear(
    ctx: OnnxContext,
    x: Value,
    x_scale: Value,
    x_zero_point: Value | None = None,
    *,
    axis: int = 1,
    block_size: int = 0,
    output_dtype: int = 0,
) -> Value:
    if x.element_type not in DEQUANTIZABLE:
        raise Unsupported(f"DequantizeLinear of {x.element_type.value} input")
    output = element_type(output_dtype) if output_dtype else x_scale.element_type
    scale = as_float32(_along_axis(x_scale, x, axis, block_size, "DequantizeLinear"))
    zero_point = None if _is_zero(x_zero_point) else _along_axis(x_zero_point, x, axis, block_size, "DequantizeLinear")  # type: ignore[arg-type]
    if zero_point is not None and x.element_type is E.i32:
        x, zero_point = ew.Subtract(x, zero_point), None  # int32 subtraction, as ONNX: exact beyond 2^24
    y = as_float32(x)
    if zero_point is not None:
        y = ew.Subtract(y, as_float32(zero_point))
    y = ew.Multiply(y, scale)
    return y if output is F32 else Convert(y, destination_type=output)


def QuantizeLinear(
    ctx: OnnxContext,
    x: Value,
    y_scale: Value,
    y_zero_point: Value | None = None,
    *,
    axis: int = 1,
    block_size: int = 0,
    output_dtype: int = 0,
    precision: int = 0,
    saturate: int = 1,
) -> Value:
    target = _quantized_type(y_zero_point, output_dtype)
    if precision and element_type(precision) is not F32:
        raise Unsupported(f"QuantizeLinear with the division in {element_type(precision).value} (float32 only)")
    # float16 / bfloat16 inputs and scales are divided in float32, as onnxruntime does
    scale = as_float32(_along_axis(y_scale, x, axis, block_size, "QuantizeLinear"))
    zero_point = None if _is_zero(y_zero_point) else _along_axis(y_zero_point, x, axis, block_size, "QuantizeLinear")  # type: ignore[arg-type]
    q = ew.Divide(as_float32(x), scale)
    if target in FLOAT8_MAX or target is E.f4e2m1:
        if zero_point is not None:
            q = ew.Add(q, as_float32(zero_point))
        return to_float8(q, target, saturate) if target in FLOAT8_MAX else to_float4(q)
    return _quantize_to_integer(q, zero_point, target)


def _quantized_type(zero_point: Value | None, output_dtype: int) -> ElementType:
    declared = element_type(output_dtype) if output_dtype else None
    if zero_point is not None:
        if declared is not None and declared is not zero_point.element_type:
            raise Unsupported(f"output_dtype {declared.value} differs from the zero point's {zero_point.element_type.value}")
        declared = zero_point.element_type
    target = declared or E.u8
    if target not in INTEGER_QUANTIZED and target not in FLOAT8_MAX and target is not E.f4e2m1:
        raise Unsupported(f"QuantizeLinear to {target.value}")
    return target


# ------------------------------------------------------------------ integer MatMul / Conv


def _centered(x: Value, zero_point: Value | None, op: str) -> Value:
    """x - zero point in float32 (exact for 8-bit values)."""
    if x.element_type not in EIGHT_BIT:
        raise Unsupported(f"{op} of {x.element_type.value} input (int8 / uint8 only)")
    y = as_float32(x)
    return y if _is_zero(zero_point) else ew.Subtract(y, as_float32(zero_point))  # type: ignore[arg-type]


def _rows(value: Value | None) -> Value | None:
    """A per-row vector [M] of a matrix operand as [M, 1]; scalars and other shapes as they are."""
    if value is None or value.shape.rank != 1 or value.shape[0] == 1:
        return value
    return _reshaped(value, [-1, 1])


def _integer_matmul(a: Value, a_zero_point: Value | None, b: Value, b_zero_point: Value | None, op: str) -> Value:
    a_centered = _centered(a, _rows(a_zero_point) if a.shape.rank != 1 else a_zero_point, op)
    return MatMul(a_centered, _centered(b, b_zero_point, op), transpose_a=False, transpose_b=False)


def _requantize(accumulator: Value, multiplier: Value, zero_point: Value) -> Value:
    if zero_point.element_type not in EIGHT_BIT:
        raise Unsupported(f"output zero point of type {zero_point.element_type.value} (int8 / uint8 only)")
    # Round is the identity on the integral accumulator; it keeps the scale out of the weights, where
    # OpenVINO, onnxruntime and fuse_linear would fold a Multiply after a Convolution / MatMul (inexactly)
    barrier = ew.Round(accumulator, mode="half_to_even")
    return _quantize_to_integer(ew.Multiply(barrier, multiplier), zero_point, zero_point.element_type)


def _multiplier(scale_a: Value, scale_b: Value, scale_y: Value) -> Value:
    """scale_a * scale_b / scale_y in float32, the order onnxruntime computes it in."""
    return ew.Divide(ew.Multiply(as_float32(scale_a), as_float32(scale_b)), as_float32(scale_y))


def MatMulInteger(ctx: OnnxContext, A: Value, B: Value, a_zero_point: Value | None = None, b_zero_point: Value | None = None) -> Value:
    return Convert(_integer_matmul(A, a_zero_point, B, b_zero_point, "MatMulInteger"), destination_type=E.i32)


def QLinearMatMul(
    ctx: OnnxContext,
    a: Value,
    a_scale: Value,
    a_zero_point: Value,
    b: Value,
    b_scale: Value,
    b_zero_point: Value,
    y_scale: Value,
    y_zero_point: Value,
) -> Value:
    accumulator = _integer_matmul(a, a_zero_point, b, b_zero_point, "QLinearMatMul")
    a_rows = _rows(a_scale) if a.shape.rank != 1 else a_scale
    return _requantize(accumulator, _multiplier(a_rows, b_scale, y_scale), y_zero_point)  # type: ignore[arg-type]


def _output_channels(w: Value, value: Value | None) -> Value | None:
    """A per-output-channel weight parameter [M] as [M, 1, ...] against the weights."""
    if value is None or value.shape.rank != 1 or value.shape[0] == 1:
        return value
    return _reshaped(value, [-1] + [1] * (known_rank(w, "convolution") - 1))


def _integer_conv(
    ctx: OnnxContext, x: Value, w: Value, x_zero_point: Value | None, w_zero_point: Value | None, op: str, **window: object
) -> Value:
    # padding after the zero point is subtracted: ONNX pads the quantized input with its zero point
    x_centered = _centered(x, x_zero_point, op)
    w_centered = _centered(w, _output_channels(w, w_zero_point), op)
    return Conv(ctx, x_centered, w_centered, **window)  # type: ignore[arg-type]


def ConvInteger(
    ctx: OnnxContext,
    x: Value,
    w: Value,
    x_zero_point: Value | None = None,
    w_zero_point: Value | None = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: list[int] | None = None,
    group: int = 1,
    kernel_shape: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Value:
    window = dict(auto_pad=auto_pad, dilations=dilations, group=group, kernel_shape=kernel_shape, pads=pads, strides=strides)
    return Convert(_integer_conv(ctx, x, w, x_zero_point, w_zero_point, "ConvInteger", **window), destination_type=E.i32)


def QLinearConv(
    ctx: OnnxContext,
    x: Value,
    x_scale: Value,
    x_zero_point: Value,
    w: Value,
    w_scale: Value,
    w_zero_point: Value,
    y_scale: Value,
    y_zero_point: Value,
    B: Value | None = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: list[int] | None = None,
    group: int = 1,
    kernel_shape: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Value:
    window = dict(auto_pad=auto_pad, dilations=dilations, group=group, kernel_shape=kernel_shape, pads=pads, strides=strides)
    accumulator = _integer_conv(ctx, x, w, x_zero_point, w_zero_point, "QLinearConv", **window)
    rank = known_rank(accumulator, "QLinearConv")
    if B is not None:
        accumulator = ew.Add(accumulator, channel_vector(as_float32(B), rank))  # int32 bias joins the accumulator
    w_channels = channel_vector(w_scale, rank) if w_scale.shape.rank == 1 and w_scale.shape[0] != 1 else w_scale
    return _requantize(accumulator, _multiplier(x_scale, w_channels, y_scale), y_zero_point)


HANDLERS: dict[str, Handler] = {
    "DequantizeLinear": DequantizeLinear,
    "QuantizeLinear": QuantizeLinear,
    "MatMulInteger": MatMulInteger,
    "QLinearMatMul": QLinearMatMul,
    "ConvInteger": ConvInteger,
    "QLinearConv": QLinearConv,
}
