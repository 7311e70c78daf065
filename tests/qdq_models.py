"""Small float ONNX models and their QDQ quantization by onnxruntime's quantize_static, for the
fuse_qdq tests (conv, depthwise conv, matmul, residual add)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SHAPE = (1, 4, 8, 8)


def _init(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def _model(nodes: list, inits: list, input_shape: tuple, output_shape: list) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "float_model",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def conv_model(seed: int = 0) -> onnx.ModelProto:
    """Conv 3×3 → Relu → depthwise Conv 3×3 → Relu → Conv 1×1 + the block input (residual Add)."""
    rng = np.random.default_rng(seed)
    c = SHAPE[1]
    inits = [
        _init("w1", rng.standard_normal((8, c, 3, 3)) * 0.3), _init("b1", rng.standard_normal(8) * 0.1),
        _init("w2", rng.standard_normal((8, 1, 3, 3)) * 0.5), _init("b2", rng.standard_normal(8) * 0.1),
        _init("w3", rng.standard_normal((8, 8, 1, 1)) * 0.3), _init("b3", rng.standard_normal(8) * 0.1),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"]),
        helper.make_node("Add", ["c3", "c1"], ["y"]),
    ]
    return _model(nodes, inits, SHAPE, [1, 8, 8, 8])


def matmul_model(seed: int = 0) -> onnx.ModelProto:
    """MatMul + bias → Relu → MatMul + bias, on [1, 6, 16] tokens."""
    rng = np.random.default_rng(seed)
    inits = [
        _init("w1", rng.standard_normal((16, 32)) * 0.25), _init("b1", rng.standard_normal(32) * 0.1),
        _init("w2", rng.standard_normal((32, 8)) * 0.2), _init("b2", rng.standard_normal(8) * 0.1),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"]),
        helper.make_node("Add", ["m1", "b1"], ["a1"]),
        helper.make_node("Relu", ["a1"], ["r1"]),
        helper.make_node("MatMul", ["r1", "w2"], ["m2"]),
        helper.make_node("Add", ["m2", "b2"], ["y"]),
    ]
    return _model(nodes, inits, (1, 6, 16), [1, 6, 8])


def calibration(model: onnx.ModelProto, samples: int = 16, seed: int = 1) -> list[np.ndarray]:
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(samples)]


def quantize_qdq(
    model: onnx.ModelProto, path, per_channel: bool, activations: str, samples: list[np.ndarray], input_name: str = "x"
) -> onnx.ModelProto:
    """onnxruntime's quantize_static in the QDQ format: activations 'u8' (U8S8) or 's8' (S8S8)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = iter([{input_name: s} for s in samples])

        def get_next(self):
            return next(self._feeds, None)

    source = path.with_name(path.stem + "_float.onnx")
    onnx.save(model, source)
    quantize_static(
        str(source), str(path), Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
        activation_type=QuantType.QUInt8 if activations == "u8" else QuantType.QInt8, weight_type=QuantType.QInt8,
    )
    return onnx.load(path)
