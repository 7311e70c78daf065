"""Quick checks on small in-memory models: seeded inputs, onnxruntime on the source, an IR on a backend.

For models built in tests and the ONNX node-test suite; real models go through `validation.py`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx

from converter.frontends.onnx.converter import ELEMENT_TYPES


def random_inputs(model: onnx.ModelProto, seed: int = 0, dynamic_dim: int = 2) -> list[np.ndarray]:
    """Seeded inputs for a small test model's graph inputs; dynamic dims become `dynamic_dim`.

    Only for models built in tests: real models need `inputs.find_inputs`."""
    rng = np.random.default_rng(seed)
    initializers = {t.name for t in model.graph.initializer}
    arrays = []
    for value_info in model.graph.input:
        if value_info.name in initializers:
            continue
        tensor_type = value_info.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else dynamic_dim for d in tensor_type.shape.dim]
        dtype = ELEMENT_TYPES[tensor_type.elem_type].numpy
        if np.dtype(dtype).kind == "f":
            arrays.append(rng.standard_normal(dims).astype(dtype))
        elif np.dtype(dtype).kind == "b":
            arrays.append(rng.integers(0, 2, dims).astype(bool))
        else:
            arrays.append(rng.integers(0, 10, dims).astype(dtype))
    return arrays


def run_onnxruntime(model: onnx.ModelProto | str | os.PathLike[str], inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The source model's own answer, from onnxruntime."""
    import onnxruntime

    if isinstance(model, onnx.ModelProto):
        payload = model.SerializeToString()
        graph_inputs = model.graph
    else:
        payload = os.fspath(model)
        graph_inputs = onnx.load(payload, load_external_data=False).graph
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(payload, options, providers=["CPUExecutionProvider"])
    initializers = {t.name for t in graph_inputs.initializer}
    names = [i.name for i in graph_inputs.input if i.name not in initializers]
    return list(session.run(None, dict(zip(names, inputs))))


def run_ir(xml_path: str | os.PathLike[str], inputs: Sequence[np.ndarray], backend: str) -> list[np.ndarray]:
    """Reload an IR from disk and run it on `backend` (openvino or onnxruntime)."""
    if backend == "openvino":
        from converter.runtime.openvino_backend import compile_ir, run_compiled

        return run_compiled(compile_ir(Path(xml_path)), list(inputs))
    from converter.runtime import execute
    from converter.serialize.reader import read_ir

    return execute(read_ir(xml_path), list(inputs), backend=backend)
