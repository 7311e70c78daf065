"""Lowerings for the vision/signal family: GridSample, Unique, Col2Im, ROIAlign, DFT, IDFT, RDFT, IRDFT, STFT."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from converter.ir.graph import Node
from converter.ir.types import ElementType
from converter.ops import vision_signal as ops
from converter.ops.spec import OpSpec, normalize_axis
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, LoweringContext, LoweringFn

# ---------------------------------------------------------------- GridSample

GRID_SAMPLE_MODES = {"bilinear": "linear", "bicubic": "cubic", "nearest": "nearest"}


def grid_sample(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    attrs = node.attrs
    data, grid = inputs
    if node.inputs[1].element_type is not node.inputs[0].element_type:
        grid = ctx.emit1("Cast", [grid], to=ONNX_ELEMENT_TYPE[node.inputs[0].element_type])
    return [
        ctx.emit1(
            "GridSample",
            [data, grid],
            align_corners=int(attrs["align_corners"]),
            mode=GRID_SAMPLE_MODES[attrs["mode"]],
            padding_mode=attrs["padding_mode"],
        )
    ]


# ---------------------------------------------------------------- Unique

UNIQUE_TYPES = {ElementType.f32, ElementType.f64, ElementType.f16, ElementType.i64, ElementType.i8}
"""Element types onnxruntime's Unique takes; others go through an order-preserving cast."""


