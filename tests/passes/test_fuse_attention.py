import math

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from converter import convert_model, save_model
from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Softmax
from converter.ops.core import const, parameter
from converter.ops.elementwise import Add, Divide, Multiply
from converter.ops.matmul import MatMul
from converter.ops.shape import Transpose
from converter.passes import PASSES
from converter.passes.fuse_attention import fuse_attention
from converter.validate import compare, run_ir, run_onnxruntime
from models import OnnxBuilder
from pass_check import run_pass_checked, unchanged

SDPA = "ScaledDotProductAttention"


def _params(*shapes):
    return [parameter(name, ElementType.f32, Shape(tuple(shape))) for name, shape in zip(("q", "k", "v", "mask"), shapes)]


def _scalar(value, shape=()):
    return const(np.full(shape, value, np.float32))


def _attention(q: Value, k: Value, v: Value, mask: Value | None = None, scale: float | None = None, divide: bool = False) -> Value:
    scores = MatMul(q, k, transpose_b=True)
    if scale is not None:
        scores = Divide(scores, _scalar(1 / scale)) if divide else Multiply(scores, _scalar(scale))
    if mask is not None:
        scores = Add(scores, mask)
    return MatMul(Softmax(scores, axis=-1), v)


def _sdpa(graph: Graph):
    (node,) = [n for n in graph.nodes() if n.op.type == SDPA]
    return node


def test_default_scale_is_left_implicit() -> None:
    params = _params((2, 3, 5, 8), (2, 3, 6, 8), (2, 3, 6, 4))
    q, k, v = (p.outputs[0] for p in params)
    graph = Graph(params, [_attention(q, k, v, scale=1 / math.sqrt(8))])
    optimized = run_pass_checked(graph, fuse_attention)
    assert optimized.op_histogram() == {"Parameter": 3, SDPA: 1}
    assert _sdpa(optimized).inputs == optimized.inputs


def test_divide_by_sqrt_depth_with_mask_keeps_names() -> None:
    params = _params((2, 3, 5, 8), (2, 3, 6, 8), (2, 3, 6, 4), (2, 1, 1, 6))
    q, k, v, mask = (p.outputs[0] for p in params)
    out = _attention(q, k, v, mask, scale=1 / math.sqrt(8), divide=True)
    out.producer.name = "context"
    out.names.append("context")
    optimized = run_pass_checked(Graph(params, [out]), fuse_attention)
    assert optimized.op_histogram() == {"Parameter": 4, SDPA: 1}
    assert _sdpa(optimized).name == "context" and optimized.outputs[0].names == ["context"]


def test_pytorch_sdpa_export_scales_query_and_transposed_key() -> None:
    """torch.onnx writes q * sqrt(s) @ (Transpose(k) * sqrt(s)) for F.scaled_dot_product_attention."""
    params = _params((1, 2, 5, 16), (1, 2, 7, 16), (1, 2, 7, 16), (5, 7))
    q, k, v, mask = (p.outputs[0] for p in params)
    root = _scalar(math.sqrt(0.2))
    scores = MatMul(Multiply(q, root), Multiply(Transpose(k, const(np.array([0, 1, 3, 2]))), root))
    graph = Graph(params, [MatMul(Softmax(Add(scores, mask), axis=3), v)])
    optimized = run_pass_checked(graph, fuse_attention)
    assert optimized.op_histogram() == {"Const": 1, "Parameter": 4, SDPA: 1}
    node = _sdpa(optimized)
    assert node.inputs[:4] == optimized.inputs
    assert np.isclose(node.inputs[4].const, 0.2) and node.inputs[4].shape.dims == ()


def test_key_transposed_from_heads_layout_becomes_one_transpose() -> None:
    """BERT exports K as Transpose(k, [0, 2, 3, 1]) and multiply it without transpose_b."""
    params = _params((2, 5, 3, 8), (2, 5, 3, 8), (2, 5, 3, 8))
    q, k, v = (p.outputs[0] for p in params)
    heads = const(np.array([0, 2, 1, 3]))
    scores = MatMul(Transpose(q, heads), Transpose(k, const(np.array([0, 2, 3, 1]))))
    context = MatMul(Softmax(Multiply(scores, _scalar(0.5)), axis=-1), Transpose(v, heads))
    optimized = run_pass_checked(Graph(params, [context]), fuse_attention)
    assert optimized.op_histogram() == {"Const": 4, "Parameter": 3, SDPA: 1, "Transpose": 3}
    key = _sdpa(optimized).inputs[1].producer
    assert key.op.type == "Transpose" and key.inputs[0] is optimized.inputs[1]
    assert key.inputs[1].const.tolist() == [0, 2, 1, 3]


def test_no_scale_at_all_passes_scale_one_and_a_zero_mask() -> None:
    params = _params((3, 4, 8), (3, 6, 8), (3, 6, 2))
    q, k, v = (p.outputs[0] for p in params)
    optimized = run_pass_checked(Graph(params, [_attention(q, k, v)]), fuse_attention)
    node = _sdpa(optimized)
    assert [value.const.item() for value in node.inputs[3:]] == [0.0, 1.0]


