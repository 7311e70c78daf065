from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

import converter
from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Clamp, PRelu, Relu, Sigmoid, Softmax
from converter.ops.conv import Convolution
from converter.ops.core import Convert, const, parameter
from converter.ops.elementwise import Add, Multiply, Subtract
from converter.ops.reduction import ReduceMean
from converter.ops.shape import Concat, Pad, Reshape, Split, Squeeze, Transpose, Unsqueeze
from converter.passes import PASSES
from converter.passes.eliminate import eliminate_noops
from converter.passes.sink_transposes import sink_transposes
from converter.validate import compare, run_ir, run_onnxruntime
from models import OnnxBuilder
from pass_check import run_pass_checked, unchanged

TO_NCHW = (0, 3, 1, 2)
TO_NHWC = (0, 2, 3, 1)
RNG = np.random.default_rng(0)


def _rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _t(value: Value, perm: tuple[int, ...]) -> Value:
    return Transpose(value, const(np.array(perm, dtype=np.int64)))


def _nhwc(*dims: int | None, name: str = "x"):
    return parameter(name, ElementType.f32, Shape.of(*dims))


def _conv_nhwc(value: Value, c_in: int, c_out: int, kernel: int = 3) -> Value:
    """A convolution the way tf2onnx wraps it: NHWC → NCHW, Convolution, NCHW → NHWC."""
    pad = (kernel // 2, kernel // 2)
    conv = Convolution(
        _t(value, TO_NCHW), const(_rand(c_out, c_in, kernel, kernel) * 0.3), strides=(1, 1), pads_begin=pad, pads_end=pad, dilations=(1, 1)
    )
    return _t(conv, TO_NHWC)


def _transposes(graph: Graph) -> int:
    return graph.op_histogram().get("Transpose", 0)


def _sink_then_eliminate(graph: Graph) -> Graph:
    return eliminate_noops(sink_transposes(graph))


# ---------------------------------------------------------------- structural + numerical


def test_tf2onnx_chain_keeps_only_the_outer_transposes() -> None:
    x = _nhwc(1, 5, 6, 3)
    v = _conv_nhwc(x.outputs[0], 3, 4)
    v = Relu(Add(v, const(_rand(4))))
    graph = Graph([x], [_conv_nhwc(v, 4, 2)])
    optimized = run_pass_checked(graph, sink_transposes)
    assert optimized.op_histogram() == {"Add": 1, "Const": 5, "Convolution": 2, "Parameter": 1, "ReLU": 1, "Transpose": 2}
    bias = next(n for n in optimized.nodes() if n.op.type == "Add").inputs[1].const
    assert bias.shape == (1, 4, 1, 1)


def test_batchnorm_as_multiply_add_pad_clamp_and_convert() -> None:
    x = _nhwc(2, 4, 4, 3)
    v = _conv_nhwc(x.outputs[0], 3, 3)
    v = Add(Multiply(const(_rand(3)), v), const(_rand(1, 1, 3)))
    v = Pad(v, const(np.array([0, 1, 0, 0])), const(np.array([0, 0, 2, 0])), const(np.float32(0.5)), pad_mode="constant")
    v = Convert(Clamp(v, min=-1.0, max=1.0), destination_type=ElementType.f32)
    v = Subtract(const(np.float32(0.25)), Sigmoid(v))
    graph = Graph([x], [_conv_nhwc(v, 3, 2, kernel=1)])
    optimized = run_pass_checked(graph, sink_transposes)
    assert _transposes(optimized) == 2
    pad = next(n for n in optimized.nodes() if n.op.type == "Pad")
    assert list(pad.inputs[1].const) == [0, 0, 1, 0] and list(pad.inputs[2].const) == [0, 0, 0, 2]


def test_concat_of_two_branches_absorbs_both_transposes() -> None:
    x = _nhwc(1, 4, 4, 3)
    left = _conv_nhwc(x.outputs[0], 3, 2)
    right = Relu(_conv_nhwc(x.outputs[0], 3, 5))
    v = Concat(left, right, const(_rand(1, 4, 4, 1)), axis=-1)
    graph = Graph([x], [_conv_nhwc(v, 8, 2)])
    optimized = run_pass_checked(graph, sink_transposes)
    # the input transposes of the two branches are the same computation; eliminate_duplicates merges them
    assert _transposes(optimized) == 3
    concat = next(n for n in optimized.nodes() if n.op.type == "Concat")
    assert concat.attrs["axis"] == 1 and all(v.producer.op.type != "Transpose" for v in concat.inputs)


def test_residual_add() -> None:
    x = _nhwc(1, 4, 4, 3)
    a = _conv_nhwc(x.outputs[0], 3, 3)
    b = _conv_nhwc(Relu(a), 3, 3)
    v = Relu(Add(b, a))
    graph = Graph([x], [_conv_nhwc(v, 3, 2)])
    # the Add reads through the shortcut's Transpose, which then has one reader left and moves too
    optimized = run_pass_checked(graph, sink_transposes)
    assert optimized.op_histogram() == {"Add": 1, "Const": 5, "Convolution": 3, "Parameter": 1, "ReLU": 2, "Transpose": 2}


def test_residual_add_whose_shortcut_feeds_the_next_transpose_directly() -> None:
    x = _nhwc(1, 4, 4, 3)
    a = _conv_nhwc(x.outputs[0], 3, 3)
    v = Relu(Add(_conv_nhwc(a, 3, 3), a))
    graph = Graph([x], [_conv_nhwc(v, 3, 2)])
    optimized = run_pass_checked(graph, sink_transposes)
    assert optimized.op_histogram() == {"Add": 1, "Const": 5, "Convolution": 3, "Parameter": 1, "ReLU": 1, "Transpose": 2}


def test_squeeze_excite_reduce_mean_keep_dims() -> None:
    x = _nhwc(2, 4, 5, 6)
    a = _conv_nhwc(x.outputs[0], 6, 6)
    pooled = ReduceMean(a, const(np.array([1, 2])), keep_dims=True)
    gate = Sigmoid(_conv_nhwc(Relu(_conv_nhwc(pooled, 6, 3, kernel=1)), 3, 6, kernel=1))
    graph = Graph([x], [_conv_nhwc(Multiply(a, gate), 6, 2)])
    optimized = run_pass_checked(graph, sink_transposes)
    assert _transposes(optimized) == 2
    reduce = next(n for n in optimized.nodes() if n.op.type == "ReduceMean")
    assert sorted(reduce.inputs[1].const) == [2, 3]


def test_global_average_pool_without_keep_dims_needs_no_transpose() -> None:
    x = _nhwc(2, 4, 5, 3)
    pooled = ReduceMean(_conv_nhwc(x.outputs[0], 3, 6), const(np.array([1, 2])), keep_dims=False)
    graph = Graph([x], [Relu(pooled)])
    optimized = run_pass_checked(graph, sink_transposes)
    assert _transposes(optimized) == 1


def test_squeeze_of_unit_spatial_dims() -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 6, 1, 1))
    squeezed = Squeeze(Relu(_t(x.outputs[0], TO_NHWC)), const(np.array([1, 2])))
    optimized = run_pass_checked(Graph([x], [squeezed]), sink_transposes)
    assert optimized.op_histogram() == {"Const": 1, "Parameter": 1, "ReLU": 1, "Squeeze": 1}


