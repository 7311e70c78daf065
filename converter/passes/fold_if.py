"""fold_if: give If nodes static output ranks, and fold the Ifs whose branch is known.

Exporters of dynamic-shape code write `If`s that OpenVINO's CPU plugin refuses when their
branches return tensors of different ranks ("If operation with dynamic rank"): PyTorch's
`x.squeeze(d)` on a dim of unknown size becomes `If(dim == 1, Squeeze(x), x)`, an LSTMCell's
"is batched" test becomes `If(rank(x) != 2, Unsqueeze(x), x)`. This pass, on every graph and
body (innermost first):

1. pushes what is known into the bodies: a body parameter fed by a Const reads that Const, and
   takes the (possibly more precise) type of the value it is fed;
2. re-infers every node's output types, keeping the more precise of the old and new type of
   each dim (both were sound), so ranks and dims known after a fold reach the nodes after it;
3. folds constants (static dims read with Gather(ShapeOf(x)), conditions computed from them
   or from a frozen input);
4. inlines the taken body of an If whose condition is a Const;
5. for an If whose condition stays unknown and whose branches disagree in rank, tries each
   branch on a copy of the graph around it: a branch after which the model is ill-typed (an
   op's inference fails, or a type contradicts what was proven) can only fail at run time, so
   only the other branch is reachable and it is inlined. Inputs the source model rejects
   (e.g. a silero-vad chunk of a size its LSTM cannot take) then run to some output instead
   of failing; every input the source model accepts gives the same result.

Repeated until nothing changes. Loop bodies are left as they are (their carried values may
change type from one iteration to the next).
"""

from __future__ import annotations

import numpy as np

from converter.ir.graph import Graph, Node, Value
from converter.ir.types import Shape, TensorType
from converter.ops.core import const
from converter.passes.fold_constants import fold_constants
from converter.passes.simplify_shapes import canonicalize_shape_reads

BRANCHES = (("then_body", "then_inputs"), ("else_body", "else_inputs"))
MAX_ROUNDS = 32


class TypeConflict(ValueError):
    """Re-inference contradicts a type proven before: the graph cannot run this way."""


def fold_if(graph: Graph) -> Graph:
    if any(node.op.type == "If" for node in graph.nodes()):  # Ifs inside Loop bodies stay as they are
        _fold(graph, trials=True)
    return graph


def taken_branch(node: Node) -> bool | None:
    """True/False when the If's condition is a Const, else None."""
    cond = node.inputs[0].const
    if cond is None:
        return None
    return bool(np.asarray(cond).reshape(-1)[0])


def _fold(graph: Graph, trials: bool) -> bool:
    """Fold `graph` in place; True if anything changed. In a trial (trials=False) an impossible
    branch shows as a TypeConflict or as an op's inference error, raised to the caller."""
    changed_any = False
    for _ in range(MAX_ROUNDS):
        changed = _push_into_bodies(graph)
        refine_types(graph)
        before = len(graph.nodes())
        fold_constants(canonicalize_shape_reads(graph))  # static dims read from shapes become Consts
        changed |= len(graph.nodes()) != before
        for node in graph.nodes():
            if node.op.type != "If":
                continue
            branch = taken_branch(node)
            if branch is not None:
                inline_branch(graph, node, branch)
                changed = True
                continue
            for key, _ in BRANCHES:
                changed |= _fold(node.bodies[key], trials)
        if not changed and trials:
            changed = _fold_unreachable_branches(graph)
        if not changed:
            return changed_any
        changed_any = True
    return changed_any


def _push_into_bodies(graph: Graph) -> bool:
    """Body parameters fed by a Const read a copy of it (the body can fold on it)."""
    changed = False
    for node in graph.nodes():
        if node.op.type != "If":
            continue
        for key, inputs_key in BRANCHES:
            body = node.bodies[key]
            mapping: dict[Value, Value] = {}
            for body_parameter, index in zip(body.parameters, node.attrs[inputs_key]):
                array = node.inputs[index].const
                value = body_parameter.outputs[0]
                if array is not None and _has_readers(body, value):
                    mapping[value] = const(array, name=node.inputs[index].producer.name)
            if mapping:
                _rewire(body, mapping)
                changed = True
    return changed


