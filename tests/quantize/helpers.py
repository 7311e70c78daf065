"""Small ONNX graphs for the quantization tests."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from converter.api import load_model, optimize
from converter.ir.graph import Graph
from models import OnnxBuilder


def ir(model: onnx.ModelProto) -> Graph:
    return optimize(load_model(model))[0]


def conv_net(seed: int = 0) -> onnx.ModelProto:
    """x [N, 3, 8, 8] → Conv + Relu → Conv → Add(x-branch) … → Flatten → Gemm: "y" [N, 5]."""
    b = OnnxBuilder(seed)
    conv1 = b.op("Relu", [b.op("Conv", ["x", b.weight(4, 3, 3, 3), b.init(np.full(4, 0.1, np.float32))], pads=[1, 1, 1, 1])])
    conv2 = b.op("Conv", [conv1, b.weight(4, 4, 3, 3), b.init(np.linspace(-0.2, 0.2, 4, dtype=np.float32))], pads=[1, 1, 1, 1])
    flat = b.op("Flatten", [conv2], axis=1)
    y = b.op("Gemm", [flat, b.weight(5, 256), b.init(np.full(5, 0.05, np.float32))], transB=1)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])
    return b.model([x], [(y, "y")])


def attention_block(seed: int = 0) -> onnx.ModelProto:
    """x [N, S, 16] → Q, K, V MatMuls (one input, shared) → softmax(QKᵀ)·V → MatMul out: "y"."""
    b = OnnxBuilder(seed)
    q, k, v = (b.op("MatMul", ["x", b.weight(16, 16)]) for _ in range(3))
    scores = b.op("MatMul", [q, b.op("Transpose", [k], perm=[0, 2, 1])])
    context = b.op("MatMul", [b.op("Softmax", [scores], axis=-1), v])
    y = b.op("MatMul", [context, b.weight(16, 16)])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "S", 16])
    return b.model([x], [(y, "y")])