def test_stacked_blocks_both_fuse() -> None:
    params = _params((2, 4, 8), (2, 4, 8), (2, 4, 8))
    q, k, v = (p.outputs[0] for p in params)
    first = _attention(q, k, v, scale=0.25)
    second = _attention(q, k, first, scale=0.25)
    optimized = run_pass_checked(Graph(params, [second]), fuse_attention)
    assert optimized.op_histogram() == {"Const": 4, "Parameter": 3, SDPA: 2}


@settings(max_examples=25, deadline=None)
@given(
    rank=st.sampled_from([3, 4]),
    depth=st.sampled_from([4, 8, 9]),
    placement=st.sampled_from(["scores", "query", "both", "none"]),
    divide=st.booleans(),
    default_scale=st.booleans(),
    scalar_shape=st.sampled_from([(), (1,), "full"]),
    key_form=st.sampled_from(["transpose_b", "transpose_op", "pre_transposed"]),
    mask_shape=st.sampled_from([None, "full", "rows", "2d"]),
    mask_first=st.booleans(),
)
def test_spellings_fuse_exactly(rank, depth, placement, divide, default_scale, scalar_shape, key_form, mask_shape, mask_first) -> None:
    batch = (2, 3)[: rank - 2]
    length, source = 5, 6
    scale = 1 / math.sqrt(depth) if default_scale else 0.37
    shape = (1,) * rank if scalar_shape == "full" else scalar_shape
    key_shape = (*batch, depth, source) if key_form == "pre_transposed" else (*batch, source, depth)
    masks = {"full": (*batch, length, source), "rows": (batch[0],) + (1,) * (rank - 2) + (source,), "2d": (length, source)}
    shapes = [(*batch, length, depth), key_shape, (*batch, source, 3)] + ([masks[mask_shape]] if mask_shape else [])
    params = _params(*shapes)
    q, k, v = (p.outputs[0] for p in params[:3])

    def scaled(x: Value, factor: float) -> Value:
        return Divide(x, _scalar(1 / factor, shape)) if divide else Multiply(_scalar(factor, shape), x)

    if placement == "query":
        q = scaled(q, scale)
    if placement == "both":
        q, k = scaled(q, math.sqrt(scale)), scaled(k, math.sqrt(scale))
    swap = const(np.array(list(range(rank - 2)) + [rank - 1, rank - 2]))
    if key_form == "transpose_b":
        scores = MatMul(q, k, transpose_b=True)
    else:
        scores = MatMul(q, Transpose(k, swap) if key_form == "transpose_op" else k)
    if placement == "scores":
        scores = scaled(scores, scale)
    if mask_shape:
        scores = Add(params[3].outputs[0], scores) if mask_first else Add(scores, params[3].outputs[0])
    graph = Graph(params, [MatMul(Softmax(scores, axis=rank - 1), v)])
    optimized = run_pass_checked(graph, fuse_attention)
    histogram = optimized.op_histogram()
    assert histogram[SDPA] == 1 and not {"MatMul", "SoftMax", "Multiply", "Divide", "Add"} & set(histogram)
    explicit = placement == "none" and depth != 1 or not default_scale
    assert len(_sdpa(optimized).inputs) == (5 if explicit else 4 if mask_shape else 3)


def test_near_misses_stay_unchanged() -> None:
    params = _params((2, 4, 8), (2, 6, 8), (2, 6, 8), (2, 4, 6))
    q, k, v, mask = (p.outputs[0] for p in params)
    scores = MatMul(q, k, transpose_b=True)
    # softmax over the wrong axis
    assert unchanged(Graph(params[:3], [MatMul(Softmax(scores, axis=1), v)]), fuse_attention)
    # the probabilities are an output too (output_attentions=True)
    probs = Softmax(scores, axis=-1)
    assert unchanged(Graph(params[:3], [MatMul(probs, v), probs]), fuse_attention)
    # a per-head (non-scalar) scale
    per_row = Multiply(scores, const(np.full((2, 1, 1), 0.3, np.float32)))
    assert unchanged(Graph(params[:3], [MatMul(Softmax(per_row, axis=-1), v)]), fuse_attention)
    # the scale applied after the mask (it scales the mask too)
    after = Multiply(Add(scores, mask), _scalar(0.3))
    assert unchanged(Graph(params, [MatMul(Softmax(after, axis=-1), v)]), fuse_attention)
    # the raw scores are read elsewhere
    assert unchanged(Graph(params[:3], [MatMul(Softmax(scores, axis=-1), v), scores]), fuse_attention)
    # a mask that widens the scores
    wide = parameter("wide", ElementType.f32, Shape((3, 2, 4, 6)))
    assert unchanged(Graph(params[:3] + [wide], [MatMul(Softmax(Add(scores, wide.outputs[0]), axis=-1), v)]), fuse_attention)


