"""One-operator .tflite models written with TFLite's generated schema classes: for ops and
options TensorFlow's converter does not emit (peephole, projection, layer-norm and CIFG LSTMs,
bidirectional LSTMs, sequence RNNs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import flatbuffers
import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

TYPES = {
    np.dtype(np.float32): schema.TensorType.FLOAT32,
    np.dtype(np.int32): schema.TensorType.INT32,
    np.dtype(np.int8): schema.TensorType.INT8,
    np.dtype(np.bool_): schema.TensorType.BOOL,
}


@dataclass
class Input:
    """A graph input."""

    name: str
    shape: Sequence[int]
    dtype: np.dtype = np.dtype(np.float32)


@dataclass
class State:
    """A variable tensor (zeros at the start, as the interpreter keeps them)."""

    shape: Sequence[int]


@dataclass
class Quantized:
    """An int8 constant, f = scale · q (per tensor)."""

    values: np.ndarray
    scale: float


@dataclass
class Output:
    name: str
    shape: Sequence[int]
    dtype: np.dtype = np.dtype(np.float32)


def single_op(
    op: str, inputs: Sequence[np.ndarray | Input | State | None], outputs: Sequence[Output], options: object = None, options_type: int = 0
) -> bytes:
    """A model whose subgraph runs builtin `op` once: inputs are constants (arrays, int8 ones
    quantized), graph inputs, variable tensors or left out (None)."""
    model = schema.ModelT()
    model.version = 3
    model.buffers = [schema.BufferT()]
    code = schema.OperatorCodeT()
    code.builtinCode = getattr(schema.BuiltinOperator, op)
    code.deprecatedBuiltinCode = min(code.builtinCode, 127)
    code.version = 1
    model.operatorCodes = [code]
    graph = schema.SubGraphT()
    graph.tensors, graph.inputs, graph.outputs = [], [], []

    def tensor(
        name: str, shape: Sequence[int], dtype: np.dtype, data: np.ndarray | None = None, variable: bool = False, scale: float = 0.0
    ) -> int:
        t = schema.TensorT()
        t.name, t.shape, t.type, t.isVariable = name.encode(), list(shape), TYPES[np.dtype(dtype)], variable
        if scale:
            t.quantization = schema.QuantizationParametersT()
            t.quantization.scale, t.quantization.zeroPoint = [scale], [0]
        t.buffer = 0
        if data is not None:
            buffer = schema.BufferT()
            buffer.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
            model.buffers.append(buffer)
            t.buffer = len(model.buffers) - 1
        elif variable:
            model.buffers.append(schema.BufferT())
            t.buffer = len(model.buffers) - 1
        graph.tensors.append(t)
        return len(graph.tensors) - 1

    operator = schema.OperatorT()
    operator.opcodeIndex = 0
    operator.inputs = []
    for k, item in enumerate(inputs):
        if item is None:
            operator.inputs.append(-1)
        elif isinstance(item, Input):
            index = tensor(item.name, item.shape, item.dtype)
            graph.inputs.append(index)
            operator.inputs.append(index)
        elif isinstance(item, Quantized):
            values = np.asarray(item.values, dtype=np.int8)
            operator.inputs.append(tensor(f"const{k}", values.shape, values.dtype, values, scale=item.scale))
        elif isinstance(item, State):
            operator.inputs.append(tensor(f"state{k}", item.shape, np.dtype(np.float32), variable=True))
        else:
            array = np.asarray(item)
            operator.inputs.append(tensor(f"const{k}", array.shape, array.dtype, array))
    operator.outputs = [tensor(o.name, o.shape, o.dtype) for o in outputs]
    graph.outputs = list(operator.outputs)
    operator.builtinOptionsType, operator.builtinOptions = options_type, options
    graph.operators = [operator]
    model.subgraphs = [graph]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
