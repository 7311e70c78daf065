"""ONNX pooling → IR MaxPool-8/14, AvgPool-1/14, Reduce* (global pools); MaxUnpool as a scatter.

Cases AvgPool cannot express directly (dilations; ONNX's divisor for windows that
overhang the end in ceil mode with count_include_pad) become a window sum divided
by a constant count map, which needs static spatial dimensions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported
from converter.frontends.onnx.ops.conv import ir_auto_pad, per_axis, split_pads
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops import pooling as ops
from converter.ops import reduction
from converter.ops.conv import GroupConvolution, same_pads, window_output_dim
from converter.ops.core import Convert, ShapeOf, const
from converter.ops.indexing import Gather, ScatterElementsUpdate
from converter.ops.shape import Broadcast, Concat, Pad, Reshape


@dataclass(frozen=True)
class Window:
    """An ONNX pooling window, attributes resolved per spatial axis."""

    kernel: list[int]
    strides: list[int]
    dilations: list[int]
    pads_begin: list[int]
    pads_end: list[int]
    auto_pad: str  # IR spelling
    ceil: bool

    @property
    def rounding_type(self) -> str:
        return "ceil_torch" if self.ceil and self.auto_pad == "explicit" else "floor"

    @property
    def volume(self) -> int:
        return int(np.prod(self.kernel))

    def ir_attrs(self) -> dict:
        return dict(
            strides=self.strides,
            pads_begin=self.pads_begin,
            pads_end=self.pads_end,
            kernel=self.kernel,
            rounding_type=self.rounding_type,
            auto_pad=self.auto_pad,
        )


def make_window(
    kernel_shape: Sequence[int] | None,
    strides: Sequence[int] | None,
    dilations: Sequence[int] | None,
    pads: Sequence[int] | None,
    auto_pad: str,
    ceil_mode: int,
) -> Window:
    if not kernel_shape:
        raise Unsupported("kernel_shape is required")
    count = len(kernel_shape)
    pad_mode = ir_auto_pad(auto_pad)
    begin, end = split_pads(pads, count) if pad_mode == "explicit" else ([0] * count, [0] * count)
    return Window(
        kernel=[int(k) for k in kernel_shape],
        strides=per_axis(strides, count, 1, "strides"),
        dilations=per_axis(dilations, count, 1, "dilations"),
        pads_begin=begin,
        pads_end=end,
        auto_pad=pad_mode,
        ceil=bool(ceil_mode),
    )


def static_spatial(x: Value, what: str) -> list[int]:
    dims = x.shape.dims
    if dims is None or any(d is None for d in dims[2:]):
        raise Unsupported(f"{what} needs static spatial dimensions")
    return list(dims[2:])  # type: ignore[arg-type]


def explicit_window(window: Window, sizes: list[int]) -> Window:
    """The same window with auto_pad resolved into explicit pads for these input sizes."""
    if window.auto_pad == "explicit":
        return window
    if window.auto_pad == "valid":
        return Window(window.kernel, window.strides, window.dilations, [0] * len(sizes), [0] * len(sizes), "explicit", False)
    upper = window.auto_pad == "same_upper"
    split = [same_pads(n, k, s, d, upper) for n, k, s, d in zip(sizes, window.kernel, window.strides, window.dilations)]
    return Window(window.kernel, window.strides, window.dilations, [p[0] for p in split], [p[1] for p in split], "explicit", False)


def _axis_counts(size: int, window: Window, axis: int, include_pad: bool) -> np.ndarray:
    """How many taps of each output window fall on counted positions along one axis."""
    kernel, stride, dilation = window.kernel[axis], window.strides[axis], window.dilations[axis]
    begin, end = window.pads_begin[axis], window.pads_end[axis]
    length = window_output_dim(size, kernel, stride, dilation, begin, end, "explicit", window.rounding_type)
    assert length is not None
    low, high = (-begin, size + end) if include_pad else (0, size)
    starts = np.arange(length) * stride - begin
    taps = starts[:, None] + np.arange(kernel)[None, :] * dilation
    return ((taps >= low) & (taps < high)).sum(axis=1)


def count_map(sizes: list[int], window: Window, include_pad: bool) -> np.ndarray:
    """ONNX's divisor of every output window: a [1, 1, out...] array (it is separable per axis)."""
    result = np.ones((1, 1), dtype=np.int64)
    for axis, size in enumerate(sizes):
        counts = _axis_counts(size, window, axis, include_pad)
        result = result[..., None] * counts
    return result


def window_sum(x: Value, window: Window, sizes: list[int]) -> Value:
    """Sum over each (explicit) window, zeros outside the input, as a depthwise convolution."""
    channels = x.shape[1]
    if channels is None:
        raise Unsupported("this pooling needs a static channel count")
    extents = [(k - 1) * d + 1 for k, d in zip(window.kernel, window.dilations)]
    outputs = [
        window_output_dim(n, k, s, d, b, e, "explicit", window.rounding_type)
        for n, k, s, d, b, e in zip(sizes, window.kernel, window.strides, window.dilations, window.pads_begin, window.pads_end)
    ]
    # Pad the end so that a floor-mode convolution yields the pooled length exactly.
    ends = [max((o - 1) * s + e - n - b, 0) for o, s, e, n, b in zip(outputs, window.strides, extents, sizes, window.pads_begin)]  # type: ignore[operator]
    ones = np.ones([channels, 1, 1, *window.kernel], dtype=x.element_type.numpy)
    return GroupConvolution(
        x,
        const(ones),
        strides=window.strides,
        pads_begin=window.pads_begin,
        pads_end=ends,
        dilations=window.dilations,
        auto_pad="explicit",
    )


