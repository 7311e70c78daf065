"""One property test over every pass and every test graph.

Hypothesis draws graphs that contain the patterns the fusion passes look for (with scalar
and per-channel scales, groups, eps, variances near 0, operand orders) plus the realistic
ONNX test models; every registered pass must keep outputs equal (rtol 1e-5, atol 1e-6 on
seeded random inputs), leave a well-formed graph, and be idempotent. A graph with nothing
to match comes back byte-identical from every pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from converter.api import load_model
from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Relu, Sigmoid, Softmax, Tanh
from converter.ops.conv import Convolution, GroupConvolution
from converter.ops.core import const, parameter
from converter.ops.elementwise import Add, Divide, Erf, Maximum, Minimum, Multiply, Power, Sqrt, Subtract
from converter.ops.matmul import MatMul
from converter.ops.normalization import BatchNormInference
from converter.ops.reduction import ReduceMean
from converter.ops.shape import Pad, Reshape, Transpose
from converter.passes import PASSES
from pass_check import run_pass_checked, unchanged

F32 = np.float32


def _c(value) -> Value:
    return const(np.asarray(value, dtype=F32))


@st.composite
def conv_batchnorm(draw) -> Graph:
    groups = draw(st.sampled_from([1, 2, 4]))
    channels_in, channels_out = 4, 8
    eps = draw(st.sampled_from([1e-5, 1e-3, 1e-12]))
    variance_scale = draw(st.sampled_from([1.0, 1e-3, 1e-6]))  # variances near 0
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = parameter("x", ElementType.f32, Shape.of(None, channels_in, 6, 6))
    value: Value = x.outputs[0]
    if draw(st.booleans()):
        value = Pad(value, const(np.array([0, 0, 1, 0])), const(np.array([0, 0, 0, 1])), _c(0.0), pad_mode="constant")
    attrs = dict(strides=(1, 1), pads_begin=(1, 1), pads_end=(1, 1), dilations=(1, 1))
    if groups == 1:
        value = Convolution(value, _c(rng.standard_normal((channels_out, channels_in, 3, 3)) * 0.3), **attrs)
    else:
        value = GroupConvolution(value, _c(rng.standard_normal((groups, channels_out // groups, channels_in // groups, 3, 3)) * 0.3), **attrs)
    if draw(st.booleans()):
        value = Add(value, _c(rng.standard_normal((1, channels_out, 1, 1))))
    stats = [rng.random(channels_out) + 0.5, rng.standard_normal(channels_out), rng.standard_normal(channels_out) * 0.1, rng.random(channels_out) * variance_scale]
    # keep the folded scale gamma/sqrt(var+eps) within what f32 represents well
    stats[0] = stats[0] * np.sqrt(stats[3] + eps)
    value = BatchNormInference(value, *(_c(s) for s in stats), epsilon=eps)
    scale_shape = draw(st.sampled_from([(), (1,), (1, channels_out, 1, 1)]))
    value = Multiply(value, _c(rng.random(scale_shape) + 0.5))
    return Graph([x], [Relu(value)])


@st.composite
def matmul_chain(draw) -> Graph:
    transpose_b = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = parameter("x", ElementType.f32, Shape.of(None, 5, 6))
    weights = rng.standard_normal((4, 6) if transpose_b else (6, 4)) * 0.3
    value = MatMul(x.outputs[0], _c(weights), transpose_a=False, transpose_b=transpose_b)
    value = Add(value, _c(rng.standard_normal(4)))
    value = Multiply(value, _c(rng.random(draw(st.sampled_from([(), (4,), (1, 1, 4)]))) + 0.5))
    if draw(st.booleans()):
        value = Subtract(value, _c(rng.standard_normal(4)))
    return Graph([x], [value])


@st.composite
def activations(draw) -> Graph:
    x = parameter("x", ElementType.f32, Shape.of(2, draw(st.integers(1, 6))))
    v = x.outputs[0]
    form = draw(st.sampled_from(["swish", "swish_beta", "hswish", "gelu_erf", "gelu_tanh", "mish", "clamp"]))
    if form == "swish":
        out = Multiply(v, Sigmoid(v))
    elif form == "swish_beta":
        out = Multiply(Sigmoid(Multiply(v, _c(draw(st.sampled_from([0.5, 1.702, 2.0]))))), v)
    elif form == "hswish":
        out = Divide(Multiply(v, Minimum(Maximum(Add(v, _c(3.0)), _c(0.0)), _c(6.0))), _c(6.0))
    elif form == "gelu_erf":
        out = Multiply(Multiply(v, _c(0.5)), Add(Erf(Divide(v, _c(math.sqrt(2.0)))), _c(1.0)))
    elif form == "gelu_tanh":
        inner = Multiply(Add(v, Multiply(Power(v, _c(3.0)), _c(0.044715))), _c(math.sqrt(2 / math.pi)))
        out = Multiply(Multiply(_c(0.5), v), Add(_c(1.0), Tanh(inner)))
    elif form == "mish":
        from converter.ops.elementwise import Exp, Log

        out = Multiply(v, Tanh(Log(Add(Exp(v), _c(1.0)))))
    else:
        low = draw(st.sampled_from([-1.0, 0.0]))
        out = Minimum(Maximum(v, _c(low)), _c(draw(st.sampled_from([1.0, 6.0]))))
    return Graph([x], [out])


@st.composite
def layer_norm(draw) -> Graph:
    d = draw(st.sampled_from([4, 8]))
    eps = draw(st.sampled_from([1e-5, 1e-12]))
    x = parameter("x", ElementType.f32, Shape.of(None, 3, d))
    v = x.outputs[0]
    axes = const(np.array([-1]))
    centered = Subtract(v, ReduceMean(v, axes, keep_dims=True))
    variance = ReduceMean(Multiply(centered, centered), axes, keep_dims=True)
    normalized = Divide(centered, Sqrt(Add(variance, _c(eps))))
    rng = np.random.default_rng(d)
    return Graph([x], [Add(Multiply(normalized, _c(rng.random(d) + 0.5)), _c(rng.standard_normal(d)))])


@st.composite
def attention(draw) -> Graph:
    heads, depth = draw(st.sampled_from([1, 2])), draw(st.sampled_from([4, 8]))
    q, k, v = (parameter(name, ElementType.f32, Shape.of(2, heads, 5, depth)) for name in "qkv")
    mask = parameter("mask", ElementType.f32, Shape.of(2, 1, 1, 5))
    keys = Transpose(k.outputs[0], const(np.array([0, 1, 3, 2])))
    scores = Divide(MatMul(q.outputs[0], keys, transpose_a=False, transpose_b=False), _c(math.sqrt(depth)))
    if draw(st.booleans()):
        scores = Add(scores, mask.outputs[0])
    probs = Softmax(scores, axis=-1)
    return Graph([q, k, v, mask], [MatMul(probs, v.outputs[0], transpose_a=False, transpose_b=False)])


@st.composite
def shape_arithmetic(draw) -> Graph:
    from converter.ops.core import ShapeOf
    from converter.ops.indexing import Gather
    from converter.ops.shape import Concat

    x = parameter("x", ElementType.f32, Shape.of(draw(st.sampled_from([None, 2])), 3, 4))
    shape = ShapeOf(x.outputs[0])
    batch = Gather(shape, const(np.array([0])), const(np.int64(0)))
    target = Concat(batch, const(np.array([-1])), axis=0)
    flat = Reshape(x.outputs[0], target, special_zero=False)
    twice = Add(Relu(flat), Relu(flat))  # a duplicate subexpression
    return Graph([x], [Multiply(twice, _c(1.0))])


ONNX_MODELS = {
    "cnn": lambda: models.cnn(batch="N"),
    "depthwise": models.depthwise_net,
    "transformer": lambda: models.transformer(d=16, heads=2, ffn=32),
    "gru": lambda: models.recurrent("GRU"),
}
onnx_models = st.sampled_from(sorted(ONNX_MODELS)).map(lambda name: load_model(ONNX_MODELS[name]()))

graphs = st.one_of(conv_batchnorm(), matmul_chain(), activations(), layer_norm(), attention(), shape_arithmetic(), onnx_models)


@pytest.mark.parametrize("pass_name", sorted(PASSES))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(graph=graphs)
def test_pass_keeps_outputs_and_is_idempotent(pass_name: str, graph: Graph) -> None:
    run_pass_checked(graph, PASSES[pass_name], rtol=1e-5, atol=1e-6)


def _nothing_to_match() -> Graph:
    x = parameter("x", ElementType.f32, Shape.of(None, 4))
    return Graph([x], [Relu(MatMul(Tanh(x.outputs[0]), x.outputs[0], transpose_a=True, transpose_b=False))])


@pytest.mark.parametrize("pass_name", sorted(PASSES))
def test_graph_without_a_match_comes_back_unchanged(pass_name: str) -> None:
    assert unchanged(_nothing_to_match(), PASSES[pass_name])
