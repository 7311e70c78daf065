"""fuse_pad_into_convolution: a zero constant Pad of the spatial dims becomes conv padding (explicit,
notset or valid convolutions; TF writes Keras ZeroPadding2D + a valid convolution), also when a
Transpose stands between them (an NHWC model's Pad on its input, then the NHWC → NCHW Transpose:
the Transpose moves before the Pad, whose pads it permutes)."""

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
