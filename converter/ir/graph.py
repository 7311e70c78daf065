"""The graph core: values, nodes and graphs.

A `Value` is a tensor produced by exactly one `Node` output. A `Graph` owns its
Parameter nodes and the list of values it returns; its nodes are whatever the
outputs reach, so dead code disappears by construction. Values and nodes are
compared by identity, never by name. Constant arrays are read-only and shared
between copies of a graph.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from converter.ir.types import ElementType, Shape, TensorType

if TYPE_CHECKING:
    from converter.ops.spec import OpSpec

T = TypeVar("T")

# Bumped whenever any node's inputs change (assigned or mutated in place). `Graph.nodes()` and
# `Graph.users()` are derived from the inputs; each graph caches them under the generation they
# were computed at (and the exact parameter and output values), so passes that ask again without
# changing anything pay nothing.
_generation = 0


def _touch() -> None:
    global _generation
    _generation += 1


def generation() -> int:
    """A counter bumped by every edit of a node's inputs: equal readings mean no edge changed."""
    return _generation


class _Inputs(list):
    """A node's input list: any change to it invalidates every graph's cached queries."""

    __slots__ = ()

    def __setitem__(self, index, value):  # type: ignore[no-untyped-def]
        _touch()
        super().__setitem__(index, value)

    def __delitem__(self, index):  # type: ignore[no-untyped-def]
        _touch()
        super().__delitem__(index)

    def __iadd__(self, values):  # type: ignore[no-untyped-def]
        _touch()
        return super().__iadd__(values)

    def __imul__(self, count):  # type: ignore[no-untyped-def]
        _touch()
        return super().__imul__(count)

    def _mutator(name: str):  # type: ignore[no-untyped-def]
        method = getattr(list, name)

        def mutate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            _touch()
            return method(self, *args, **kwargs)

        mutate.__name__ = name
        return mutate

    append = _mutator("append")
    extend = _mutator("extend")
    insert = _mutator("insert")
    pop = _mutator("pop")
    remove = _mutator("remove")
    clear = _mutator("clear")
    sort = _mutator("sort")
    reverse = _mutator("reverse")
    del _mutator


class Value:
    """One output of one node: a tensor with a type and optional tensor names."""

    __slots__ = ("type", "names", "producer", "index")

    def __init__(self, type: TensorType, producer: Node, index: int, names: list[str] | None = None):
        self.type = type
        self.names: list[str] = list(names or [])
        self.producer = producer
        self.index = index

    @property
    def element_type(self) -> ElementType:
        return self.type.element_type

    @property
    def shape(self) -> Shape:
        return self.type.shape

    @property
    def const(self) -> np.ndarray | None:
        """The array if this value comes straight from a Const node, else None."""
        if self.producer.op.type == "Const":
            return self.producer.attrs["value"]
        return None

    @property
    def name(self) -> str:
        return self.names[0] if self.names else f"{self.producer.name}:{self.index}"

    def __repr__(self) -> str:
        return f"Value({self.name}: {self.type})"


class Node:
    """An operation: an op spec, input values, attributes and output values.

    `bodies` holds nested graphs of control-flow ops (If, Loop); `rt_info`
    maps runtime-info attribute names serialized on the layer (e.g.
    `decompression`) to their XML attributes (e.g. `{"version": "0"}`).
    """

    __slots__ = ("op", "name", "_inputs", "attrs", "outputs", "rt_info", "bodies")

    def __init__(
        self,
        op: OpSpec,
        inputs: list[Value],
        attrs: dict[str, Any],
        name: str = "",
        rt_info: dict[str, dict[str, str]] | None = None,
        bodies: dict[str, Graph] | None = None,
    ):
        self.op = op
        self.name = name
        self.inputs = list(inputs)
        self.attrs = attrs
        self.outputs: list[Value] = []
        self.rt_info: dict[str, dict[str, str]] = {k: dict(v) for k, v in (rt_info or {}).items()}
        self.bodies: dict[str, Graph] = dict(bodies or {})

    @property
    def inputs(self) -> list[Value]:
        return self._inputs

    @inputs.setter
    def inputs(self, values: list[Value]) -> None:
        _touch()
        self._inputs = _Inputs(values)

    def __repr__(self) -> str:
        return f"Node({self.op.type}-{self.op.version} {self.name!r})"


