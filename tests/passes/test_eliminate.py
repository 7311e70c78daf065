import numpy as np

from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Relu
from converter.ops.core import Convert, const, parameter
from converter.ops.elementwise import Add, Divide, Multiply, Subtract
from converter.ops.shape import Concat, Reshape, Squeeze, Transpose, Unsqueeze
from converter.passes.eliminate import eliminate_duplicates, eliminate_noops
from pass_check import run_pass_checked, unchanged


def _x(*dims):
    return parameter("x", ElementType.f32, Shape.of(*dims))


def test_removes_noops() -> None:
    x = _x(2, 3)
    v = Convert(x.outputs[0], destination_type=ElementType.f32)
    v = Reshape(v, const(np.array([2, 3])), special_zero=False)
    v = Transpose(v, const(np.array([0, 1])))
    v = Squeeze(Unsqueeze(v, const(np.array([0]))), const(np.array([0])))
    v = Concat(v, axis=0)
    v = Multiply(Add(v, const(np.zeros((2, 3), np.float32))), const(np.float32(1)))
    graph = Graph([x], [Relu(v)])
    optimized = run_pass_checked(graph, eliminate_noops)
    assert optimized.op_histogram() == {"Parameter": 1, "ReLU": 1}
    assert optimized.outputs[0].producer.inputs[0] is optimized.inputs[0]


def test_collapses_reshape_chains_with_dynamic_batch() -> None:
    x = _x(None, 2, 3)
    v = Reshape(x.outputs[0], const(np.array([0, 6])), special_zero=True)
    v = Unsqueeze(v, const(np.array([1])))
    graph = Graph([x], [Relu(v)])
    optimized = run_pass_checked(graph, eliminate_noops)
    assert optimized.op_histogram() == {"Const": 1, "Parameter": 1, "ReLU": 1, "Reshape": 1}


def test_removes_neutral_constants_on_dynamic_dims() -> None:
    """Zero biases and unit scales (BatchNorm folded from an untrained model) on a dynamic batch,
    the constant on either side of Add and Multiply."""
    x = _x(None, 4, 5, None)
    v = Add(x.outputs[0], const(np.zeros((1, 4, 1, 1), np.float32)))
    v = Add(const(np.zeros(1, np.float32)), v)
    v = Multiply(const(np.ones((4, 1, 1), np.float32)), v)
    v = Subtract(Multiply(v, const(np.float32(1))), const(np.zeros((1, 1, 1, 1), np.float32)))
    graph = Graph([x], [Relu(Divide(v, const(np.ones(1, np.float32))))])
    optimized = run_pass_checked(graph, eliminate_noops)
    assert optimized.op_histogram() == {"Parameter": 1, "ReLU": 1}


def test_keeps_neutral_constants_that_broadcast() -> None:
    x = _x(None, 1, 5)
    widened = Add(x.outputs[0], const(np.zeros((3, 5), np.float32)))  # [?, 3, 5]
    higher = Multiply(const(np.ones((2, 1, 1, 1), np.float32)), x.outputs[0])  # rank 4
    on_dynamic = Add(x.outputs[0], const(np.zeros((4, 1, 1), np.float32)))  # ? becomes 4
    negated = Subtract(const(np.zeros(1, np.float32)), x.outputs[0])  # 0 - x
    assert unchanged(Graph([x], [Relu(widened), Relu(higher), Relu(on_dynamic), Relu(negated)]), eliminate_noops)


def test_removes_transposes_that_only_reorder_unit_axes() -> None:
    """conv1d as Conv2D from TF: [N, 1, 1, W] transposed by [0, 2, 1, 3] moves no element."""
    x = _x(None, 1, 1, None)
    v = Transpose(x.outputs[0], const(np.array([0, 2, 1, 3])))
    optimized = run_pass_checked(Graph([x], [Relu(v)]), eliminate_noops)
    assert optimized.op_histogram() == {"Parameter": 1, "ReLU": 1}


def test_keeps_transposes_that_move_elements() -> None:
    x = _x(None, 1, 3, 4)
    swaps_real_axes = Transpose(x.outputs[0], const(np.array([0, 1, 3, 2])))
    changes_the_shape = Transpose(x.outputs[0], const(np.array([0, 2, 3, 1])))  # a Reshape, not a no-op
    unknown_sizes = Transpose(_x(None, None, None).outputs[0], const(np.array([0, 2, 1])))
    graph = Graph([x], [Relu(swaps_real_axes), Relu(changes_the_shape)])
    assert unchanged(graph, eliminate_noops)
    assert unchanged(Graph([unknown_sizes.producer.inputs[0].producer], [Relu(unknown_sizes)]), eliminate_noops)


