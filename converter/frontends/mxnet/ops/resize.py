"""MXNet UpSampling → IR Interpolate (nearest) or a depthwise transposed convolution (bilinear).

nearest repeats every pixel `scale` times along H and W; with several inputs each is enlarged
to the first one's size × scale and they are concatenated along channels or summed
(multi_input_mode). bilinear is, as in MXNet (upsampling-inl.h), a Deconvolution with the
given weight [C, 1, k, k]: kernel 2·scale − scale mod 2, stride scale, pad ⌈(scale − 1) / 2⌉,
one group per channel, no bias.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.frontends.mxnet.ops.common import dims, i64, same_type
from converter.frontends.mxnet.ops.conv import Deconvolution
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.resize import Interpolate
from converter.ops.shape import Concat


def _nearest(x: Value, size: Value) -> Value:
    return Interpolate(
        x,
        size,
        i64([2, 3]),
        mode="nearest",
        shape_calculation_mode="sizes",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )


def UpSampling(
    ctx: MXNetContext,
    *data: Value,
    scale: int = 1,
    num_filter: int = 0,
    sample_type: str = "nearest",
    multi_input_mode: str = "concat",
    num_args: int = 1,
    workspace: int = 512,
) -> Value:
    if not data:
        raise Unsupported("no inputs")
    if scale < 1:
        raise Unsupported(f"scale {scale}")
    for x in data:
        if x.shape.rank is not None and x.shape.rank != 4:
            raise Unsupported("UpSampling takes NCHW inputs")
    if sample_type == "bilinear":
        if len(data) != 2:
            raise Unsupported("bilinear UpSampling takes data and weight")
        x, weight = data
        channels = num_filter or (x.shape.dims[1] if x.shape.dims is not None else None)
        if not channels:
            raise Unsupported("bilinear UpSampling needs num_filter")
        kernel = 2 * scale - scale % 2
        pad = int(np.ceil((scale - 1) / 2.0))
        return Deconvolution(
            ctx, x, weight, kernel=(kernel, kernel), stride=(scale, scale), pad=(pad, pad), num_filter=channels, num_group=channels, no_bias=True
        )
    if sample_type != "nearest":
        raise Unsupported(f"sample_type {sample_type!r}")
    first = data[0]
    spatial = dims(first, 2, 4)
    if spatial.const is not None:
        size = i64([int(d) * scale for d in spatial.const])
    else:
        size = ew.Multiply(spatial, i64([scale, scale]))
    parts = [_nearest(x, size) for x in data]
    if len(parts) == 1:
        return parts[0]
    if multi_input_mode == "sum":
        total = parts[0]
        for part in parts[1:]:
            total = ew.Add(total, same_type(part, total))
        return total
    if multi_input_mode != "concat":
        raise Unsupported(f"multi_input_mode {multi_input_mode!r}")
    return Concat(*parts, axis=1)


HANDLERS: dict[str, Handler] = {"UpSampling": UpSampling}
