"""Run an IR in the real OpenVINO runtime (optional dependency)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from converter.ir.graph import Graph
from converter.serialize.writer import serialize


def _core():
    import openvino

    return openvino.Core()


def compile_ir(xml: bytes | str | os.PathLike[str], weights: bytes | None = None, threads: int = 1):
    """Compile IR given as xml bytes + weights, or as a path to model.xml, for CPU in f32."""
    import openvino

    core = _core()
    if isinstance(xml, bytes):
        tensor = openvino.Tensor(np.frombuffer(weights or b"\0", dtype=np.uint8).copy())
        model = core.read_model(model=xml, weights=tensor)
    else:
        model = core.read_model(os.fspath(xml))
    config = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": str(threads)}
    return core.compile_model(model, "CPU", config)


def run_compiled(compiled, inputs: list[np.ndarray] | Mapping[str, np.ndarray]) -> list[np.ndarray]:
    request = compiled.create_infer_request()
    if isinstance(inputs, Mapping):
        feeds = {compiled.input(name): np.asarray(value) for name, value in inputs.items()}
    else:
        feeds = {index: np.asarray(value) for index, value in enumerate(inputs)}
    request.infer(feeds)
    return [np.array(request.get_output_tensor(i).data) for i in range(len(compiled.outputs))]


def run(graph: Graph, inputs: list[np.ndarray] | Mapping[str, np.ndarray]) -> list[np.ndarray]:
    xml, weights = serialize(graph)
    return run_compiled(compile_ir(xml, weights), inputs)
