"""ONNX Resize / Upsample → Interpolate-11.

Interpolate-11 in `scales` mode uses the given scales for the coordinate
transform (as ONNX does), in `sizes` mode `output / input` (as ONNX does).
Axes whose scale is 1 (or whose size equals the static input dim) are left
out: interpolating with scale 1 is the identity in every mode.

What Interpolate cannot express (antialiased downsampling, exclude_outside,
tf_crop_and_resize, half_pixel_symmetric with a fractional output size,
keep_aspect_ratio_policy rounding up) is built from Gather/Multiply/Add with
constant per-axis taps when the scales/sizes (and roi) are constant and the
resized dims static; otherwise it is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from converter.frontends.onnx.converter import Handler, OnnxContext, Unsupported
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops import resize as ops
from converter.ops.core import const
from converter.ops.indexing import Gather
from converter.ops.spec import const_ints, normalize_axis

COORDINATE_MODES = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"}
NEAREST_MODES = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}
LINEAR_ONNX_AXES = {2: (0, 1), 3: (0, 1, 2), 4: (2, 3), 5: (2, 3, 4)}
"""The axes Interpolate's `linear_onnx` mode accepts for each input rank (per its spec)."""


@dataclass
class Target:
    """What to resize to: scales or sizes, constant (per axis) or a runtime value."""

    mode: str  # "scales" or "sizes"
    axes: list[int] | None  # None: every axis (only with a runtime value of unknown rank)
    values: list[float] | None  # constant per-axis scales or sizes
    value: Value | None = None  # runtime scales or sizes when not constant


def Resize(
    ctx: OnnxContext,
    x: Value,
    roi: Value | None = None,
    scales: Value | None = None,
    sizes: Value | None = None,
    *,
    mode: str = "nearest",
    coordinate_transformation_mode: str = "half_pixel",
    cubic_coeff_a: float = -0.75,
    exclude_outside: int = 0,
    extrapolation_value: float = 0.0,
    nearest_mode: str = "round_prefer_floor",
    antialias: int = 0,
    axes: list[int] | None = None,
    keep_aspect_ratio_policy: str = "stretch",
) -> Value:
    if ctx.opset < 11:
        # Resize-10 is (X, scales) with Upsample's semantics.
        if roi is None:
            raise Unsupported("Resize-10 needs a scales input")
        return _upsample(x, _scales_target(x, roi, None), mode)
    if mode not in ("nearest", "linear", "cubic"):
        raise Unsupported(f"Resize mode {mode!r} is not supported")
    if mode == "nearest" and nearest_mode not in NEAREST_MODES:
        raise Unsupported(f"nearest_mode {nearest_mode!r} is not supported")
    rank = x.shape.rank
    if axes is not None:
        if rank is None:
            raise Unsupported("Resize with axes needs an input of known rank")
        axes = [normalize_axis(a, rank) for a in axes]
    target = _target(x, scales, sizes, axes)
    options = Options(
        mode, coordinate_transformation_mode, nearest_mode, cubic_coeff_a, bool(exclude_outside), bool(antialias), extrapolation_value
    )
    try:
        return _resize_by_interpolate(x, target, options, keep_aspect_ratio_policy)
    except Unsupported as limitation:
        # What Interpolate cannot express, per-axis gathers with constant weights can, given
        # constant scales/sizes (and roi) and static dims on the resized axes.
        plan = _separable_plan(x, target, keep_aspect_ratio_policy, roi, options)
        if isinstance(plan, str):
            raise Unsupported(f"{limitation} (and {plan})") from None
        return _resize_by_taps(x, plan, options)


def _resize_by_interpolate(x: Value, target: Target, options: Options, keep_aspect_ratio_policy: str) -> Value:
    if keep_aspect_ratio_policy != "stretch":
        target = _keep_aspect_ratio(x, target, keep_aspect_ratio_policy)
    coordinate_mode = _coordinate_mode(x, target, options.coordinate_mode)
    target = _drop_identity_axes(x, target)
    if target.axes == []:
        return x
    attrs: dict[str, object] = {"coordinate_transformation_mode": coordinate_mode}
    if options.mode == "nearest":
        attrs["nearest_mode"] = options.nearest_mode
        interpolate_mode = "nearest"
    elif options.mode == "linear":
        interpolate_mode = "linear_onnx"
    else:
        interpolate_mode = "cubic"
        attrs["cube_coeff"] = options.cubic_coeff_a
        if options.exclude_outside:
            raise Unsupported("cubic Resize with exclude_outside=1 is not supported by Interpolate")
    if options.antialias and options.mode != "nearest" and not _never_downsamples(x, target):
        raise Unsupported("antialiased downsampling is not supported by OpenVINO's Interpolate")
    return _interpolate(x, target, interpolate_mode, attrs)


