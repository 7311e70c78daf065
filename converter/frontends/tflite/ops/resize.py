"""TFLite RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR (NHWC images, size [new_height, new_width]) →
IR Interpolate-11 over the spatial axes, in NCHW between Transposes (sink_transposes cancels them
against the convolutions' around it). A quantized bilinear resize interpolates the integers and
rounds as TFLite's integer kernel does (`on_integers`).

How TFLite maps an output pixel to an input coordinate, and the IR modes that do the same:
- align_corners: in = out · (in_size − 1) / (out_size − 1); nearest rounds half away from zero.
- half_pixel_centers: bilinear in = (out + 0.5) · scale − 0.5; nearest in = floor((out + 0.5) · scale).
- neither (the legacy default): in = out · scale; nearest floors.
"""

from __future__ import annotations

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import as_i64, check_rank, i64, nchw, nhwc
from converter.frontends.tflite.tensors import Unsupported, on_integers, same_grid
from converter.ir.graph import Value
from converter.ops.resize import Interpolate

SPATIAL_AXES = [2, 3]  # of NCHW


def _check(images: Value, align_corners: bool, half_pixel_centers: bool) -> None:
    check_rank(images, 4, "resize")
    if align_corners and half_pixel_centers:
        raise Unsupported("align_corners and half_pixel_centers are exclusive")


def RESIZE_BILINEAR(
    ctx: TFLiteContext, images: Value, size: Value, *, align_corners: bool = False, half_pixel_centers: bool = False
) -> Value:
    _check(images, align_corners, half_pixel_centers)
    mode = "align_corners" if align_corners else "half_pixel" if half_pixel_centers else "asymmetric"

    def interpolate(x: Value) -> Value:
        return Interpolate(
            x, as_i64(size), i64(SPATIAL_AXES), mode="linear_onnx", shape_calculation_mode="sizes", coordinate_transformation_mode=mode
        )

    tensor, output = ctx.input_tensors[0], ctx.output_tensors[0]
    if tensor is not None and same_grid(tensor, output):
        return nhwc(on_integers(nchw(images), tensor, interpolate))
    return nhwc(interpolate(nchw(images)))


def RESIZE_NEAREST_NEIGHBOR(
    ctx: TFLiteContext, images: Value, size: Value, *, align_corners: bool = False, half_pixel_centers: bool = False
) -> Value:
    _check(images, align_corners, half_pixel_centers)
    if align_corners:
        mode, nearest = "align_corners", "round_prefer_ceil"
    elif half_pixel_centers:
        mode, nearest = "tf_half_pixel_for_nn", "floor"
    else:
        mode, nearest = "asymmetric", "floor"
    y = Interpolate(
        nchw(images),
        as_i64(size),
        i64(SPATIAL_AXES),
        mode="nearest",
        shape_calculation_mode="sizes",
        coordinate_transformation_mode=mode,
        nearest_mode=nearest,
    )
    return nhwc(y)


HANDLERS: dict[str, Handler] = {"RESIZE_BILINEAR": RESIZE_BILINEAR, "RESIZE_NEAREST_NEIGHBOR": RESIZE_NEAREST_NEIGHBOR}
GRID_PRESERVING: frozenset[str] = frozenset({"RESIZE_NEAREST_NEIGHBOR"})