def unique(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data_type = node.inputs[0].element_type
    data = inputs[0]
    flip_sign = data_type is ElementType.u64
    if data_type not in UNIQUE_TYPES:
        if flip_sign:
            # Flipping the top bit maps unsigned order onto signed order (the cast wraps).
            data = ctx.emit1("BitwiseXor", [data, ctx.constant(np.uint64(1 << 63))])
        compute = TensorProto.FLOAT if data_type.is_float else (TensorProto.INT8 if data_type is ElementType.boolean else TensorProto.INT64)
        data = ctx.emit1("Cast", [data], to=compute)
    axis = None
    if len(inputs) > 1:
        axis_array = node.inputs[1].const
        if axis_array is None:
            raise NotImplementedError("Unique with a non-constant axis has no ONNX equivalent")
        axis = normalize_axis(int(np.asarray(axis_array).reshape(-1)[0]), node.inputs[0].shape.rank)
    values, first, inverse, counts = ctx.emit("Unique", [data], 4, axis=axis, sorted=int(node.attrs["sorted"]))
    if data_type not in UNIQUE_TYPES:
        values = ctx.emit1("Cast", [values], to=ONNX_ELEMENT_TYPE[data_type])
        if flip_sign:
            values = ctx.emit1("BitwiseXor", [values, ctx.constant(np.uint64(1 << 63))])
    index_type = ONNX_ELEMENT_TYPE[node.attrs["index_element_type"]]
    count_type = ONNX_ELEMENT_TYPE[node.attrs["count_element_type"]]
    # ONNX keeps the inverse indices of an axis-less Unique in the input's shape; the IR flattens them.
    inverse = ctx.emit1("Reshape", [inverse, ctx.int64s([-1])])
    return [
        values,
        ctx.emit1("Cast", [first], to=index_type),
        ctx.emit1("Cast", [inverse], to=index_type),
        ctx.emit1("Cast", [counts], to=count_type),
    ]


# ---------------------------------------------------------------- Col2Im


def col2im(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data, output_size, kernel_size = inputs
    attrs = node.attrs
    batched = node.inputs[0].shape.rank != 2
    if not batched:
        data = ctx.emit1("Unsqueeze", [data, ctx.int64s([0])])
    image = ctx.emit1(
        "Col2Im",
        [data, ctx.emit1("Cast", [output_size], to=TensorProto.INT64), ctx.emit1("Cast", [kernel_size], to=TensorProto.INT64)],
        strides=list(attrs["strides"]),
        dilations=list(attrs["dilations"]),
        pads=list(attrs["pads_begin"]) + list(attrs["pads_end"]),
    )
    if not batched:
        image = ctx.emit1("Squeeze", [image, ctx.int64s([0])])
    return [image]


# ---------------------------------------------------------------- ROIAlign


def roi_align(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    data, rois, batch_indices = inputs
    attrs = node.attrs
    batch_indices = ctx.emit1("Cast", [batch_indices], to=TensorProto.INT64)
    aligned_mode = attrs["aligned_mode"]
    if aligned_mode == "half_pixel":
        # IR half_pixel maps x to (x + 0.5) * scale - 0.5; ONNX half_pixel (= IR half_pixel_for_nn) to x * scale - 0.5.
        rois = ctx.emit1("Add", [rois, ctx.constant(np.array(0.5, dtype=node.inputs[1].element_type.numpy))])
    transform = "output_half_pixel" if aligned_mode == "asymmetric" else "half_pixel"
    common = {
        "coordinate_transformation_mode": transform,
        "output_height": attrs["pooled_h"],
        "output_width": attrs["pooled_w"],
        "spatial_scale": attrs["spatial_scale"],
    }
    if attrs["mode"] == "avg":
        return [ctx.emit1("RoiAlign", [data, rois, batch_indices], mode="avg", sampling_ratio=attrs["sampling_ratio"], **common)]
    return [_roi_align_max(ctx, node, data, rois, batch_indices, common)]


def _roi_align_max(ctx: LoweringContext, node: Node, data: str, rois: str, batch_indices: str, common: dict) -> str:
    """OpenVINO's max pools interpolated samples (ONNX's max pools weighted corners): one single-sample
    average RoiAlign per sample position, the ROI shifted so its bin centres land on that sample; then Max."""
    samples = node.attrs["sampling_ratio"]
    if samples <= 0:
        raise NotImplementedError("ROIAlign mode max with an adaptive sampling_ratio has no ONNX equivalent")
    dtype = node.inputs[1].element_type.numpy
    x1, y1, x2, y2 = ctx.emit("Split", [rois, ctx.int64s([1, 1, 1, 1])], 4, axis=1)
    scale = np.asarray(node.attrs["spatial_scale"], dtype=dtype)
    # Bin sizes in ROI (input-coordinate) units; clamping to >= 1 feature pixel (asymmetric) commutes with the shift.
    width = ctx.emit1("Sub", [x2, x1])
    height = ctx.emit1("Sub", [y2, y1])
    if node.attrs["aligned_mode"] == "asymmetric":
        minimum = ctx.constant(np.asarray(1.0 / scale, dtype=dtype))
        width, height = (ctx.emit1("Max", [v, minimum]) for v in (width, height))
    bin_w = ctx.emit1("Div", [width, ctx.constant(np.asarray(node.attrs["pooled_w"], dtype=dtype))])
    bin_h = ctx.emit1("Div", [height, ctx.constant(np.asarray(node.attrs["pooled_h"], dtype=dtype))])
    pooled = []
    for iy in range(samples):
        for ix in range(samples):
            shift_x = ctx.emit1("Mul", [bin_w, ctx.constant(np.asarray((ix + 0.5) / samples - 0.5, dtype=dtype))])
            shift_y = ctx.emit1("Mul", [bin_h, ctx.constant(np.asarray((iy + 0.5) / samples - 0.5, dtype=dtype))])
            shifted = ctx.emit1("Concat", [ctx.emit1("Add", [x1, shift_x]), ctx.emit1("Add", [y1, shift_y]), ctx.emit1("Add", [ctx.emit1("Add", [x1, width]), shift_x]), ctx.emit1("Add", [ctx.emit1("Add", [y1, height]), shift_y])], axis=1)
            pooled.append(ctx.emit1("RoiAlign", [data, shifted, batch_indices], mode="avg", sampling_ratio=1, **common))
    return pooled[0] if len(pooled) == 1 else ctx.emit1("Max", pooled)


# ---------------------------------------------------------------- DFT family


def _axis_list(ctx: LoweringContext, node: Node, axes_input: str, signal_rank: int) -> list[str]:
    """Each DFT axis as a non-negative 0-D i64 ONNX value (negative axes count from the end of the signal dims)."""
    axes = ctx.emit1("Cast", [ctx.emit1("Reshape", [axes_input, ctx.int64s([-1])])], to=TensorProto.INT64)
    dims = node.inputs[1].shape.dims
    count = (dims[0] if dims else 1) if dims is not None else None
    if count is None:
        raise NotImplementedError("DFT with an axes input of unknown length has no ONNX equivalent")
    positive = ctx.emit1("Mod", [axes, ctx.constant(np.int64(signal_rank))])
    return [ctx.emit1("Gather", [positive, ctx.constant(np.int64(i))], axis=0) for i in range(count)]


def _lengths(ctx: LoweringContext, node: Node, data: str, axes: list[str], sizes: str | None) -> list[str]:
    """The transform length per axis as a 1-element i64 vector: signal_size, or the input length where it is -1."""
    shape = ctx.emit1("Shape", [data])
    lengths = []
    for index, axis in enumerate(axes):
        current = ctx.emit1("Reshape", [ctx.emit1("Gather", [shape, axis], axis=0), ctx.int64s([1])])
        if sizes is None:
            lengths.append(current)
            continue
        size = ctx.emit1("Gather", [sizes, ctx.int64s([index])], axis=0)
        keep = ctx.emit1("Equal", [size, ctx.int64s([-1])])
        lengths.append(ctx.emit1("Where", [keep, current, size]))
    return lengths


def _sizes(ctx: LoweringContext, inputs: list[str]) -> str | None:
    if len(inputs) < 3:
        return None
    return ctx.emit1("Cast", [ctx.emit1("Reshape", [inputs[2], ctx.int64s([-1])])], to=TensorProto.INT64)


def _dft_steps(ctx: LoweringContext, data: str, axes: list[str], lengths: list[str], inverse: bool) -> str:
    for axis, length in zip(axes, lengths):
        scalar_length = ctx.emit1("Reshape", [length, ctx.int64s([])])
        data = ctx.emit1("DFT", [data, scalar_length, axis], inverse=int(inverse), onesided=0)
    return data


def _prepare(ctx: LoweringContext, node: Node, inputs: list[str], signal_rank: int) -> tuple[list[str], str | None]:
    return _axis_list(ctx, node, inputs[1], signal_rank), _sizes(ctx, inputs)


def _complex_dft(inverse: bool) -> LoweringFn:
    def lower(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
        rank = _known_rank(node)
        axes, sizes = _prepare(ctx, node, inputs, rank - 1)
        lengths = _lengths(ctx, node, inputs[0], axes, sizes)
        return [_dft_steps(ctx, inputs[0], axes, lengths, inverse)]

    return lower


def _known_rank(node: Node) -> int:
    rank = node.inputs[0].shape.rank
    if rank is None:
        raise NotImplementedError(f"{node.op.type} of an input of unknown rank has no ONNX equivalent")
    return rank


def rdft(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    rank = _known_rank(node)
    axes, sizes = _prepare(ctx, node, inputs, rank)
    lengths = _lengths(ctx, node, inputs[0], axes, sizes)
    data = ctx.emit1("Unsqueeze", [inputs[0], ctx.int64s([-1])])
    last_length = ctx.emit1("Reshape", [lengths[-1], ctx.int64s([])])
    data = ctx.emit1("DFT", [data, last_length, axes[-1]], inverse=0, onesided=1)
    return [_dft_steps(ctx, data, axes[:-1], lengths[:-1], False)]


def irdft(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    rank = _known_rank(node)
    axes, sizes = _prepare(ctx, node, inputs, rank - 1)
    lengths = _lengths(ctx, node, inputs[0], axes, sizes)
    data = _dft_steps(ctx, inputs[0], axes[:-1], lengths[:-1], True)
    # The last axis: n output samples (signal_size, default 2 * (bins - 1)) from exactly n//2+1 bins.
    shape = ctx.emit1("Shape", [data])
    bins = ctx.emit1("Reshape", [ctx.emit1("Gather", [shape, axes[-1]], axis=0), ctx.int64s([1])])
    if sizes is None:
        samples = ctx.emit1("Mul", [ctx.emit1("Sub", [bins, ctx.int64s([1])]), ctx.int64s([2])])
    else:
        size = ctx.emit1("Gather", [sizes, ctx.int64s([len(axes) - 1])], axis=0)
        default = ctx.emit1("Mul", [ctx.emit1("Sub", [bins, ctx.int64s([1])]), ctx.int64s([2])])
        samples = ctx.emit1("Where", [ctx.emit1("Equal", [size, ctx.int64s([-1])]), default, size])
    wanted = ctx.emit1("Add", [ctx.emit1("Div", [samples, ctx.int64s([2])]), ctx.int64s([1])])
    data = _fit_length(ctx, data, axes[-1], bins, wanted, rank)
    real = ctx.emit1("DFT", [data, ctx.emit1("Reshape", [samples, ctx.int64s([])]), axes[-1]], inverse=1, onesided=1)
    return [ctx.emit1("Squeeze", [real, ctx.int64s([-1])])]


def _fit_length(ctx: LoweringContext, data: str, axis: str, current: str, wanted: str, rank: int) -> str:
    """Trim or zero-pad `data` along a run-time axis to `wanted` (1-element vectors)."""
    axis_vector = ctx.emit1("Reshape", [axis, ctx.int64s([1])])
    trimmed = ctx.emit1("Slice", [data, ctx.int64s([0]), wanted, axis_vector])
    missing = ctx.emit1("Max", [ctx.emit1("Sub", [wanted, current]), ctx.int64s([0])])
    # Pads of shape [2 * rank]: zeros except the end of `axis`.
    positions = ctx.constant(np.arange(rank, dtype=np.int64))
    end_pads = ctx.emit1("Where", [ctx.emit1("Equal", [positions, axis]), missing, ctx.constant(np.zeros(rank, dtype=np.int64))])
    pads = ctx.emit1("Concat", [ctx.constant(np.zeros(rank, dtype=np.int64)), end_pads], axis=0)
    return ctx.emit1("Pad", [trimmed, pads])


# ---------------------------------------------------------------- STFT


def stft(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    signal, window, frame_size, frame_step = inputs
    batched = node.inputs[0].shape.rank != 1
    if not batched:
        signal = ctx.emit1("Unsqueeze", [signal, ctx.int64s([0])])
    signal = ctx.emit1("Unsqueeze", [signal, ctx.int64s([-1])])
    size = ctx.emit1("Cast", [ctx.emit1("Reshape", [frame_size, ctx.int64s([])])], to=TensorProto.INT64)
    step = ctx.emit1("Cast", [ctx.emit1("Reshape", [frame_step, ctx.int64s([])])], to=TensorProto.INT64)
    # A window shorter than the frame sits in its middle, zeros around it.
    window_length = ctx.emit1("Shape", [window])
    missing = ctx.emit1("Sub", [ctx.emit1("Reshape", [size, ctx.int64s([1])]), window_length])
    before = ctx.emit1("Div", [missing, ctx.int64s([2])])
    window = ctx.emit1("Pad", [window, ctx.emit1("Concat", [before, ctx.emit1("Sub", [missing, before])], axis=0)])
    result = ctx.emit1("STFT", [signal, step, window, size], onesided=1)
    if node.attrs["transpose_frames"]:
        result = ctx.emit1("Transpose", [result], perm=[0, 2, 1, 3])
    if not batched:
        result = ctx.emit1("Squeeze", [result, ctx.int64s([0])])
    return [result]


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.GridSample: grid_sample,
    ops.Unique: unique,
    ops.Col2Im: col2im,
    ops.ROIAlign: roi_align,
    ops.DFT: _complex_dft(False),
    ops.IDFT: _complex_dft(True),
    ops.RDFT: rdft,
    ops.IRDFT: irdft,
    ops.STFT: stft,
}