def Upsample(ctx: OnnxContext, x: Value, scales_value: Value | None = None, *, mode: str = "nearest", scales: list[float] | None = None) -> Value:
    if scales_value is None and scales is None:
        raise Unsupported("Upsample needs scales")
    return _upsample(x, _scales_target(x, scales_value, scales), mode)


def _upsample(x: Value, target: Target, mode: str) -> Value:
    """Upsample-7/9 and Resize-10: asymmetric coordinates; nearest drops the fraction
    when upsampling and rounds up when downsampling (Interpolate's `simple` mode)."""
    target = _drop_identity_axes(x, target)
    if target.axes == []:
        return x
    attrs: dict[str, object] = {"coordinate_transformation_mode": "asymmetric"}
    if mode == "nearest":
        attrs["nearest_mode"] = "simple"
        return _interpolate(x, target, "nearest", attrs)
    if mode in ("linear", "bilinear"):
        return _interpolate(x, target, "linear_onnx", attrs)
    raise Unsupported(f"Upsample mode {mode!r} is not supported")


# ---------------------------------------------------------------- targets


def _constant_floats(value: Value) -> list[float] | None:
    array = value.const
    return None if array is None else [float(v) for v in np.asarray(array).reshape(-1)]


def _is_empty(value: Value | None) -> bool:
    return value is None or value.shape.dims == (0,)


def _scales_target(x: Value, value: Value | None, attribute: list[float] | None) -> Target:
    if value is None:
        return Target("scales", _all_axes(x, len(attribute or [])), [float(s) for s in attribute or []])
    values = _constant_floats(value)
    if values is not None:
        return Target("scales", _all_axes(x, len(values)), values)
    return Target("scales", None, None, value)


def _target(x: Value, scales: Value | None, sizes: Value | None, axes: list[int] | None) -> Target:
    if not _is_empty(scales):
        assert scales is not None
        mode, value = "scales", scales
    elif not _is_empty(sizes):
        assert sizes is not None
        mode, value = "sizes", sizes
    else:
        raise Unsupported("Resize needs non-empty scales or sizes")
    values = _constant_floats(value)
    if values is None:
        return _sizes_from_shape(x, value, axes) if mode == "sizes" else Target(mode, axes, None, value)
    if axes is None:
        axes = _all_axes(x, len(values))
    if len(axes) != len(values):
        raise Unsupported(f"Resize has {len(values)} {mode} for {len(axes)} axes")
    return Target(mode, axes, values)


ShapeElement = int | tuple[Value, int]
"""An element of a shape-like tensor: a known int, or dim `i` of a tensor (dynamic)."""


def _sizes_from_shape(x: Value, sizes: Value, axes: list[int] | None) -> Target:
    """Runtime sizes built from x's own shape and constants (PyTorch exports
    `Concat(Shape(x)[:2], [h, w])`) are constant on every axis they change."""
    elements = _shape_elements(sizes)
    rank = x.shape.rank
    if elements is None or rank is None or len(elements) != len(axes or range(rank)):
        return Target("sizes", axes, None, sizes)
    kept: list[tuple[int, float]] = []
    for axis, element in zip(axes or range(rank), elements):
        if isinstance(element, int):
            kept.append((axis, float(element)))
        elif element[0] is not x or element[1] != axis:
            return Target("sizes", axes, None, sizes)  # an unknown size: stays a runtime value
    return Target("sizes", [a for a, _ in kept], [v for _, v in kept])


def _shape_elements(value: Value) -> list[ShapeElement] | None:
    """The elements of a 1-D integer tensor computed from shapes and constants, if traceable."""
    array = value.const
    if array is not None:
        array = np.asarray(array)
        return [int(v) for v in array.reshape(-1)] if array.ndim <= 1 and array.dtype.kind in "iu" else None
    node = value.producer
    kind = node.op.type
    if kind == "ShapeOf":
        source = node.inputs[0]
        if source.shape.dims is None:
            return None
        return [d if d is not None else (source, i) for i, d in enumerate(source.shape.dims)]
    if kind in ("Convert", "Squeeze", "Unsqueeze", "Reshape") and value.shape.rank in (0, 1):
        return _shape_elements(node.inputs[0])
    if kind == "Concat":
        parts = [_shape_elements(v) for v in node.inputs]
        return None if any(p is None for p in parts) else [e for p in parts for e in p]  # type: ignore[union-attr]
    if kind == "Gather" and node.attrs["batch_dims"] == 0 and const_ints(node.inputs[2]) in ([0], [-1]):
        data, indices = _shape_elements(node.inputs[0]), const_ints(node.inputs[1])
        if data is None or indices is None:
            return None
        return [data[i] for i in indices]
    if kind == "Slice" and len(node.inputs) >= 4:
        data = _shape_elements(node.inputs[0])
        bounds = [const_ints(v) for v in node.inputs[1:4]]
        axes = const_ints(node.inputs[4]) if len(node.inputs) > 4 else [0]
        if data is None or any(b is None or len(b) != 1 for b in bounds) or axes not in ([0], [-1]):
            return None
        start, stop, step = (b[0] for b in bounds)  # type: ignore[index]
        return data[slice(start, stop, step)]
    return None


