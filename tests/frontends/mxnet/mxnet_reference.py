"""A numpy interpreter of MXNet symbols: the reference the MXNet frontend is tested against.

No mxnet runs on this Python, so each op is written here from MXNet's operator definitions
(src/operator/*: parameter defaults, shape rules, the CPU kernels' loops), independently of
the converter: it reads the symbol JSON itself and computes in float64 where MXNet's kernels
accumulate. Only the ops the tests use are here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from scipy.special import erf

Array = np.ndarray


# ------------------------------------------------------------------ attribute text


def _items(text: str) -> list[str]:
    text = text.strip()
    if text[:1] in "([":
        return [t.strip() for t in text[1:-1].split(",") if t.strip()]
    return [text] if text else []


def ints(attrs: dict, key: str, default: tuple = ()) -> tuple:
    if key not in attrs:
        return default
    return tuple(None if t == "None" else int(t.rstrip("L")) for t in _items(attrs[key]))


def floats(attrs: dict, key: str, default: tuple = ()) -> tuple:
    return tuple(float(t) for t in _items(attrs[key])) if key in attrs else default


def integer(attrs: dict, key: str, default: int | None) -> int | None:
    value = attrs.get(key)
    return default if value is None or value == "None" else int(value)


def number(attrs: dict, key: str, default: float | None) -> float | None:
    value = attrs.get(key)
    return default if value is None or value == "None" else float(value)


def flag(attrs: dict, key: str, default: bool) -> bool:
    value = attrs.get(key)
    return default if value is None else value.lower() in ("true", "1")


# ------------------------------------------------------------------ the interpreter


def run_reference(symbol_path: Path, args: Mapping[str, Array], aux: Mapping[str, Array], feeds: Mapping[str, Array]) -> list[Array]:
    graph = json.loads(Path(symbol_path).read_text())
    values: list[list[Array]] = []
    for node in graph["nodes"]:
        attrs = {**node.get("param", {}), **node.get("attr", {}), **node.get("attrs", {})}
        attrs = {k: v for k, v in attrs.items() if not k.startswith("__")}
        if node["op"] == "null":
            name = node["name"]
            value = feeds.get(name, args.get(name, aux.get(name)))
            values.append([np.asarray(value) if value is not None else None])  # type: ignore[list-item]
            continue
        inputs = [values[i][o] for i, o, *_ in node["inputs"]]
        result = OPS[node["op"]](inputs, attrs)
        values.append(list(result) if isinstance(result, (list, tuple)) else [result])
    return [values[i][o] for i, o, *_ in graph["heads"]]


# ------------------------------------------------------------------ convolutions and pooling


def _to_nchw(x: Array, layout: str | None) -> tuple[Array, bool]:
    if layout in ("NWC", "NHWC", "NDHWC"):
        return np.moveaxis(x, -1, 1), True
    return x, False


def _from_nchw(y: Array, back: bool) -> Array:
    return np.moveaxis(y, 1, -1) if back else y


def convolution(inputs: list[Array], attrs: dict) -> Array:
    kernel = ints(attrs, "kernel")
    n = len(kernel)
    stride = ints(attrs, "stride") or (1,) * n
    dilate = ints(attrs, "dilate") or (1,) * n
    pad = ints(attrs, "pad") or (0,) * n
    groups = integer(attrs, "num_group", 1)
    x, back = _to_nchw(inputs[0].astype(np.float64), attrs.get("layout"))
    w = inputs[1].astype(np.float64)
    if back:
        w = np.moveaxis(w, -1, 1)
    x = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    out_sizes = [(x.shape[2 + i] - dilate[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(n)]
    cin = x.shape[1] // groups
    cout = w.shape[0] // groups
    y = np.zeros((x.shape[0], w.shape[0], *out_sizes))
    for g in range(groups):
        xg = x[:, g * cin : (g + 1) * cin]
        wg = w[g * cout : (g + 1) * cout]
        for offset in np.ndindex(*kernel):
            index = tuple(slice(offset[i] * dilate[i], offset[i] * dilate[i] + stride[i] * (out_sizes[i] - 1) + 1, stride[i]) for i in range(n))
            patch = xg[(slice(None), slice(None), *index)]
            y[:, g * cout : (g + 1) * cout] += np.einsum("nc...,oc->no...", patch, wg[(slice(None), slice(None), *offset)])
    if not flag(attrs, "no_bias", False):
        y += inputs[2].reshape((1, -1) + (1,) * n)
    return _from_nchw(y, back).astype(inputs[0].dtype)


def deconvolution(inputs: list[Array], attrs: dict) -> Array:
    kernel = ints(attrs, "kernel")
    n = len(kernel)
    stride = ints(attrs, "stride") or (1,) * n
    dilate = ints(attrs, "dilate") or (1,) * n
    pad = list(ints(attrs, "pad") or (0,) * n)
    adj = list(ints(attrs, "adj") or (0,) * n)
    target = ints(attrs, "target_shape")
    groups = integer(attrs, "num_group", 1)
    x = inputs[0].astype(np.float64)
    w = inputs[1].astype(np.float64)  # [C_in, C_out / groups, k...]
    if target and any(target):
        for i in range(n):
            total = stride[i] * (x.shape[2 + i] - 1) + dilate[i] * (kernel[i] - 1) + 1 - target[i]
            adj[i], pad[i] = total % 2, (total + 1) // 2
    full = [stride[i] * (x.shape[2 + i] - 1) + dilate[i] * (kernel[i] - 1) + 1 + adj[i] for i in range(n)]
    cin = x.shape[1] // groups
    cout = w.shape[1]
    y = np.zeros((x.shape[0], cout * groups, *full))
    for g in range(groups):
        xg = x[:, g * cin : (g + 1) * cin]
        wg = w[g * cin : (g + 1) * cin]
        for offset in np.ndindex(*kernel):
            index = tuple(slice(offset[i] * dilate[i], offset[i] * dilate[i] + stride[i] * (x.shape[2 + i] - 1) + 1, stride[i]) for i in range(n))
            y[(slice(None), slice(g * cout, (g + 1) * cout), *index)] += np.einsum("nc...,co->no...", xg, wg[(slice(None), slice(None), *offset)])
    crop = tuple(slice(pad[i], full[i] - pad[i]) for i in range(n))
    y = y[(slice(None), slice(None), *crop)]
    if not flag(attrs, "no_bias", True):
        y = y + inputs[2].reshape((1, -1) + (1,) * n)
    return y.astype(inputs[0].dtype)


def pooling(inputs: list[Array], attrs: dict) -> Array:
    x, back = _to_nchw(inputs[0].astype(np.float64), attrs.get("layout"))
    kind = attrs.get("pool_type", "max")
    p_value = integer(attrs, "p_value", None)
    spatial = x.ndim - 2
    if flag(attrs, "global_pool", False):
        axes = tuple(range(2, x.ndim))
        reducers = {"max": np.max, "avg": np.mean, "sum": np.sum}
        if kind == "lp":
            y = np.sum(x**p_value, axis=axes, keepdims=True) ** (1.0 / p_value)
        else:
            y = reducers[kind](x, axis=axes, keepdims=True)
        return _from_nchw(y, back).astype(inputs[0].dtype)
    kernel = ints(attrs, "kernel")
    stride = ints(attrs, "stride") or (1,) * spatial
    pad = ints(attrs, "pad") or (0,) * spatial
    convention = attrs.get("pooling_convention", "valid")
    include_pad = flag(attrs, "count_include_pad", True)
    sizes = x.shape[2:]
    if convention == "valid":
        outs = [1 + (sizes[i] + 2 * pad[i] - kernel[i]) // stride[i] for i in range(spatial)]
    elif convention == "full":
        outs = [1 + math.ceil((sizes[i] + 2 * pad[i] - kernel[i]) / stride[i]) for i in range(spatial)]
    else:
        outs = [math.ceil((sizes[i] + 2 * pad[i]) / stride[i]) for i in range(spatial)]
    y = np.zeros(x.shape[:2] + tuple(outs))
    for position in np.ndindex(*outs):
        starts = [position[i] * stride[i] - pad[i] for i in range(spatial)]
        padded_ends = [min(starts[i] + kernel[i], sizes[i] + pad[i]) for i in range(spatial)]
        pool_size = int(np.prod([padded_ends[i] - starts[i] for i in range(spatial)]))
        lo = [max(s, 0) for s in starts]
        if kind == "max":
            hi = [min(starts[i] + kernel[i], sizes[i]) for i in range(spatial)]
        else:
            hi = [min(padded_ends[i], sizes[i]) for i in range(spatial)]
        window = x[(slice(None), slice(None), *[slice(lo[i], hi[i]) for i in range(spatial)])]
        target = (slice(None), slice(None), *position)
        if kind == "max":
            y[target] = window.max(axis=tuple(range(2, x.ndim)))
        elif kind == "avg":
            count = pool_size if include_pad else int(np.prod([hi[i] - lo[i] for i in range(spatial)]))
            y[target] = window.sum(axis=tuple(range(2, x.ndim))) / count
        elif kind == "sum":
            y[target] = window.sum(axis=tuple(range(2, x.ndim)))
        else:
            y[target] = np.sum(window**p_value, axis=tuple(range(2, x.ndim))) ** (1.0 / p_value)
    return _from_nchw(y, back).astype(inputs[0].dtype)


def fully_connected(inputs: list[Array], attrs: dict) -> Array:
    x = inputs[0].astype(np.float64)
    if flag(attrs, "flatten", True):
        x = x.reshape(x.shape[0], -1)
    y = x @ inputs[1].astype(np.float64).T
    if not flag(attrs, "no_bias", False):
        y = y + inputs[2]
    return y.astype(inputs[0].dtype)


# ------------------------------------------------------------------ activations and normalizations


def _softmax(x: Array, axis: int) -> Array:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _act(x: Array, kind: str) -> Array:
    return {
        "relu": lambda v: np.maximum(v, 0),
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        "tanh": np.tanh,
        "softrelu": lambda v: np.log1p(np.exp(v)),
        "softsign": lambda v: v / (1 + np.abs(v)),
    }[kind](x)


def activation(inputs: list[Array], attrs: dict) -> Array:
    return _act(inputs[0].astype(np.float64), attrs.get("act_type", "relu")).astype(inputs[0].dtype)


def leaky_relu(inputs: list[Array], attrs: dict) -> Array:
    x = inputs[0].astype(np.float64)
    kind = attrs.get("act_type", "leaky")
    slope = number(attrs, "slope", 0.25)
    if kind == "leaky":
        y = np.where(x > 0, x, slope * x)
    elif kind == "rrelu":
        mean = (number(attrs, "lower_bound", 0.125) + number(attrs, "upper_bound", 0.334)) / 2
        y = np.where(x > 0, x, mean * x)
    elif kind == "prelu":
        gamma = inputs[1].astype(np.float64)
        gamma = gamma.reshape((1, -1) + (1,) * (x.ndim - 2)) if gamma.size > 1 else gamma.reshape(())
        y = np.where(x > 0, x, gamma * x)
    elif kind == "elu":
        y = np.where(x > 0, x, slope * np.expm1(x))
    elif kind == "selu":
        alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
        y = scale * np.where(x > 0, x, alpha * np.expm1(x))
    else:  # gelu
        y = 0.5 * x * (1 + erf(x / np.sqrt(2)))
    return y.astype(inputs[0].dtype)


def batch_norm(inputs: list[Array], attrs: dict) -> Array:
    x, gamma, beta, mean, var = (a.astype(np.float64) for a in inputs)
    axis = integer(attrs, "axis", 1) % x.ndim
    shape = [1] * x.ndim
    shape[axis] = -1
    if flag(attrs, "fix_gamma", True):
        gamma = np.ones_like(gamma)
    eps = number(attrs, "eps", 1e-3)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * gamma.reshape(shape) + beta.reshape(shape)
    return y.astype(inputs[0].dtype)


def instance_norm(inputs: list[Array], attrs: dict) -> Array:
    x, gamma, beta = (a.astype(np.float64) for a in inputs)
    axes = tuple(range(2, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean) / np.sqrt(var + number(attrs, "eps", 1e-3)) * gamma.reshape(shape) + beta.reshape(shape)
    return y.astype(inputs[0].dtype)


def layer_norm(inputs: list[Array], attrs: dict) -> Array:
    x, gamma, beta = (a.astype(np.float64) for a in inputs)
    axis = integer(attrs, "axis", -1) % x.ndim
    mean = x.mean(axis=axis, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axis, keepdims=True)
    shape = [1] * x.ndim
    shape[axis] = -1
    y = (x - mean) / np.sqrt(var + number(attrs, "eps", 1e-5)) * gamma.reshape(shape) + beta.reshape(shape)
    return y.astype(inputs[0].dtype)


def l2_normalization(inputs: list[Array], attrs: dict) -> Array:
    x = inputs[0].astype(np.float64)
    mode = attrs.get("mode", "instance")
    axes = {"instance": tuple(range(1, x.ndim)), "channel": (1,), "spatial": tuple(range(2, x.ndim))}[mode]
    norm = np.sqrt(np.sum(x * x, axis=axes, keepdims=True) + number(attrs, "eps", 1e-10))
    return (x / norm).astype(inputs[0].dtype)


def softmax(inputs: list[Array], attrs: dict) -> Array:
    x = inputs[0].astype(np.float64) / (number(attrs, "temperature", None) or 1.0)
    return _softmax(x, integer(attrs, "axis", -1)).astype(inputs[0].dtype)


def log_softmax(inputs: list[Array], attrs: dict) -> Array:
    x = inputs[0].astype(np.float64) / (number(attrs, "temperature", None) or 1.0)
    return np.log(_softmax(x, integer(attrs, "axis", -1))).astype(inputs[0].dtype)


def softmax_output(inputs: list[Array], attrs: dict) -> Array:
    x = inputs[0].astype(np.float64)
    if flag(attrs, "multi_output", False):
        y = _softmax(x, 1)
    elif flag(attrs, "preserve_shape", False):
        y = _softmax(x, -1)
    else:
        y = _softmax(x.reshape(x.shape[0], -1), 1).reshape(x.shape)
    return y.astype(inputs[0].dtype)


def softmax_activation(inputs: list[Array], attrs: dict) -> Array:
    x = inputs[0].astype(np.float64)
    if attrs.get("mode", "instance") == "channel":
        return _softmax(x, 1).astype(inputs[0].dtype)
    return _softmax(x, -1).astype(inputs[0].dtype)  # instance: mshadow's FlatTo2D keeps the last axis


# ------------------------------------------------------------------ shapes


def reshape(inputs: list[Array], attrs: dict) -> Array:
    """MXNet's codes 0, -1, -2, -3, -4, applied as its InferReshapeShape describes."""
    x = inputs[0]
    codes = list(ints(attrs, "shape"))
    source = list(x.shape)
    reverse = flag(attrs, "reverse", False)
    if reverse:
        codes, source = codes[::-1], source[::-1]
    out: list[int] = []
    i = j = 0
    infer = None
    while i < len(codes):
        code = codes[i]
        if code == 0:
            out.append(source[j])
            j += 1
        elif code == -1:
            infer = len(out)
            out.append(1)
            j += 1
        elif code == -2:
            out.extend(source[j:])
            j = len(source)
        elif code == -3:
            out.append(source[j] * source[j + 1])
            j += 2
        elif code == -4:
            d1, d2 = codes[i + 1], codes[i + 2]
            if d1 == -1:
                d1 = source[j] // d2
            if d2 == -1:
                d2 = source[j] // d1
            out.extend([d1, d2])
            j += 1
            i += 2
        else:
            out.append(code)
            j += 1
        i += 1
    if infer is not None:
        out[infer] = x.size // int(np.prod(out))
    if reverse:
        out = out[::-1]
    return x.reshape(out)


