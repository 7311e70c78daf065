"""ScaledDotProductAttention-13: numpy kernel, ONNX lowering and OpenVINO agree."""

from __future__ import annotations

import math

import numpy as np
import pytest

from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.attention import ScaledDotProductAttention
from converter.ops.core import const, parameter
from converter.runtime import execute
from converter.validate import compare


def _reference(q, k, v, bias, scale):
    scores = q.astype(np.float64) @ np.swapaxes(k, -1, -2) * scale + bias
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return (weights / weights.sum(-1, keepdims=True)) @ v


def _graph(shapes, mask=None, scale=None, causal=False, mask_type=ElementType.f32):
    params = [parameter(name, ElementType.f32, Shape(shape)) for name, shape in zip("qkv", shapes)]
    inputs = [p.outputs[0] for p in params]
    if mask is not None:
        mask_param = parameter("mask", mask_type, Shape(mask))
        params.append(mask_param)
        inputs.append(mask_param.outputs[0])
    if scale is not None:
        if mask is None:
            inputs.append(const(np.float32(0)))
        inputs.append(const(np.float32(scale)))
    return Graph(params, [ScaledDotProductAttention(*inputs, causal=causal)])


def _kernel(graph, inputs):
    node = graph.outputs[0].producer
    arrays = [dict(zip(graph.inputs, inputs)).get(v, v.const) for v in node.inputs]
    return node.op.kernel(arrays, node.attrs)


CASES = [
    ("plain", [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], None, None, False),
    ("rank3", [(3, 4, 8), (3, 5, 8), (3, 5, 2)], None, None, False),
    ("batch_broadcast", [(2, 3, 4, 8), (1, 3, 5, 8), (1, 3, 5, 6)], None, None, False),
    ("float_mask", [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], (2, 1, 1, 5), None, False),
    ("mask_2d_scale", [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], (4, 5), 0.3, False),
    ("scale_no_mask", [(1, 2, 4, 8), (1, 2, 5, 8), (1, 2, 5, 3)], None, 1.7, False),
    ("causal_long_query", [(1, 2, 6, 4), (1, 2, 3, 4), (1, 2, 3, 2)], None, None, True),
    ("causal_ignores_mask", [(1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 2)], (3, 5), None, True),
]


@pytest.mark.parametrize("name,shapes,mask,scale,causal", CASES, ids=[c[0] for c in CASES])
def test_kernel_lowering_and_openvino_agree(name, shapes, mask, scale, causal) -> None:
    graph = _graph(shapes, mask, scale, causal)
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes + ([mask] if mask else [])]
    q, k, v = inputs[:3]
    bias = np.zeros((q.shape[-2], k.shape[-2]))
    if causal:
        bias = np.triu(np.full(bias.shape, -np.inf), k=1)
    elif mask:
        bias = bias + inputs[3]
    expected = [_reference(q, k, v, bias, scale if scale is not None else 1 / math.sqrt(q.shape[-1])).astype(np.float32)]
    assert graph.outputs[0].shape.dims == expected[0].shape
    for actual in (_kernel(graph, inputs), execute(graph, inputs), execute(graph, inputs, "openvino")):
        result = compare(expected, actual, 1e-5, 1e-6)
        assert result.ok, result.detail


def test_boolean_mask_blocks_false_and_all_false_rows_are_nan() -> None:
    graph = _graph([(1, 1, 3, 4), (1, 1, 3, 4), (1, 1, 3, 2)], mask=(3, 3), mask_type=ElementType.boolean)
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((1, 1, 3, n)).astype(np.float32) for n in (4, 4, 2))
    mask = np.array([[True, False, True], [False, False, False], [False, True, False]])
    bias = np.where(mask, 0.0, -np.inf)
    with np.errstate(invalid="ignore"):
        expected = [_reference(q, k, v, bias, 0.5).astype(np.float32)]
    assert np.isnan(expected[0][0, 0, 1]).all()
    for backend in ("kernel", "onnxruntime", "openvino"):
        actual = _kernel(graph, [q, k, v, mask]) if backend == "kernel" else execute(graph, [q, k, v, mask], backend)
        np.testing.assert_allclose(actual[0], expected[0], rtol=1e-5, atol=1e-6, err_msg=backend)


def test_dynamic_head_size_uses_runtime_scale() -> None:
    graph = _graph([(None, 2, None, None), (None, 2, None, None), (None, 2, None, 3)])
    assert graph.outputs[0].shape.dims == (None, 2, None, 3)
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((1, 2, 4, 6), (1, 2, 5, 6), (1, 2, 5, 3)))
    expected = _kernel(graph, [q, k, v])
    for backend in ("onnxruntime", "openvino"):
        assert compare(expected, execute(graph, [q, k, v], backend), 1e-5, 1e-6).ok


def test_rejects_rank_two_and_mixed_types() -> None:
    with pytest.raises(ValueError, match="rank >= 3"):
        _graph([(4, 8), (5, 8), (5, 6)])
    q = parameter("q", ElementType.f32, Shape((1, 4, 8))).outputs[0]
    k = parameter("k", ElementType.f16, Shape((1, 5, 8))).outputs[0]
    with pytest.raises(ValueError, match="share a type"):
        ScaledDotProductAttention(q, k, k)
    with pytest.raises(ValueError, match="rank >= 2"):
        _graph([(1, 4, 8), (1, 5, 8), (1, 5, 2)], mask=(5,))
    with pytest.raises(ValueError, match="scale must be a scalar"):
        ScaledDotProductAttention(q, q, q, const(np.float32(0)), const(np.ones(2, np.float32)))