def _all_axes(x: Value, count: int) -> list[int]:
    if x.shape.rank is not None and x.shape.rank != count:
        raise Unsupported(f"Resize has {count} scales/sizes for an input of rank {x.shape.rank}")
    return list(range(count))


def _drop_identity_axes(x: Value, target: Target) -> Target:
    if target.values is None or target.axes is None:
        return target
    kept = [
        (axis, value)
        for axis, value in zip(target.axes, target.values)
        if not (value == 1.0 if target.mode == "scales" else x.shape[axis] == int(value))
    ]
    return Target(target.mode, [a for a, _ in kept], [v for _, v in kept])


def _never_downsamples(x: Value, target: Target) -> bool:
    if target.values is None or target.axes is None:
        return False
    if target.mode == "scales":
        return all(v >= 1.0 for v in target.values)
    dims = [x.shape[a] for a in target.axes]
    return all(d is not None and v >= d for d, v in zip(dims, target.values))


def _keep_aspect_ratio(x: Value, target: Target, policy: str) -> Target:
    """keep_aspect_ratio_policy: one scale for all axes, output = round_half_up(scale * dim).

    Expressed as Interpolate scales when floor(scale * dim) gives the same sizes."""
    if target.mode != "sizes" or target.values is None or target.axes is None:
        raise Unsupported("keep_aspect_ratio_policy needs constant sizes")
    dims = [x.shape[a] for a in target.axes]
    if any(d is None for d in dims):
        raise Unsupported("keep_aspect_ratio_policy needs static input dims on the resized axes")
    ratios = [v / d for v, d in zip(target.values, dims)]  # type: ignore[operator]
    if policy == "not_larger":
        scale = min(ratios)
    elif policy == "not_smaller":
        scale = max(ratios)
    else:
        raise Unsupported(f"keep_aspect_ratio_policy {policy!r} is not supported")
    wanted = [int(scale * d + 0.5) for d in dims]  # type: ignore[operator]
    if [ops.scaled_dim(d, scale) for d in dims] != wanted:  # type: ignore[arg-type]
        raise Unsupported("keep_aspect_ratio_policy with a rounded-up output size is not supported")
    return Target("scales", target.axes, [scale] * len(dims))


def _coordinate_mode(x: Value, target: Target, mode: str) -> str:
    if mode in COORDINATE_MODES:
        return mode
    if mode == "half_pixel_symmetric":
        # Equal to half_pixel when every output size is exactly scale * input size.
        if target.mode == "sizes" or (target.values is not None and _exact_scaling(x, target)):
            return "half_pixel"
        raise Unsupported("half_pixel_symmetric with a fractional output size is not supported")
    if mode == "tf_crop_and_resize":
        raise Unsupported("coordinate_transformation_mode tf_crop_and_resize is not supported by Interpolate")
    raise Unsupported(f"coordinate_transformation_mode {mode!r} is not supported")


def _exact_scaling(x: Value, target: Target) -> bool:
    assert target.values is not None and target.axes is not None
    for axis, scale in zip(target.axes, target.values):
        dim = x.shape[axis]
        if dim is None or float(np.float32(scale) * np.float32(dim)) != float(ops.scaled_dim(dim, scale)):
            return False
    return True


# ---------------------------------------------------------------- building


