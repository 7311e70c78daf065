"""Run an IR graph in onnxruntime by lowering it to ONNX first."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from converter.ir.graph import Graph
from converter.runtime.lowering import lower_to_onnx


class OnnxRuntimeExecutable:
    """A lowered, compiled graph; call it with inputs in graph order or by name."""

    def __init__(self, graph: Graph, threads: int = 1):
        import onnxruntime

        model, self.input_names, self.output_names = lower_to_onnx(graph)
        self.graph_input_names = [p.outputs[0].name for p in graph.parameters]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        feeds = dict(zip(self.input_names, inputs))
        return list(self.session.run(self.output_names, feeds))


def run(graph: Graph, inputs: list[np.ndarray] | Mapping[str, np.ndarray]) -> list[np.ndarray]:
    executable = OnnxRuntimeExecutable(graph)
    return executable(_ordered(graph, inputs))


def _ordered(graph: Graph, inputs: list[np.ndarray] | Mapping[str, np.ndarray]) -> list[np.ndarray]:
    if isinstance(inputs, Mapping):
        ordered = []
        for parameter in graph.parameters:
            value = parameter.outputs[0]
            name = next((n for n in value.names if n in inputs), None)
            if name is None:
                raise KeyError(f"no input given for {value.name!r}")
            ordered.append(np.asarray(inputs[name]))
        return ordered
    return [np.asarray(x) for x in inputs]
