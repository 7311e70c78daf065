"""Custom ops in .tflite files written by the tests (TFLite's object API: schema_py_generated's
ModelT, packed with flatbuffers.Builder) and their twins of builtin ops for the interpreter, which
does not know MediaPipe's ops."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import flatbuffers
import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

TFLITE_PADDING = {"SAME": 1, "VALID": 2}  # TfLitePadding
SCHEMA_PADDING = {"SAME": schema.Padding.SAME, "VALID": schema.Padding.VALID}
TENSOR_TYPES = {np.dtype(np.float32): schema.TensorType.FLOAT32, np.dtype(np.int32): schema.TensorType.INT32}


def new_model() -> schema.ModelT:
    """An empty model: one subgraph, buffer 0 empty (as TFLite's converter writes it)."""
    model = schema.ModelT()
    model.version, model.description = 3, "written by irforge's tests"
    model.operatorCodes, model.buffers, model.subgraphs = [], [schema.BufferT()], [schema.SubGraphT()]
    subgraph = model.subgraphs[0]
    subgraph.tensors, subgraph.inputs, subgraph.outputs, subgraph.operators, subgraph.name = [], [], [], [], "main"
    return model


def unpack(data: bytes) -> schema.ModelT:
    return schema.ModelT.InitFromPackedBuf(data, 0)


def pack(model: schema.ModelT) -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def transpose_conv_options(padding: str, stride_w: int, stride_h: int) -> bytes:
    """TfLiteTransposeConvParams: padding, stride_width, stride_height (int32 each)."""
    return struct.pack("<3i", TFLITE_PADDING[padding], stride_w, stride_h)


def pool_options(padding: str, stride_w: int, stride_h: int, filter_w: int, filter_h: int, activation: int = 0) -> bytes:
    """TfLitePoolParams: padding, strides, filter, activation, then the computed padding the runtime fills (4 int32)."""
    return struct.pack("<10i", TFLITE_PADDING[padding], stride_w, stride_h, filter_w, filter_h, activation, 0, 0, 0, 0)


def text(value: str | bytes | None) -> str | None:
    """A string field: bytes when unpacked from a file, str when set by a test."""
    return value.decode() if isinstance(value, bytes) else value


def opcode(model: schema.ModelT, builtin: int | None = None, custom: str | None = None) -> int:
    """The index of the operator code for a builtin op or a custom code, added when missing."""
    for index, code in enumerate(model.operatorCodes):
        if custom is not None and text(code.customCode) == custom:
            return index
        if custom is None and max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            return index
    code = schema.OperatorCodeT()
    value = schema.BuiltinOperator.CUSTOM if custom is not None else builtin
    code.builtinCode, code.deprecatedBuiltinCode, code.version = value, min(value, 127), 1
    code.customCode = custom
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def add_tensor(model: schema.ModelT, name: str, shape: Sequence[int], dtype=np.float32, data: np.ndarray | None = None) -> int:
    """A new tensor of subgraph 0 (a constant when `data` is given); its index."""
    subgraph = model.subgraphs[0]
    tensor = schema.TensorT()
    tensor.name, tensor.shape, tensor.type = name, list(shape), TENSOR_TYPES[np.dtype(dtype)]
    buffer = schema.BufferT()
    if data is not None:
        buffer.data = np.frombuffer(np.ascontiguousarray(data, dtype=dtype).tobytes(), np.uint8)
    model.buffers.append(buffer)
    tensor.buffer = len(model.buffers) - 1
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1


def operator(model: schema.ModelT, code: int, inputs: Sequence[int], outputs: Sequence[int], options_type: int = 0, options=None, custom: bytes | None = None) -> schema.OperatorT:
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = code, list(inputs), list(outputs)
    op.builtinOptionsType, op.builtinOptions = options_type, options
    if custom is not None:
        op.customOptions = list(custom)
        op.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS
    return op


def custom_ops(model: schema.ModelT, custom: str) -> list[schema.OperatorT]:
    index = opcode(model, custom=custom)
    return [op for op in model.subgraphs[0].operators if op.opcodeIndex == index]


def transpose_conv_bias_twin(data: bytes) -> bytes:
    """The model with each Convolution2DTransposeBias replaced by TRANSPOSE_CONV (into the size
    MediaPipe's kernel computes) + ADD of the bias: the same arithmetic in builtin ops."""
    model = unpack(data)
    subgraph = model.subgraphs[0]
    for op in custom_ops(model, "Convolution2DTransposeBias"):
        padding_code, stride_w, stride_h = struct.unpack_from("<3i", bytes(bytearray(op.customOptions)))
        padding = {v: k for k, v in TFLITE_PADDING.items()}[padding_code]
        x, weights, bias = op.inputs
        (output,) = op.outputs
        batch, height, width, _ = subgraph.tensors[x].shape
        outputs, kernel_h, kernel_w, _ = subgraph.tensors[weights].shape
        sizes = []
        for size, kernel, stride in ((height, kernel_h, stride_h), (width, kernel_w, stride_w)):
            pad = max(0, kernel - (size - 1) % stride - 1) if padding == "SAME" else 0
            sizes.append(stride * (size - 1) + kernel - pad)
        shape = [int(batch), *sizes, int(outputs)]
        target = add_tensor(model, f"{text(subgraph.tensors[output].name)}/output_shape", [4], np.int32, np.array(shape, np.int32))
        product = add_tensor(model, f"{text(subgraph.tensors[output].name)}/no_bias", shape)
        options = schema.TransposeConvOptionsT()
        options.padding, options.strideW, options.strideH = SCHEMA_PADDING[padding], stride_w, stride_h
        convolution = operator(
            model, opcode(model, schema.BuiltinOperator.TRANSPOSE_CONV), [target, weights, x], [product],
            schema.BuiltinOptions.TransposeConvOptions, options,
        )  # fmt: skip
        addition = operator(model, opcode(model, schema.BuiltinOperator.ADD), [product, bias], [output], schema.BuiltinOptions.AddOptions, schema.AddOptionsT())
        position = subgraph.operators.index(op)
        subgraph.operators[position : position + 1] = [convolution, addition]
    return pack(model)
