"""Run an ordered pipeline of passes, record what each did, optionally verify each one.

With `verify=True` the graph is checked after every pass (types, shapes, no
dangling values) and run against the unoptimized graph on inputs the model
accepts (given, or found by `converter.validate`'s search); the first pass that
moves an output beyond tolerance is named.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from converter.errors import ConverterError, InvalidModelError
from converter.ir.graph import Graph
from converter.ops.spec import InferenceError
from converter.passes.check import GraphCheckError, check_graph
from converter.passes.release import ReplacedWeights

PassFn = Callable[[Graph], Graph]

NOT_COUNTED = ("Const", "Parameter")


def op_count(graph: Graph) -> int:
    """Layers other than Const, Parameter, Result and decompression Convert."""
    return _summary(graph)[1]


def _summary(graph: Graph) -> tuple[Counter[str], int]:
    """(op histogram, op count) from one walk of the graph (cached while the graph is unchanged)."""
    return graph.derived("op summary", _count)


def _count(graph: Graph) -> tuple[Counter[str], int]:
    nodes = graph.nodes()
    histogram = Counter([node.op.type for node in nodes])
    decompressions = [node for node in nodes if node.rt_info and "decompression" in node.rt_info and node.op.type not in NOT_COUNTED]
    return histogram, len(nodes) - sum(histogram[kind] for kind in NOT_COUNTED) - len(decompressions)


@dataclass
class PassRecord:
    name: str
    ops_before: int
    ops_after: int
    removed: dict[str, int]
    added: dict[str, int]
    seconds: float
    max_abs_diff: float | None = None


@dataclass
class PipelineReport:
    records: list[PassRecord] = field(default_factory=list)

    def rows(self) -> list[dict]:
        return [record.__dict__ for record in self.records]


class PassVerificationError(ConverterError):
    """A pass broke the graph: its structure, or its outputs beyond tolerance."""

    def __init__(self, pass_name: str, reason: str):
        self.pass_name = pass_name
        super().__init__(f"pass {pass_name!r} broke the model: {reason}")


def run_pipeline(
    graph: Graph,
    passes: Sequence[tuple[str, PassFn]],
    verify: bool = False,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
    per_tensor: bool = False,
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray] | None = None,
) -> tuple[Graph, PipelineReport]:
    """Run `passes` in order. With `verify`, each is checked against the unoptimized graph on
    `inputs` (by input name or in order), or on inputs found for the graph when none are given."""
    report = PipelineReport()
    reference = _Reference(graph, inputs, seed) if verify else None
    replaced = ReplacedWeights(graph)
    before, ops_before = _summary(graph)
    for name, pass_fn in passes:
        started = time.perf_counter()
        try:
            graph = pass_fn(graph)
        except InferenceError as error:  # shapes that only disagree once constants are known
            raise InvalidModelError(f"{graph.name}: the model's shapes are inconsistent (found by pass {name}): {error}") from None
        seconds = time.perf_counter() - started
        replaced.note(graph)
        after, ops_after = _summary(graph)
        record = PassRecord(
            name,
            ops_before,
            ops_after,
            dict(sorted((before - after).items())),
            dict(sorted((after - before).items())),
            round(seconds, 6),
        )
        before, ops_before = after, ops_after
        if reference is not None:
            try:
                check_graph(graph)
            except GraphCheckError as error:
                raise PassVerificationError(name, str(error)) from None
            record.max_abs_diff = reference.check(name, graph, rtol, atol, per_tensor)
        report.records.append(record)
    replaced.release(graph)  # the weights the passes dropped, freed now (see converter/passes/release.py)
    return graph, report


class _Reference:
    """Outputs of the unoptimized graph (onnxruntime backend) on inputs it accepts."""

    def __init__(self, graph: Graph, inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray] | None, seed: int):
        from converter.runtime import execute
        from converter.validate.runners import find_graph_inputs

        self.inputs = inputs if inputs is not None else find_graph_inputs(graph, seed=seed)
        self.expected = execute(graph, self.inputs)

    def check(self, pass_name: str, graph: Graph, rtol: float, atol: float, per_tensor: bool) -> float:
        from converter.runtime import execute
        from converter.validate import compare

        try:
            actual = execute(graph, self.inputs)
        except Exception as error:
            raise PassVerificationError(pass_name, f"the graph no longer runs: {type(error).__name__}: {error}") from None
        result = compare(self.expected, actual, rtol, atol, per_tensor)
        if not result.ok:
            raise PassVerificationError(pass_name, result.detail)
        return max(result.max_abs, default=0.0)


def random_graph_inputs(graph: Graph, seed: int = 0, dynamic_dim: int = 2) -> list[np.ndarray]:
    """Seeded inputs for small graphs built in tests (real models: `find_graph_inputs`). A dynamic dim on axis k gets size `dynamic_dim + k`, so dims that a pass
    might confuse (batch and sequence) differ, while the same axis agrees across inputs."""
    rng = np.random.default_rng(seed)
    arrays = []
    for value in graph.inputs:
        dims = [dynamic_dim + axis if d is None else d for axis, d in enumerate(value.shape.dims or ())]
        dtype = value.element_type.numpy
        if dtype.kind == "f":
            arrays.append(rng.standard_normal(dims).astype(dtype))
        elif dtype.kind == "b":
            arrays.append(rng.integers(0, 2, dims).astype(bool))
        else:
            arrays.append(rng.integers(0, 10, dims).astype(dtype))
    return arrays
