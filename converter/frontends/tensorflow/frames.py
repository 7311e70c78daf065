"""TF1 control flow in a GraphDef: while-loop frames and cond branches, found from the graph's shape.

TF1 graphs (and TF2 graphs frozen with `lower_control_flow`) spell a loop as a cycle. Each loop
variable enters its frame through `Enter` (frame_name), meets its next value in `Merge(Enter,
NextIteration)`; `Switch(Merge, LoopCond)` sends it to the body (output 1) or out of the loop
through `Exit` (output 0); the body's value goes to `NextIteration`. Values the loop only reads
enter through `Enter(is_constant=True)`. The condition reads the Merges, the body the Switches.

A cond is `Switch(x, pred)` per value a branch reads (output 1 feeds the true branch, 0 the false
one) and `Merge` of the two branches' results. Which input of a Merge is which branch follows
from what each input depends on (data and control inputs): the Switch outputs it descends from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from converter.errors import InvalidModelError

Context = frozenset[tuple[str, int]]  # (Switch predicate reference, output taken) pairs a node runs under
NO_CONTEXT: Context = frozenset()


def _reference(text: str) -> tuple[str, int]:
    name, separator, index = text.rpartition(":")
    return (name, int(index)) if separator and index.isdigit() else (text, 0)


def _data_inputs(node: Any) -> list[str]:
    return [r for r in node.input if not r.startswith("^")]


@dataclass
class Frame:
    """One while loop: per loop variable its Enter, Merge, Switch, NextIteration; its invariants' Enters."""

    name: str
    condition: str  # the LoopCond node
    enters: list[str] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)
    switches: list[str] = field(default_factory=list)
    next_iterations: list[str] = field(default_factory=list)
    exits: dict[str, int] = field(default_factory=dict)  # Exit node → loop variable
    constants: list[str] = field(default_factory=list)  # Enter(is_constant) nodes

    def entering(self, nodes: Mapping[str, Any]) -> list[str]:
        """The references of the values entering the loop: the loop variables', then the invariants'."""
        return [_data_inputs(nodes[name])[0] for name in self.enters + self.constants]

    def body_results(self, nodes: Mapping[str, Any]) -> list[str]:
        return [_data_inputs(nodes[name])[0] for name in self.next_iterations]

    def predicate(self, nodes: Mapping[str, Any]) -> str:
        return _data_inputs(nodes[self.condition])[0]


def _readers(nodes: Mapping[str, Any]) -> dict[tuple[str, int], list[Any]]:
    readers: dict[tuple[str, int], list[Any]] = {}
    for node in nodes.values():
        for reference in _data_inputs(node):
            readers.setdefault(_reference(reference), []).append(node)
    return readers


def find_frames(nodes: Mapping[str, Any], where: str) -> dict[str, Frame]:
    """The graph's loop frames by each of their Exit nodes.

    A frame of another shape is left out: if the outputs need it, the walk meets its cycle.
    """
    enters = [node for node in nodes.values() if node.op == "Enter"]
    if not enters:
        return {}
    readers = _readers(nodes)
    frames: dict[str, Frame] = {}
    malformed: set[str] = set()
    for enter in enters:
        frame_name = enter.attr["frame_name"].s.decode("utf-8", "replace") if "frame_name" in enter.attr else ""
        try:
            if len(_data_inputs(enter)) != 1 or not frame_name:
                raise InvalidModelError(f"{where}: Enter node {enter.name!r} has no frame_name or not one input")
            if enter.attr["is_constant"].b if "is_constant" in enter.attr else False:
                frames.setdefault(frame_name, Frame(frame_name, "")).constants.append(enter.name)
                continue
            _add_variable(frames, frame_name, enter, nodes, readers, where)
        except InvalidModelError:
            malformed.add(frame_name)
    return {
        exit_name: frame
        for frame in frames.values()
        if frame.condition and frame.name not in malformed
        for exit_name in frame.exits
    }


