"""Interp (DeepLab's and PSPNet's bilinear resize, corners aligned)."""

from __future__ import annotations

from converter.frontends.caffe.layers.common import dims_of, i64
from converter.frontends.caffe.net import CaffeContext, Handler, Unsupported
from converter.ir.graph import Value
from converter.ops.indexing import Slice
from converter.ops.resize import Interpolate


def Interp(
    ctx: CaffeContext,
    x: Value,
    reference: Value | None = None,
    *,
    height: int | None = None,
    width: int | None = None,
    zoom_factor: int | None = None,
    shrink_factor: int | None = None,
    pad_beg: int = 0,
    pad_end: int = 0,
) -> Value:
    """The size: shrunk ((n − 1) / shrink + 1), zoomed (n + (n − 1)(zoom − 1)), both, given, or the
    reference bottom's; n the input's size after its (non-positive) pads crop it. Bilinear with
    the corner pixels of input and output aligned."""
    dims = dims_of(x, "Interp")
    if len(dims) != 4:
        raise Unsupported(f"a {len(dims)}-D input")
    if pad_beg > 0 or pad_end > 0:
        raise Unsupported("positive pad_beg / pad_end (Caffe only crops)")
    sizes = [dims[2] + pad_beg + pad_end, dims[3] + pad_beg + pad_end]
    if min(sizes) < 1:
        raise Unsupported(f"pads leave {sizes}")
    if pad_beg or pad_end:
        x = Slice(x, i64([-pad_beg, -pad_beg]), i64([dims[2] + pad_end, dims[3] + pad_end]), i64([1, 1]), i64([2, 3]))
    if shrink_factor is not None and zoom_factor is None:
        out = [(n - 1) // shrink_factor + 1 for n in sizes]
    elif zoom_factor is not None and shrink_factor is None:
        out = [n + (n - 1) * (zoom_factor - 1) for n in sizes]
    elif height is not None and width is not None:
        out = [height, width]
    elif shrink_factor is not None and zoom_factor is not None:
        shrunk = [(n - 1) // shrink_factor + 1 for n in sizes]
        out = [n + (n - 1) * (zoom_factor - 1) for n in shrunk]
    elif reference is not None:
        out = dims_of(reference, "Interp's reference")[2:4]
    else:
        raise Unsupported("no output size (zoom_factor, shrink_factor, height and width, or a second bottom)")
    if (shrink_factor is not None and shrink_factor < 1) or (zoom_factor is not None and zoom_factor < 1) or min(out) < 1:
        raise Unsupported(f"output size {out}")
    if out == sizes:
        return x
    return Interpolate(
        x, i64(out), i64([2, 3]), mode="linear", shape_calculation_mode="sizes", coordinate_transformation_mode="align_corners"
    )


HANDLERS: dict[str, Handler] = {"Interp": Interp}
