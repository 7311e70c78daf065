"""simplify_reshape_patterns on TensorFlow's shape arithmetic: Tensordot's flatten → MatMul →
restore (Keras 3's Dense on a rank-3 input) and products of dims (ReduceProd) in reshape targets."""

import numpy as np
import pytest

from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Relu
from converter.ops.core import Convert, ShapeOf, const, parameter
from converter.ops.indexing import Gather
from converter.ops.matmul import MatMul
from converter.ops.reduction import ReduceProd
from converter.ops.shape import Concat, Reshape, Unsqueeze
from converter.passes.simplify_shapes import dim_origins, simplify_reshape_patterns
from pass_check import run_pass_checked, unchanged

RNG = np.random.default_rng(0)


def _ints(*values: int, dtype=np.int32) -> Value:
    return const(np.array(values, dtype=dtype))


def _tensordot(x: Value, weights: np.ndarray, transpose_b: bool = False) -> Value:
    """tf.tensordot(x, W, [[rank - 1], [0]]) as TF 2.21 writes it for a dynamic batch (i32 shape math)."""
    rank = x.shape.rank
    shape = ShapeOf(x, output_type=ElementType.i32)
    free = Gather(shape, _ints(*range(rank - 1)), const(np.int64(0)))
    kept = Gather(shape, _ints(rank - 1), const(np.int64(0)))
    rows = Unsqueeze(ReduceProd(free, const(np.array([0])), keep_dims=False), const(np.array([0])))
    columns = Unsqueeze(ReduceProd(kept, const(np.array([0])), keep_dims=False), const(np.array([0])))
    flat_pattern = Convert(Concat(rows, columns, axis=0), destination_type=ElementType.i64)
    flat = Reshape(x, flat_pattern, special_zero=False)
    product = MatMul(flat, const(weights), transpose_a=False, transpose_b=transpose_b)
    n = weights.shape[0] if transpose_b else weights.shape[1]
    restore = Convert(Concat(free, _ints(n), axis=0), destination_type=ElementType.i64)
    return Reshape(product, restore, special_zero=False)


@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("dims", [(None, 5, 8), (None, None, 8), (3, 5, 8), (None, 2, 3, 8)])
def test_tensordot_becomes_one_matmul(dims, transpose_b) -> None:
    x = parameter("x", ElementType.f32, Shape.of(*dims))
    weights = RNG.standard_normal((6, 8) if transpose_b else (8, 6)).astype(np.float32)
    y = Relu(_tensordot(x.outputs[0], weights, transpose_b))
    optimized = run_pass_checked(Graph([x], [y]), simplify_reshape_patterns)
    assert optimized.op_histogram() == {"Const": 1, "MatMul": 1, "Parameter": 1, "ReLU": 1}
    (matmul,) = [n for n in optimized.nodes() if n.op.type == "MatMul"]
    assert matmul.inputs[0] is optimized.inputs[0] and matmul.attrs["transpose_b"] == transpose_b
    assert matmul.outputs[0].shape.dims[-1] == 6 and matmul.outputs[0].shape.rank == len(dims)


def test_static_flatten_and_restore_become_one_matmul() -> None:
    """A frozen graph with a static batch: both Reshapes have constant targets."""
    x = parameter("x", ElementType.f32, Shape.of(2, 5, 8))
    flat = Reshape(x.outputs[0], _ints(10, 8, dtype=np.int64), special_zero=False)
    product = MatMul(flat, const(RNG.standard_normal((8, 4)).astype(np.float32)), transpose_a=False, transpose_b=False)
    y = Reshape(product, _ints(2, 5, 4, dtype=np.int64), special_zero=False)
    optimized = run_pass_checked(Graph([x], [Relu(y)]), simplify_reshape_patterns)
    assert optimized.op_histogram() == {"Const": 1, "MatMul": 1, "Parameter": 1, "ReLU": 1}


def _flat_matmul(dims, flat_dims, weights_shape, restored) -> tuple[Graph, Value]:
    x = parameter("x", ElementType.f32, Shape.of(*dims))
    flat = Reshape(x.outputs[0], _ints(*flat_dims, dtype=np.int64), special_zero=False)
    product = MatMul(flat, const(RNG.standard_normal(weights_shape).astype(np.float32)), transpose_a=False, transpose_b=False)
    return x, flat, Reshape(product, _ints(*restored, dtype=np.int64), special_zero=False)


def test_reshapes_that_do_not_restore_the_leading_dims_stay() -> None:
    # the rows come back in another order of the leading dims
    x, _, y = _flat_matmul((2, 5, 8), (10, 8), (8, 4), (5, 2, 4))
    assert unchanged(Graph([x], [Relu(y)]), simplify_reshape_patterns)
    # the flattening also merges the last dim into the rows: K differs from x's last dim
    x, _, y = _flat_matmul((2, 4, 8), (4, 16), (16, 6), (2, 2, 6))
    assert unchanged(Graph([x], [Relu(y)]), simplify_reshape_patterns)
    # the restore splits the columns too
    x, _, y = _flat_matmul((2, 5, 8), (10, 8), (8, 4), (2, 5, 2, 2))
    assert unchanged(Graph([x], [Relu(y)]), simplify_reshape_patterns)
    # the flattened rows are read by another node as well
    x, flat, y = _flat_matmul((2, 5, 8), (10, 8), (8, 4), (2, 5, 4))
    assert unchanged(Graph([x], [Relu(y), flat]), simplify_reshape_patterns)