def test_unsqueeze_changes_the_permutation() -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 3, 4))
    v = Relu(Unsqueeze(_t(x.outputs[0], (2, 0, 1)), const(np.array([1]))))
    optimized = run_pass_checked(Graph([x], [_t(v, (2, 1, 3, 0))]), sink_transposes)
    assert optimized.op_histogram() == {"Const": 1, "Parameter": 1, "ReLU": 1, "Unsqueeze": 1}


def test_split_into_transposed_branches() -> None:
    x = _nhwc(1, 4, 4, 3)
    parts = Split.node(_conv_nhwc(x.outputs[0], 3, 4), const(np.int64(3)), num_splits=2).outputs
    graph = Graph([x], [Add(_conv_nhwc(parts[0], 2, 2), _conv_nhwc(parts[1], 2, 2))])
    optimized = run_pass_checked(graph, _sink_then_eliminate)
    assert _transposes(optimized) == 2
    split = next(n for n in optimized.nodes() if n.op.type == "Split")
    assert int(split.inputs[1].const) == 1


def test_per_channel_prelu_and_softmax_axis() -> None:
    x = _nhwc(2, 3, 4, 5)
    nchw = _t(x.outputs[0], TO_NCHW)
    v = PRelu(nchw, const(_rand(5)))  # per channel: a 1-D slope as long as dim 1
    v = Softmax(v, axis=1)
    graph = Graph([x], [_t(v, TO_NHWC)])
    optimized = run_pass_checked(graph, sink_transposes)
    assert optimized.op_histogram() == {"Const": 1, "PReLU": 1, "Parameter": 1, "SoftMax": 1}
    assert next(n for n in optimized.nodes() if n.op.type == "SoftMax").attrs["axis"] == 3