def test_rank_two_is_left_alone() -> None:
    params = _params((4, 8), (6, 8), (6, 8))
    q, k, v = (p.outputs[0] for p in params)
    assert unchanged(Graph(params, [_attention(q, k, v, scale=0.5)]), fuse_attention)


# ------------------------------------------------------------------ end to end from ONNX


def _bert_attention_model(d: int = 32, heads: int = 4) -> onnx.ModelProto:
    """One BERT self-attention block as HF BERT exports it: projections, heads, Div by sqrt, additive mask."""
    b = OnnxBuilder(7)
    head = d // heads
    keep = b.op("Cast", [b.op("Unsqueeze", ["attention_mask", b.ints(1, 2)])], to=TensorProto.FLOAT)
    additive_mask = b.op("Mul", [b.op("Sub", [b.scalar(1.0), keep]), b.scalar(-10000.0)])
    shape = b.op("Shape", ["hidden"])
    batch = b.op("Unsqueeze", [b.op("Gather", [shape, b.scalar(0, np.int64)], axis=0), b.ints(0)])
    seq = b.op("Unsqueeze", [b.op("Gather", [shape, b.scalar(1, np.int64)], axis=0), b.ints(0)])
    split = b.op("Concat", [batch, seq, b.ints(heads), b.ints(head)], axis=0)

    def heads_of(perm: list[int]) -> str:
        return b.op("Transpose", [b.op("Reshape", [b.linear("hidden", d, d), split])], perm=perm)

    q, k, v = heads_of([0, 2, 1, 3]), heads_of([0, 2, 3, 1]), heads_of([0, 2, 1, 3])
    scores = b.op("Div", [b.op("MatMul", [q, k]), b.scalar(float(np.sqrt(head)))])
    probs = b.op("Softmax", [b.op("Add", [scores, additive_mask])], axis=-1)
    context = b.op("Transpose", [b.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
    merged = b.op("Reshape", [context, b.ints(0, 0, d)])
    return b.model(
        [
            helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "sequence", d]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
        ],
        [(merged, "context")],
        opset=17,
    )


def _pytorch_sdpa_model(scale: float | None) -> onnx.ModelProto:
    """F.scaled_dot_product_attention as torch.onnx (opset 14+) writes it, with a boolean mask."""
    b = OnnxBuilder(8)
    depth = 16
    root = b.scalar(math.sqrt(scale if scale is not None else 1 / math.sqrt(depth)))
    key_t = b.op("Mul", [b.op("Transpose", ["key"], perm=[0, 1, 3, 2]), root])
    scores = b.op("MatMul", [b.op("Mul", ["query", root]), key_t])
    bias = b.op("Where", ["mask", b.scalar(0.0), b.scalar(-np.inf)])
    probs = b.op("Softmax", [b.op("Add", [scores, bias])], axis=-1)
    out = b.op("MatMul", [probs, "value"])
    shape = [2, 4, "L", depth]
    return b.model(
        [
            helper.make_tensor_value_info("query", TensorProto.FLOAT, shape),
            helper.make_tensor_value_info("key", TensorProto.FLOAT, [2, 4, "S", depth]),
            helper.make_tensor_value_info("value", TensorProto.FLOAT, [2, 4, "S", depth]),
            helper.make_tensor_value_info("mask", TensorProto.BOOL, ["L", "S"]),
        ],
        [(out, "out")],
        opset=17,
    )


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(PASSES, "fuse_attention", fuse_attention)


def _check_against_onnxruntime(model: onnx.ModelProto, inputs: list[np.ndarray], tmp_path) -> None:
    graph = convert_model(model, passes=["fuse_attention"])
    assert graph.op_histogram().get(SDPA) == 1
    assert "MatMul" not in graph.op_histogram() or graph.op_histogram()["MatMul"] == 3  # only the projections
    xml, _ = save_model(graph, tmp_path / "m.xml")
    assert f'type="{SDPA}"' in xml.read_text()
    expected = run_onnxruntime(model, inputs)
    result = compare(expected, run_ir(xml, inputs, "openvino"), 1e-4, 1e-5)
    assert result.ok, result.detail


def test_bert_attention_block_end_to_end(registered, tmp_path) -> None:
    rng = np.random.default_rng(0)
    hidden = rng.standard_normal((2, 7, 32)).astype(np.float32)
    mask = np.ones((2, 7), np.int64)
    mask[0, -3:] = 0
    _check_against_onnxruntime(_bert_attention_model(), [hidden, mask], tmp_path)


@pytest.mark.parametrize("scale", [None, 0.05])
def test_pytorch_sdpa_export_end_to_end(registered, tmp_path, scale) -> None:
    rng = np.random.default_rng(1)
    q = rng.standard_normal((2, 4, 5, 16)).astype(np.float32)
    k, v = (rng.standard_normal((2, 4, 6, 16)).astype(np.float32) for _ in range(2))
    mask = np.tril(np.ones((5, 6), bool))
    _check_against_onnxruntime(_pytorch_sdpa_model(scale), [q, k, v, mask], tmp_path)
