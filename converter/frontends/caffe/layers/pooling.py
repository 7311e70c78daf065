"""Pooling (MAX, AVE, global) and ROIPooling.

Caffe's pooled size is ceil((H + 2·pad − k) / stride) + 1 (floor with round_mode FLOOR), one
less when the last window would start inside the end padding: IR's "ceil_torch" rounding. AVE
divides by the window clipped to the padded input [−pad, H + pad), padding included, as IR's
AvgPool with exclude-pad false does.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.caffe.layers.common import dims_of, f32, reshaped
from converter.frontends.caffe.net import CaffeContext, Handler, Unsupported
from converter.ir.graph import Value
from converter.ops import detection
from converter.ops.elementwise import Multiply
from converter.ops.pooling import AvgPool14, MaxPool14


def _pick(value: int | None, fallback: int | None) -> int | None:
    return value if value is not None else fallback


def Pooling(
    ctx: CaffeContext,
    x: Value,
    *,
    pool: str = "MAX",
    pad: int = 0,
    pad_h: int | None = None,
    pad_w: int | None = None,
    kernel_size: int | None = None,
    kernel_h: int | None = None,
    kernel_w: int | None = None,
    stride: int = 1,
    stride_h: int | None = None,
    stride_w: int | None = None,
    global_pooling: bool = False,
    round_mode: str = "CEIL",
) -> Value:
    dims = dims_of(x, "a pooling")
    if len(dims) != 4:
        raise Unsupported(f"a {len(dims)}-D input (Caffe pools 4-D blobs)")
    if pool not in ("MAX", "AVE"):
        raise Unsupported(f"pool {pool} (STOCHASTIC pooling has no CPU forward pass in Caffe)")
    height, width = dims[2], dims[3]
    if global_pooling:
        if kernel_size is not None or kernel_h is not None or kernel_w is not None:
            raise Unsupported("a kernel size with global_pooling")
        kernel = [height, width]
    else:
        kernel = [_pick(kernel_h, kernel_size), _pick(kernel_w, kernel_size)]  # type: ignore[list-item]
        if None in kernel or min(kernel) <= 0:  # type: ignore[type-var]
            raise Unsupported(f"kernel size {kernel}")
    pads = [_pick(pad_h, pad), _pick(pad_w, pad)]
    strides = [_pick(stride_h, stride), _pick(stride_w, stride)]
    if global_pooling and (any(pads) or any(s != 1 for s in strides)):
        raise Unsupported("global pooling with padding or strides")
    for size, k, p, s in zip((height, width), kernel, pads, strides):  # type: ignore[arg-type]
        if p >= k:
            raise Unsupported(f"pad {p} is not smaller than the kernel {k}")
        if round_mode == "CEIL" and p == 0 and k < s and -(-(size - k) // s) * s >= size:
            raise Unsupported(f"a last window that starts past the input (size {size}, kernel {k}, stride {s})")
    attrs = dict(strides=strides, pads_begin=pads, pads_end=pads, kernel=kernel, rounding_type="ceil_torch" if round_mode == "CEIL" else "floor")
    if pool == "MAX":
        return MaxPool14.node(x, dilations=[1, 1], **attrs).outputs[0]
    y = AvgPool14(x, **{"exclude-pad": False}, **attrs)
    # OpenVINO divides a last window reaching past the end padding by the whole kernel, Caffe
    # by the part inside the padded input: the ratio, where they differ, as a constant.
    counts = [_window_sizes(size, k, p, s, n) for size, k, p, s, n in zip((height, width), kernel, pads, strides, y.shape.dims[2:])]  # type: ignore[arg-type]
    area = kernel[0] * kernel[1]  # type: ignore[operator]
    divisor = np.outer(counts[0], counts[1])
    if (divisor == area).all():
        return y
    return Multiply(y, f32((area / divisor).astype(np.float32)))


def _window_sizes(size: int, kernel: int, pad: int, stride: int, count: int) -> np.ndarray:
    starts = np.arange(count) * stride - pad
    return np.minimum(starts + kernel, size + pad) - starts


def ROIPooling(ctx: CaffeContext, x: Value, rois: Value, *, pooled_h: int = 0, pooled_w: int = 0, spatial_scale: float = 1.0) -> Value:
    """Fast R-CNN's max ROI pooling; rois [R, 5] (batch index, x1, y1, x2, y2)."""
    if pooled_h <= 0 or pooled_w <= 0:
        raise Unsupported(f"pooled size {pooled_h}×{pooled_w}")
    if rois.shape.rank != 2:
        dims = dims_of(rois, "ROIPooling's rois")
        rois = reshaped(rois, [dims[0], -1])
    return detection.ROIPooling(x, rois, pooled_h=pooled_h, pooled_w=pooled_w, spatial_scale=spatial_scale, method="max")


HANDLERS: dict[str, Handler] = {"Pooling": Pooling, "ROIPooling": ROIPooling}