def _interpolate(x: Value, target: Target, mode: str, attrs: dict[str, object]) -> Value:
    if mode == "linear_onnx":
        target = _linear_onnx_axes(x, target)
        rank = x.shape.rank
        axes = target.axes if target.axes is not None or rank is None else list(range(rank))
        if axes is None or rank is None or tuple(sorted(axes)) != LINEAR_ONNX_AXES.get(rank):
            mode = "linear"  # the same math without antialias, and no restriction on axes
    inputs = [x]
    if target.values is not None:
        assert target.axes is not None
        dtype = np.float32 if target.mode == "scales" else np.int64
        inputs.append(const(np.array(target.values, dtype=dtype)))
        inputs.append(const(np.array(target.axes, dtype=np.int64)))
    else:
        assert target.value is not None
        inputs.append(target.value)
        if target.axes is not None:
            inputs.append(const(np.array(target.axes, dtype=np.int64)))
    return ops.Interpolate(*inputs, mode=mode, shape_calculation_mode=target.mode, **attrs)


def _linear_onnx_axes(x: Value, target: Target) -> Target:
    """Widen constant axes to the set linear_onnx accepts, with identity scales/sizes."""
    rank = x.shape.rank
    allowed = LINEAR_ONNX_AXES.get(rank) if rank is not None else None
    if allowed is None or target.values is None or target.axes is None or not set(target.axes) <= set(allowed):
        return target
    given = dict(zip(target.axes, target.values))
    values: list[float] = []
    for axis in allowed:
        if axis in given:
            values.append(given[axis])
        elif target.mode == "scales":
            values.append(1.0)
        elif x.shape[axis] is not None:
            values.append(float(x.shape[axis]))  # type: ignore[arg-type]
        else:
            return target
    return Target(target.mode, list(allowed), values)



# ---------------------------------------------------------------- separable fallback
#
# Resizing is separable: along each axis, every output row is a weighted sum of a few input
# rows. With the sizes known at conversion time, the taps and weights are constants and the
# resize becomes Gathers, Multiplies and Adds. This covers what Interpolate lacks (antialias,
# exclude_outside, tf_crop_and_resize, half_pixel_symmetric, keep_aspect_ratio_policy rounding).


@dataclass(frozen=True)
class Options:
    mode: str
    coordinate_mode: str
    nearest_mode: str
    cubic_coeff_a: float
    exclude_outside: bool
    antialias: bool
    extrapolation_value: float


@dataclass(frozen=True)
class AxisPlan:
    axis: int
    input_size: int
    output_size: int
    scale: float  # the scale the coordinate transform uses
    roi: tuple[float, float]  # start and end, for tf_crop_and_resize

    @property
    def is_identity(self) -> bool:
        return self.scale == 1.0 and self.output_size == self.input_size and self.roi == (0.0, 1.0)


def _separable_plan(x: Value, target: Target, policy: str, roi: Value | None, options: Options) -> list[AxisPlan] | str:
    """Per-axis sizes and scales, or why they are not known at conversion time."""
    if target.values is None or target.axes is None:
        return "the scales/sizes are not constant"
    dims = [x.shape[a] for a in target.axes]
    if any(d is None for d in dims):
        return "the resized dims are not static"
    sizes = [int(d) for d in dims]  # type: ignore[arg-type]
    if target.mode == "scales":
        scales = list(target.values)
        outputs = [int(np.floor(np.float32(d) * np.float32(s))) for d, s in zip(sizes, scales)]
    else:
        outputs = [int(v) for v in target.values]
        scales = [o / d for o, d in zip(outputs, sizes)]
        if policy in ("not_larger", "not_smaller"):
            scale = min(scales) if policy == "not_larger" else max(scales)
            scales = [scale] * len(sizes)
            outputs = [int(scale * d + 0.5) for d in sizes]
        elif policy != "stretch":
            return f"keep_aspect_ratio_policy {policy!r} is unknown"
    windows = [(0.0, 1.0)] * len(sizes)
    if options.coordinate_mode == "tf_crop_and_resize":
        values = None if roi is None else _constant_floats(roi)
        if values is None:
            return "the roi is not constant"
        rank = x.shape.rank or 0
        count = len(target.axes)
        if len(values) == 2 * count:
            windows = [(values[i], values[count + i]) for i in range(count)]
        elif len(values) == 2 * rank:
            windows = [(values[a], values[rank + a]) for a in target.axes]
        else:
            return f"the roi has {len(values)} values"
    return [AxisPlan(*fields) for fields in zip(target.axes, sizes, outputs, scales, windows)]


def _resize_by_taps(x: Value, plan: list[AxisPlan], options: Options) -> Value:
    result = x
    for axis_plan in plan:
        if axis_plan.is_identity:
            continue
        indices, weights, outside = _axis_taps(axis_plan, options)
        result = _apply_taps(result, axis_plan.axis, indices, weights, outside, options.extrapolation_value)
    return result