def _slice(inputs: list[Array], attrs: dict) -> Array:
    x = inputs[0]
    begin, end, step = ints(attrs, "begin"), ints(attrs, "end"), ints(attrs, "step")
    index = tuple(slice(b, e, (step[i] if step else None)) for i, (b, e) in enumerate(zip(begin, end)))
    return x[index]


def slice_axis(inputs: list[Array], attrs: dict) -> Array:
    x = inputs[0]
    axis = integer(attrs, "axis", 0)
    index = [slice(None)] * x.ndim
    index[axis] = slice(integer(attrs, "begin", 0), integer(attrs, "end", None))
    return x[tuple(index)]


def slice_like(inputs: list[Array], attrs: dict) -> Array:
    x, like = inputs
    axes = ints(attrs, "axes") or tuple(range(x.ndim))
    index = [slice(None)] * x.ndim
    for axis in axes:
        index[axis] = slice(0, like.shape[axis])
    return x[tuple(index)]


def crop(inputs: list[Array], attrs: dict) -> Array:
    x = inputs[0]
    h, w = inputs[1].shape[2:4] if len(inputs) > 1 else ints(attrs, "h_w")
    if flag(attrs, "center_crop", False):
        top, left = (x.shape[2] - h) // 2, (x.shape[3] - w) // 2
    else:
        top, left = ints(attrs, "offset", (0, 0))
    return x[:, :, top : top + h, left : left + w]


