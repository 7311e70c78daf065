"""fuse_pad_into_convolution: a zero constant Pad of the spatial dims becomes conv padding (explicit,
notset or valid convolutions; TF writes Keras ZeroPadding2D + a valid convolution), also when a
Transpose stands between them (an NHWC model's Pad on its input, then the NHWC → NCHW Transpose:
the Transpose moves before the Pad, whose pads it permutes); or pooling padding.

Pooling pads are not zeros. AvgPool counts them as zeros only with exclude-pad false: a Pad folds
into an AvgPool without pads of its own, or whose own pads are counted too. MaxPool pads are -inf:
a Pad of zeros folds into a MaxPool when the zeros never decide a window, that is when the data is
provably >= 0 (it comes from ReLU, Sigmoid, Clamp(min >= 0), ...) and every window holds at least
one real element. With floor rounding and dilation 1 that holds exactly when no side pads as much
as the kernel: the first window starts pads_begin before the data, the last ends at most pads_end
after it. (Keras ResNet: ZeroPadding2D + a VALID MaxPool after a ReLU.) MaxPool's indices output
must be unread: the positions would count the pads."""

from __future__ import annotations

from converter.ir.graph import Graph, Node, Value
from converter.ops.shape import Transpose
from converter.ops.spec import const_ints
from converter.passes.patterns import producer, scalar, single_use

PADDED_CONVOLUTIONS = ("Convolution", "GroupConvolution")


def fuse_pad_into_convolution(graph: Graph) -> Graph:
    users = graph.users()
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if node.op.type in ("AvgPool", "MaxPool"):
            mapping.update(_pad_into_pooling(node, users, graph))
            continue
        if node.op.type not in PADDED_CONVOLUTIONS or node.attrs["auto_pad"] not in ("explicit", "notset", "valid"):
            continue
        if not single_use(users, graph, node.inputs[0]):
            continue
        pad, transpose, perm = producer(node.inputs[0], "Pad"), None, None
        if pad is None and (transpose := producer(node.inputs[0], "Transpose")) is not None:
            perm = const_ints(transpose.inputs[1])
            pad = producer(transpose.inputs[0], "Pad")
            if perm is None or pad is None or not single_use(users, graph, transpose.inputs[0]):
                continue
        if pad is None:
            continue
        spatial = _spatial_pads(pad, perm)
        if spatial is None:
            continue
        source = pad.inputs[0] if transpose is None else Transpose(pad.inputs[0], transpose.inputs[1], name=transpose.name)
        begins, ends = spatial
        attrs = dict(node.attrs)
        own_begins, own_ends = node.attrs["pads_begin"], node.attrs["pads_end"]
        if node.attrs["auto_pad"] == "valid":  # its pads attributes do not count: no padding of its own
            own_begins, own_ends = (0,) * len(begins), (0,) * len(ends)
        attrs["pads_begin"] = tuple(a + b for a, b in zip(own_begins, begins))
        attrs["pads_end"] = tuple(a + b for a, b in zip(own_ends, ends))
        attrs["auto_pad"] = "explicit"
        fused = node.op.node(source, *node.inputs[1:], name=node.name, **attrs)
        mapping[node.outputs[0]] = fused.outputs[0]
    graph.replace_values(mapping)
    return graph


NONNEGATIVE = ("ReLU", "Sigmoid", "HSigmoid", "Exp", "Abs", "SoftPlus", "SoftMax")
MOVES_VALUES = ("MaxPool", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Concat")


def _pad_into_pooling(node: Node, users: dict, graph: Graph) -> dict[Value, Value]:
    """The pooling's outputs → a pooling of the Pad's input with the pads added, when equivalent."""
    if node.attrs["auto_pad"] not in ("explicit", "notset", "valid") or node.attrs["rounding_type"] != "floor":
        return {}
    pad = producer(node.inputs[0], "Pad")
    spatial = _spatial_pads(pad) if pad is not None and single_use(users, graph, node.inputs[0]) else None
    if spatial is None:
        return {}
    begins, ends = spatial
    own_begins, own_ends = node.attrs["pads_begin"], node.attrs["pads_end"]
    if node.attrs["auto_pad"] == "valid":
        own_begins, own_ends = (0,) * len(begins), (0,) * len(ends)
    attrs = dict(node.attrs, auto_pad="explicit")
    attrs["pads_begin"] = tuple(a + b for a, b in zip(own_begins, begins))
    attrs["pads_end"] = tuple(a + b for a, b in zip(own_ends, ends))
    if node.op.type == "AvgPool":
        if (any(own_begins) or any(own_ends)) and node.attrs["exclude-pad"]:
            return {}
        attrs["exclude-pad"] = False
    else:
        if any(users.get(v) or any(v is out for out in graph.outputs) for v in node.outputs[1:]):
            return {}
        pads = attrs["pads_begin"] + attrs["pads_end"]
        if any(d != 1 for d in node.attrs["dilations"]) or any(p >= k for p, k in zip(pads, node.attrs["kernel"] * 2)):
            return {}
        if not nonnegative(pad.inputs[0]):
            return {}
    fused = node.op.node(pad.inputs[0], *node.inputs[1:], name=node.name, **attrs)
    return dict(zip(node.outputs, fused.outputs))


def nonnegative(value: Value, depth: int = 8) -> bool:
    """Whether every element of `value` is provably >= 0 (NaN aside): a constant that is, the output
    of an op that makes only such values, or values moved (not computed) from such values."""
    node = value.producer
    kind = node.op.type
    if value.const is not None:
        return value.const.dtype.kind in "fiu" and bool((value.const >= 0).all())
    if kind in NONNEGATIVE:
        return True
    if kind == "Clamp":
        return node.attrs["min"] >= 0
    if depth == 0 or value is not node.outputs[0]:
        return False
    if kind in MOVES_VALUES:
        return all(nonnegative(v, depth - 1) for v in node.inputs[: None if kind == "Concat" else 1])
    if kind == "Pad" and node.attrs["pad_mode"] == "constant":
        return nonnegative(node.inputs[0], depth - 1) and (len(node.inputs) < 4 or nonnegative(node.inputs[3], 0))
    if kind in ("Add", "Multiply", "Maximum", "Minimum"):
        return all(nonnegative(v, depth - 1) for v in node.inputs)
    return False


def _spatial_pads(pad: Node, perm: list[int] | None = None) -> tuple[list[int], list[int]] | None:
    """(begins, ends) over spatial dims if the Pad pads only those, with zeros, non-negatively;
    with `perm`, those of the Pad moved after a Transpose by `perm`."""
    if pad.attrs["pad_mode"] != "constant":
        return None
    if len(pad.inputs) > 3 and scalar(pad.inputs[3]) != 0.0:
        return None
    begins, ends = const_ints(pad.inputs[1]), const_ints(pad.inputs[2])
    if begins is None or ends is None or len(begins) != len(ends) or len(begins) < 3:
        return None
    if perm is not None:
        if sorted(perm) != list(range(len(begins))):
            return None
        begins, ends = [begins[axis] for axis in perm], [ends[axis] for axis in perm]
    if any(p < 0 for p in begins + ends) or any(begins[:2]) or any(ends[:2]):
        return None
    return begins[2:], ends[2:]
