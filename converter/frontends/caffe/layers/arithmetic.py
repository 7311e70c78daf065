"""Eltwise (SUM with coefficients, PROD, MAX), Scale (with its bias) and Bias.

Scale and Bias apply a blob of the input's dims [axis, axis + num_axes) — a learned one, or the
second bottom — broadcast over the other dims.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.caffe.layers.common import along, axis_of, dims_of, reshaped
from converter.frontends.caffe.net import CaffeContext, Handler, Unsupported, scalar
from converter.ir.graph import Value
from converter.ops import elementwise as ew


def Eltwise(ctx: CaffeContext, *xs: Value, operation: str = "SUM", coeff: list[float] | None = None, stable_prod_grad: bool = True) -> Value:
    if len(xs) < 2:
        raise Unsupported(f"{len(xs)} bottom(s); Eltwise takes two or more")
    shapes = {tuple(x.shape.dims or ()) for x in xs}
    if len(shapes) != 1:
        raise Unsupported(f"bottoms of different shapes {sorted(shapes)}")
    if coeff and operation != "SUM":
        raise Unsupported(f"coefficients for {operation} (SUM only)")
    if coeff and len(coeff) != len(xs):
        raise Unsupported(f"{len(coeff)} coefficients for {len(xs)} bottoms")
    if operation == "SUM":
        terms = [x if not coeff or coeff[i] == 1.0 else ew.Multiply(x, scalar(coeff[i], x)) for i, x in enumerate(xs)]
        combine = ew.Add
    elif operation == "PROD":
        terms, combine = list(xs), ew.Multiply
    elif operation == "MAX":
        terms, combine = list(xs), ew.Maximum
    else:
        raise Unsupported(f"operation {operation}")
    y = terms[0]
    for term in terms[1:]:
        y = combine(y, term)
    return y


def _span(dims: list[int], axis: int, num_axes: int, what: str) -> list[int]:
    if num_axes < -1:
        raise Unsupported(f"num_axes {num_axes}")
    end = len(dims) if num_axes == -1 else axis + num_axes
    if end > len(dims):
        raise Unsupported(f"{what}: axis {axis} with {num_axes} axes passes the input's {len(dims)} dims")
    return dims[axis:end]


def _operand(x: Value, operand: Value, axis: int) -> Value:
    """A second bottom covering the input's dims from `axis` on: reshaped to broadcast."""
    dims, other = dims_of(x, "a scale"), dims_of(operand, "a scale's second bottom")
    if dims[axis : axis + len(other)] != other:
        raise Unsupported(f"a {other} blob does not match the input {dims} at axis {axis}")
    return reshaped(operand, other + [1] * (len(dims) - axis - len(other)))


def Scale(ctx: CaffeContext, x: Value, factor: Value | None = None, *, axis: int = 1, num_axes: int = 1, bias_term: bool = False) -> Value:
    dims = dims_of(x, "Scale")
    axis = axis_of(axis, len(dims)) if dims else 0
    if factor is not None:
        shape = dims_of(factor, "Scale's second bottom")
        y = ew.Multiply(x, _operand(x, factor, axis))
        if bias_term:
            (bias,) = ctx.weights(shape)
            y = ew.Add(y, along(bias, len(dims), axis))
        return y
    shape = _span(dims, axis, num_axes, "Scale")
    blobs = ctx.weights(shape, shape) if bias_term else ctx.weights(shape)
    y = ew.Multiply(x, along(blobs[0], len(dims), axis))
    if bias_term:
        y = ew.Add(y, along(blobs[1], len(dims), axis))
    return y


def Bias(ctx: CaffeContext, x: Value, bias: Value | None = None, *, axis: int = 1, num_axes: int = 1) -> Value:
    dims = dims_of(x, "Bias")
    axis = axis_of(axis, len(dims)) if dims else 0
    if bias is not None:
        return ew.Add(x, _operand(x, bias, axis))
    (blob,) = ctx.weights(_span(dims, axis, num_axes, "Bias"))
    return ew.Add(x, along(np.asarray(blob), len(dims), axis))


HANDLERS: dict[str, Handler] = {"Eltwise": Eltwise, "Scale": Scale, "Bias": Bias}
