"""Small but realistic ONNX models built in the tests with onnx.helper.

They spell their layers the way exporters (PyTorch, tf2onnx) write them: BatchNormalization
after Conv, Dropout left in, Shape→Gather→Concat computations feeding Reshape, GELU written
out with Erf, attention masks computed from an integer mask input.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class OnnxBuilder:
    """`b.op("Conv", [x, w], kernel_shape=[3, 3])` returns the output name; `b.init(array)` an initializer."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.counter = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter}"

    def init(self, array: np.ndarray, prefix: str = "w") -> str:
        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, *shape: int, scale: float | None = None) -> str:
        """Seeded normal weights; by default scaled by 1/sqrt(fan-in) so activations stay O(1)."""
        if scale is None:
            scale = float(1.0 / np.sqrt(np.prod(shape[1:]))) if len(shape) > 1 else 0.1
        return self.init((self.rng.standard_normal(shape) * scale).astype(np.float32))

    def op(self, op_type: str, inputs: list[str], outputs: int = 1, **attrs) -> str | list[str]:
        names = [self.name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=self.name(op_type), **attrs))
        return names[0] if outputs == 1 else names

    def model(self, inputs: list[onnx.ValueInfoProto], outputs: list[tuple[str, str]], opset: int = 17) -> onnx.ModelProto:
        """`outputs` pairs an internal name with the graph output name to give it."""
        for internal, public in outputs:
            self.nodes.append(helper.make_node("Identity", [internal], [public], name=self.name("out")))
        graph = helper.make_graph(
            self.nodes,
            "test_model",
            inputs,
            [helper.make_tensor_value_info(public, TensorProto.FLOAT, None) for _, public in outputs],
            self.initializers,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        return model

    # ---- layers, spelled as exporters write them

    def conv_bn(self, x: str, c_in: int, c_out: int, kernel: int = 3, stride: int = 1, groups: int = 1, bias: bool = False) -> str:
        fan_in = c_in // groups * kernel * kernel
        inputs = [x, self.weight(c_out, c_in // groups, kernel, kernel, scale=float(np.sqrt(2.0 / fan_in)))]
        if bias:
            inputs.append(self.weight(c_out))
        y = self.op("Conv", inputs, kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[kernel // 2] * 4, group=groups)
        return self.batchnorm(y, c_out)

    def batchnorm(self, x: str, channels: int) -> str:
        gamma = self.init((self.rng.random(channels) + 0.5).astype(np.float32))
        beta = self.weight(channels)
        mean = self.weight(channels)
        var = self.init((self.rng.random(channels) + 0.1).astype(np.float32))
        return self.op("BatchNormalization", [x, gamma, beta, mean, var], epsilon=1e-5)

    def linear(self, x: str, d_in: int, d_out: int) -> str:
        weight = self.weight(d_in, d_out, scale=float(1.0 / np.sqrt(d_in)))
        return self.op("Add", [self.op("MatMul", [x, weight]), self.weight(d_out, scale=0.02)])

    def layer_norm(self, x: str, d: int) -> str:
        gamma = self.init((self.rng.random(d) + 0.5).astype(np.float32))
        return self.op("LayerNormalization", [x, gamma, self.weight(d)], axis=-1, epsilon=1e-5)

    def gelu_erf(self, x: str) -> str:
        erf = self.op("Erf", [self.op("Div", [x, self.init(np.float32(np.sqrt(2.0)), "c")])])
        return self.op("Mul", [self.op("Mul", [x, self.op("Add", [erf, self.init(np.float32(1.0), "c")])]), self.init(np.float32(0.5), "c")])

    def hardswish(self, x: str) -> str:
        return self.op("HardSwish", [x])

    def scalar(self, value: float | int, dtype=np.float32) -> str:
        return self.init(np.array(value, dtype=dtype), "c")

    def ints(self, *values: int) -> str:
        return self.init(np.array(values, dtype=np.int64), "shape")


def model_of(
    nodes: list[onnx.NodeProto],
    inputs: list[tuple[str, int, list | None]],
    outputs: tuple[str, ...] | list[str] = ("y",),
    opset: int = 21,
    initializers: dict[str, np.ndarray] | None = None,
) -> onnx.ModelProto:
    """A model around a few nodes: typed inputs, untyped outputs, initializers by name."""
    graph = helper.make_graph(
        list(nodes),
        "g",
        [helper.make_tensor_value_info(name, dtype, shape) for name, dtype, shape in inputs],
        [helper.make_value_info(name, onnx.TypeProto()) for name in outputs],
        [numpy_helper.from_array(array, name) for name, array in (initializers or {}).items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10 if opset >= 21 else 8
    return model


def _input(name: str, elem_type: int, dims: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, dims)


# ------------------------------------------------------------------ foundation models (issue 2)


def tiny_add_relu(batch: int | str = "N") -> onnx.ModelProto:
    weight = np.random.default_rng(0).random((1, 3, 1, 1), dtype=np.float32)
    bias = np.random.default_rng(1).random((1, 3, 1, 1), dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["x", "w"], ["a"], name="add"),
            helper.make_node("Mul", ["a", "b"], ["m"], name="mul"),
            helper.make_node("Relu", ["m"], ["y"], name="relu"),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def with_unknown_ops() -> onnx.ModelProto:
    graph = helper.make_graph(
        [
            helper.make_node("Relu", ["x"], ["a"], name="relu"),
            helper.make_node("FrobnicateA", ["a"], ["b"], name="frob1"),
            helper.make_node("FrobnicateA", ["b"], ["c"], name="frob2"),
            helper.make_node("Twiddle", ["c"], ["y"], name="twiddle", domain="com.example"),
        ],
        "unknown_ops",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]
    )


def cnn(batch: int | str = 1) -> onnx.ModelProto:
    """Conv/BatchNormalization/Relu/MaxPool ×2, GlobalAveragePool, Flatten, Dropout, Gemm, Softmax."""
    b = OnnxBuilder(1)
    x = b.op("Relu", [b.conv_bn("image", 3, 8)])
    x = b.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = b.op("Relu", [b.conv_bn(x, 8, 16, bias=True)])
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    x = b.op("Dropout", [x, b.scalar(0.3)])
    x = b.op("Gemm", [x, b.weight(10, 16), b.weight(10)], transB=1)
    y = b.op("Softmax", [x], axis=1)
    return b.model([_input("image", TensorProto.FLOAT, [batch, 3, 16, 16])], [(y, "probabilities")], opset=13)


def depthwise_net(batch: int | str = 1) -> onnx.ModelProto:
    """Depthwise and grouped convolutions with HardSwish and Clip (ReLU6)."""
    b = OnnxBuilder(2)
    x = b.hardswish(b.conv_bn("image", 3, 16, stride=2))
    x = b.op("Clip", [b.conv_bn(x, 16, 16, groups=16), b.scalar(0.0), b.scalar(6.0)])
    x = b.hardswish(b.conv_bn(x, 16, 24, kernel=1, groups=4))
    x = b.op("Clip", [b.conv_bn(x, 24, 24, kernel=5, groups=24, stride=2), b.scalar(0.0), b.scalar(6.0)])
    y = b.op("GlobalAveragePool", [x])
    return b.model([_input("image", TensorProto.FLOAT, [batch, 3, 16, 16])], [(y, "features")], opset=14)


def _attention(b: OnnxBuilder, x: str, additive_mask: str, d: int, heads: int) -> str:
    """Multi-head self-attention as PyTorch exports it (dynamic batch and sequence)."""
    head = d // heads
    shape = b.op("Shape", [x])
    batch = b.op("Unsqueeze", [b.op("Gather", [shape, b.scalar(0, np.int64)], axis=0), b.ints(0)])
    seq = b.op("Unsqueeze", [b.op("Gather", [shape, b.scalar(1, np.int64)], axis=0), b.ints(0)])
    split_shape = b.op("Concat", [batch, seq, b.ints(heads), b.ints(head)], axis=0)
    merged_shape = b.op("Concat", [batch, seq, b.ints(d)], axis=0)

    def heads_of(t: str, perm: list[int]) -> str:
        return b.op("Transpose", [b.op("Reshape", [t, split_shape])], perm=perm)

    q = heads_of(b.linear(x, d, d), [0, 2, 1, 3])
    k = heads_of(b.linear(x, d, d), [0, 2, 3, 1])
    v = heads_of(b.linear(x, d, d), [0, 2, 1, 3])
    scores = b.op("Div", [b.op("MatMul", [q, k]), b.scalar(float(np.sqrt(head)))])
    probs = b.op("Softmax", [b.op("Add", [scores, additive_mask])], axis=-1)
    context = b.op("Transpose", [b.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
    return b.linear(b.op("Reshape", [context, merged_shape]), d, d)


def _encoder_layer(b: OnnxBuilder, x: str, mask: str, d: int, heads: int, ffn: int) -> str:
    x = b.layer_norm(b.op("Add", [x, b.op("Dropout", [_attention(b, x, mask, d, heads)])]), d)
    hidden = b.gelu_erf(b.linear(x, d, ffn))
    return b.layer_norm(b.op("Add", [x, b.op("Dropout", [b.linear(hidden, ffn, d)])]), d)


def transformer(layers: int = 1, d: int = 32, heads: int = 4, ffn: int = 64, vocab: int = 50, max_len: int = 16) -> onnx.ModelProto:
    """BERT-style encoder: token + position embeddings (Gather), LayerNormalization, attention with
    an additive mask from an int64 attention_mask input, Erf-GELU feed-forward; dynamic batch and sequence."""
    b = OnnxBuilder(3)
    tokens = b.op("Gather", [b.weight(vocab, d), "input_ids"], axis=0)
    seq_len = b.op("Gather", [b.op("Shape", ["input_ids"]), b.scalar(1, np.int64)], axis=0)
    positions = b.op("Range", [b.scalar(0, np.int64), seq_len, b.scalar(1, np.int64)])
    x = b.layer_norm(b.op("Add", [tokens, b.op("Gather", [b.weight(max_len, d), positions], axis=0)]), d)
    keep = b.op("Cast", [b.op("Unsqueeze", ["attention_mask", b.ints(1, 2)])], to=TensorProto.FLOAT)
    mask = b.op("Mul", [b.op("Sub", [b.scalar(1.0), keep]), b.scalar(-10000.0)])
    for _ in range(layers):
        x = _encoder_layer(b, x, mask, d, heads, ffn)
    return b.model(
        [_input("input_ids", TensorProto.INT64, ["batch", "sequence"]), _input("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [(x, "last_hidden_state")],
        opset=17,
    )


def transformer_inputs(batch: int = 2, sequence: int = 7, vocab: int = 50, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, (batch, sequence)).astype(np.int64)
    mask = np.ones((batch, sequence), dtype=np.int64)
    mask[0, -2:] = 0
    return [ids, mask]


def recurrent(kind: str = "LSTM", direction: str = "bidirectional") -> onnx.ModelProto:
    """An LSTM or GRU layer with initial states and bias, dynamic batch, followed by a Gemm."""
    b = OnnxBuilder(4)
    hidden, features, directions = 8, 5, 2 if direction == "bidirectional" else 1
    gates = 4 if kind == "LSTM" else 3
    inputs = ["sequence", b.weight(directions, gates * hidden, features), b.weight(directions, gates * hidden, hidden), b.weight(directions, 2 * gates * hidden), "", "initial_h"]
    if kind == "LSTM":
        inputs.append("initial_c")
    y, y_h = b.op(kind, inputs, outputs=2, hidden_size=hidden, direction=direction)
    last = b.op("Reshape", [b.op("Transpose", [y_h], perm=[1, 0, 2]), b.ints(0, -1)])
    out = b.op("Gemm", [last, b.weight(directions * hidden, 3), b.weight(3)])
    model_inputs = [
        _input("sequence", TensorProto.FLOAT, [6, "batch", features]),
        _input("initial_h", TensorProto.FLOAT, [directions, "batch", hidden]),
    ]
    if kind == "LSTM":
        model_inputs.append(_input("initial_c", TensorProto.FLOAT, [directions, "batch", hidden]))
    return b.model(model_inputs, [(y, "y"), (out, "logits")], opset=14)


# ------------------------------------------------------------------ optimizer models (issue 3)


def resnet(batch: int | str = 1, width: int = 16, blocks: int = 2) -> onnx.ModelProto:
    """ResNet-style: stem conv+BN+ReLU+MaxPool, basic residual blocks (one with a 1×1 projection)."""
    b = OnnxBuilder(5)
    x = b.op("MaxPool", [b.op("Relu", [b.conv_bn("image", 3, width, kernel=7, stride=2)])], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    channels = width
    for index in range(blocks):
        out_channels = channels * 2 if index == blocks - 1 else channels
        stride = 2 if index == blocks - 1 else 1
        y = b.op("Relu", [b.conv_bn(x, channels, out_channels, stride=stride)])
        y = b.conv_bn(y, out_channels, out_channels)
        shortcut = b.conv_bn(x, channels, out_channels, kernel=1, stride=stride) if stride != 1 else x
        x = b.op("Relu", [b.op("Add", [y, shortcut])])
        channels = out_channels
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])])
    y = b.op("Gemm", [x, b.weight(10, channels), b.weight(10)], transB=1)
    return b.model([_input("image", TensorProto.FLOAT, [batch, 3, 32, 32])], [(y, "logits")], opset=13)


def mobilenet_v3(batch: int | str = 1) -> onnx.ModelProto:
    """MobileNetV3-style: HardSwish, inverted residuals with depthwise convs and squeeze-excite (HardSigmoid)."""
    b = OnnxBuilder(6)
    x = b.hardswish(b.conv_bn("image", 3, 16, stride=2))

    def block(x: str, c_in: int, expand: int, c_out: int, kernel: int, stride: int, se: bool, act: str) -> str:
        activate = (lambda t: b.hardswish(t)) if act == "hs" else (lambda t: b.op("Relu", [t]))
        y = activate(b.conv_bn(x, c_in, expand, kernel=1))
        y = activate(b.conv_bn(y, expand, expand, kernel=kernel, stride=stride, groups=expand))
        if se:
            squeezed = b.op("GlobalAveragePool", [y])
            squeezed = b.op("Relu", [b.op("Conv", [squeezed, b.weight(expand // 4, expand, 1, 1), b.weight(expand // 4)])])
            excite = b.op("HardSigmoid", [b.op("Conv", [squeezed, b.weight(expand, expand // 4, 1, 1), b.weight(expand)])], alpha=1 / 6, beta=0.5)
            y = b.op("Mul", [y, excite])
        y = b.conv_bn(y, expand, c_out, kernel=1)
        return b.op("Add", [x, y]) if stride == 1 and c_in == c_out else y

    x = block(x, 16, 16, 16, 3, 2, True, "relu")
    x = block(x, 16, 64, 24, 3, 2, False, "relu")
    x = block(x, 24, 72, 24, 3, 1, False, "relu")
    x = block(x, 24, 96, 40, 5, 2, True, "hs")
    x = block(x, 40, 120, 40, 5, 1, True, "hs")
    x = b.hardswish(b.conv_bn(x, 40, 240, kernel=1))
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])])
    x = b.op("Dropout", [b.hardswish(b.op("Gemm", [x, b.weight(128, 240), b.weight(128)], transB=1)), b.scalar(0.2)])
    y = b.op("Gemm", [x, b.weight(10, 128), b.weight(10)], transB=1)
    return b.model([_input("image", TensorProto.FLOAT, [batch, 3, 64, 64])], [(y, "logits")], opset=14)


def bert(layers: int = 3, d: int = 64, heads: int = 4, ffn: int = 256, vocab: int = 200) -> onnx.ModelProto:
    """BERT-style encoder stack (see `transformer`)."""
    return transformer(layers=layers, d=d, heads=heads, ffn=ffn, vocab=vocab, max_len=32)