def _avg_pool(x: Value, window: Window, exclude_pad: bool) -> Value:
    op = ops.AvgPool14 if window.rounding_type == "ceil_torch" else ops.AvgPool1
    return op(x, **window.ir_attrs(), **{"exclude-pad": exclude_pad})


def _overhangs(sizes: list[int], window: Window) -> bool:
    """Does some ceil-mode window reach past the end padding?"""
    for axis, size in enumerate(sizes):
        counts = _axis_counts(size, window, axis, include_pad=True)
        if (counts < window.kernel[axis]).any():
            return True
    return False


def MaxPool(
    ctx: OnnxContext,
    x: Value,
    *,
    auto_pad: str = "NOTSET",
    ceil_mode: int = 0,
    dilations: list[int] | None = None,
    kernel_shape: list[int] | None = None,
    pads: list[int] | None = None,
    storage_order: int = 0,
    strides: list[int] | None = None,
) -> list[Value]:
    window = make_window(kernel_shape, strides, dilations, pads, auto_pad, ceil_mode)
    op = ops.MaxPool14 if window.rounding_type == "ceil_torch" else ops.MaxPool8
    node = op.node(x, **window.ir_attrs(), dilations=window.dilations, index_element_type=ElementType.i64, axis=0)
    values, indices = node.outputs
    wants_indices = len(ctx.node.output) > 1 and bool(ctx.node.output[1])
    if not wants_indices:
        return [values]
    if storage_order not in (0, 1):
        raise Unsupported(f"storage_order={storage_order}")
    if storage_order == 1:
        indices = column_major_indices(indices, static_spatial(x, "MaxPool indices with storage_order=1"))
    return [values, indices]


def _i64(value: int) -> Value:
    return const(np.array(value, dtype=np.int64))


def column_major_indices(indices: Value, sizes: list[int]) -> Value:
    """Row-major flat indices (n*C + c)*S + s → (n*C + c)*S + column-major position of s."""
    volume = int(np.prod(sizes))
    plane = ew.Divide(indices, _i64(volume))
    rest = ew.Subtract(indices, ew.Multiply(plane, _i64(volume)))
    result = ew.Multiply(plane, _i64(volume))
    row_stride = volume
    column_stride = 1
    for size in sizes:
        row_stride //= size
        coordinate = ew.Divide(rest, _i64(row_stride))
        rest = ew.Subtract(rest, ew.Multiply(coordinate, _i64(row_stride)))
        result = ew.Add(result, ew.Multiply(coordinate, _i64(column_stride)))
        column_stride *= size
    return result