def test_products_of_dims_in_a_target_are_numbers_or_the_dynamic_dim() -> None:
    """Reshape(x [?, 3, 4], [prod(dims 1, 2), prod(dim 0)]) → Reshape(x, [12, -1])."""
    x = parameter("x", ElementType.f32, Shape.of(None, 3, 4))
    shape = ShapeOf(x.outputs[0], output_type=ElementType.i32)
    inner = Unsqueeze(ReduceProd(Gather(shape, _ints(1, 2), const(np.int64(0))), const(np.array([0])), keep_dims=False), const(np.array([0])))
    batch = ReduceProd(Gather(shape, _ints(0), const(np.int64(0))), const(np.array([0])), keep_dims=True)
    pattern = Convert(Concat(inner, batch, axis=0), destination_type=ElementType.i64)
    optimized = run_pass_checked(Graph([x], [Relu(Reshape(x.outputs[0], pattern, special_zero=False))]), simplify_reshape_patterns)
    reshape = optimized.outputs[0].producer.inputs[0].producer
    assert reshape.inputs[1].const.tolist() == [12, -1]
    assert "ShapeOf" not in optimized.op_histogram()


# ---------------------------------------------------------------- Keras RNNs: Loops and shape reads


def _batch_zeros(x: Value, axis: int, width: int) -> Value:
    """tf.zeros([tf.shape(x)[axis], width]): Keras' initial RNN state."""
    from converter.ops.shape import Broadcast

    batch = Unsqueeze(Gather(ShapeOf(x, output_type=ElementType.i32), const(np.int64(axis)), const(np.int64(0))), const(np.array([0])))
    return Broadcast(const(np.float32(0.0)), Concat(batch, _ints(width), axis=0), mode="numpy")


def _rnn_loop(x: Value, doubling: bool = False):
    """A While loop as the TF frontend makes one: h [?, 3] carried (starts as zeros [batch, 3]), x
    invariant, h stacked per iteration. `doubling`: the body concatenates h with itself instead."""
    from converter.ops.activation import Tanh
    from converter.ops.control import loop_node
    from converter.ops.elementwise import Add

    h = parameter("h", ElementType.f32, Shape.of(None, 3))
    data = parameter("x", ElementType.f32, Shape.of(None, 5))
    hv = h.outputs[0]
    if doubling:
        new = Concat(hv, hv, axis=0)
    else:
        w, u = (const(RNG.standard_normal(s).astype(np.float32) * 0.5) for s in ((3, 3), (5, 3)))
        new = Tanh(Add(MatMul(hv, w, transpose_a=False, transpose_b=False), MatMul(data.outputs[0], u, transpose_a=False, transpose_b=False)))
    results = [const(np.bool_(True)), new] + ([] if doubling else [Unsqueeze(new, const(np.array([0])))])
    outputs = [(1, None, 0, -1, 1, 1)] + ([] if doubling else [(2, 0, 0, -1, 1, 1)])  # no stack of changing shapes
    loop = loop_node(
        const(np.int64(3)), const(np.bool_(True)), [_batch_zeros(x, 0, 3), x], Graph([h, data], results, "body"), [0, 1], [1, -1],
        current_iteration=-1, condition_output=0, outputs=outputs,
    )
    return loop.outputs


def _shape_reads(graph: Graph) -> Graph:
    from converter.passes.eliminate import eliminate_duplicates
    from converter.passes.simplify_shapes import canonicalize_shape_reads

    return eliminate_duplicates(canonicalize_shape_reads(graph))


def test_a_loop_hands_its_inputs_dims_on_to_its_outputs() -> None:
    """Stacked LSTMs: the second layer's zeros read the batch from the first one's sequence
    output [3, ?, 3], which is the input's batch; the reads share the input's ShapeOf."""
    x = parameter("x", ElementType.f32, Shape.of(None, 5))
    last, stacked = _rnn_loop(x.outputs[0])
    second = _batch_zeros(stacked, 1, 2)
    graph = Graph([x], [last, stacked, second])
    optimized = run_pass_checked(graph, _shape_reads)
    assert optimized.op_histogram()["ShapeOf"] == 1
    origins = dim_origins(optimized)
    assert origins[optimized.outputs[0]][0] == origins[optimized.inputs[0]][0] == origins[optimized.outputs[1]][1]


def test_a_loop_that_changes_a_dim_does_not_claim_it() -> None:
    x = parameter("x", ElementType.f32, Shape.of(None, 5))
    (last,) = _rnn_loop(x.outputs[0], doubling=True)
    graph = Graph([x], [last, _batch_zeros(last, 0, 2)])
    optimized = run_pass_checked(graph, _shape_reads)
    assert optimized.op_histogram()["ShapeOf"] == 2
    origins = dim_origins(optimized)
    assert origins[optimized.outputs[0]][0] != origins[optimized.inputs[0]][0]


def test_unsqueezed_scalar_gather_becomes_a_vector_gather() -> None:
    """Unsqueeze(Gather(shape, 0), 0) → Gather(shape, [0]) (tf.shape(x)[0] packed into a vector)."""
    from converter.passes.eliminate import eliminate_noops

    x = parameter("x", ElementType.f32, Shape.of(None, 4))
    zeros = _batch_zeros(x.outputs[0], 0, 3)
    optimized = run_pass_checked(Graph([x], [zeros]), eliminate_noops)
    assert "Unsqueeze" not in optimized.op_histogram()
    (gather,) = [n for n in optimized.nodes() if n.op.type == "Gather"]
    assert gather.inputs[1].const.tolist() == [0]
    # unsqueezed on another axis than the gathered one, or the gathered value read twice: left as is
    matrix = parameter("m", ElementType.f32, Shape.of(4, 6))
    row = Gather(matrix.outputs[0], const(np.int64(2)), const(np.int64(0)))
    assert unchanged(Graph([matrix], [Unsqueeze(row, const(np.array([1])))]), eliminate_noops)
    assert unchanged(Graph([matrix], [Unsqueeze(row, const(np.array([0]))), row]), eliminate_noops)
