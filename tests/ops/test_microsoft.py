"""onnxruntime contrib ops (com.microsoft domain, and SimplifiedLayerNormalization) → existing IR ops.

onnxruntime implements these ops, so it is the reference (through `check_onnx`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter import convert_model, save_model
from converter.errors import NodeConversionError, UnsupportedOpsError
from converter.validate import compare, run_ir

FLOAT = TensorProto.FLOAT
MS = "com.microsoft"


def ms_model(
    op: str,
    inputs: list[tuple[str, list | None]],
    constants: dict[str, np.ndarray] | None = None,
    outputs: list[str] | None = None,
    domain: str = MS,
    order: list[str] | None = None,
    opset: int = 17,
    **attrs,
) -> onnx.ModelProto:
    """One contrib node; `inputs` are (name, shape) float graph inputs, `constants` become initializers."""
    constants = constants or {}
    outputs = outputs or ["y"]
    names = order if order is not None else [n for n, _ in inputs] + list(constants)
    node = helper.make_node(op, names, outputs, domain=domain, **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(o, FLOAT, None) for o in outputs if o],
        [numpy_helper.from_array(a, n) for n, a in constants.items()],
    )
    opsets = [helper.make_opsetid("", opset), helper.make_opsetid(MS, 1)]
    return helper.make_model(graph, opset_imports=opsets)


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ------------------------------------------------------------------ activations


@pytest.mark.parametrize("shape", [[2, 3, 8], ["B", "S", 8]])
def test_gelu(check_onnx, shape):
    check_onnx(ms_model("Gelu", [("x", shape)]), [randn(2, 3, 8) * 3])


@pytest.mark.parametrize("with_bias", [False, True])
def test_fast_gelu(check_onnx, with_bias):
    constants = {"bias": randn(8, seed=1)} if with_bias else {}
    check_onnx(ms_model("FastGelu", [("x", ["B", 4, 8])], constants), [randn(2, 4, 8) * 3])


def test_bias_gelu(check_onnx):
    check_onnx(ms_model("BiasGelu", [("x", [2, 4, 8])], {"bias": randn(8, seed=1)}), [randn(2, 4, 8) * 3])


@pytest.mark.parametrize("alpha", [None, 1.0, -0.5])
def test_quick_gelu(check_onnx, alpha):
    attrs = {} if alpha is None else {"alpha": alpha}
    check_onnx(ms_model("QuickGelu", [("x", [3, 16])], **attrs), [randn(3, 16) * 4])


def test_bias_add(tmp_path: Path):
    """onnxruntime has no CPU kernel for BiasAdd: compare with its definition, x + bias + skip."""
    x, bias, skip = randn(2, 3, 8), randn(8, seed=1), randn(2, 3, 8, seed=2)
    model = ms_model("BiasAdd", [("x", [2, 3, 8]), ("bias", [8]), ("skip", [2, 3, 8])])
    save_model(convert_model(model), tmp_path / "model.xml")
    for backend in ("openvino", "onnxruntime"):
        result = compare([x + bias + skip], run_ir(tmp_path / "model.xml", [x, bias, skip], backend), 1e-5, 1e-6)
        assert result.ok, f"{backend}: {result.detail}"


# ------------------------------------------------------------------ FusedMatMul


@pytest.mark.parametrize(
    "a_shape, b_shape, attrs",
    [
        ([3, 4], [4, 5], {}),
        ([2, 3, 4], [2, 4, 5], {"alpha": 0.125}),
        ([2, 4, 3], [2, 5, 4], {"transA": 1, "transB": 1}),
        (["B", 3, 4], [5, 4], {"transB": 1, "alpha": -2.0}),
        ([2, 2, 3, 4], [4, 5], {"transA": 0}),
        ([3, 2, 4], [2, 4, 5], {"transBatchA": 1}),
        ([2, 3, 4], [4, 2, 5], {"transBatchB": 1}),
        ([4, 2, 3], [5, 2, 4], {"transBatchA": 1, "transA": 1, "transBatchB": 1, "transB": 1}),
        ([3, 2, 2, 4], [2, 2, 4, 5], {"transBatchA": 1, "alpha": 0.5}),
    ],
)
def test_fused_matmul(check_onnx, a_shape, b_shape, attrs):
    concrete_a = [2 if d == "B" else d for d in a_shape]
    check_onnx(ms_model("FusedMatMul", [("a", a_shape)], {"b": randn(*b_shape, seed=1)}, **attrs), [randn(*concrete_a)])


# ------------------------------------------------------------------ normalizations


@pytest.mark.parametrize(
    "skip_shape, optional, outputs",
    [
        ([2, 3, 8], ["beta", "bias"], ["y"]),
        ([2, 3, 8], [], ["y", "", "", "sum"]),
        ([3, 8], ["beta"], ["y"]),
        ([1, 3, 8], ["bias"], ["y", "mean", "inv_std", "sum"]),
        ([2, 3, 8], ["beta", "bias"], ["y", "mean", "inv_std", "sum"]),
    ],
)
def test_skip_layer_norm(check_onnx, skip_shape, optional, outputs):
    constants = {"gamma": randn(8, seed=3)}
    for name in optional:
        constants[name] = randn(8, seed=4 + len(name))
    order = ["x", "skip", "gamma", "beta" if "beta" in optional else "", "bias" if "bias" in optional else ""]
    while not order[-1]:
        order.pop()
    model = ms_model("SkipLayerNormalization", [("x", ["B", 3, 8]), ("skip", skip_shape)], constants, outputs, order=order, epsilon=1e-5)
    check_onnx(model, [randn(2, 3, 8) * 2 + 1, randn(*skip_shape, seed=2)])


@pytest.mark.parametrize("with_bias, outputs", [(False, ["y"]), (True, ["y", "", "inv_std", "sum"])])
def test_skip_simplified_layer_norm(check_onnx, with_bias, outputs):
    constants = {"gamma": randn(8, seed=3)}
    if with_bias:
        constants["bias"] = randn(8, seed=4)
    model = ms_model("SkipSimplifiedLayerNormalization", [("x", [2, "S", 8]), ("skip", [2, "S", 8])], constants, outputs, epsilon=1e-6)
    check_onnx(model, [randn(2, 3, 8) * 2, randn(2, 3, 8, seed=2)])


def test_skip_simplified_layer_norm_mean_is_rejected():
    model = ms_model("SkipSimplifiedLayerNormalization", [("x", [2, 3, 8]), ("skip", [2, 3, 8])], {"gamma": randn(8)}, ["y", "mean"])
    with pytest.raises(NodeConversionError, match="mean"):
        convert_model(model)


@pytest.mark.parametrize("axis, outputs", [(-1, ["y"]), (-1, ["y", "inv_std"]), (1, ["y", "inv_std"]), (-2, ["y"])])
def test_simplified_layer_norm(check_onnx, axis, outputs):
    scale = randn(8, seed=1) if axis == -1 else randn(3, 8, seed=1)
    model = ms_model("SimplifiedLayerNormalization", [("x", ["B", 3, 8])], {"scale": scale}, outputs, domain="", axis=axis, epsilon=1e-5)
    check_onnx(model, [randn(2, 3, 8) * 3])


@pytest.mark.parametrize("opset", [13, 17])
def test_layer_norm_default_domain(check_onnx, opset):
    """onnxruntime's contrib LayerNormalization (default domain, before ONNX opset 17) converts too."""
    model = ms_model("LayerNormalization", [("x", [2, 3, 8])], {"scale": randn(8, seed=1), "bias": randn(8, seed=2)}, ["y", "mean", "inv_std"], domain="", opset=opset, epsilon=1e-5)
    check_onnx(model, [randn(2, 3, 8) * 3])


