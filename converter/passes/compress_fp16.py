"""compress_fp16: store f32 weights as f16, decompressed to f32 on load.

Each f32 Const becomes `Const f16 → Convert(f32)` with the `decompression`
rt_info attribute, exactly as OpenVINO writes it, so operations still compute in
f32 and the graph stays well-typed. As in OpenVINO, values beyond the f16 range
are clamped, and a constant most of whose values (75%) are out of range stays
f32. Beyond OpenVINO: scalars stay f32 (they save nothing and are often an
epsilon that f16 would flush to zero), and `compress_fp16_guarded` measures each
weight's effect on the outputs and keeps in f32 those that move them too far.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from converter.ir.arrays import CHUNK_BYTES, chunks, read_from_file
from converter.ir.graph import Graph, Node, Value
from converter.ir.half import FAST_FROM, half_in_range, to_half
from converter.ir.types import ElementType
from converter.ops.core import Convert, const

F16_MAX = float(np.finfo(np.float16).max)
KEEP_IF_OUT_OF_RANGE = 0.75
DECOMPRESSION = {"decompression": {"version": "0"}}


def compressible(node: Node) -> bool:
    return _half(node) is not None


def _half(node: Node) -> np.ndarray | None:
    """The f16 version of an f32 Const's array, or None when it stays f32."""
    if node.op.type != "Const" or node.outputs[0].element_type is not ElementType.f32:
        return None
    array: np.ndarray = node.attrs["value"]
    if array.size <= 1:
        return None
    if array.nbytes > CHUNK_BYTES or read_from_file(array):
        return _half_in_chunks(array)
    if array.size >= FAST_FROM and (half := half_in_range(array)) is not None:
        return half  # everything in range: checked and cast in one pass of integer arithmetic
    out_of_range = _out_of_range(array)
    if out_of_range >= KEEP_IF_OUT_OF_RANGE * array.size:
        return None
    if out_of_range:
        array = np.clip(array, -F16_MAX, F16_MAX)
    return to_half(array)


def _out_of_range(array: np.ndarray) -> int:
    """How many values f16 cannot hold (NaN and ±inf count too). Two reductions settle the usual
    case, everything in range, without the temporaries of counting."""
    low, high = float(np.min(array)), float(np.max(array))  # NaN propagates: then count
    if -F16_MAX <= low and high <= F16_MAX:
        return 0
    return int(array.size - np.count_nonzero(np.abs(array) <= F16_MAX))


def _half_in_chunks(array: np.ndarray) -> np.ndarray | None:
    """`_half` of a large array, a chunk at a time: the same values, with no f32 temporaries of
    the whole array, and a memory-mapped array read from its file rather than paged in."""
    half = np.empty(array.shape, dtype=np.float16)
    flat = half.reshape(-1)
    out_of_range = 0
    position = 0
    for chunk in chunks(array):
        target = flat[position : position + chunk.size]
        if half_in_range(chunk, out=target) is None:
            outside = _out_of_range(chunk)
            out_of_range += outside
            np.copyto(target, np.clip(chunk, -F16_MAX, F16_MAX) if outside else chunk, casting="same_kind")
        position += chunk.size
    if out_of_range >= KEEP_IF_OUT_OF_RANGE * array.size:
        return None
    half.flags.writeable = False
    return half


def compress_fp16(graph: Graph, keep_f32: Collection[int] = ()) -> Graph:
    """Compress every compressible f32 Const except those at the positions `keep_f32` in
    `graph.nodes()` (positions survive `graph.copy()`; names need not be unique)."""
    mapping: dict[Value, Value] = {}
    candidates = [node for position, node in enumerate(graph.nodes()) if position not in keep_f32 and _is_f32_const(node)]
    for node, half in zip(candidates, _halves(candidates)):
        if half is not None:
            mapping[node.outputs[0]] = _decompressed(node, half)
    graph.replace_values(mapping)
    return graph


PARALLEL_FROM = 1 << 18  # elements: large weights share the cores