def _add_variable(frames: dict[str, Frame], frame_name: str, enter: Any, nodes: Mapping[str, Any], readers: Any, where: str) -> None:
    def only(candidates: list[Any], what: str) -> Any:
        if len(candidates) != 1:
            raise InvalidModelError(f"{where}: loop variable entering through {enter.name!r} has {len(candidates)} {what}")
        return candidates[0]

    merge = only([n for n in readers.get((enter.name, 0), []) if n.op == "Merge"], "Merge nodes")
    others = [_reference(r)[0] for r in _data_inputs(merge) if _reference(r)[0] != enter.name]
    next_iteration = only([nodes[n] for n in others if n in nodes and nodes[n].op == "NextIteration"], "NextIteration inputs")
    switch = only([n for n in readers.get((merge.name, 0), []) if n.op == "Switch"], "Switch nodes")
    condition = _reference(_data_inputs(switch)[1])[0]
    if condition not in nodes or nodes[condition].op != "LoopCond":
        raise InvalidModelError(f"{where}: Switch {switch.name!r} of a loop variable is not decided by a LoopCond")
    frame = frames.setdefault(frame_name, Frame(frame_name, condition))
    if frame.condition and frame.condition != condition:
        raise InvalidModelError(f"{where}: loop frame {frame_name!r} has two LoopCond nodes")
    frame.condition = condition
    position = len(frame.enters)
    frame.enters.append(enter.name)
    frame.merges.append(merge.name)
    frame.switches.append(switch.name)
    frame.next_iterations.append(next_iteration.name)
    for reader in readers.get((switch.name, 0), []):
        if reader.op == "Exit":
            frame.exits[reader.name] = position


class Branches:
    """Which cond branch each node runs in, for telling a cond Merge's inputs apart."""

    def __init__(self, nodes: Mapping[str, Any], where: str):
        self.nodes, self.where = nodes, where
        self.contexts: dict[tuple[str, int], Context] = {}
        self._compute()

    def _loop_switch(self, node: Any) -> bool:
        predicate = self.nodes.get(_reference(_data_inputs(node)[1])[0]) if len(_data_inputs(node)) == 2 else None
        return predicate is not None and predicate.op == "LoopCond"

    def _inputs(self, node: Any) -> Iterator[tuple[str, int]]:
        for reference in node.input:
            name, index = _reference(reference.lstrip("^"))
            if name not in self.nodes:
                continue
            if node.op == "Merge" and self.nodes[name].op == "NextIteration":
                continue  # a loop's back edge
            yield name, index if reference[0] != "^" else -1

    def _context(self, name: str, index: int) -> Context:
        node = self.nodes[name]
        if node.op == "Switch" and index >= 0:
            return self.contexts.get((name, index), NO_CONTEXT)
        return self.contexts.get((name, 0), NO_CONTEXT)

    def _compute(self) -> None:
        """Contexts in an order where inputs come first (an iterative depth-first walk)."""
        state: dict[str, int] = {}
        for root in self.nodes:
            if root in state:
                continue
            stack = [(root, iter(list(self._inputs(self.nodes[root]))))]
            state[root] = 1
            while stack:
                name, pending = stack[-1]
                for input_name, _ in pending:
                    if input_name not in state:
                        state[input_name] = 1
                        stack.append((input_name, iter(list(self._inputs(self.nodes[input_name])))))
                        break
                else:
                    stack.pop()
                    state[name] = 2
                    self._set(self.nodes[name])

    def _set(self, node: Any) -> None:
        inputs = [self._context(name, index) for name, index in self._inputs(node)]
        if node.op == "Merge":
            self.contexts[(node.name, 0)] = frozenset.intersection(*inputs) if inputs else NO_CONTEXT
            return
        context = frozenset().union(*inputs)
        if node.op == "Switch" and not self._loop_switch(node):
            predicate = _data_inputs(node)[1]
            for output in (0, 1):
                self.contexts[(node.name, output)] = context | {(predicate, output)}
            return
        self.contexts[(node.name, 0)] = context

    def merged(self, merge: Any) -> tuple[str, int]:
        """(the predicate reference, which input is the true branch's) of a cond Merge."""
        data = [_reference(r) for r in _data_inputs(merge)]
        if len(data) != 2:
            raise InvalidModelError(f"{self.where}: Merge {merge.name!r} joins {len(data)} branches; only two-way conds are supported")
        first, second = (self._context(name, index) for name, index in data)
        for predicate, taken in first - second:
            if (predicate, 1 - taken) in second:
                return predicate, 0 if taken == 1 else 1
        raise InvalidModelError(f"{self.where}: the inputs of Merge {merge.name!r} do not come from the two branches of one Switch")