def _source_coordinates(plan: AxisPlan, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Where each output position samples the input, and which positions fall outside it."""
    resized = np.arange(plan.output_size, dtype=np.float64)
    size, out, scale = plan.input_size, plan.output_size, plan.scale
    outside = np.zeros(out, dtype=bool)
    if mode == "half_pixel":
        source = (resized + 0.5) / scale - 0.5
    elif mode == "pytorch_half_pixel":
        source = (resized + 0.5) / scale - 0.5 if out > 1 else np.zeros(out)
    elif mode == "align_corners":
        source = resized * (size - 1) / (out - 1) if out > 1 else np.zeros(out)
    elif mode == "asymmetric":
        source = resized / scale
    elif mode == "tf_half_pixel_for_nn":
        source = (resized + 0.5) / scale
    elif mode == "half_pixel_symmetric":
        offset = size / 2 * (1 - out / (scale * size))
        source = offset + (resized + 0.5) / scale - 0.5
    elif mode == "tf_crop_and_resize":
        start, end = plan.roi
        if out > 1:
            source = start * (size - 1) + resized * (end - start) * (size - 1) / (out - 1)
        else:
            source = np.full(out, 0.5 * (start + end) * (size - 1))
        outside = (source < 0) | (source > size - 1)
    else:
        raise Unsupported(f"coordinate_transformation_mode {mode!r} is not supported")
    return source, outside


def _nearest(source: np.ndarray, mode: str) -> np.ndarray:
    if mode == "round_prefer_floor":
        return np.ceil(source - 0.5)
    if mode == "round_prefer_ceil":
        return np.floor(source + 0.5)
    return np.floor(source) if mode == "floor" else np.ceil(source)


def _kernel(distance: np.ndarray, mode: str, a: float) -> np.ndarray:
    t = np.abs(distance)
    if mode == "linear":
        return np.clip(1.0 - t, 0.0, 1.0)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def _axis_taps(plan: AxisPlan, options: Options) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input indices [out, taps], weights [out, taps] and the outside mask [out] along one axis."""
    source, outside = _source_coordinates(plan, options.coordinate_mode)
    last = plan.input_size - 1
    if options.mode == "nearest":
        indices = np.clip(_nearest(source, options.nearest_mode), 0, last).astype(np.int64)[:, None]
        weights = np.where(outside, 0.0, 1.0)[:, None]
        return indices, weights, outside
    radius = 1.0 if options.mode == "linear" else 2.0
    # Antialiasing widens the kernel by 1/scale when downsampling.
    stretch = min(plan.scale, 1.0) if options.antialias else 1.0
    first = int(np.floor(-radius / stretch)) + 1
    count = 2 - 2 * first
    base = np.ceil(source) - 1  # the input position just left of the source (strictly left when on it)
    positions = base[:, None] + first + np.arange(count)[None, :]
    weights = _kernel((positions - source[:, None]) * stretch, options.mode, options.cubic_coeff_a)
    if options.antialias:
        weights = weights / weights.sum(axis=1, keepdims=True)
    if options.exclude_outside:
        weights = np.where((positions >= 0) & (positions <= last), weights, 0.0)
        totals = weights.sum(axis=1, keepdims=True)
        weights = weights / np.where(totals == 0, 1.0, totals)
    weights[outside] = 0.0
    return np.clip(positions, 0, last).astype(np.int64), weights, outside


def _apply_taps(x: Value, axis: int, indices: np.ndarray, weights: np.ndarray, outside: np.ndarray, fill: float) -> Value:
    rank = x.shape.rank
    assert rank is not None
    column_shape = [indices.shape[0]] + [1] * (rank - axis - 1)
    plain = bool(np.all(weights == 1.0))  # nearest, nothing outside: a pure gather
    if not plain and not x.element_type.is_float:
        raise Unsupported(f"interpolating {x.element_type.value} data by weights is not supported")
    used = [t for t in range(indices.shape[1]) if weights[:, t].any()] or [0]
    result: Value | None = None
    for tap in used:
        gathered = Gather(x, const(indices[:, tap]), const(np.int64(axis)))
        term = gathered if plain else ew.Multiply(gathered, const(weights[:, tap].astype(x.element_type.numpy).reshape(column_shape)))
        result = term if result is None else ew.Add(result, term)
    assert result is not None
    if outside.any() and fill != 0.0:
        bias = np.where(outside, fill, 0.0).astype(x.element_type.numpy).reshape(column_shape)
        result = ew.Add(result, const(bias))
    return result


HANDLERS: dict[str, Handler] = {"Resize": Resize, "Upsample": Upsample}
