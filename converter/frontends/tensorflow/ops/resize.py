"""TF ResizeBilinear / ResizeNearestNeighbor (NHWC images, size [new_height, new_width]) → IR Interpolate-11.

How TF maps an output pixel to an input coordinate, and the IR modes that do the same:
- align_corners: in = out * (in_size - 1) / (out_size - 1); nearest rounds half away from zero.
- half_pixel_centers: bilinear in = (out + 0.5) * scale - 0.5; nearest in = floor((out + 0.5) * scale).
- neither (the legacy default): in = out * scale; nearest floors.
"""

from __future__ import annotations

from converter.frontends.tensorflow.graph import Handler, TFContext
from converter.frontends.tensorflow.ops.common import as_i64, i64
from converter.frontends.tensorflow.tensors import Unsupported
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops.core import Convert
from converter.ops.resize import Interpolate

IMAGE_AXES = [1, 2]


def _check(images: Value, align_corners: bool, half_pixel_centers: bool) -> None:
    if images.shape.rank not in (None, 4):
        raise Unsupported(f"images of rank {images.shape.rank}, expected 4 (NHWC)")
    if align_corners and half_pixel_centers:
        raise Unsupported("align_corners and half_pixel_centers are exclusive")


def ResizeBilinear(ctx: TFContext, images: Value, size: Value, *, align_corners: bool = False, half_pixel_centers: bool = False) -> Value:
    _check(images, align_corners, half_pixel_centers)
    if images.element_type is not ElementType.f32:
        images = Convert(images, destination_type=ElementType.f32)  # TF's result is always float32
    mode = "align_corners" if align_corners else "half_pixel" if half_pixel_centers else "asymmetric"
    return Interpolate(
        images, as_i64(size), i64(IMAGE_AXES), mode="linear_onnx", shape_calculation_mode="sizes", coordinate_transformation_mode=mode
    )


def ResizeNearestNeighbor(
    ctx: TFContext, images: Value, size: Value, *, align_corners: bool = False, half_pixel_centers: bool = False
) -> Value:
    _check(images, align_corners, half_pixel_centers)
    if align_corners:
        mode, nearest = "align_corners", "round_prefer_ceil"
    elif half_pixel_centers:
        mode, nearest = "tf_half_pixel_for_nn", "floor"
    else:
        mode, nearest = "asymmetric", "floor"
    return Interpolate(
        images,
        as_i64(size),
        i64(IMAGE_AXES),
        mode="nearest",
        shape_calculation_mode="sizes",
        coordinate_transformation_mode=mode,
        nearest_mode=nearest,
    )


HANDLERS: dict[str, Handler] = {"ResizeBilinear": ResizeBilinear, "ResizeNearestNeighbor": ResizeNearestNeighbor}
