"""ONNX handlers for the vision/signal family: GridSample, Unique, Col2Im, RoiAlign, DFT and STFT."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops import misc as misc_ops
from converter.ops import shape as shape_ops
from converter.ops import vision_signal as ops
from converter.ops.core import Convert, ShapeOf, const
from converter.ops.indexing import Gather, Slice
from converter.ops.spec import const_ints

# ---------------------------------------------------------------- helpers


def _i64(value: Value) -> Value:
    return value if value.element_type is ElementType.i64 else Convert(value, destination_type=ElementType.i64)


def _vector(value: Value) -> Value:
    """A 1-element i64 vector from a scalar or 1-element value."""
    array = value.const
    if array is not None:
        return const(np.asarray(array, dtype=np.int64).reshape(1))
    return shape_ops.Reshape(_i64(value), const(np.array([1], dtype=np.int64)), special_zero=False)


def _scalar(value: Value) -> Value:
    """A 0-D i64 value from a scalar or 1-element value."""
    array = value.const
    if array is not None:
        return const(np.asarray(array, dtype=np.int64).reshape(()))
    return shape_ops.Reshape(_i64(value), const(np.zeros((0,), dtype=np.int64)), special_zero=False)


def _zeros_like(x: Value) -> Value:
    zero = np.zeros((), dtype=x.element_type.numpy)
    if x.shape.is_static:
        return const(np.zeros(x.shape.static, dtype=zero.dtype))
    return shape_ops.Broadcast(const(zero), ShapeOf(x, output_type=ElementType.i64))


def _dim(x: Value, axis: int) -> Value:
    """Dim `axis` of x as a 0-D i64 value."""
    dim = x.shape[axis]
    if dim is not None:
        return const(np.int64(dim))
    return Gather(ShapeOf(x, output_type=ElementType.i64), const(np.int64(axis)), const(np.int64(0)))


# ---------------------------------------------------------------- GridSample

GRID_SAMPLE_MODES = {"bilinear": "bilinear", "linear": "bilinear", "bicubic": "bicubic", "cubic": "bicubic", "nearest": "nearest"}
PADDING_MODES = ("zeros", "border", "reflection")


def GridSample(
    ctx: OnnxContext, x: Value, grid: Value, *, align_corners: int = 0, mode: str = "bilinear", padding_mode: str = "zeros"
) -> Value:
    rank = x.shape.rank if x.shape.rank is not None else grid.shape.rank
    if rank is None:
        raise Unsupported("GridSample needs an input of known rank (OpenVINO GridSample-9 is 2-D only)")
    if rank != 4:
        raise Unsupported(f"GridSample with {rank - 2}-D spatial data: OpenVINO GridSample-9 samples 2-D images only")
    if mode not in GRID_SAMPLE_MODES:
        raise Unsupported(f"GridSample mode {mode!r} is not supported")
    if padding_mode not in PADDING_MODES:
        raise Unsupported(f"GridSample padding_mode {padding_mode!r} is not supported")
    return ops.GridSample(x, grid, align_corners=bool(align_corners), mode=GRID_SAMPLE_MODES[mode], padding_mode=padding_mode)


# ---------------------------------------------------------------- Unique


def Unique(ctx: OnnxContext, x: Value, *, axis: int | None = None, sorted: int = 1) -> list[Value]:
    options = {"sorted": bool(sorted), "index_element_type": ElementType.i64, "count_element_type": ElementType.i64}
    if axis is None:
        return list(ops.Unique.node(x, **options).outputs)
    rank = x.shape.rank
    if rank is None:
        raise Unsupported("Unique over an axis needs an input of known rank")
    if not -rank <= axis < rank:
        raise Unsupported(f"Unique axis {axis} is out of range for rank {rank}")
    axis %= rank
    # OpenVINO's CPU plugin garbles the indices of 1-byte slices: compare them as i32 (same order).
    data = Convert(x, destination_type=ElementType.i32) if x.element_type.itemsize == 1 else x
    if axis != 0:
        # The CPU plugin also misses duplicate slices along axes other than 0: move the axis to the front.
        order = const(np.array([axis] + [i for i in range(rank) if i != axis], dtype=np.int64))
        data = shape_ops.Transpose(data, order)
    values, first, reverse, counts = ops.Unique.node(data, const(np.int64(0)), **options).outputs
    if axis != 0:
        values = shape_ops.Transpose(values, const(np.array(list(range(1, axis + 1)) + [0] + list(range(axis + 1, rank)), dtype=np.int64)))
    if values.element_type is not x.element_type:
        values = Convert(values, destination_type=x.element_type)
    return [values, first, reverse, counts]


# ---------------------------------------------------------------- Col2Im


def Col2Im(
    ctx: OnnxContext,
    x: Value,
    image_shape: Value,
    block_shape: Value,
    *,
    dilations: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Value:
    spatial = image_shape.shape[0] if image_shape.shape.rank == 1 else None
    if spatial != 2:
        raise Unsupported(f"Col2Im with {spatial if spatial is not None else 'unknown'} spatial dims: OpenVINO Col2Im-15 is 2-D only")
    pads = pads or [0, 0, 0, 0]
    return ops.Col2Im(
        x,
        _i64(image_shape),
        _i64(block_shape),
        strides=strides or [1, 1],
        dilations=dilations or [1, 1],
        pads_begin=pads[:2],
        pads_end=pads[2:],
    )


# ---------------------------------------------------------------- RoiAlign

ALIGNED_MODES = {"half_pixel": "half_pixel_for_nn", "output_half_pixel": "asymmetric"}
"""ONNX x * scale - 0.5 is OpenVINO's half_pixel_for_nn (its half_pixel is (x + 0.5) * scale - 0.5)."""


