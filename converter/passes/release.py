"""Free the weights the passes replace as soon as the pass that dropped them ends.

A dropped node and its values form reference cycles (value → producer → outputs), so their arrays
wait for the cyclic garbage collector, which a pipeline seldom runs in full: a ResNet-50 would carry
its unfused filters into FP16 compression and writing, and every replaced weight stays beside its
replacement until the pipeline ends. So the graph's nodes are noted at each pass boundary that changed an
edge, and the nodes dropped since the last one, when they and their values are referenced only by
one another (counted exactly with sys.getrefcount, so no one else can observe them), are freed
there by cutting each one's list of outputs, which breaks every cycle: the weights a pass replaced
do not stay beside the new ones through the passes after it (Keras ResNet50: 293 -> 262 MB peak).
Dropped nodes something still holds are retried at the end, where one full collection still runs
(see `release`).
"""

from __future__ import annotations

import sys

from converter.ir.graph import Graph, Node, generation

COLLECT_FROM_BYTES = 16 << 20  # weights in all: below this, leave the garbage to the collector
FULL_COLLECTION_FROM_BYTES = 64 << 20
"""Weights in all from which `release` ends with a full collection. It costs 15-25 ms in a process
that has imported OpenVINO and pays for itself only when large weights of an earlier conversion wait
in cycles: from ResNet-50 up (100 MB), not for a 20-40 MB EfficientNet, transformer or YOLOv8."""


class ReplacedWeights:
    """The nodes a pipeline's graphs have held; `release` frees the dropped ones."""

    def __init__(self, graph: Graph):
        nodes = graph.nodes()
        weight_bytes = sum(node.attrs["value"].nbytes for node in nodes if node.op.type == "Const")
        self.enabled = weight_bytes >= COLLECT_FROM_BYTES
        self.collect = weight_bytes >= FULL_COLLECTION_FROM_BYTES
        self._seen: dict[int, Node] = {}
        self._generation: int | None = None
        if self.enabled:
            self.note(graph)

    def note(self, graph: Graph) -> None:
        """Remember the graph's nodes and free those dropped since the last note, when only they
        hold one another (skipped when no edge changed since the last note)."""
        if not self.enabled or generation() == self._generation:
            return
        self._generation = generation()
        nodes = graph.nodes()
        live = {id(node) for node in nodes}
        dropped = [self._seen.pop(key) for key in [key for key in self._seen if key not in live]]
        self._seen.update((id(node), node) for node in nodes)
        del nodes
        if dropped and not _free(dropped):
            self._seen.update((id(node), node) for node in dropped)  # held for now (a stale cached query?): at the end

    def release(self, graph: Graph) -> None:
        """Free what the passes dropped, and for large weights the cycles left in the process."""
        if not self.enabled:
            return
        graph.forget()  # stale cached queries may still name dropped nodes
        self._generation = None
        self.note(graph)
        self._seen.clear()
        # Then, for large weights, one full collection all the same: a graph the caller dropped (an
        # earlier conversion's) is cycles too, and left to the collector's schedule its weights kept
        # memory from being reused by the next conversion in the process (ResNet-50's fuse_linear
        # took 3x as long from the second conversion on).
        if self.collect:
            import gc

            gc.collect()


def _free(dropped: list[Node]) -> bool:
    """Cut the dropped nodes' cycles when only they hold one another; whether that was so."""
    if not _only_one_another_hold(dropped):
        return False
    for node in dropped:
        node.outputs = []  # the rest is a DAG (reader → value → producer): freed from its readers down
    return True


def _only_one_another_hold(dropped: list[Node]) -> bool:
    """Whether every reference to the dropped nodes, their values and their input and output lists
    comes from the dropped nodes themselves (or from `dropped` and `values` here). Loops run over
    positions: a loop variable would be one more reference."""
    if not _lists_unshared(dropped):
        return False
    values = [value for node in dropped for value in node.outputs]
    reads = _reads(dropped)
    for position in range(len(values)):
        # `values`, the argument, the producer's outputs list, one per dropped reader
        if sys.getrefcount(values[position]) != 3 + reads.get(id(values[position]), 0):
            return False
    produced = _produced(values)
    for position in range(len(dropped)):
        # `dropped`, the argument, one per output naming it as its producer
        if sys.getrefcount(dropped[position]) != 2 + produced.get(id(dropped[position]), 0):
            return False
    return True


def _lists_unshared(dropped: list[Node]) -> bool:
    """Each node's inputs and outputs lists are held by that node alone (the slot, the argument)."""
    return all(sys.getrefcount(node.outputs) == 2 and sys.getrefcount(node.inputs) == 2 for node in dropped)


def _reads(dropped: list[Node]) -> dict[int, int]:
    """How often each value is an input of a dropped node, by id."""
    reads: dict[int, int] = {}
    for node in dropped:
        for value in node.inputs:
            reads[id(value)] = reads.get(id(value), 0) + 1
    return reads


def _produced(values: list) -> dict[int, int]:
    """How many of `values` each producer has, by id."""
    produced: dict[int, int] = {}
    for value in values:
        produced[id(value.producer)] = produced.get(id(value.producer), 0) + 1
    return produced
