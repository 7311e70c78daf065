"""Generated architectures for bench/run.py, spelled as exporters write them (tests/models.py's
OnnxBuilder: BatchNormalization after Conv, SiLU as x·Sigmoid(x), shapes read at run time).

Full-size where it matters for speed (ResNet-50: 25.6 M parameters, EfficientNet-B0: 5.3 M), with
seeded random weights; each builder returns (onnx.ModelProto, {input name: shape for the benchmark}).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import models  # noqa: E402  (tests/models.py)
import sized_models  # noqa: E402
from models import OnnxBuilder  # noqa: E402


def _input(name: str, elem_type: int, dims: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, dims)


def _silu(b: OnnxBuilder, x: str) -> str:
    return b.op("Mul", [x, b.op("Sigmoid", [x])])


def resnet50() -> tuple[onnx.ModelProto, dict]:
    """ResNet-50 v1.5: 7×7 stem, bottleneck blocks [3, 4, 6, 3] (stride on the 3×3), 1000 classes."""
    b = OnnxBuilder(50)
    x = b.op("Relu", [b.conv_bn("image", 3, 64, kernel=7, stride=2)])
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c_in = 64
    for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512))):
        for index in range(blocks):
            stride = 2 if index == 0 and stage > 0 else 1
            c_out = width * 4
            y = b.op("Relu", [b.conv_bn(x, c_in, width, kernel=1)])
            y = b.op("Relu", [b.conv_bn(y, width, width, kernel=3, stride=stride)])
            y = b.conv_bn(y, width, c_out, kernel=1)
            shortcut = b.conv_bn(x, c_in, c_out, kernel=1, stride=stride) if index == 0 else x
            x = b.op("Relu", [b.op("Add", [y, shortcut])])
            c_in = c_out
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    y = b.op("Gemm", [x, b.weight(1000, 2048), b.weight(1000)], transB=1)
    model = b.model([_input("image", TensorProto.FLOAT, ["batch", 3, 224, 224])], [(y, "logits")], opset=17)
    return model, {"image": (1, 3, 224, 224)}


def efficientnet_b0() -> tuple[onnx.ModelProto, dict]:
    """EfficientNet-B0: MBConv blocks (expand 1×1, depthwise k×k, squeeze-excite with SiLU and
    Sigmoid, project 1×1, residual), SiLU written as x·Sigmoid(x), 1000 classes."""
    b = OnnxBuilder(0xB0)
    x = _silu(b, b.conv_bn("image", 3, 32, stride=2))
    c_in = 32
    # (expand ratio, channels, repeats, stride, kernel)
    for expand, c_out, repeats, stride, kernel in ((1, 16, 1, 1, 3), (6, 24, 2, 2, 3), (6, 40, 2, 2, 5), (6, 80, 3, 2, 3), (6, 112, 3, 1, 5), (6, 192, 4, 2, 5), (6, 320, 1, 1, 3)):
        for index in range(repeats):
            s = stride if index == 0 else 1
            hidden = c_in * expand
            y = _silu(b, b.conv_bn(x, c_in, hidden, kernel=1)) if expand != 1 else x
            y = _silu(b, b.conv_bn(y, hidden, hidden, kernel=kernel, stride=s, groups=hidden))
            squeezed = max(1, c_in // 4)
            se = b.op("GlobalAveragePool", [y])
            se = _silu(b, b.op("Conv", [se, b.weight(squeezed, hidden, 1, 1), b.weight(squeezed)]))
            se = b.op("Sigmoid", [b.op("Conv", [se, b.weight(hidden, squeezed, 1, 1), b.weight(hidden)])])
            y = b.conv_bn(b.op("Mul", [y, se]), hidden, c_out, kernel=1)
            x = b.op("Add", [y, x]) if s == 1 and c_in == c_out else y
            c_in = c_out
    x = _silu(b, b.conv_bn(x, 320, 1280, kernel=1))
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    x = b.op("Dropout", [x, b.scalar(0.2)])
    y = b.op("Gemm", [x, b.weight(1000, 1280), b.weight(1000)], transB=1)
    model = b.model([_input("image", TensorProto.FLOAT, ["batch", 3, 224, 224])], [(y, "logits")], opset=17)
    return model, {"image": (1, 3, 224, 224)}


def squeezenet() -> tuple[onnx.ModelProto, dict]:
    """SqueezeNet 1.1: Fire modules (squeeze 1×1, expand 1×1 and 3×3, Concat), max pools,
    a 1×1 classifier conv, global average pool, Softmax."""
    b = OnnxBuilder(11)

    def conv(x: str, c_in: int, c_out: int, kernel: int, stride: int = 1, pad: int = 0) -> str:
        w = b.weight(c_out, c_in, kernel, kernel, scale=float(np.sqrt(2.0 / (c_in * kernel * kernel))))
        y = b.op("Conv", [x, w, b.weight(c_out)], kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[pad] * 4)
        return b.op("Relu", [y])

    def fire(x: str, c_in: int, squeeze: int, expand: int) -> str:
        s = conv(x, c_in, squeeze, 1)
        return b.op("Concat", [conv(s, squeeze, expand, 1), conv(s, squeeze, expand, 3, pad=1)], axis=1)

    x = conv("image", 3, 64, 3, stride=2)
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2])
    x = fire(fire(x, 64, 16, 64), 128, 16, 64)
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2])
    x = fire(fire(x, 128, 32, 128), 256, 32, 128)
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2])
    x = fire(fire(fire(fire(x, 256, 48, 192), 384, 48, 192), 384, 64, 256), 512, 64, 256)
    x = b.op("Dropout", [x, b.scalar(0.5)])
    x = conv(x, 512, 1000, 1)
    y = b.op("Softmax", [b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)], axis=1)
    model = b.model([_input("image", TensorProto.FLOAT, ["batch", 3, 224, 224])], [(y, "probabilities")], opset=13)
    return model, {"image": (1, 3, 224, 224)}


def mobilenet_v3() -> tuple[onnx.ModelProto, dict]:
    return models.mobilenet_v3(batch="batch"), {"image": (1, 3, 64, 64)}


def transformer_encoder() -> tuple[onnx.ModelProto, dict]:
    """A 4-layer BERT-style encoder, d=256, 4 heads, FFN 1024, vocabulary 8000 (tests/models.py)."""
    return models.transformer(layers=4, d=256, heads=4, ffn=1024, vocab=8000, max_len=128), {"input_ids": (1, 64), "attention_mask": (1, 64)}


def yolo_detector() -> tuple[onnx.ModelProto, dict]:
    """The YOLO-style detector of tests/sized_models.py (SiLU backbone, FPN, run-time reshapes), width 32."""
    return sized_models.yolo_head(num_classes=80, width=32), {"images": (1, 3, 320, 320)}


def lstm_unrolled(steps: int = 12, features: int = 32, hidden: int = 64) -> tuple[onnx.ModelProto, dict]:
    """An LSTM cell unrolled over a fixed number of steps at opset 18, as tracing a Python loop
    over `nn.LSTMCell` exports it: the states start as zeros of a shape read from the input
    (ConstantOfShape), each step picks its time slice with an index found by NonZero over
    `arange(T) == t`, Splits the gates with `num_outputs`, reshapes with run-time shapes, and
    writes its output into a preallocated buffer with ScatterElements (`out[:, t] = h`)."""
    b = OnnxBuilder(18)
    shape = b.op("Shape", ["sequence"])
    batch = b.op("Gather", [shape, b.ints(0)], axis=0)  # [1]
    time = b.op("Gather", [shape, b.ints(1)], axis=0)  # [1]
    state_shape = b.op("Concat", [batch, b.ints(hidden)], axis=0)
    h = b.op("ConstantOfShape", [state_shape], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0]))
    c = b.op("ConstantOfShape", [state_shape], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0]))
    out = b.op("ConstantOfShape", [b.op("Concat", [batch, time, b.ints(hidden)], axis=0)], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0]))
    w_x = b.weight(features, 4 * hidden)
    w_h = b.weight(hidden, 4 * hidden)
    bias = b.weight(4 * hidden, scale=0.1)
    positions = b.op("Range", [b.scalar(0, np.int64), b.op("Squeeze", [time, b.ints(0)]), b.scalar(1, np.int64)])
    for t in range(steps):
        where = b.op("NonZero", [b.op("Equal", [positions, b.scalar(t, np.int64)])])  # [1, 1]
        index = b.op("Reshape", [where, b.ints(-1)])  # [1]
        x_t = b.op("Gather", ["sequence", index], axis=1)  # [B, 1, F]
        x_t = b.op("Reshape", [x_t, b.op("Concat", [batch, b.ints(features)], axis=0)])  # [B, F]
        gates = b.op("Add", [b.op("Add", [b.op("MatMul", [x_t, w_x]), b.op("MatMul", [h, w_h])]), bias])
        i, f, g, o = b.op("Split", [gates], outputs=4, axis=1, num_outputs=4)
        c = b.op("Add", [b.op("Mul", [b.op("Sigmoid", [f]), c]), b.op("Mul", [b.op("Sigmoid", [i]), b.op("Tanh", [g])])])
        h = b.op("Mul", [b.op("Sigmoid", [o]), b.op("Tanh", [c])])
        step_shape = b.op("Concat", [batch, b.ints(1), b.ints(hidden)], axis=0)
        update = b.op("Reshape", [h, step_shape])  # [B, 1, H]
        indices = b.op("Expand", [b.op("Reshape", [index, b.ints(1, 1, 1)]), b.op("Shape", [update])])
        out = b.op("ScatterElements", [out, indices, update], axis=1)
    logits = b.op("Gemm", [h, b.weight(10, hidden), b.weight(10)], transB=1)
    model = b.model([_input("sequence", TensorProto.FLOAT, ["batch", steps, features])], [(out, "outputs"), (logits, "logits")], opset=18)
    return model, {"sequence": (1, steps, features)}


GENERATED = {
    "resnet50": resnet50,
    "mobilenet_v3": mobilenet_v3,
    "efficientnet_b0": efficientnet_b0,
    "squeezenet": squeezenet,
    "transformer_encoder": transformer_encoder,
    "yolo_detector": yolo_detector,
    "lstm_unrolled_op18": lstm_unrolled,
}