def RoiAlign(
    ctx: OnnxContext,
    x: Value,
    rois: Value,
    batch_indices: Value,
    *,
    coordinate_transformation_mode: str = "half_pixel",
    mode: str = "avg",
    output_height: int = 1,
    output_width: int = 1,
    sampling_ratio: int = 0,
    spatial_scale: float = 1.0,
) -> Value:
    # Before opset 16 there was no attribute and no half-pixel shift.
    transform = coordinate_transformation_mode if ctx.opset >= 16 else "output_half_pixel"
    if transform not in ALIGNED_MODES:
        raise Unsupported(f"RoiAlign coordinate_transformation_mode {transform!r} is not supported")
    if mode not in ("avg", "max"):
        raise Unsupported(f"RoiAlign mode {mode!r} is not supported")
    if mode == "max":
        # onnxruntime (and ONNX's reference) take the max of the weighted corner values of each
        # sample; OpenVINO takes the max of the interpolated samples.
        raise Unsupported("RoiAlign mode 'max': ONNX's max of weighted corners differs from OpenVINO ROIAlign's max of samples")
    return ops.ROIAlign(
        x,
        rois,
        batch_indices,
        pooled_h=output_height,
        pooled_w=output_width,
        sampling_ratio=sampling_ratio,
        spatial_scale=spatial_scale,
        mode=mode,
        aligned_mode=ALIGNED_MODES[transform],
    )


# ---------------------------------------------------------------- DFT


def DFT(
    ctx: OnnxContext,
    x: Value,
    dft_length: Value | None = None,
    axis_value: Value | None = None,
    *,
    axis: int = 1,
    inverse: int = 0,
    onesided: int = 0,
) -> Value:
    rank = x.shape.rank
    if rank is None or x.shape[-1] not in (1, 2):
        raise Unsupported("DFT needs an input of known rank whose last dim (real 1 / complex 2) is static")
    axes = _dft_axes(ctx, axis, axis_value, rank)
    length = None if dft_length is None else _vector(dft_length)
    is_real = x.shape[-1] == 1
    if onesided and inverse:
        if is_real:
            raise Unsupported("DFT with inverse=1 and onesided=1 needs a complex input")
        real = _along_last_signal_axis(_irdft, x, axes, length, rank, rank - 1)
        return shape_ops.Unsqueeze(real, const(np.int64(-1)))
    if onesided:
        if not is_real:
            raise Unsupported("DFT with onesided=1 needs a real input")
        real = shape_ops.Squeeze(x, const(np.array([-1], dtype=np.int64)))
        return _along_last_signal_axis(_rdft, real, axes, length, rank - 1, rank)
    complex_x = _with_zero_imaginary(x) if is_real else x
    sizes = [] if length is None else [length]
    return (ops.IDFT if inverse else ops.DFT)(complex_x, axes, *sizes)


