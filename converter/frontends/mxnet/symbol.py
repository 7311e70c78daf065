"""MXNet `-symbol.json` files: the nnvm graph JSON of `Symbol.save`, checked and normalized.

    {"nodes": [{"op": "null", "name": "data", "inputs": []},
               {"op": "Convolution", "name": "conv0", "attrs": {"kernel": "(3, 3)", ...},
                "inputs": [[0, 0, 0], [1, 0, 0]]}, ...],
     "arg_nodes": [0, 1], "node_row_ptr": [...], "heads": [[2, 0, 0]],
     "attrs": {"mxnet_version": ["int", 10901]}}

Nodes come in topological order; an input is [node, output index] or [node, output index,
version]. Attribute values are strings ("(3, 3)", "True", "relu"). Files of MXNet before 0.9
(and nnvm's loader since) keep them under "param" and "attr" as well as "attrs": all three are
merged, as nnvm does. Hidden attributes (`__shape__`, `__lr_mult__`, ...; in old files bare
`lr_mult`, `ctx_group`, `weight_lr_mult`...) describe training or variables, not the op: they are
kept apart, in `hidden`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# MXNet's kHiddenKeys: attributes of training and placement, never an op's parameter.
HIDDEN_KEYS = ("ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage", "profiler_scope")


class SymbolError(ValueError):
    """The JSON is not an MXNet symbol."""


@dataclass
class SymbolNode:
    index: int
    op: str
    name: str
    inputs: list[tuple[int, int]]
    attrs: dict[str, str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)


@dataclass
class Symbol:
    nodes: list[SymbolNode]
    heads: list[tuple[int, int]]
    version: int | None  # mxnet_version, e.g. 10901 for 1.9.1

    def consumers(self) -> dict[int, list[tuple[SymbolNode, int]]]:
        """Node index → the (node, input position) pairs that read any of its outputs."""
        found: dict[int, list[tuple[SymbolNode, int]]] = {}
        for node in self.nodes:
            for position, (source, _) in enumerate(node.inputs):
                found.setdefault(source, []).append((node, position))
        return found


def parse_symbol(text: str | bytes) -> Symbol:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise SymbolError(f"not JSON ({error})") from None
    except RecursionError:
        raise SymbolError("JSON nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise SymbolError('not an MXNet symbol (no "nodes" list)')
    nodes = [_node(index, entry) for index, entry in enumerate(data["nodes"])]
    if not nodes:
        raise SymbolError("the symbol has no nodes")
    for node in nodes:
        for source, _ in node.inputs:
            if not 0 <= source < node.index:
                raise SymbolError(f"node {node.name!r} reads node {source}, which does not come before it")
    heads = [_entry(entry, "heads") for entry in _list(data.get("heads"), "heads")]
    if not heads:
        raise SymbolError("the symbol has no heads (outputs)")
    for source, _ in heads:
        if not 0 <= source < len(nodes):
            raise SymbolError(f"a head names node {source} of {len(nodes)}")
    return Symbol(nodes, heads, _version(data.get("attrs")))


def _node(index: int, entry: Any) -> SymbolNode:
    if not isinstance(entry, dict):
        raise SymbolError(f"node {index} is not an object")
    op, name = entry.get("op"), entry.get("name")
    if not isinstance(op, str) or not isinstance(name, str):
        raise SymbolError(f'node {index} has no "op" or "name" string')
    merged: dict[str, str] = {}
    for key in ("attrs", "attr", "param"):
        value = entry.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise SymbolError(f'node {name!r}: "{key}" is not an object')
        for attr, text in value.items():
            if isinstance(text, bool):
                text = str(text)
            elif isinstance(text, (int, float)):
                text = repr(text)
            if not isinstance(text, str):
                raise SymbolError(f"node {name!r}: attribute {attr!r} is not a string")
            merged[attr] = text
    inputs = [_entry(item, f"node {name!r} inputs") for item in _list(entry.get("inputs", []), f"node {name!r} inputs")]
    attrs = {k: v for k, v in merged.items() if not is_hidden(k)}
    hidden = {k: v for k, v in merged.items() if is_hidden(k)}
    return SymbolNode(index, op, name, inputs, attrs, hidden)


def is_hidden(key: str) -> bool:
    if key.startswith("__") and key.endswith("__"):
        return True
    return any(key == hidden or key.endswith("_" + hidden) for hidden in HIDDEN_KEYS)


def _list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise SymbolError(f"{what} is not a list")
    return value


def _entry(item: Any, what: str) -> tuple[int, int]:
    """[node, index] or [node, index, version]."""
    if not isinstance(item, list) or len(item) not in (2, 3) or not all(isinstance(v, int) and not isinstance(v, bool) for v in item):
        raise SymbolError(f"{what}: {item!r} is not [node, index(, version)]")
    if item[1] < 0:
        raise SymbolError(f"{what}: {item!r} has a negative output index")
    return item[0], item[1]


def _version(attrs: Any) -> int | None:
    if isinstance(attrs, dict):
        value = attrs.get("mxnet_version")
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int):
            return value[1]
    return None