class Graph:
    """Parameters in, values out. Nodes are derived: those the outputs reach."""

    def __init__(self, parameters: list[Node], outputs: list[Value], name: str = "model"):
        self.name = name
        self.parameters = list(parameters)
        self.outputs = list(outputs)
        self._nodes_cache: tuple[int, list[Node], list[Value], list[Node]] | None = None
        self._users_cache: tuple[int, list[Node], list[Value], dict[Value, list[tuple[Node, int]]]] | None = None
        self._derived: dict[str, tuple] = {}

    def _fresh(self, cache: tuple | None) -> bool:
        """Whether a cached query still describes this graph: no node's inputs changed since,
        and the parameters and outputs are the very same values (lists may be edited in place)."""
        return (
            cache is not None
            and cache[0] == _generation
            and len(cache[1]) == len(self.parameters)
            and len(cache[2]) == len(self.outputs)
            and all(a is b for a, b in zip(cache[1], self.parameters))
            and all(a is b for a, b in zip(cache[2], self.outputs))
        )

    @property
    def inputs(self) -> list[Value]:
        return [p.outputs[0] for p in self.parameters]

    def nodes(self) -> list[Node]:
        """All live nodes in a deterministic topological order.

        Parameters come first in declaration order; the rest follow a
        depth-first post-order from the outputs, inputs visited in order.
        Cached until a node's inputs or the graph's parameters or outputs change.
        """
        cache = self._nodes_cache
        if self._fresh(cache):
            return list(cache[3])  # type: ignore[index]
        order = self._walk()
        self._nodes_cache = (_generation, list(self.parameters), list(self.outputs), order)
        return list(order)

    def _walk(self) -> list[Node]:
        order: list[Node] = list(self.parameters)
        seen: set[Node] = set(self.parameters)  # nodes hash by identity
        add, emit = seen.add, order.append
        for root in self.outputs:
            start = root.producer
            if start in seen:
                continue
            add(start)
            stack = [(start, iter(start._inputs))]
            push, pop = stack.append, stack.pop
            while stack:
                node, pending = stack[-1]
                for value in pending:
                    producer = value.producer
                    if producer not in seen:
                        add(producer)
                        push((producer, iter(producer._inputs)))
                        break
                else:
                    pop()
                    emit(node)
        return order

    def derived(self, key: str, compute: Callable[[Graph], T]) -> T:
        """`compute(self)`, cached like `nodes()` until the graph changes (analyses several passes
        ask for in a row, e.g. dim origins, op histograms). Treat the result as read-only."""
        cache = self._derived.get(key)
        if self._fresh(cache):
            return cache[3]  # type: ignore[index]
        result = compute(self)
        self._derived[key] = (_generation, list(self.parameters), list(self.outputs), result)
        return result

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes())

    def users(self) -> dict[Value, list[tuple[Node, int]]]:
        """Map each value to the (node, input index) pairs that read it.

        Cached like `nodes()`: treat the mapping as read-only."""
        cache = self._users_cache
        if self._fresh(cache):
            return cache[3]  # type: ignore[index]
        result: dict[Value, list[tuple[Node, int]]] = {}
        for node in self.nodes():
            for index, value in enumerate(node._inputs):
                if value in result:
                    result[value].append((node, index))
                else:
                    result[value] = [(node, index)]
        self._users_cache = (_generation, list(self.parameters), list(self.outputs), result)
        return result

    def replace_all_uses(self, old: Value, new: Value) -> None:
        """Rewire every reader of `old` (and the graph outputs) to `new`.

        Tensor names of `old` move to `new` when `old` was a graph output, so
        the model keeps the output names its users look up.
        """
        if old is new:
            return
        for node in self.nodes():
            node.inputs = [new if value is old else value for value in node.inputs]
        if any(value is old for value in self.outputs):
            self.outputs = [new if value is old else value for value in self.outputs]
            for name in old.names:
                if name not in new.names:
                    new.names.append(name)

    def replace_values(self, mapping: dict[Value, Value]) -> None:
        """Rewire many values in one sweep (chains a→b→c resolve to c).

        The replacement takes over the tensor names of what it replaces, so
        outputs keep the names users look them up by.
        """
        if not mapping:
            return

        def resolve(value: Value) -> Value:
            seen = 0
            while value in mapping and seen <= len(mapping):
                value = mapping[value]
                seen += 1
            return value

        for old in mapping:
            new = resolve(old)
            for name in old.names:
                if name not in new.names:
                    new.names.append(name)
        self.outputs = [resolve(value) for value in self.outputs]
        replaced = mapping.keys()
        visited: set[int] = set()
        for node in self.nodes():
            visited.add(id(node))
            if not replaced.isdisjoint(node._inputs):  # only touched nodes change
                node.inputs = [resolve(value) for value in node._inputs]
        # Replacement nodes become live only now and may read replaced values themselves:
        # walk up from the replacements through nodes the sweep above did not see.
        stack = [resolve(value).producer for value in mapping.values()]
        while stack:
            node = stack.pop()
            if id(node) in visited:
                continue
            visited.add(id(node))
            if not replaced.isdisjoint(node._inputs):
                node.inputs = [resolve(value) for value in node._inputs]
            stack.extend(value.producer for value in node._inputs)
        self.forget()  # stale queries would keep the replaced nodes (and their weights) alive

    def forget(self) -> None:
        """Drop the cached queries (they are recomputed when asked for)."""
        self._nodes_cache = self._users_cache = None
        self._derived = {}

    def copy(self) -> Graph:
        """A structural copy: new nodes and values, shared (read-only) arrays."""
        mapping: dict[int, Value] = {}
        new_parameters: list[Node] = []
        for node in self.nodes():
            clone = Node(
                node.op,
                [mapping[id(v)] for v in node.inputs],
                dict(node.attrs),
                node.name,
                node.rt_info,
                {key: body.copy() for key, body in node.bodies.items()},
            )
            clone.outputs = [Value(v.type, clone, v.index, v.names) for v in node.outputs]
            for old, new in zip(node.outputs, clone.outputs):
                mapping[id(old)] = new
            if node.op.type == "Parameter":
                new_parameters.append(clone)
        return Graph(new_parameters, [mapping[id(v)] for v in self.outputs], self.name)

    def op_histogram(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for node in self.nodes():
            counts[node.op.type] = counts.get(node.op.type, 0) + 1
        return dict(sorted(counts.items()))

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, {len(self.parameters)} inputs, {len(self.outputs)} outputs)"