# OpenVINO's CPU plugin mis-computes RDFT when signal_size zero-pads and IRDFT when the bins must be
# zero-padded (and fails on signal_size -1): the input is fitted to the transform length explicitly.


def _rdft(x: Value, axis: int, length: Value | None) -> Value:
    if length is not None:
        x = _fit_length(x, axis, length)
    return ops.RDFT(x, const(np.array([axis], dtype=np.int64)))


def _irdft(x: Value, axis: int, length: Value | None) -> Value:
    axes = const(np.array([axis], dtype=np.int64))
    if length is None:
        return ops.IRDFT(x, axes)
    bins = ew.Add(ew.Divide(length, const(np.array([2], dtype=np.int64))), const(np.array([1], dtype=np.int64)))
    return ops.IRDFT(_fit_length(x, axis, bins), axes, length)


def _fit_length(x: Value, axis: int, length: Value) -> Value:
    """x trimmed or zero-padded at the end of `axis` to `length` (a 1-element i64 vector)."""
    rank = x.shape.rank
    assert rank is not None
    one = const(np.array([1], dtype=np.int64))
    axis_vector = const(np.array([axis], dtype=np.int64))
    trimmed = Slice(x, const(np.array([0], dtype=np.int64)), length, one, axis_vector)
    missing = ew.Maximum(ew.Subtract(length, _vector(_dim(x, axis))), const(np.array([0], dtype=np.int64)))
    pads_end = shape_ops.Concat(const(np.zeros(axis, dtype=np.int64)), missing, const(np.zeros(rank - axis - 1, dtype=np.int64)), axis=0)
    zero = const(np.zeros((), dtype=x.element_type.numpy))
    return shape_ops.Pad(trimmed, const(np.zeros(rank, dtype=np.int64)), pads_end, zero, pad_mode="constant")


OnesidedFn = Callable[[Value, int, "Value | None"], Value]


def _along_last_signal_axis(transform: OnesidedFn, x: Value, axes: Value, length: Value | None, rank_in: int, rank_out: int) -> Value:
    """RDFT/IRDFT over one axis. OpenVINO's CPU plugin needs constant axes for them: a run-time axis is
    swapped with the last signal axis by Transposes around a constant-axis transform."""
    axis = const_ints(axes)
    if axis is not None:
        return transform(x, axis[0], length)
    last = rank_in - 2 if transform is _irdft else rank_in - 1
    transformed = transform(shape_ops.Transpose(x, _swap_order(axes, last, rank_in)), last, length)
    return shape_ops.Transpose(transformed, _swap_order(axes, last, rank_out))


def _swap_order(axis: Value, other: int, rank: int) -> Value:
    """The permutation of `rank` axes that swaps the run-time `axis` with `other`."""
    positions = const(np.arange(rank, dtype=np.int64))
    other_value = const(np.array([other], dtype=np.int64))
    at_other = ew.Select(ew.Equal(positions, other_value), axis, positions)
    return ew.Select(ew.Equal(positions, axis), other_value, at_other)


def _with_zero_imaginary(x: Value) -> Value:
    """[..., 1] real → [..., 2] complex with zero imaginary part."""
    return shape_ops.Concat(x, _zeros_like(x), axis=-1)


def _dft_axes(ctx: OnnxContext, axis: int, axis_value: Value | None, rank: int) -> Value:
    """The signal axis as a non-negative 1-element i64 vector (the IR counts negative axes differently)."""
    if ctx.opset < 20:
        chosen: int | None = axis
    elif axis_value is None:
        chosen = -2
    else:
        array = axis_value.const
        chosen = None if array is None else int(np.asarray(array).reshape(-1)[0])
    if chosen is not None:
        if not -rank <= chosen <= rank - 2 or chosen == -1:
            raise Unsupported(f"DFT axis {chosen} is out of range for rank {rank}")
        return const(np.array([chosen % rank], dtype=np.int64))
    assert axis_value is not None
    return ew.FloorMod(_vector(axis_value), const(np.array([rank], dtype=np.int64)))


# ---------------------------------------------------------------- STFT


