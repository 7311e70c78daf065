"""Free the weights the passes replaced, without a full garbage collection.

A dropped node and its values form reference cycles (value → producer → outputs), so their arrays
wait for the cyclic garbage collector, which a pipeline seldom runs in full: a ResNet-50 would carry
its unfused filters into FP16 compression and writing. A full collection walks every object of the
process (20-30 ms here after importing numpy and onnx, more beside openvino: a fifth of a mid-size
model's conversion). Instead the graph's nodes are noted at each pass boundary that changed an
edge; at the end, when the dropped nodes and their values are referenced only by one another
(counted exactly with sys.getrefcount, so no one else can observe them), cutting each dropped
node's list of outputs breaks every cycle and frees them, weights included, at once. Otherwise one
full collection runs, as before.
"""

from __future__ import annotations

import sys

from converter.ir.graph import Graph, Node, generation

COLLECT_FROM_BYTES = 16 << 20  # weights in all: below this, leave the garbage to the collector


class ReplacedWeights:
    """The nodes a pipeline's graphs have held; `release` frees the dropped ones."""

    def __init__(self, graph: Graph):
        nodes = graph.nodes()
        self.enabled = sum(node.attrs["value"].nbytes for node in nodes if node.op.type == "Const") >= COLLECT_FROM_BYTES
        self._seen: dict[int, Node] = {}
        self._generation: int | None = None
        if self.enabled:
            self.note(graph)

    def note(self, graph: Graph) -> None:
        """Remember the graph's nodes (skipped when no edge changed since the last note)."""
        if not self.enabled or generation() == self._generation:
            return
        self._generation = generation()
        self._seen.update((id(node), node) for node in graph.nodes())

    def release(self, graph: Graph) -> None:
        if not self.enabled:
            return
        self._generation = None
        self.note(graph)
        graph.forget()  # stale cached queries may still name dropped nodes
        live = {id(node) for node in graph.nodes()}
        dropped = [node for key, node in self._seen.items() if key not in live]
        self._seen.clear()
        if not dropped:
            return
        if _only_one_another_hold(dropped):
            for node in dropped:
                node.outputs = []  # the rest is a DAG (reader → value → producer): freed from its readers down
            return
        import gc

        gc.collect()


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