def _has_readers(body: Graph, value: Value) -> bool:
    return bool(body.users().get(value)) or any(v is value for v in body.outputs)


def _rewire(graph: Graph, mapping: dict[Value, Value]) -> None:
    """Like replace_values, but no tensor names move (body-internal names stay inside)."""
    for node in graph.nodes():
        if any(v in mapping for v in node.inputs):
            node.inputs = [mapping.get(v, v) for v in node.inputs]
    graph.outputs = [mapping.get(v, v) for v in graph.outputs]


def refine_types(graph: Graph) -> None:
    """Re-infer every node (If bodies first, their parameters typed by what feeds them), keeping
    the more precise of the old and the new type; a contradiction raises TypeConflict."""
    for node in graph.nodes():
        if node.op.type in ("Parameter", "Const"):
            continue
        if node.op.type == "If":
            for key, inputs_key in BRANCHES:
                body = node.bodies[key]
                for body_parameter, index in zip(body.parameters, node.attrs[inputs_key]):
                    value = body_parameter.outputs[0]
                    value.type = intersect(value.type, node.inputs[index].type, f"{node}: body parameter {value.name}")
                refine_types(body)
        types = node.op.infer(node)
        if len(types) != len(node.outputs):
            raise TypeConflict(f"{node}: inference gives {len(types)} outputs, the node has {len(node.outputs)}")
        for value, new in zip(node.outputs, types):
            value.type = intersect(value.type, new, f"{node}: {value.name}")


def intersect(old: TensorType, new: TensorType, where: str = "a value") -> TensorType:
    """The type both `old` and `new` describe: each dim from whichever knows it."""
    if old.element_type != new.element_type:
        raise TypeConflict(f"{where} is {old.element_type.value}, inference gives {new.element_type.value}")
    if old.shape.dims is None:
        return new
    if new.shape.dims is None:
        return old
    if len(old.shape.dims) != len(new.shape.dims):
        raise TypeConflict(f"{where} has rank {old.shape.rank}, inference gives rank {new.shape.rank}")
    dims = []
    for a, b in zip(old.shape.dims, new.shape.dims):
        if a is not None and b is not None and a != b:
            raise TypeConflict(f"{where} is {old.shape}, inference gives {new.shape}")
        dims.append(a if a is not None else b)
    return TensorType(old.element_type, Shape(tuple(dims)))


def inline_branch(graph: Graph, node: Node, branch: bool) -> None:
    """Replace the If `node` of `graph` by the nodes of its then (True) or else body."""
    key, inputs_key = BRANCHES[0] if branch else BRANCHES[1]
    body = node.bodies[key]
    feeds = {p.outputs[0]: node.inputs[index] for p, index in zip(body.parameters, node.attrs[inputs_key])}
    _rewire(body, feeds)
    graph.replace_values(dict(zip(node.outputs, body.outputs)))


def _rank_disagrees(node: Node) -> bool:
    then_outputs, else_outputs = node.bodies["then_body"].outputs, node.bodies["else_body"].outputs
    return any(t.shape.rank != e.shape.rank for t, e in zip(then_outputs, else_outputs))


def _fold_unreachable_branches(graph: Graph) -> bool:
    """Inline the one branch of an undecided, rank-disagreeing If that leaves `graph` well typed."""
    nodes = graph.nodes()
    for position, node in enumerate(nodes):
        if node.op.type != "If" or taken_branch(node) is not None or not _rank_disagrees(node):
            continue
        runs = [branch for branch in (True, False) if _branch_can_run(graph, position, branch)]
        if len(runs) == 1:
            inline_branch(graph, node, runs[0])
            return True
    return False


def _branch_can_run(graph: Graph, position: int, branch: bool) -> bool:
    trial = graph.copy()
    inline_branch(trial, trial.nodes()[position], branch)
    try:
        _fold(trial, trials=False)
    except (TypeConflict, ValueError, IndexError) as error:  # an op's inference rejects the types
        _ = error  # the branch cannot run: that is the answer, not a failure of the pass
        return False
    return True