def AveragePool(
    ctx: OnnxContext,
    x: Value,
    *,
    auto_pad: str = "NOTSET",
    ceil_mode: int = 0,
    count_include_pad: int = 0,
    dilations: list[int] | None = None,
    kernel_shape: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Value:
    window = make_window(kernel_shape, strides, dilations, pads, auto_pad, ceil_mode)
    include_pad = bool(count_include_pad)
    if any(d != 1 for d in window.dilations):
        sizes = static_spatial(x, "AveragePool with dilations")
        window = explicit_window(window, sizes)
        total = window_sum(x, window, sizes)
        return ew.Divide(total, const(count_map(sizes, window, include_pad).astype(x.element_type.numpy)))
    if not (include_pad and window.rounding_type == "ceil_torch"):
        return _avg_pool(x, window, exclude_pad=not include_pad)
    if not any(window.pads_begin + window.pads_end):
        return _avg_pool(x, window, exclude_pad=True)  # no padding: ONNX counts the taps inside the input
    sizes = static_spatial(x, "AveragePool with ceil_mode, count_include_pad and pads")
    average = _avg_pool(x, window, exclude_pad=False)
    if not _overhangs(sizes, window):
        return average
    # OpenVINO divides by the kernel volume; ONNX by the taps inside the padded input.
    correction = window.volume / count_map(sizes, window, include_pad=True)
    return ew.Multiply(average, const(correction.astype(x.element_type.numpy)))


def LpPool(
    ctx: OnnxContext,
    x: Value,
    *,
    auto_pad: str = "NOTSET",
    ceil_mode: int = 0,
    dilations: list[int] | None = None,
    kernel_shape: list[int] | None = None,
    p: int | float = 2,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Value:
    window = make_window(kernel_shape, strides, dilations, pads, auto_pad, ceil_mode)
    powered = lp_power(x, p)
    if any(d != 1 for d in window.dilations):
        sizes = static_spatial(x, "LpPool with dilations")
        return lp_root(window_sum(powered, explicit_window(window, sizes), sizes), p)
    average = _avg_pool(powered, window, exclude_pad=False)
    if window.rounding_type == "ceil_torch" and not any(window.pads_begin + window.pads_end):
        # Without padding OpenVINO divides an overhanging window by its taps inside the input.
        sizes = static_spatial(x, "LpPool with ceil_mode and no pads")
        divisor = count_map(sizes, window, include_pad=False)
    else:
        divisor = np.array(window.volume)  # with exclude-pad=false and padding: the kernel volume
    return lp_root(ew.Multiply(average, const(divisor.astype(x.element_type.numpy))), p)


def lp_power(x: Value, p: int | float) -> Value:
    if p <= 0:
        raise Unsupported(f"p={p}")
    if p == 1:
        return ew.Abs(x)
    if p == 2:
        return ew.Multiply(x, x)
    return ew.Power(ew.Abs(x), const(np.array(p, dtype=x.element_type.numpy)))


def lp_root(total: Value, p: int | float) -> Value:
    if p == 1:
        return total
    if p == 2:
        return ew.Sqrt(total)
    return ew.Power(total, const(np.array(1.0 / p, dtype=total.element_type.numpy)))


def spatial_axes(x: Value) -> Value:
    rank = x.shape.rank
    if rank is None:
        raise Unsupported("global pooling needs a known input rank")
    return const(np.arange(2, rank, dtype=np.int64))


def GlobalAveragePool(ctx: OnnxContext, x: Value) -> Value:
    return reduction.ReduceMean(x, spatial_axes(x), keep_dims=True)


def GlobalMaxPool(ctx: OnnxContext, x: Value) -> Value:
    return reduction.ReduceMax(x, spatial_axes(x), keep_dims=True)


def GlobalLpPool(ctx: OnnxContext, x: Value, *, p: int | float = 2) -> Value:
    axes = spatial_axes(x)
    if p == 1:
        return reduction.ReduceL1(x, axes, keep_dims=True)
    if p == 2:
        return reduction.ReduceL2(x, axes, keep_dims=True)
    return lp_root(reduction.ReduceSum(lp_power(x, p), axes, keep_dims=True), p)


def MaxUnpool(
    ctx: OnnxContext,
    x: Value,
    indices: Value,
    output_shape: Value | None = None,
    *,
    kernel_shape: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Value:
    """Zeros of the unpooled shape with x scattered at the (whole-tensor flat) indices.

    The indices address the default unpooled shape; an output_shape only adds zeros at the end.
    """
    window = make_window(kernel_shape, strides, None, pads, "NOTSET", 0)
    shape = _unpooled_shape(x, window)
    flat = const(np.array([-1], dtype=np.int64))
    zeros = Broadcast(const(np.zeros((), dtype=x.element_type.numpy)), shape)
    scattered = ScatterElementsUpdate(
        Reshape(zeros, flat, special_zero=False),
        Reshape(indices, flat, special_zero=False),
        Reshape(x, flat, special_zero=False),
        const(np.array(0, dtype=np.int64)),
        reduction="none",
        use_init_val=True,
    )
    y = Reshape(scattered, shape, special_zero=False)
    if output_shape is None:
        return y
    if output_shape.element_type is not ElementType.i64:
        output_shape = Convert(output_shape, destination_type=ElementType.i64)
    missing = ew.Subtract(output_shape, shape)
    begin = const(np.zeros(len(window.kernel) + 2, dtype=np.int64))
    return Pad(y, begin, missing, const(np.zeros((), dtype=x.element_type.numpy)), pad_mode="constant")


def _unpooled_shape(x: Value, window: Window) -> Value:
    """[N, C, (size - 1) * stride + kernel - pads...] as an i64 vector."""
    offsets = [k - s - b - e for k, s, b, e in zip(window.kernel, window.strides, window.pads_begin, window.pads_end)]
    dims = x.shape.dims
    if dims is not None and all(d is not None for d in dims):
        spatial = [d * s + o for d, s, o in zip(dims[2:], window.strides, offsets)]  # type: ignore[operator]
        return const(np.array([*dims[:2], *spatial], dtype=np.int64))
    count = len(window.kernel)
    shape = ShapeOf(x, output_type=ElementType.i64)
    axis = const(np.array(0, dtype=np.int64))
    leading = Gather(shape, const(np.array([0, 1], dtype=np.int64)), axis)
    sizes = Gather(shape, const(np.arange(2, 2 + count, dtype=np.int64)), axis)
    scaled = ew.Multiply(sizes, const(np.array(window.strides, dtype=np.int64)))
    spatial_value = ew.Add(scaled, const(np.array(offsets, dtype=np.int64)))
    return Concat(leading, spatial_value, axis=0)


HANDLERS: dict[str, Handler] = {
    "MaxUnpool": MaxUnpool,
    "MaxPool": MaxPool,
    "AveragePool": AveragePool,
    "LpPool": LpPool,
    "GlobalAveragePool": GlobalAveragePool,
    "GlobalMaxPool": GlobalMaxPool,
    "GlobalLpPool": GlobalLpPool,
}