def test_dynamic_batch() -> None:
    x = _nhwc(None, 4, 4, 3)
    v = Relu(Add(_conv_nhwc(x.outputs[0], 3, 4), const(_rand(4))))
    optimized = run_pass_checked(Graph([x], [_conv_nhwc(v, 4, 2)]), sink_transposes)
    assert _transposes(optimized) == 2


# ---------------------------------------------------------------- property


CHAIN_OPS = st.sampled_from(["relu", "add", "multiply", "subtract_from", "clamp", "pad", "squeeze", "sigmoid", "concat", "residual"])
CONSTANT_SHAPES = st.sampled_from([(), (1,), (4,), (1, 1, 4), (1, 1, 1, 4), (3, 1, 4), (2, 3, 5, 4)])


def _conv_from_nchw(nchw: Value, c_in: int, c_out: int) -> Value:
    conv = Convolution(nchw, const(_rand(c_out, c_in, 1, 1)), strides=(1, 1), pads_begin=(0, 0), pads_end=(0, 0), dilations=(1, 1))
    return _t(conv, TO_NHWC)


@settings(max_examples=25, deadline=None)
@given(ops=st.lists(CHAIN_OPS, min_size=0, max_size=5), shapes=st.lists(CONSTANT_SHAPES, min_size=5, max_size=5), seed=st.integers(0, 99))
def test_any_chain_of_commuting_ops_between_convolutions(ops: list[str], shapes: list[tuple[int, ...]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = _nhwc(2, 3, 5, 4)
    nchw = _t(x.outputs[0], TO_NCHW)
    v = _conv_from_nchw(nchw, 4, 4)
    for op, shape in zip(ops, shapes):
        constant = const(rng.standard_normal(shape).astype(np.float32))
        if op == "relu":
            v = Relu(v)
        elif op == "add":
            v = Add(v, constant)
        elif op == "multiply":
            v = Multiply(constant, v)
        elif op == "subtract_from":
            v = Subtract(constant, v)
        elif op == "clamp":
            v = Clamp(v, min=-0.5, max=0.7)
        elif op == "pad":
            padded = Pad(v, const(np.array([0, 1, 0, 0])), const(np.array([0, 0, 2, 0])), pad_mode="edge")
            v = Add(ReduceMean(padded, const(np.array([1, 2])), keep_dims=True), constant)
            v = Add(v, const(np.zeros((3, 5, 1), np.float32)))
        elif op == "squeeze":
            v = Squeeze(ReduceMean(v, const(np.array([1])), keep_dims=True), const(np.array([1])))
            v = Add(Unsqueeze(v, const(np.array([1]))), const(np.zeros((3, 1, 1), np.float32)))
        elif op == "sigmoid":
            v = Sigmoid(v)
        elif op == "concat":
            v = Concat(v, _conv_from_nchw(nchw, 4, 2), axis=3)
            v = Add(ReduceMean(v, const(np.array([3])), keep_dims=True), const(np.zeros(4, np.float32)))
        elif op == "residual":
            v = Add(v, _conv_from_nchw(nchw, 4, 4)) if shape else Add(_conv_from_nchw(nchw, 4, 4), v)
    graph = Graph([x], [_conv_nhwc(v, 4, 3)])
    optimized = run_pass_checked(graph, _sink_then_eliminate, rtol=1e-5, atol=1e-5)
    transposes = [n for n in optimized.nodes() if n.op.type == "Transpose"]
    assert all(t.inputs[0].producer.op.type == "Parameter" or t.outputs[0] in optimized.outputs for t in transposes), optimized.op_histogram()
    assert len(transposes) <= 3  # the input (maybe twice: the last convolution builds its own) and the output


# ---------------------------------------------------------------- no match


def test_near_misses_stay_unchanged() -> None:
    x = _nhwc(1, 4, 4, 3)
    y = _nhwc(1, 4, 4, 3, name="y")
    z = _nhwc(1, 3, 4, 4, name="z")
    nchw = _t(x.outputs[0], TO_NCHW)
    cases = [
        Graph([x], [Relu(nchw)]),  # nothing downstream to merge with: moving would not pay
        Graph([x], [_t(Relu(nchw), (0, 2, 1, 3)), Sigmoid(nchw)]),  # a second reader
        Graph([x], [_t(Relu(nchw), (0, 2, 1, 3)), Relu(nchw)]),  # a second reader of the Transpose
        Graph([x, y], [_t(Add(nchw, _t(y.outputs[0], (0, 3, 2, 1))), TO_NHWC)]),  # sibling with another permutation
        Graph([x, z], [_t(Add(nchw, z.outputs[0]), TO_NHWC)]),  # other operand not a Transpose
        Graph([x], [_t(Add(nchw, const(_rand(2, 1, 1, 1, 1))), (0, 1, 3, 4, 2))]),  # constant of a higher rank
    ]
    for graph in cases:
        assert unchanged(graph, sink_transposes), graph.op_histogram()


def test_an_intermediate_graph_output_keeps_one_transpose() -> None:
    """The Transpose moves onto the value the graph returns, where the reader undoing it cancels."""
    x = _nhwc(1, 4, 4, 3)
    relu = Relu(_t(x.outputs[0], TO_NCHW))
    graph = Graph([x], [_t(relu, TO_NHWC), relu])
    optimized = run_pass_checked(graph, sink_transposes)
    assert _transposes(optimized) == 1
    assert optimized.outputs[0].producer.op.type == "ReLU" and optimized.outputs[1].producer.op.type == "Transpose"


def test_residual_shortcut_after_batchnorm_arithmetic() -> None:
    """MobileNetV2 / ResNet from TF: the shortcut is the convolution's Transpose then BatchNorm as
    Multiply + Add, read by both the next convolution and the residual Add."""
    x = _nhwc(1, 4, 4, 3)
    shortcut = Add(Multiply(_conv_nhwc(x.outputs[0], 3, 3), const(_rand(3))), const(_rand(3)))
    branch = Add(Multiply(_conv_nhwc(Relu(_conv_nhwc(shortcut, 3, 3)), 3, 3), const(_rand(3))), const(_rand(3)))
    graph = Graph([x], [_conv_nhwc(Add(shortcut, branch), 3, 2)])
    optimized = run_pass_checked(graph, _sink_then_eliminate)
    assert _transposes(optimized) == 2


def test_residual_block_whose_two_chains_meet_at_the_add() -> None:
    """ResNet's projection block: both operands of the residual Add are convolution → Transpose →
    BatchNorm arithmetic chains; neither can move first, so one waits at the Add's input."""
    x = _nhwc(1, 4, 4, 3)

    def conv_bn(value: Value, c_in: int, c_out: int) -> Value:
        return Add(Multiply(_conv_nhwc(value, c_in, c_out), const(_rand(c_out))), const(_rand(c_out)))

    v = Relu(Add(conv_bn(x.outputs[0], 3, 4), conv_bn(Relu(conv_bn(x.outputs[0], 3, 2)), 2, 4)))
    graph = Graph([x], [_conv_nhwc(v, 4, 2)])
    optimized = run_pass_checked(graph, _sink_then_eliminate)
    assert _transposes(optimized) <= 3  # the input (maybe once per branch) and the output
    assert all(t.inputs[0].producer.op.type == "Parameter" or t.outputs[0] in optimized.outputs for t in optimized.nodes() if t.op.type == "Transpose")


def test_split_with_a_non_transpose_reader_stays() -> None:
    x = _nhwc(1, 4, 4, 4)
    parts = Split.node(_t(x.outputs[0], TO_NCHW), const(np.int64(1)), num_splits=2).outputs
    graph = Graph([x], [_t(parts[0], TO_NHWC), Relu(parts[1])])
    assert unchanged(graph, sink_transposes)


def test_squeeze_of_a_dynamic_dim_stays() -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 6, None, 1))
    squeezed = Squeeze(Relu(_t(x.outputs[0], TO_NHWC)), const(np.array([1])))
    graph = Graph([x], [_t(squeezed, (0, 2, 1))])
    assert unchanged(graph, sink_transposes)