def _is_f32_const(node: Node) -> bool:
    return node.op.type == "Const" and node.outputs[0].element_type is ElementType.f32


def _halves(nodes: list[Node]) -> list[np.ndarray | None]:
    """`_half` of each node; the large weights on a thread per core (numpy's casts and
    reductions release the GIL), the rest in this thread."""
    large = [index for index, node in enumerate(nodes) if node.attrs["value"].size >= PARALLEL_FROM]
    workers = min(len(large), os.cpu_count() or 1, 8)
    results: list[np.ndarray | None] = [None] * len(nodes)
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            for index, half in zip(large, pool.map(lambda i: _half(nodes[i]), large)):
                results[index] = half
        done = set(large)
    else:
        done = set()
    for index, node in enumerate(nodes):
        if index not in done:
            results[index] = _half(node)
    return results


def _decompressed(node: Node, half: np.ndarray) -> Value:
    stored = const(half, name=f"{node.name}_compressed" if node.name else "")
    convert = Convert.node(stored, destination_type=ElementType.f32, name=node.name)
    convert.rt_info = {key: dict(value) for key, value in DECOMPRESSION.items()}
    return convert.outputs[0]


@dataclass
class GuardReport:
    """What the accuracy guard decided: the weights it kept in f32 and why."""

    kept_f32: dict[str, float] = field(default_factory=dict)  # weight name -> its max relative effect
    final_max_relative: float = 0.0


def compress_fp16_guarded(
    graph: Graph,
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray] | None = None,
    rtol: float = 1e-3,
    seed: int = 0,
) -> tuple[Graph, GuardReport]:
    """Compress to f16 but keep in f32 the weights whose compression moves outputs beyond `rtol`.

    The effect is measured on `inputs` (by name or in order; by default inputs the graph accepts) as the largest
    output change relative to the largest output magnitude. Weights are first
    measured one at a time; if the survivors together still exceed the bound,
    the most harmful are kept in f32 until the outputs are within it.
    """
    from converter.runtime import execute
    from converter.validate.runners import find_graph_inputs, ordered_feeds

    inputs = ordered_feeds(graph, inputs if inputs is not None else find_graph_inputs(graph, seed=seed))
    reference = execute(graph, inputs)
    report = GuardReport()

    def effect(keep: Collection[int]) -> float:
        outputs = execute(compress_fp16(graph.copy(), keep), inputs)
        return _relative_change(reference, outputs)

    nodes = graph.nodes()
    candidates = [position for position, node in enumerate(nodes) if compressible(node)]
    keep: list[int] = []
    if effect(()) > rtol:
        effects = {position: effect([c for c in candidates if c != position]) for position in candidates}
        keep = [position for position in candidates if effects[position] > rtol]
        for position in sorted(set(candidates) - set(keep), key=lambda p: -effects[p]):
            if effect(keep) <= rtol:
                break
            keep.append(position)
        report.kept_f32 = {_label(graph, nodes, position): effects[position] for position in keep}
    compressed = compress_fp16(graph, keep)
    report.final_max_relative = _relative_change(reference, execute(compressed, inputs))
    return compressed, report


def _label(graph: Graph, nodes: list[Node], position: int) -> str:
    """How a user finds the weight: its name, or the layer that reads it."""
    node = nodes[position]
    readers = graph.users().get(node.outputs[0], [])
    if readers:
        reader, index = readers[0]
        return f"{reader.name or reader.op.type} ({reader.op.type}) input {index}"
    return node.name or f"Const_{position}"


def _relative_change(reference: Sequence[np.ndarray], outputs: Sequence[np.ndarray]) -> float:
    worst = 0.0
    for expected, actual in zip(reference, outputs):
        if expected.dtype.kind != "f" or expected.size == 0:
            continue
        scale = float(np.max(np.abs(expected))) or 1.0
        worst = max(worst, float(np.max(np.abs(expected.astype(np.float64) - actual))) / scale)
    return worst
