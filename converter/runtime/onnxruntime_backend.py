"""Run an IR graph in onnxruntime by lowering it to ONNX first."""

from __future__ import annotations

from collections.abc import Mapping

import ml_dtypes
import numpy as np
import onnx
from onnx import helper

from converter.ir.graph import Graph
from converter.runtime.lowering import lower_to_onnx


class OnnxRuntimeExecutable:
    """A lowered, compiled graph; call it with inputs in graph order or by name."""

    def __init__(self, graph: Graph, threads: int = 1):
        import onnxruntime

        model, self.input_names, self.output_names = lower_to_onnx(graph)
        self.float8_outputs = _float8_io_as_float32(model)
        self.graph_input_names = [p.outputs[0].name for p in graph.parameters]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 4  # errors reach the caller as exceptions, not as log lines
        self.session = onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        feeds = {name: _float8_as_float32(np.asarray(x)) for name, x in zip(self.input_names, inputs)}
        outputs = list(self.session.run(self.output_names, feeds))
        for index, dtype in self.float8_outputs.items():
            outputs[index] = outputs[index].astype(dtype)  # exact: the values came from float8
        return outputs


_FLOAT8 = {
    onnx.TensorProto.FLOAT8E4M3FN: np.dtype(ml_dtypes.float8_e4m3fn),
    onnx.TensorProto.FLOAT8E5M2: np.dtype(ml_dtypes.float8_e5m2),
    # int4 / uint4 likewise (every value is exact in float32); float4 E2M1 needs Cast-23, above
    # the lowering's opset
    onnx.TensorProto.INT4: np.dtype(ml_dtypes.int4),
    onnx.TensorProto.UINT4: np.dtype(ml_dtypes.uint4),
}


_FLOAT8_ONLY = (onnx.TensorProto.FLOAT8E4M3FN, onnx.TensorProto.FLOAT8E5M2)


def _float8_io_as_float32(model: onnx.ModelProto) -> dict[int, np.dtype]:
    """onnxruntime's Python API cannot pass float8 (or int4 / uint4) arrays: the model's such inputs and
    outputs become float32 with an exact Cast inside. Returns {output index: float8 dtype}."""
    graph = model.graph
    casts = []
    for value_info in graph.input:
        tensor_type = value_info.type.tensor_type
        if tensor_type.elem_type in _FLOAT8:
            inner = value_info.name + "_float8"
            for node in graph.node:
                node.input[:] = [inner if name == value_info.name else name for name in node.input]
            saturate = {"saturate": 0} if tensor_type.elem_type in _FLOAT8_ONLY else {}  # an error on other types
            casts.append(helper.make_node("Cast", [value_info.name], [inner], to=tensor_type.elem_type, **saturate))
            tensor_type.elem_type = onnx.TensorProto.FLOAT
    float8_outputs = {}
    for index, value_info in enumerate(graph.output):
        tensor_type = value_info.type.tensor_type
        if tensor_type.elem_type in _FLOAT8:
            float8_outputs[index] = _FLOAT8[tensor_type.elem_type]
            inner = value_info.name + "_float8"
            for node in graph.node:
                node.output[:] = [inner if name == value_info.name else name for name in node.output]
            graph.node.append(helper.make_node("Cast", [inner], [value_info.name], to=onnx.TensorProto.FLOAT))
            tensor_type.elem_type = onnx.TensorProto.FLOAT
    for cast in reversed(casts):
        graph.node.insert(0, cast)
    return float8_outputs


def _float8_as_float32(array: np.ndarray) -> np.ndarray:
    return array.astype(np.float32) if array.dtype in _FLOAT8.values() else array


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