def STFT(
    ctx: OnnxContext,
    signal: Value,
    frame_step: Value,
    window: Value | None = None,
    frame_length: Value | None = None,
    *,
    onesided: int = 1,
) -> Value:
    if signal.shape.rank != 3 or signal.shape[-1] is None:
        raise Unsupported("STFT needs a signal [batch, length, 1 or 2] with a static last dim")
    if signal.shape[-1] != 1:
        raise Unsupported("STFT of a complex signal: OpenVINO STFT-15 transforms real signals only")
    if not onesided:
        raise Unsupported("STFT with onesided=0: OpenVINO STFT-15 returns the onesided spectrum only")
    if window is None and frame_length is None:
        raise Unsupported("STFT needs a window or a frame_length")
    if frame_length is not None:
        frame_size = _scalar(frame_length)
    else:
        assert window is not None
        frame_size = _dim(window, 0)
    if window is None:
        ones = const(np.ones((), dtype=signal.element_type.numpy))
        window = shape_ops.Broadcast(ones, _vector(frame_size))
    real = shape_ops.Squeeze(signal, const(np.array([-1], dtype=np.int64)))
    return ops.STFT(real, window, frame_size, _scalar(frame_step), transpose_frames=False)


def AffineGrid(ctx: OnnxContext, theta: Value, size: Value, *, align_corners: int = 0) -> Value:
    """grid[n, (d,) h, w] = theta[n] @ [x_w, y_h, (z_d,) 1]: 2-D (theta [N, 2, 3], size [N, C, H, W],
    grid [N, H, W, 2]) or 3-D (theta [N, 3, 4], size [N, C, D, H, W], grid [N, D, H, W, 3]). The
    normalized coordinates of each spatial axis of length L are the pixel centres
    (2i + 1) / L - 1, or with align_corners the corners 2i / (L - 1) - 1 (-1 alone when L = 1).
    Built directly from broadcasts, as the sizes may be a run-time input (the ONNX function body
    squeezes a dynamic batch dimension, which no IR shape expresses)."""
    length = size.shape[0] if size.shape.rank == 1 else None
    if length not in (4, 5):
        raise Unsupported(f"AffineGrid needs a size input of 4 or 5 elements, got shape {size.shape}")
    spatial = length - 2  # 2 or 3
    element = theta.element_type
    zero, one, two = (const(np.array(v, dtype=element.numpy)) for v in (0, 1, 2))
    if size.element_type is not ElementType.i64:
        size = Convert(size, destination_type=ElementType.i64)
    terms: list[Value] = []
    # coordinates in the grid's last-axis order: x (the last size entry, W) first
    for k in range(spatial):
        axis_length = Gather(size, const(np.int64(length - 1 - k)), const(np.int64(0)))
        count = Convert(axis_length, destination_type=element)
        index = misc_ops.Range(zero, count, one, output_type=element)
        if align_corners:
            denominator = ew.Maximum(ew.Subtract(count, one), one)  # L = 1: the single coordinate is -1
            coordinate = ew.Subtract(ew.Divide(ew.Multiply(index, two), denominator), one)
        else:
            coordinate = ew.Subtract(ew.Divide(ew.Add(ew.Multiply(index, two), one), count), one)
        # [L] → [1, ..., L at its spatial position, ..., 1, 1]
        layout = [1] * (spatial + 2)
        layout[spatial - k] = -1
        terms.append(shape_ops.Reshape(coordinate, const(np.array(layout, dtype=np.int64)), special_zero=False))
    grid: Value | None = None
    column_axes = const(np.arange(1, spatial + 1, dtype=np.int64))
    for j in range(spatial + 1):
        # theta[:, :, j] as [N, 1, ..., 1, spatial], to broadcast over the spatial positions
        column = shape_ops.Unsqueeze(Gather(theta, const(np.int64(j)), const(np.int64(2))), column_axes)
        term = column if j == spatial else ew.Multiply(terms[j], column)
        grid = term if grid is None else ew.Add(grid, term)
    assert grid is not None
    return grid


HANDLERS: dict[str, Handler] = {
    "AffineGrid": AffineGrid,
    "GridSample": GridSample,
    "Unique": Unique,
    "Col2Im": Col2Im,
    "RoiAlign": RoiAlign,
    "DFT": DFT,
    "STFT": STFT,
}
