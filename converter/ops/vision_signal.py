"""Vision and signal ops: GridSample, Unique, Col2Im, ROIAlign, DFT, IDFT, RDFT, IRDFT, STFT."""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.ir.graph import Node, Value
from converter.ir.types import ElementType, TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, REQUIRED, const_ints, normalize_axis, tensor

Dims = list[int | None]

# ---------------------------------------------------------------- GridSample-9


def _infer_grid_sample(node: Node) -> list[TensorType]:
    data, grid = node.inputs
    dims: Dims = [None] * 4
    if data.shape.dims is not None:
        dims[0], dims[1] = data.shape.dims[0], data.shape.dims[1]
    if grid.shape.dims is not None:
        dims[0] = dims[0] if dims[0] is not None else grid.shape.dims[0]
        dims[2], dims[3] = grid.shape.dims[1], grid.shape.dims[2]
    return [tensor(data.element_type, dims)]


GridSample = OpSpec(
    "GridSample",
    "opset9",
    (
        Attr("align_corners", AttrKind.BOOL, False),
        Attr("mode", AttrKind.STR, "bilinear"),
        Attr("padding_mode", AttrKind.STR, "zeros"),
    ),
    _infer_grid_sample,
    doc="data [N, C, H, W] sampled at grid [N, H_out, W_out, 2] (x, y in [-1, 1]) → [N, C, H_out, W_out].",
)

# ---------------------------------------------------------------- Unique-10


def _unique_axis(node: Node) -> int | None:
    if len(node.inputs) < 2:
        return None
    axis = const_ints(node.inputs[1])
    if axis is None:
        raise ValueError("Unique needs a constant axis")
    return normalize_axis(axis[0], node.inputs[0].shape.rank)