def test_merges_concat_chains_on_one_axis() -> None:
    """TF's CQT stacks octaves with a chain of two-input concats: one Concat of all the parts."""
    x = _x(None, 2, 5)
    parts = [Relu(Add(x.outputs[0], const(np.float32(i)))) for i in range(4)]
    chain = Concat(Concat(Concat(parts[0], parts[1], axis=1), parts[2], axis=-2), parts[3], axis=1)
    other_axis = Concat(Concat(parts[0], parts[1], axis=2), Concat(parts[2], parts[3], axis=2), axis=1)
    optimized = run_pass_checked(Graph([x], [Relu(chain), Relu(other_axis)]), eliminate_noops)
    merged = optimized.outputs[0].producer.inputs[0].producer
    assert merged.op.type == "Concat" and [v.producer.op.type for v in merged.inputs] == ["ReLU"] * 4
    assert optimized.op_histogram()["Concat"] == 4


def test_keeps_an_inner_concat_read_elsewhere() -> None:
    x = _x(2, 5)
    inner = Concat(x.outputs[0], Relu(x.outputs[0]), axis=0)
    graph = Graph([x], [Relu(Concat(inner, x.outputs[0], axis=0)), Relu(inner)])
    assert unchanged(graph, eliminate_noops)


def test_keeps_real_work() -> None:
    x = _x(2, 3)
    graph = Graph([x], [Relu(Transpose(Add(x.outputs[0], const(np.float32(0.5))), const(np.array([1, 0]))))])
    assert unchanged(graph, eliminate_noops)


def test_merges_duplicates() -> None:
    x = _x(2, 3)
    a = Relu(Add(x.outputs[0], const(np.ones(3, np.float32))))
    b = Relu(Add(x.outputs[0], const(np.ones(3, np.float32))))
    graph = Graph([x], [Multiply(a, b)])
    optimized = run_pass_checked(graph, eliminate_duplicates)
    assert optimized.op_histogram() == {"Add": 1, "Const": 1, "Multiply": 1, "Parameter": 1, "ReLU": 1}


def test_outputs_keep_their_names_when_merged() -> None:
    x = _x(3)
    a, b = Relu(x.outputs[0]), Relu(x.outputs[0])
    a.names.append("first")
    b.names.append("second")
    optimized = run_pass_checked(Graph([x], [a, b]), eliminate_duplicates)
    assert optimized.outputs[0] is optimized.outputs[1]
    assert optimized.outputs[0].names == ["first", "second"]


def test_a_transpose_that_moves_only_unsqueezed_axes_is_an_unsqueeze() -> None:
    """TF's expand_dims(x, -1) then NHWC → NCHW: [N, H, W] → [N, H, W, 1] → [N, 1, H, W]."""
    x = parameter("x", ElementType.f32, Shape.of(None, 5, 7))
    nchw = Transpose(Unsqueeze(x.outputs[0], const(np.array([-1]))), const(np.array([0, 3, 1, 2])))
    optimized = run_pass_checked(Graph([x], [Relu(nchw)]), eliminate_noops)
    histogram = optimized.op_histogram()
    assert "Transpose" not in histogram and histogram["Unsqueeze"] == 1
    unsqueeze = optimized.outputs[0].producer.inputs[0].producer
    assert unsqueeze.inputs[1].const.tolist() == [1] and unsqueeze.outputs[0].shape.dims == (None, 1, 5, 7)


def test_a_transpose_that_reorders_data_axes_after_an_unsqueeze_stays() -> None:
    x = parameter("x", ElementType.f32, Shape.of(None, 5, 7))
    swapped = Transpose(Unsqueeze(x.outputs[0], const(np.array([3]))), const(np.array([0, 3, 2, 1])))
    assert unchanged(Graph([x], [Relu(swapped)]), eliminate_noops)


def test_a_transpose_of_unit_axes_after_an_unsqueeze_becomes_one_reshape() -> None:
    """TFLite's Conv1D input: [N, W, 1] → Unsqueeze(1) [N, 1, W, 1] → NHWC → NCHW [N, 1, 1, W]. The
    Transpose moves x's own unit axis past W's place, which no Unsqueeze can say, but only axes of
    size 1 move: one Reshape to [-1, 1, 1, W] replaces both."""
    x = parameter("x", ElementType.f32, Shape.of(None, 9, 1))
    nchw = Transpose(Unsqueeze(x.outputs[0], const(np.array([1]))), const(np.array([0, 3, 1, 2])))
    graph = Graph([x], [Relu(nchw)])
    assert {k: v for k, v in graph.op_histogram().items() if k not in ("Const", "Parameter")} == {"Unsqueeze": 1, "Transpose": 1, "ReLU": 1}
    optimized = run_pass_checked(graph, eliminate_noops)
    assert {k: v for k, v in optimized.op_histogram().items() if k not in ("Const", "Parameter")} == {"Reshape": 1, "ReLU": 1}
    assert optimized.outputs[0].shape.dims == (None, 1, 1, 9)


def test_a_transpose_moving_a_data_axis_after_an_unsqueeze_stays() -> None:
    x = parameter("x", ElementType.f32, Shape.of(None, 9, 2))
    moved = Transpose(Unsqueeze(x.outputs[0], const(np.array([1]))), const(np.array([0, 3, 1, 2])))
    assert unchanged(Graph([x], [Relu(moved)]), eliminate_noops)