# ---------------------------------------------------------------- end to end from ONNX


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the pass known to `convert_model(passes=...)` whether or not the pipeline lists it yet."""
    monkeypatch.setitem(PASSES, "sink_transposes", sink_transposes)


def _tf2onnx_conv(b: OnnxBuilder, x: str, c_in: int, c_out: int) -> str:
    nchw = b.op("Transpose", [x], perm=list(TO_NCHW))
    conv = b.op("Conv", [nchw, b.weight(c_out, c_in, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    return b.op("Transpose", [conv], perm=list(TO_NHWC))


def test_end_to_end_tf2onnx_nhwc(registered: None, tmp_path: Path) -> None:
    b = OnnxBuilder()
    v = _tf2onnx_conv(b, "x", 3, 8)
    v = b.op("Relu", [b.op("Add", [v, b.weight(8)])])
    y = _tf2onnx_conv(b, v, 8, 4)
    model = b.model([helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 6, 7, 3])], [(y, "y")])
    assert converter.convert_model(model, passes=[]).op_histogram()["Transpose"] == 4
    graph = converter.convert_model(model, passes=["sink_transposes", "eliminate_noops"])
    histogram = graph.op_histogram()
    assert histogram["Transpose"] == 2, histogram
    assert graph.inputs[0].producer.op.type == "Parameter"

    inputs = [np.random.default_rng(0).standard_normal((2, 6, 7, 3)).astype(np.float32)]
    xml_path = tmp_path / "m.xml"
    converter.save_model(graph, xml_path)
    expected = run_onnxruntime(model, inputs)
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, run_ir(xml_path, inputs, backend), rtol=1e-4, atol=1e-5)
        assert result.ok, f"{backend}: {result.detail}"


@pytest.mark.parametrize("pattern, special_zero", [([0, 6, -1], True), ([-1, 6, 20], False)])
def test_a_transpose_of_unit_axes_is_read_through_by_a_reshape(pattern: list[int], special_zero: bool) -> None:
    """Conv → one channel → NHWC Transpose → bias Add → Sigmoid → flatten: the Transpose moves only
    the unit channel axis, so the Reshape reads the NCHW data as well and the Transpose goes."""
    x = parameter("x", ElementType.f32, Shape.of(None, 1, 6, 20))
    nhwc = Transpose(x.outputs[0], const(np.array([0, 2, 3, 1])))
    flat = Reshape(Sigmoid(Add(nhwc, const(np.float32([0.5])))), const(np.array(pattern)), special_zero=special_zero)
    optimized = run_pass_checked(Graph([x], [flat]), sink_transposes)
    assert "Transpose" not in optimized.op_histogram()


def test_a_transpose_of_data_axes_or_a_copied_moved_dim_stays_before_a_reshape() -> None:
    for dims, pattern in (((None, 2, 6, 20), [0, 6, -1]), ((None, 1, 6, 20), [0, 0, -1])):
        x = parameter("x", ElementType.f32, Shape.of(*dims))
        nhwc = Transpose(x.outputs[0], const(np.array([0, 2, 3, 1])))
        graph = Graph([x], [Reshape(Sigmoid(nhwc), const(np.array(pattern)), special_zero=True)])
        assert unchanged(graph, sink_transposes), (dims, pattern)
