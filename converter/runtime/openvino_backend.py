"""Run an IR in the real OpenVINO runtime (optional dependency)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import ml_dtypes
import numpy as np

from converter.ir.graph import Graph
from converter.ir.packing import pack_nibbles, unpack_nibbles
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


def compile_with_defaults(xml: str | os.PathLike[str]):
    """Compile model.xml for CPU with the plugin's default configuration, as an application that
    sets nothing gets it: bf16 inference on CPUs with bf16 instructions, so other kernels than
    compile_ir's f32 ones (an IR can compile in f32 and not by default)."""
    core = _core()
    return core.compile_model(core.read_model(os.fspath(xml)), "CPU")


def default_inference_precision() -> str:
    """The CPU plugin's default INFERENCE_PRECISION_HINT on this machine ("bf16", "f32", ...)."""
    precision = _core().get_property("CPU", "INFERENCE_PRECISION_HINT")
    return precision.get_type_name() if hasattr(precision, "get_type_name") else str(precision)


def error_gist(error: BaseException) -> str:
    """OpenVINO's message without its "Exception from <file>" frames: the failed check and its text."""
    lines = [line.strip() for line in str(error).strip().splitlines()]
    kept = [line for line in lines if line and not line.startswith("Exception from ")]
    return " ".join(kept) or (lines[0] if lines else type(error).__name__)


def run_compiled(compiled, inputs: list[np.ndarray] | Mapping[str, np.ndarray]) -> list[np.ndarray]:
    request = compiled.create_infer_request()
    if isinstance(inputs, Mapping):
        feeds = {compiled.input(name): _tensor(value) for name, value in inputs.items()}
    else:
        feeds = {index: _tensor(value) for index, value in enumerate(inputs)}
    request.infer(feeds)
    return [_array(request.get_output_tensor(i)) for i in range(len(compiled.outputs))]


def _tensor(value: np.ndarray):
    """numpy → OpenVINO tensor; bfloat16 goes by its bit pattern (OpenVINO's Python API has no bf16 dtype)."""
    import openvino

    array = np.asarray(value, order="C")  # (np.ascontiguousarray would turn 0-d inputs into 1-d)
    if array.dtype == ml_dtypes.bfloat16:
        tensor = openvino.Tensor(openvino.Type.bf16, openvino.Shape(list(array.shape)))
        tensor.data[...] = array.view(np.float16)  # same 16 bits, reinterpreted
        return tensor
    if array.dtype in _FLOAT8:
        return openvino.Tensor(array.view(np.uint8), list(array.shape), getattr(openvino.Type, _FLOAT8[array.dtype]))
    if array.dtype in _NIBBLES:  # OpenVINO holds i4/u4/f4e2m1 packed two to a byte, low nibble first
        tensor = openvino.Tensor(getattr(openvino.Type, _NIBBLES[array.dtype]), openvino.Shape(list(array.shape)))
        if array.size:
            tensor.data.reshape(-1).view(np.uint8)[...] = pack_nibbles(array)
        return tensor
    return array


def _array(tensor) -> np.ndarray:
    import openvino

    data = np.array(tensor.data)
    if tensor.element_type == openvino.Type.bf16:
        return data.view(ml_dtypes.bfloat16)
    for dtype, type_name in _FLOAT8.items():
        if tensor.element_type == getattr(openvino.Type, type_name):
            return data.view(dtype)
    for dtype, type_name in _NIBBLES.items():
        if tensor.element_type == getattr(openvino.Type, type_name):
            return unpack_nibbles(data, dtype, tuple(tensor.shape))
    return data


_FLOAT8 = {np.dtype(ml_dtypes.float8_e4m3fn): "f8e4m3", np.dtype(ml_dtypes.float8_e5m2): "f8e5m2"}
"""float8 tensors go by their bit pattern too (numpy dtype → OpenVINO type name)."""

_NIBBLES = {np.dtype(ml_dtypes.int4): "i4", np.dtype(ml_dtypes.uint4): "u4", np.dtype(ml_dtypes.float4_e2m1fn): "f4e2m1"}
"""4-bit tensors, packed (numpy dtype → OpenVINO type name)."""


def run(graph: Graph, inputs: list[np.ndarray] | Mapping[str, np.ndarray]) -> list[np.ndarray]:
    xml, weights = serialize(graph)
    return run_compiled(compile_ir(xml, weights), inputs)