def _infer_unique(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    index_type, count_type = node.attrs["index_element_type"], node.attrs["count_element_type"]
    axis = _unique_axis(node)
    if axis is None:
        unique_dims: Dims | None = [None]
        size = int(np.prod(data.shape.static)) if data.shape.is_static else None
        reverse_dims: Dims = [size]
    elif data.shape.dims is None:
        unique_dims, reverse_dims = None, [None]
    else:
        unique_dims = list(data.shape.dims)
        unique_dims[axis] = None
        reverse_dims = [data.shape.dims[axis]]
    return [
        tensor(data.element_type, unique_dims),
        tensor(index_type, [None]),
        tensor(index_type, reverse_dims),
        tensor(count_type, [None]),
    ]


def _unique_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data = inputs[0]
    if len(inputs) > 1:
        axis = normalize_axis(int(inputs[1].reshape(-1)[0]), data.ndim)
        values, first, inverse, counts = np.unique(data, return_index=True, return_inverse=True, return_counts=True, axis=axis)
    else:
        axis = 0
        values, first, inverse, counts = np.unique(data.reshape(-1), return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    if not attrs["sorted"]:
        # Order of first occurrence: renumber the sorted groups by where they first appear.
        order = np.argsort(first, kind="stable")
        rank_of = np.empty_like(order)
        rank_of[order] = np.arange(order.size)
        values, first, counts, inverse = np.take(values, order, axis=axis), first[order], counts[order], rank_of[inverse]
    index_type, count_type = attrs["index_element_type"].numpy, attrs["count_element_type"].numpy
    return [np.asarray(values, order="C"), first.astype(index_type), inverse.astype(index_type), counts.astype(count_type)]


Unique = OpSpec(
    "Unique",
    "opset10",
    (
        Attr("sorted", AttrKind.BOOL, True),
        Attr("index_element_type", AttrKind.ELEMENT_TYPE, ElementType.i64),
        Attr("count_element_type", AttrKind.ELEMENT_TYPE, ElementType.i64),
    ),
    _infer_unique,
    _unique_kernel,
    doc=(
        "Inputs data and an optional constant scalar axis (no axis: the flattened data). Outputs the unique"
        " elements (slices), the index of each one's first occurrence, the index into the unique elements of"
        " every input element (slice), and the counts."
    ),
)

# ---------------------------------------------------------------- Col2Im-15


def _infer_col2im(node: Node) -> list[TensorType]:
    data, output_size, kernel_size = node.inputs
    sizes, kernel = const_ints(output_size), const_ints(kernel_size)
    spatial: Dims = list(sizes) if sizes is not None else [None, None]
    if data.shape.dims is None:
        return [tensor(data.element_type, None)]
    batched = data.shape.rank == 3
    columns = data.shape.dims[1 if batched else 0]
    channels = None if columns is None or kernel is None else columns // int(np.prod(kernel))
    dims: Dims = ([data.shape.dims[0]] if batched else []) + [channels] + spatial
    return [tensor(data.element_type, dims)]


def _col2im_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data, output_size, kernel_size = inputs
    batched = data.ndim == 3
    columns = data if batched else data[np.newaxis]
    height, width = (int(v) for v in output_size.reshape(-1))
    kernel_h, kernel_w = (int(v) for v in kernel_size.reshape(-1))
    (stride_h, stride_w), (dilation_h, dilation_w) = attrs["strides"], attrs["dilations"]
    (pad_top, pad_left), (pad_bottom, pad_right) = attrs["pads_begin"], attrs["pads_end"]
    blocks_h = (height + pad_top + pad_bottom - dilation_h * (kernel_h - 1) - 1) // stride_h + 1
    blocks_w = (width + pad_left + pad_right - dilation_w * (kernel_w - 1) - 1) // stride_w + 1
    batch, channels = columns.shape[0], columns.shape[1] // (kernel_h * kernel_w)
    blocks = columns.reshape(batch, channels, kernel_h, kernel_w, blocks_h, blocks_w)
    padded = np.zeros((batch, channels, height + pad_top + pad_bottom, width + pad_left + pad_right), dtype=data.dtype)
    for i in range(kernel_h):
        for j in range(kernel_w):
            rows = slice(i * dilation_h, i * dilation_h + stride_h * (blocks_h - 1) + 1, stride_h)
            cols = slice(j * dilation_w, j * dilation_w + stride_w * (blocks_w - 1) + 1, stride_w)
            padded[:, :, rows, cols] += blocks[:, :, i, j]
    image = padded[:, :, pad_top : pad_top + height, pad_left : pad_left + width]
    return [np.asarray(image if batched else image[0], order="C")]


Col2Im = OpSpec(
    "Col2Im",
    "opset15",
    (
        Attr("strides", AttrKind.INTS, (1, 1)),
        Attr("dilations", AttrKind.INTS, (1, 1)),
        Attr("pads_begin", AttrKind.INTS, (0, 0)),
        Attr("pads_end", AttrKind.INTS, (0, 0)),
    ),
    _infer_col2im,
    _col2im_kernel,
    doc="Sums sliding 2-D blocks [N, C*kH*kW, L] (or unbatched) into an image [N, C, H, W]; inputs output_size, kernel_size.",
)

# ---------------------------------------------------------------- ROIAlign-9


def _infer_roi_align(node: Node) -> list[TensorType]:
    data, rois, _ = node.inputs
    num_rois = rois.shape.dims[0] if rois.shape.dims is not None else None
    channels = data.shape.dims[1] if data.shape.dims is not None else None
    return [tensor(data.element_type, [num_rois, channels, node.attrs["pooled_h"], node.attrs["pooled_w"]])]


ROIAlign = OpSpec(
    "ROIAlign",
    "opset9",
    (
        Attr("pooled_h", AttrKind.INT, REQUIRED),
        Attr("pooled_w", AttrKind.INT, REQUIRED),
        Attr("sampling_ratio", AttrKind.INT, REQUIRED),
        Attr("spatial_scale", AttrKind.FLOAT, REQUIRED),
        Attr("mode", AttrKind.STR, REQUIRED),
        Attr("aligned_mode", AttrKind.STR, "asymmetric"),
    ),
    _infer_roi_align,
    doc="data [N, C, H, W], rois [R, 4] (x1, y1, x2, y2), batch_indices [R] → [R, C, pooled_h, pooled_w].",
)

# ---------------------------------------------------------------- DFT-7, IDFT-7, RDFT-9, IRDFT-9


def _signal_axes(node: Node, signal_rank: int | None) -> list[int] | None:
    """The DFT axes, non-negative; negative axes count from the end of the signal dims."""
    axes = const_ints(node.inputs[1])
    if axes is None or signal_rank is None:
        return None
    return [axis + signal_rank if axis < 0 else axis for axis in axes]


def _signal_sizes(node: Node, count: int) -> list[int]:
    """signal_size per axis, -1 where the input length is kept (also when the input is absent)."""
    if len(node.inputs) < 3:
        return [-1] * count
    sizes = const_ints(node.inputs[2])
    return [None] * count if sizes is None else sizes  # type: ignore[list-item]


def _transformed_dims(signal: Dims, axes: list[int], sizes: list[int | None]) -> Dims:
    dims = list(signal)
    for axis, size in zip(axes, sizes):
        dims[axis] = None if size is None else (dims[axis] if size == -1 else size)
    return dims


def _infer_complex_dft(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    if data.shape.dims is None:
        return [tensor(data.element_type, None)]
    signal = list(data.shape.dims[:-1])
    axes = _signal_axes(node, len(signal))
    if axes is None:
        return [tensor(data.element_type, [None] * len(signal) + [2])]
    return [tensor(data.element_type, _transformed_dims(signal, axes, _signal_sizes(node, len(axes))) + [2])]


def _infer_rdft(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    if data.shape.dims is None:
        return [tensor(data.element_type, None)]
    signal = list(data.shape.dims)
    axes = _signal_axes(node, len(signal))
    if axes is None:
        return [tensor(data.element_type, [None] * len(signal) + [2])]
    dims = _transformed_dims(signal, axes, _signal_sizes(node, len(axes)))
    last = dims[axes[-1]]
    dims[axes[-1]] = None if last is None else last // 2 + 1
    return [tensor(data.element_type, dims + [2])]


def _infer_irdft(node: Node) -> list[TensorType]:
    data = node.inputs[0]
    if data.shape.dims is None:
        return [tensor(data.element_type, None)]
    signal = list(data.shape.dims[:-1])
    axes = _signal_axes(node, len(signal))
    if axes is None:
        return [tensor(data.element_type, [None] * len(signal))]
    sizes = _signal_sizes(node, len(axes))
    dims = _transformed_dims(signal, axes[:-1], sizes[:-1])
    last_size, last_input = sizes[-1], signal[axes[-1]]
    if last_size is None or last_size != -1:
        dims[axes[-1]] = last_size
    else:
        dims[axes[-1]] = None if last_input is None else 2 * (last_input - 1)
    return [tensor(data.element_type, dims)]


def _fft_arguments(inputs: list[np.ndarray], signal_rank: int) -> tuple[list[int], list[int] | None]:
    axes = [int(a) + signal_rank if int(a) < 0 else int(a) for a in inputs[1].reshape(-1)]
    if len(inputs) < 3:
        return axes, None
    return axes, [int(s) for s in inputs[2].reshape(-1)]


def _lengths(shape: tuple[int, ...], axes: list[int], sizes: list[int] | None) -> list[int]:
    if sizes is None:
        return [shape[a] for a in axes]
    return [shape[a] if s == -1 else s for a, s in zip(axes, sizes)]


def _to_complex(data: np.ndarray) -> np.ndarray:
    return data[..., 0].astype(np.complex128) + 1j * data[..., 1].astype(np.complex128)


def _from_complex(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.asarray(np.stack([values.real, values.imag], axis=-1), dtype=dtype, order="C")


def _dft_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data = inputs[0]
    axes, sizes = _fft_arguments(inputs, data.ndim - 1)
    return [_from_complex(np.fft.fftn(_to_complex(data), _lengths(data.shape, axes, sizes), axes), data.dtype)]


def _idft_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data = inputs[0]
    axes, sizes = _fft_arguments(inputs, data.ndim - 1)
    return [_from_complex(np.fft.ifftn(_to_complex(data), _lengths(data.shape, axes, sizes), axes), data.dtype)]


def _rdft_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data = inputs[0]
    axes, sizes = _fft_arguments(inputs, data.ndim)
    return [_from_complex(np.fft.rfftn(data.astype(np.float64), _lengths(data.shape, axes, sizes), axes), data.dtype)]


def _irdft_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    data = inputs[0]
    axes, sizes = _fft_arguments(inputs, data.ndim - 1)
    lengths = _lengths(data.shape, axes, sizes)
    if sizes is None or sizes[-1] == -1:
        lengths[-1] = 2 * (data.shape[axes[-1]] - 1)
    return [np.asarray(np.fft.irfftn(_to_complex(data), lengths, axes), dtype=data.dtype, order="C")]


DFT = OpSpec(
    "DFT",
    "opset7",
    (),
    _infer_complex_dft,
    _dft_kernel,
    doc="Complex DFT of data [..., 2] over axes (negative: from the end of the signal dims), optional signal_size.",
)
IDFT = OpSpec("IDFT", "opset7", (), _infer_complex_dft, _idft_kernel, doc="Inverse of DFT, scaled by 1/n.")
RDFT = OpSpec(
    "RDFT", "opset9", (), _infer_rdft, _rdft_kernel, doc="DFT of real data; the last axis keeps its n//2+1 non-negative bins."
)
IRDFT = OpSpec(
    "IRDFT",
    "opset9",
    (),
    _infer_irdft,
    _irdft_kernel,
    doc="Inverse of RDFT: real output; the last axis has signal_size[-1] (default 2*(n-1)) samples.",
)

# ---------------------------------------------------------------- STFT-15


def _scalar_int(value: Value) -> int | None:
    values = const_ints(value)
    return None if values is None else values[0]


def _infer_stft(node: Node) -> list[TensorType]:
    signal, _, frame_size_value, frame_step_value = node.inputs
    frame_size, frame_step = _scalar_int(frame_size_value), _scalar_int(frame_step_value)
    if signal.shape.dims is None:
        return [tensor(signal.element_type, None)]
    length = signal.shape.dims[-1]
    frames = None if None in (length, frame_size, frame_step) else (length - frame_size) // frame_step + 1  # type: ignore[operator]
    bins = None if frame_size is None else frame_size // 2 + 1
    inner: Dims = [bins, frames] if node.attrs["transpose_frames"] else [frames, bins]
    return [tensor(signal.element_type, list(signal.shape.dims[:-1]) + inner + [2])]


STFT = OpSpec(
    "STFT",
    "opset15",
    (Attr("transpose_frames", AttrKind.BOOL, REQUIRED),),
    _infer_stft,
    doc=(
        "Onesided short-time Fourier transform of real signal [B, L] or [L]: inputs window [W] (W <= frame_size,"
        " centred), frame_size, frame_step → [B, frames, frame_size//2+1, 2] ([B, bins, frames, 2] if transpose_frames)."
    ),
)

OPS: tuple[OpSpec, ...] = (GridSample, Unique, Col2Im, ROIAlign, DFT, IDFT, RDFT, IRDFT, STFT)
