"""fuse_pad_into_convolution: a zero constant Pad of the spatial dims becomes conv padding (explicit,
notset or valid convolutions; TF writes Keras ZeroPadding2D + a valid convolution)."""

from __future__ import annotations

from converter.ir.graph import Graph, Node, Value
from converter.ops.spec import const_ints
from converter.passes.patterns import producer, scalar, single_use

PADDED_CONVOLUTIONS = ("Convolution", "GroupConvolution")


def fuse_pad_into_convolution(graph: Graph) -> Graph:
    users = graph.users()
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        if node.op.type not in PADDED_CONVOLUTIONS or node.attrs["auto_pad"] not in ("explicit", "notset", "valid"):
            continue
        pad = producer(node.inputs[0], "Pad")
        if pad is None or not single_use(users, graph, node.inputs[0]):
            continue
        spatial = _spatial_pads(pad)
        if spatial is None:
            continue
        begins, ends = spatial
        attrs = dict(node.attrs)
        own_begins, own_ends = node.attrs["pads_begin"], node.attrs["pads_end"]
        if node.attrs["auto_pad"] == "valid":  # its pads attributes do not count: no padding of its own
            own_begins, own_ends = (0,) * len(begins), (0,) * len(ends)
        attrs["pads_begin"] = tuple(a + b for a, b in zip(own_begins, begins))
        attrs["pads_end"] = tuple(a + b for a, b in zip(own_ends, ends))
        attrs["auto_pad"] = "explicit"
        fused = node.op.node(pad.inputs[0], *node.inputs[1:], name=node.name, **attrs)
        mapping[node.outputs[0]] = fused.outputs[0]
    graph.replace_values(mapping)
    return graph


def _spatial_pads(pad: Node) -> tuple[list[int], list[int]] | None:
    """(begins, ends) over spatial dims if the Pad pads only those, with zeros, non-negatively."""
    if pad.attrs["pad_mode"] != "constant":
        return None
    if len(pad.inputs) > 3 and scalar(pad.inputs[3]) != 0.0:
        return None
    begins, ends = const_ints(pad.inputs[1]), const_ints(pad.inputs[2])
    if begins is None or ends is None or len(begins) != len(ends) or len(begins) < 3:
        return None
    if any(p < 0 for p in begins + ends) or any(begins[:2]) or any(ends[:2]):
        return None
    return begins[2:], ends[2:]
