"""TFLite pools → IR MaxPool-8 / AvgPool-1 in NCHW between Transposes.

TFLite's SAME average pooling divides by the number of real (unpadded) elements: `exclude-pad`;
a quantized average is rounded as TFLite's integer kernel rounds it. L2_POOL_2D is the square
root of the average of squares.
"""

from __future__ import annotations

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import check_rank, fused_activation, nchw, nhwc, window
from converter.frontends.tflite.tensors import Unsupported, on_integers, same_grid
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops.pooling import AvgPool1, MaxPool8


def _window(padding: str, stride_w: int, stride_h: int, filter_width: int, filter_height: int) -> dict:
    if filter_width < 1 or filter_height < 1:
        raise Unsupported(f"filter ({filter_height}, {filter_width}) must be positive")
    return dict(window(padding, stride_h, stride_w), kernel=[filter_height, filter_width])


def _average(x: Value, attrs: dict) -> Value:
    return AvgPool1(x, **{"exclude-pad": True}, **attrs)


def _quantized_average(ctx: TFLiteContext, x: Value, attrs: dict) -> Value:
    """The average of a quantized tensor rounded as TFLite's integer kernel rounds it."""
    tensor = ctx.input_tensors[0]
    if tensor is not None and same_grid(tensor, ctx.output_tensors[0]):
        return on_integers(x, tensor, lambda steps: _average(steps, attrs))
    return _average(x, attrs)


def AVERAGE_POOL_2D(
    ctx: TFLiteContext,
    x: Value,
    *,
    padding: str = "SAME",
    stride_w: int = 0,
    stride_h: int = 0,
    filter_width: int = 0,
    filter_height: int = 0,
    fused_activation_function: str = "NONE",
) -> Value:
    check_rank(x, 4, "AVERAGE_POOL_2D")
    y = _quantized_average(ctx, nchw(x), _window(padding, stride_w, stride_h, filter_width, filter_height))
    return nhwc(fused_activation(y, fused_activation_function))


def MAX_POOL_2D(
    ctx: TFLiteContext,
    x: Value,
    *,
    padding: str = "SAME",
    stride_w: int = 0,
    stride_h: int = 0,
    filter_width: int = 0,
    filter_height: int = 0,
    fused_activation_function: str = "NONE",
) -> Value:
    check_rank(x, 4, "MAX_POOL_2D")
    attrs = _window(padding, stride_w, stride_h, filter_width, filter_height)
    y = MaxPool8.node(nchw(x), dilations=[1, 1], **attrs).outputs[0]
    return nhwc(fused_activation(y, fused_activation_function))


def L2_POOL_2D(
    ctx: TFLiteContext,
    x: Value,
    *,
    padding: str = "SAME",
    stride_w: int = 0,
    stride_h: int = 0,
    filter_width: int = 0,
    filter_height: int = 0,
    fused_activation_function: str = "NONE",
) -> Value:
    check_rank(x, 4, "L2_POOL_2D")
    data = nchw(x)
    y = ew.Sqrt(_average(ew.Multiply(data, data), _window(padding, stride_w, stride_h, filter_width, filter_height)))
    return nhwc(fused_activation(y, fused_activation_function))


HANDLERS: dict[str, Handler] = {"AVERAGE_POOL_2D": AVERAGE_POOL_2D, "MAX_POOL_2D": MAX_POOL_2D, "L2_POOL_2D": L2_POOL_2D}
GRID_PRESERVING: frozenset[str] = frozenset({"MAX_POOL_2D"})
