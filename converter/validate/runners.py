"""Runners: what validation executes. One small interface for every source framework and the IR.

A `Runner` declares its inputs and outputs (`TensorSpec`s) and runs feeds given by input name,
answering in its output order. Each frontend adds a *reference runner* that executes the source
model in its own framework (`converter.frontends.reference_runner`); the IR runners here reload
a written IR from disk and run it in the real OpenVINO runtime or, lowered to ONNX, in onnxruntime.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from converter.ir.graph import Graph
from converter.validate.inputs import Feeds, TensorSpec

IR_BACKENDS = ("onnxruntime", "openvino")


class Runner(Protocol):
    """Executes one model. `names` lists every tensor name of each output (IR outputs may carry several)."""

    label: str  # the framework or backend, as the report names it

    def input_specs(self) -> list[TensorSpec]: ...

    def output_specs(self) -> list[TensorSpec]: ...

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]: ...


def graph_specs(values) -> list[TensorSpec]:
    return [
        TensorSpec(value.name, value.element_type.numpy, None if value.shape.dims is None else tuple(value.shape.dims))
        for value in values
    ]


class GraphRunner:
    """An in-memory IR graph, run on onnxruntime (lowered to ONNX) or OpenVINO."""

    def __init__(self, graph: Graph, backend: str = "onnxruntime"):
        self.graph = graph
        self.label = backend
        self.output_names = [set(value.names or [value.name]) for value in graph.outputs]
        if backend == "onnxruntime":
            from converter.runtime.onnxruntime_backend import OnnxRuntimeExecutable

            self._run = OnnxRuntimeExecutable(graph)
        elif backend == "openvino":
            from converter.runtime.openvino_backend import compile_ir, run_compiled
            from converter.serialize.writer import serialize

            compiled = compile_ir(*serialize(graph))
            self._run = lambda inputs: run_compiled(compiled, inputs)
        else:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(IR_BACKENDS)}")

    def input_specs(self) -> list[TensorSpec]:
        return graph_specs(self.graph.inputs)

    def output_specs(self) -> list[TensorSpec]:
        return graph_specs(self.graph.outputs)

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return list(self._run(ordered_feeds(self.graph, feeds)))


class IrRunner(GraphRunner):
    """A written IR, reloaded from disk (.xml + .bin) as a user's application would."""

    def __init__(self, xml_path: str | os.PathLike[str], backend: str, graph: Graph | None = None, defaults: bool = False):
        """`graph` is the IR already read from `xml_path`, when the caller has it. On OpenVINO the
        IR is compiled in f32 (exact comparisons), or with `defaults` in the CPU plugin's default
        configuration (bf16 where the CPU has it), as an application that sets nothing runs it."""
        from converter.serialize.reader import read_ir

        self.xml_path = Path(xml_path)
        graph = graph if graph is not None else read_ir(self.xml_path)
        if backend == "openvino":
            # OpenVINO reads the files itself: what runs is what the user gets.
            from converter.runtime.openvino_backend import compile_ir, compile_with_defaults, run_compiled

            self.graph, self.label = graph, backend
            self.output_names = [set(value.names or [value.name]) for value in graph.outputs]
            compiled = compile_with_defaults(self.xml_path) if defaults else compile_ir(self.xml_path)
            input_order = _matching_ports(compiled.inputs, [set(v.names or [v.name]) for v in graph.inputs])
            output_order = _matching_ports(compiled.outputs, self.output_names)

            def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
                outputs = run_compiled(compiled, {i: x for i, x in zip(input_order, inputs)})
                return [outputs[i] for i in output_order]

            self._run = run
        else:
            super().__init__(graph, backend)


def _matching_ports(ports, names: list[set[str]]) -> list[int]:
    """For each of the graph's inputs or outputs, the index of OpenVINO's port of the same tensor name."""
    available = [set(port.get_names()) for port in ports]
    return [next((i for i, have in enumerate(available) if have & wanted), position) for position, wanted in enumerate(names)]


def ordered_feeds(graph: Graph, feeds: Mapping[str, np.ndarray] | Sequence[np.ndarray]) -> list[np.ndarray]:
    """Feeds given by input name, in the graph's parameter order (a list passes through); source-layout
    (NHWC) data for an input made channels-first by `--input-layout nchw` is transposed."""
    from converter.prepare.layout import channels_first_feed

    if not isinstance(feeds, Mapping):
        arrays = [np.asarray(x) for x in feeds]
    else:
        arrays = []
        for value in graph.inputs:
            name = next((n for n in value.names or [value.name] if n in feeds), None)
            if name is None:
                raise KeyError(f"no input given for {value.name!r} (given: {', '.join(feeds)})")
            arrays.append(np.asarray(feeds[name]))
    return [channels_first_feed(x, node) for x, node in zip(arrays, graph.parameters)] + arrays[len(graph.parameters) :]


def align_outputs(reference_names: Sequence[str], runner_names: Sequence[set[str]]) -> list[int]:
    """For each reference output, the index of the runner's output of the same name; outputs
    without a match take the runner's unmatched outputs in order."""
    matches = [next((i for i, names in enumerate(runner_names) if name in names), None) for name in reference_names]
    unmatched = iter(i for i in range(len(runner_names)) if i not in set(matches))
    return [match if match is not None else next(unmatched, position) for position, match in enumerate(matches)]


def median_latency_ms(runner: Runner, feeds: Feeds, repeats: int = 5, budget_seconds: float = 3.0) -> float:
    """Median wall time of `repeats` runs after one warm-up, fewer if the budget runs out."""
    runner.run(feeds)
    times = []
    deadline = time.perf_counter() + budget_seconds
    for _ in range(repeats):
        started = time.perf_counter()
        runner.run(feeds)
        times.append(time.perf_counter() - started)
        if time.perf_counter() > deadline:
            break
    return float(np.median(times) * 1000.0)


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def find_graph_inputs(
    graph: Graph,
    shapes: Mapping[str, Sequence[int]] | None = None,
    seed: int = 0,
) -> Feeds:
    """Inputs an in-memory IR graph accepts (the search of `inputs.find_inputs`, run on onnxruntime),
    for checks that have no source model at hand (`--verify`, the FP16 guard, from the API)."""
    from converter.validate.inputs import find_inputs
    from converter.validate.ranges import integer_ranges

    runner = GraphRunner(graph)
    return find_inputs(
        runner.input_specs(), runner.run, graph.name, shapes, integer_ranges(graph), runner.output_specs(), seed
    ).feeds