# ------------------------------------------------------------------ the unsupported list


def test_unknown_contrib_ops_are_listed_together():
    nodes = [
        helper.make_node("Gelu", ["x"], ["a"], domain=MS),
        helper.make_node("NoSuchOp", ["a"], ["b"], domain=MS),
        helper.make_node("OtherOp", ["b"], ["y"], domain="ai.example"),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", FLOAT, [2])], [helper.make_tensor_value_info("y", FLOAT, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1), helper.make_opsetid("ai.example", 1)])
    with pytest.raises(UnsupportedOpsError) as error:
        convert_model(model)
    message = str(error.value)
    assert "com.microsoft.NoSuchOp" in message and "ai.example.OtherOp" in message
    assert "com.microsoft.Gelu" not in message


# ------------------------------------------------------------------ FusedConv


@pytest.mark.parametrize(
    "activation, params, extra",
    [
        ("", None, {}),
        ("Relu", None, {"pads": [1, 1, 1, 1]}),
        ("Tanh", None, {"strides": [2, 2]}),
        ("Sigmoid", None, {"dilations": [2, 1]}),
        ("LeakyRelu", [0.2], {"group": 2}),
        ("Clip", [-0.5, 0.75], {"auto_pad": "SAME_UPPER"}),
        ("HardSigmoid", [0.3, 0.4], {}),
    ],
)
def test_fused_conv(check_onnx, activation, params, extra):
    group = extra.get("group", 1)
    constants = {"w": randn(6, 4 // group, 3, 3, seed=1), "b": randn(6, seed=2)}
    attrs = dict(extra, activation=activation) if activation else dict(extra)
    if params is not None:
        attrs["activation_params"] = params
    model = ms_model("FusedConv", [("x", ["N", 4, 7, 6])], constants, **attrs)
    check_onnx(model, [randn(2, 4, 7, 6)])


def test_fused_conv_with_sum(check_onnx):
    """The optional fourth input Z is added before the activation."""
    model = ms_model("FusedConv", [("x", [1, 4, 5, 5]), ("z", [1, 6, 5, 5])], {"w": randn(6, 4, 3, 3, seed=1), "b": randn(6, seed=2)}, order=["x", "w", "b", "z"], activation="Relu", pads=[1, 1, 1, 1])
    check_onnx(model, [randn(1, 4, 5, 5), randn(1, 6, 5, 5, seed=3)])


def test_fused_conv_unknown_activation_is_rejected():
    model = ms_model("FusedConv", [("x", [1, 4, 5, 5])], {"w": randn(6, 4, 3, 3)}, activation="Softsign")
    with pytest.raises(NodeConversionError, match="Softsign"):
        convert_model(model)


# ------------------------------------------------------------------ Attention


def attention_model(
    batch: int | str, seq: int | str, hidden: int, mask_shape: list | None, qkv: list[int] | None = None, with_bias: bool = True, **attrs
) -> onnx.ModelProto:
    sizes = qkv or [hidden] * 3
    constants = {"weights": randn(hidden, sum(sizes), seed=1) * 0.3}
    if with_bias:
        constants["bias"] = randn(sum(sizes), seed=2) * 0.1
    order = ["x", "weights", "bias" if with_bias else ""] + (["mask"] if mask_shape is not None else [])
    inputs = [helper.make_tensor_value_info("x", FLOAT, [batch, seq, hidden])]
    if mask_shape is not None:
        inputs.append(helper.make_tensor_value_info("mask", TensorProto.INT32, mask_shape))
    if qkv:
        attrs["qkv_hidden_sizes"] = qkv
    node = helper.make_node("Attention", order, ["y"], domain=MS, **attrs)
    graph = helper.make_graph(
        [node], "g", inputs, [helper.make_tensor_value_info("y", FLOAT, None)], [numpy_helper.from_array(a, n) for n, a in constants.items()]
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)])


def padding_mask(batch: int, seq: int) -> np.ndarray:
    mask = np.ones((batch, seq), dtype=np.int32)
    mask[0, seq - 2 :] = 0
    return mask


@pytest.mark.parametrize(
    "batch, seq, mask, attrs",
    [
        (2, 5, None, {"num_heads": 2}),
        ("B", "S", "2d", {"num_heads": 2}),
        (2, 5, "2d", {"num_heads": 4, "scale": 0.3, "mask_filter_value": -500.0}),
        (2, 5, "3d", {"num_heads": 2}),
        (2, 5, None, {"num_heads": 2, "unidirectional": 1}),
        (2, 5, "2d", {"num_heads": 2, "unidirectional": 1}),
    ],
)
def test_attention(check_onnx, batch, seq, mask, attrs):
    mask_shape = {None: None, "2d": [batch, seq], "3d": [batch, seq, seq]}[mask]
    inputs = [randn(2, 5, 8)]
    if mask == "2d":
        inputs.append(padding_mask(2, 5))
    elif mask == "3d":
        inputs.append(np.tril(np.ones((2, 5, 5), dtype=np.int32)))
    check_onnx(attention_model(batch, seq, 8, mask_shape, **attrs), inputs)


def test_attention_fully_masked_row_is_uniform(check_onnx):
    """onnxruntime adds mask_filter_value (not -inf): a row with every key masked averages V."""
    mask = padding_mask(2, 5)
    mask[1, :] = 0
    check_onnx(attention_model(2, 5, 8, [2, 5], num_heads=2, mask_filter_value=-1.0), [randn(2, 5, 8), mask])


def test_attention_qkv_hidden_sizes_without_bias(check_onnx):
    model = attention_model(2, 4, 8, [2, 4], qkv=[8, 8, 12], with_bias=False, num_heads=2)
    check_onnx(model, [randn(2, 4, 8), padding_mask(2, 4)])


@pytest.mark.parametrize(
    "mask_shape, attrs, reason",
    [([2], {"num_heads": 2}, "mask_index of rank 1"), (None, {"num_heads": 2, "do_rotary": 1}, "do_rotary"), (None, {"num_heads": 3}, "heads")],
)
def test_attention_rejections(mask_shape, attrs, reason):
    with pytest.raises(NodeConversionError, match=reason):
        convert_model(attention_model(2, 4, 8, mask_shape, **attrs))


def test_attention_past_is_rejected():
    model = attention_model(2, 4, 8, None, num_heads=2)
    model.graph.input.append(helper.make_tensor_value_info("past", FLOAT, [2, 2, 2, 3, 4]))
    model.graph.node[0].input.extend(["", "past"])
    with pytest.raises(NodeConversionError, match="past"):
        convert_model(model)
