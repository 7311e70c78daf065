"""ONNX Conv / ConvTranspose / DeformConv → IR (Group)Convolution(BackpropData), DeformableConvolution + bias Add.

Also holds the window-attribute helpers (pads, strides, auto_pad) that the pooling
handlers share.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported
from converter.ir.graph import Value
from converter.ops import conv as ops
from converter.ops import elementwise as ew
from converter.ops.core import ShapeOf, const
from converter.ops.indexing import Gather
from converter.ops.shape import Reshape
from converter.ops.spec import OpSpec

AUTO_PADS = {"NOTSET": "explicit", "SAME_UPPER": "same_upper", "SAME_LOWER": "same_lower", "VALID": "valid"}


def ir_auto_pad(auto_pad: str) -> str:
    try:
        return AUTO_PADS[auto_pad]
    except KeyError:
        raise Unsupported(f"auto_pad={auto_pad!r} is not one of {sorted(AUTO_PADS)}") from None


def spatial_rank(x: Value, w: Value | None, kernel_shape: Sequence[int] | None) -> int:
    """How many spatial axes the window op has, from the kernel or the input rank."""
    if kernel_shape:
        return len(kernel_shape)
    if w is not None and w.shape.rank is not None:
        return w.shape.rank - 2
    if x.shape.rank is not None:
        return x.shape.rank - 2
    raise Unsupported("the number of spatial axes is unknown (no kernel_shape, unknown ranks)")


def per_axis(values: Sequence[int] | None, count: int, default: int, name: str) -> list[int]:
    if not values:
        return [default] * count
    if len(values) != count:
        raise Unsupported(f"{name} has {len(values)} values for {count} spatial axes")
    return [int(v) for v in values]


def split_pads(pads: Sequence[int] | None, count: int) -> tuple[list[int], list[int]]:
    """ONNX pads [b1, b2, ..., e1, e2, ...] → (begin, end)."""
    if not pads:
        return [0] * count, [0] * count
    if len(pads) != 2 * count:
        raise Unsupported(f"pads has {len(pads)} values for {count} spatial axes")
    if any(p < 0 for p in pads):
        raise Unsupported("negative pads are not supported")
    return [int(p) for p in pads[:count]], [int(p) for p in pads[count:]]


def kernel_dims(w: Value, kernel_shape: Sequence[int] | None, count: int) -> list[int | None]:
    dims = w.shape.dims
    if dims is not None and all(d is not None for d in dims[2:]):
        return list(dims[2:])
    if kernel_shape:
        return [int(k) for k in kernel_shape]
    return [None] * count


def channel_vector(value: Value, rank: int) -> Value:
    """A per-channel vector [C] (or anything with C elements) as [1, C, 1, ...] for broadcasting."""
    shape = [1, -1] + [1] * (rank - 2)
    array = value.const
    if array is not None:
        return const(np.asarray(array).reshape(shape))
    return Reshape(value, const(np.array(shape, dtype=np.int64)), special_zero=False)


def split_first_axis(w: Value, groups: int) -> Value:
    """[D0, rest...] → [G, D0/G, rest...]: ONNX grouped weights to the IR's grouped layout."""
    dims = w.shape.dims
    if dims is not None and dims[0] is not None and dims[0] % groups:
        raise Unsupported(f"weights axis 0 ({dims[0]}) is not divisible by group={groups}")
    array = w.const
    if array is not None:
        return const(array.reshape(groups, array.shape[0] // groups, *array.shape[1:]))
    if dims is None or any(d is None for d in dims[1:]):
        raise Unsupported("grouped weights with dynamic dimensions beyond axis 0")
    pattern = np.array([groups, -1, *dims[1:]], dtype=np.int64)
    return Reshape(w, const(pattern), special_zero=False)


def add_bias(y: Value, b: Value | None, rank: int) -> Value:
    return y if b is None else ew.Add(y, channel_vector(b, rank))


def Conv(
    ctx: OnnxContext,
    x: Value,
    w: Value,
    b: Value | None = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: list[int] | None = None,
    group: int = 1,
    kernel_shape: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Value:
    count = spatial_rank(x, w, kernel_shape)
    pad_mode = ir_auto_pad(auto_pad)
    begin, end = split_pads(pads, count) if pad_mode == "explicit" else ([0] * count, [0] * count)
    attrs = dict(
        strides=per_axis(strides, count, 1, "strides"),
        pads_begin=begin,
        pads_end=end,
        dilations=per_axis(dilations, count, 1, "dilations"),
        auto_pad=pad_mode,
    )
    if group < 1:
        raise Unsupported(f"group={group}")
    if group == 1:
        y = ops.Convolution(x, w, **attrs)
    else:
        y = ops.GroupConvolution(x, split_first_axis(w, group), **attrs)
    return add_bias(y, b, count + 2)


def _transpose_pads(total: int, upper: bool) -> tuple[int, int]:
    """Split a ConvTranspose total padding: SAME_UPPER puts the odd element at the end."""
    small = total // 2
    return (small, total - small) if upper else (total - small, small)


def _output_shape_input(x: Value, strides: list[int], target: list[int] | None) -> Value:
    """The spatial output shape as an i64 input: the requested one, or input size × stride."""
    if target is not None:
        return const(np.array(target, dtype=np.int64))
    spatial = x.shape.rank - 2 if x.shape.rank is not None else len(strides)
    shape = ShapeOf(x, output_type="i64")
    sizes = Gather(shape, const(np.arange(2, 2 + spatial, dtype=np.int64)), const(np.array(0, dtype=np.int64)))
    return ew.Multiply(sizes, const(np.array(strides, dtype=np.int64)))


def ConvTranspose(
    ctx: OnnxContext,
    x: Value,
    w: Value,
    b: Value | None = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: list[int] | None = None,
    group: int = 1,
    kernel_shape: list[int] | None = None,
    output_padding: list[int] | None = None,
    output_shape: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Value:
    count = spatial_rank(x, w, kernel_shape)
    pad_mode = ir_auto_pad(auto_pad)
    strides_ = per_axis(strides, count, 1, "strides")
    dilations_ = per_axis(dilations, count, 1, "dilations")
    extra = per_axis(output_padding, count, 0, "output_padding")
    kernel = kernel_dims(w, kernel_shape, count)
    if group < 1:
        raise Unsupported(f"group={group}")
    weights = w if group == 1 else split_first_axis(w, group)
    op = ops.ConvolutionBackpropData if group == 1 else ops.GroupConvolutionBackpropData

    target: list[int] | None = None
    if output_shape:
        if len(output_shape) < count:
            raise Unsupported(f"output_shape has {len(output_shape)} values for {count} spatial axes")
        target = [int(v) for v in output_shape[-count:]]
    elif pad_mode in ("same_upper", "same_lower"):
        sizes = x.shape.dims[2:] if x.shape.dims is not None else [None] * count
        if all(s is not None for s in sizes):
            target = [s * st for s, st in zip(sizes, strides_)]  # type: ignore[operator]
        else:
            return add_bias(_transpose_to_shape(x, weights, op, strides_, dilations_, extra, None, pad_mode), b, count + 2)

    if target is None:
        begin, end = split_pads(pads, count) if pad_mode == "explicit" else ([0] * count, [0] * count)
        y = op(x, weights, strides=strides_, pads_begin=begin, pads_end=end, dilations=dilations_, auto_pad="explicit", output_padding=extra)
        return add_bias(y, b, count + 2)

    sizes = x.shape.dims[2:] if x.shape.dims is not None else [None] * count
    if all(s is not None for s in sizes) and all(k is not None for k in kernel):
        totals = [
            st * (s - 1) + op_ + (k - 1) * d + 1 - t  # type: ignore[operator]
            for s, st, op_, k, d, t in zip(sizes, strides_, extra, kernel, dilations_, target)
        ]
        if all(t >= 0 for t in totals):
            split = [_transpose_pads(t, upper=pad_mode == "same_upper") for t in totals]
            y = op(
                x,
                weights,
                strides=strides_,
                pads_begin=[s[0] for s in split],
                pads_end=[s[1] for s in split],
                dilations=dilations_,
                auto_pad="explicit",
                output_padding=extra,
            )
            return add_bias(y, b, count + 2)
    return add_bias(_transpose_to_shape(x, weights, op, strides_, dilations_, extra, target, pad_mode), b, count + 2)


def _transpose_to_shape(
    x: Value,
    weights: Value,
    op: OpSpec,
    strides: list[int],
    dilations: list[int],
    output_padding: list[int],
    target: list[int] | None,
    pad_mode: str,
) -> Value:
    """A transposed convolution given its spatial output shape as an input.

    With an output_shape input OpenVINO's `same_upper` puts the larger half of an odd
    padding at the beginning (ONNX NOTSET / SAME_LOWER); `same_lower` at the end (ONNX SAME_UPPER).
    """
    count = len(strides)
    return op(
        x,
        weights,
        _output_shape_input(x, strides, target),
        strides=strides,
        pads_begin=[0] * count,
        pads_end=[0] * count,
        dilations=dilations,
        auto_pad="same_lower" if pad_mode == "same_upper" else "same_upper",
        output_padding=output_padding,
    )


def DeformConv(
    ctx: OnnxContext,
    x: Value,
    w: Value,
    offset: Value,
    b: Value | None = None,
    mask: Value | None = None,
    *,
    dilations: list[int] | None = None,
    group: int = 1,
    kernel_shape: list[int] | None = None,
    offset_group: int = 1,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Value:
    count = spatial_rank(x, w, kernel_shape)
    begin, end = split_pads(pads, count)
    inputs = [x, offset, w] + ([mask] if mask is not None else [])
    y = ops.DeformableConvolution(
        *inputs,
        strides=per_axis(strides, count, 1, "strides"),
        pads_begin=begin,
        pads_end=end,
        dilations=per_axis(dilations, count, 1, "dilations"),
        auto_pad="explicit",
        group=group,
        deformable_group=offset_group,
        bilinear_interpolation_pad=True,  # ONNX samples zero-padded data bilinearly at the border
    )
    return add_bias(y, b, count + 2)


HANDLERS: dict[str, Handler] = {"Conv": Conv, "ConvTranspose": ConvTranspose, "DeformConv": DeformConv}
