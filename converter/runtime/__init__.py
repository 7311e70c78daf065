"""Execute an IR graph: onnxruntime (default, via ONNX lowering) or OpenVINO."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from converter.ir.graph import Graph

BACKENDS = ("onnxruntime", "openvino")


def execute(
    graph: Graph, inputs: list[np.ndarray] | Mapping[str, np.ndarray], backend: str = "onnxruntime"
) -> list[np.ndarray]:
    """Run the graph on CPU; outputs come back in the graph's output order."""
    if backend == "onnxruntime":
        from converter.runtime import onnxruntime_backend

        return onnxruntime_backend.run(graph, inputs)
    if backend == "openvino":
        from converter.runtime import openvino_backend

        return openvino_backend.run(graph, inputs)
    raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