def pad(inputs: list[Array], attrs: dict) -> Array:
    widths = ints(attrs, "pad_width")
    pairs = list(zip(widths[0::2], widths[1::2]))
    mode = attrs.get("mode", "constant")
    if mode == "constant":
        return np.pad(inputs[0], pairs, constant_values=number(attrs, "constant_value", 0.0))
    return np.pad(inputs[0], pairs, mode=mode)


def slice_channel(inputs: list[Array], attrs: dict) -> list[Array]:
    axis = integer(attrs, "axis", 1)
    parts = np.split(inputs[0], integer(attrs, "num_outputs", 1), axis=axis)
    return [np.squeeze(p, axis) for p in parts] if flag(attrs, "squeeze_axis", False) else parts


def upsampling(inputs: list[Array], attrs: dict) -> Array:
    scale = integer(attrs, "scale", 1)
    if attrs.get("sample_type", "nearest") == "bilinear":
        k = 2 * scale - scale % 2
        p = math.ceil((scale - 1) / 2)
        c = integer(attrs, "num_filter", 0)
        return deconvolution(inputs, {"kernel": f"({k}, {k})", "stride": f"({scale}, {scale})", "pad": f"({p}, {p})", "num_group": str(c)})
    out_h = inputs[0].shape[2] * scale
    parts = [x.repeat(out_h // x.shape[2], axis=2).repeat(out_h // x.shape[2], axis=3) for x in inputs]
    if len(parts) == 1:
        return parts[0]
    return sum(parts) if attrs.get("multi_input_mode", "concat") == "sum" else np.concatenate(parts, axis=1)


# ------------------------------------------------------------------ math


def _same(fn: Callable[[Array, Array], Array]) -> Callable[[list[Array], dict], Array]:
    return lambda inputs, attrs: np.asarray(fn(inputs[0], inputs[1])).astype(inputs[0].dtype)


def _scalar(fn: Callable[[Array, Array], Array], reverse: bool = False) -> Callable[[list[Array], dict], Array]:
    def op(inputs: list[Array], attrs: dict) -> Array:
        x = inputs[0]
        s = x.dtype.type(float(attrs["scalar"]))
        return np.asarray(fn(s, x) if reverse else fn(x, s)).astype(x.dtype)

    return op


def _unary(fn: Callable[[Array], Array]) -> Callable[[list[Array], dict], Array]:
    return lambda inputs, attrs: np.asarray(fn(inputs[0].astype(np.float64))).astype(inputs[0].dtype)


def _reduce(fn: Callable) -> Callable[[list[Array], dict], Array]:
    def op(inputs: list[Array], attrs: dict) -> Array:
        x = inputs[0]
        axis = ints(attrs, "axis") if attrs.get("axis", "None") != "None" else ()
        axes = tuple(a % x.ndim for a in axis) or tuple(range(x.ndim))
        if flag(attrs, "exclude", False) and axis:
            axes = tuple(a for a in range(x.ndim) if a not in axes)
        y = np.asarray(fn(x.astype(np.float64), axis=axes, keepdims=flag(attrs, "keepdims", False))).astype(x.dtype)
        return y.reshape(1) if y.ndim == 0 else y  # MXNet 1.x has no scalars: a full reduction is [1]

    return op


def dot(inputs: list[Array], attrs: dict) -> Array:
    a, b = (v.astype(np.float64) for v in inputs)
    if flag(attrs, "transpose_a", False):
        a = np.moveaxis(a, 0, -1)
    if flag(attrs, "transpose_b", False):
        b = np.moveaxis(b, -1, 0)
    y = np.tensordot(a, b, axes=([a.ndim - 1], [0]))
    return np.asarray(y).reshape(y.shape or (1,)).astype(inputs[0].dtype)


def batch_dot(inputs: list[Array], attrs: dict) -> Array:
    a, b = (v.astype(np.float64) for v in inputs)
    if flag(attrs, "transpose_a", False):
        a = np.swapaxes(a, -1, -2)
    if flag(attrs, "transpose_b", False):
        b = np.swapaxes(b, -1, -2)
    return (a @ b).astype(inputs[0].dtype)


def take(inputs: list[Array], attrs: dict) -> Array:
    a, idx = inputs
    axis = integer(attrs, "axis", 0)
    idx = idx.astype(np.int64)
    n = a.shape[axis]
    idx = np.mod(idx, n) if attrs.get("mode", "clip") == "wrap" else np.clip(idx, 0, n - 1)
    return np.take(a, idx, axis=axis)


def embedding(inputs: list[Array], attrs: dict) -> Array:
    data, weight = inputs
    return weight[np.clip(data.astype(np.int64), 0, weight.shape[0] - 1)]


def where(inputs: list[Array], attrs: dict) -> Array:
    cond, x, y = inputs
    if cond.ndim == 1 and x.ndim > 1:
        cond = cond.reshape((-1,) + (1,) * (x.ndim - 1))
    return np.where(cond != 0, x, y)


def cast(inputs: list[Array], attrs: dict) -> Array:
    return inputs[0].astype(attrs.get("dtype", "float32"))


def multibox_prior(inputs: list[Array], attrs: dict) -> Array:
    """contrib/multibox_prior.cc, loop by loop, in float32."""
    height, width = inputs[0].shape[2:4]
    sizes, ratios = floats(attrs, "sizes", (1.0,)), floats(attrs, "ratios", (1.0,))
    steps, offsets = floats(attrs, "steps", (-1.0, -1.0)), floats(attrs, "offsets", (0.5, 0.5))
    f = np.float32
    step_y, step_x = (f(1) / f(height), f(1) / f(width)) if steps[0] <= 0 or steps[1] <= 0 else (f(steps[0]), f(steps[1]))
    out = []
    for r in range(height):
        cy = (f(r) + f(offsets[0])) * step_y
        for c in range(width):
            cx = (f(c) + f(offsets[1])) * step_x
            pairs = [(f(s), np.sqrt(f(ratios[0]))) for s in sizes] + [(f(sizes[0]), np.sqrt(f(q))) for q in ratios[1:]]
            for size, ratio in pairs:
                w = size * f(height) / f(width) * ratio / f(2)
                h = size / ratio / f(2)
                out.append([cx - w, cy - h, cx + w, cy + h])
    boxes = np.array(out, np.float32).reshape(1, -1, 4)
    return np.clip(boxes, 0, 1) if flag(attrs, "clip", False) else boxes


def _box_overlap(a: Array, b: Array) -> np.float32:
    """CalculateOverlap of contrib/multibox_detection.cc, in float32."""
    f = np.float32
    w = max(f(0), min(a[2], b[2]) - max(a[0], b[0]))
    h = max(f(0), min(a[3], b[3]) - max(a[1], b[1]))
    i = w * h
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i
    return f(0) if u <= 0 else f(i / u)


def multibox_detection(inputs: list[Array], attrs: dict) -> Array:
    """MultiBoxDetectionForward of contrib/multibox_detection.cc (the CPU kernel), loop by loop, in
    float32: best class per anchor (class 0 is the background, whatever background_id says), the
    threshold, the decode, the valid rows compacted in anchor order; then (when 0 < nms_threshold
    <= 1) a stable sort by score, nms_topk (the rows past it keep their compacted score and box,
    class -1), and the greedy NMS that marks suppressed rows' class -1. Every other row is all -1."""
    cls_prob, loc_pred, anchor = (np.asarray(a, np.float32) for a in inputs)
    f = np.float32
    threshold = f(number(attrs, "threshold", 0.01))
    nms_threshold = f(number(attrs, "nms_threshold", 0.5))
    clip = flag(attrs, "clip", True)
    force_suppress = flag(attrs, "force_suppress", False)
    nms_topk = integer(attrs, "nms_topk", -1)
    vx, vy, vw, vh = (f(v) for v in floats(attrs, "variances", (0.1, 0.1, 0.2, 0.2)))
    batches, classes, anchors_count = cls_prob.shape
    anchors = anchor.reshape(anchors_count, 4)
    out = np.full((batches, anchors_count, 6), -1, np.float32)
    for n in range(batches):
        rows = np.zeros((anchors_count, 6), np.float32)
        for i in range(anchors_count):
            score, class_id = f(-1), 0
            for j in range(1, classes):
                if cls_prob[n, j, i] > score:
                    score, class_id = cls_prob[n, j, i], j
            if class_id > 0 and score < threshold:
                class_id = 0
            al, at, ar, ab = anchors[i]
            aw, ah = ar - al, ab - at
            ax, ay = (al + ar) / f(2), (at + ab) / f(2)
            px, py, pw, ph = loc_pred[n, i * 4 : i * 4 + 4]
            ox, oy = px * vx * aw + ax, py * vy * ah + ay
            ow, oh = np.exp(pw * vw) * aw / f(2), np.exp(ph * vh) * ah / f(2)
            box = [ox - ow, oy - oh, ox + ow, oy + oh]
            if clip:
                box = [max(f(0), min(f(1), v)) for v in box]
            rows[i] = [class_id - 1, score, *box]
        p_out = out[n]
        valid = rows[rows[:, 0] >= 0]
        p_out[: len(valid)] = valid
        if len(valid) < 1 or nms_threshold <= 0 or nms_threshold > 1:
            continue
        order = sorted(range(len(valid)), key=lambda k: -valid[k, 1])  # Python's sort is stable
        keep = len(order)
        if 0 < nms_topk < keep:
            keep = nms_topk
            p_out[keep : len(valid), 0] = -1
        p_out[:keep] = valid[order[:keep]]
        for i in range(keep):
            if p_out[i, 0] < 0:
                continue
            for j in range(i + 1, keep):
                if p_out[j, 0] < 0:
                    continue
                if (force_suppress or p_out[i, 0] == p_out[j, 0]) and _box_overlap(p_out[i, 2:], p_out[j, 2:]) >= nms_threshold:
                    p_out[j, 0] = -1
    return out


def _compare(fn: Callable) -> Callable[[list[Array], dict], Array]:
    return lambda inputs, attrs: fn(inputs[0], inputs[1]).astype(inputs[0].dtype)


OPS: dict[str, Callable[[list[Array], dict], Array | list[Array]]] = {
    "_contrib_MultiBoxPrior": multibox_prior,
    "_contrib_MultiBoxDetection": multibox_detection,
    "Convolution": convolution,
    "Deconvolution": deconvolution,
    "Pooling": pooling,
    "FullyConnected": fully_connected,
    "Activation": activation,
    "LeakyReLU": leaky_relu,
    "BatchNorm": batch_norm,
    "InstanceNorm": instance_norm,
    "LayerNorm": layer_norm,
    "L2Normalization": l2_normalization,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "SoftmaxOutput": softmax_output,
    "SoftmaxActivation": softmax_activation,
    "Reshape": reshape,
    "Flatten": lambda inputs, attrs: inputs[0].reshape(inputs[0].shape[0], -1),
    "transpose": lambda inputs, attrs: np.transpose(inputs[0], ints(attrs, "axes") or None),
    "expand_dims": lambda inputs, attrs: np.expand_dims(inputs[0], integer(attrs, "axis", 0)),
    "squeeze": lambda inputs, attrs: np.squeeze(inputs[0], ints(attrs, "axis") or None),
    "Concat": lambda inputs, attrs: np.concatenate(inputs, axis=integer(attrs, "dim", 1)),
    "SliceChannel": slice_channel,
    "slice": _slice,
    "slice_axis": slice_axis,
    "slice_like": slice_like,
    "Crop": crop,
    "Pad": pad,
    "tile": lambda inputs, attrs: np.tile(inputs[0], ints(attrs, "reps")),
    "UpSampling": upsampling,
    "Dropout": lambda inputs, attrs: inputs[0],
    "_copy": lambda inputs, attrs: inputs[0],
    "BlockGrad": lambda inputs, attrs: inputs[0],
    "Embedding": embedding,
    "take": take,
    "where": where,
    "dot": dot,
    "batch_dot": batch_dot,
    "add_n": lambda inputs, attrs: sum(inputs[1:], inputs[0]),
    "clip": lambda inputs, attrs: np.clip(inputs[0], float(attrs["a_min"]), float(attrs["a_max"])),
    "Cast": cast,
    "zeros_like": lambda inputs, attrs: np.zeros_like(inputs[0]),
    "ones_like": lambda inputs, attrs: np.ones_like(inputs[0]),
    "elemwise_add": _same(np.add),
    "elemwise_sub": _same(np.subtract),
    "elemwise_mul": _same(np.multiply),
    "elemwise_div": _same(np.divide),
    "broadcast_add": _same(np.add),
    "broadcast_sub": _same(np.subtract),
    "broadcast_mul": _same(np.multiply),
    "broadcast_div": _same(np.divide),
    "broadcast_maximum": _same(np.maximum),
    "broadcast_minimum": _same(np.minimum),
    "broadcast_power": _same(np.power),
    "broadcast_equal": _compare(np.equal),
    "broadcast_greater": _compare(np.greater),
    "broadcast_lesser_equal": _compare(np.less_equal),
    "broadcast_logical_and": _compare(lambda a, b: np.logical_and(a != 0, b != 0)),
    "_plus_scalar": _scalar(np.add),
    "_minus_scalar": _scalar(np.subtract),
    "_rminus_scalar": _scalar(np.subtract, reverse=True),
    "_mul_scalar": _scalar(np.multiply),
    "_div_scalar": _scalar(np.divide),
    "_rdiv_scalar": _scalar(np.divide, reverse=True),
    "_power_scalar": _scalar(np.power),
    "_rpower_scalar": _scalar(np.power, reverse=True),
    "_maximum_scalar": _scalar(np.maximum),
    "_minimum_scalar": _scalar(np.minimum),
    "_greater_scalar": _scalar(np.greater),
    "_equal_scalar": _scalar(np.equal),
    "exp": _unary(np.exp),
    "log": _unary(np.log),
    "sqrt": _unary(np.sqrt),
    "rsqrt": _unary(lambda v: 1 / np.sqrt(v)),
    "square": _unary(np.square),
    "abs": _unary(np.abs),
    "negative": _unary(np.negative),
    "sigmoid": _unary(lambda v: 1 / (1 + np.exp(-v))),
    "relu": _unary(lambda v: np.maximum(v, 0)),
    "tanh": _unary(np.tanh),
    "round": _unary(lambda v: np.sign(v) * np.floor(np.abs(v) + 0.5)),
    "sum": _reduce(np.sum),
    "mean": _reduce(np.mean),
    "max": _reduce(np.max),
    "min": _reduce(np.min),
}
