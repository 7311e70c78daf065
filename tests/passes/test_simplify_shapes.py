import numpy as np

from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Relu
from converter.ops.core import Convert, ShapeOf, const, parameter
from converter.ops.elementwise import Add
from converter.ops.indexing import Gather
from converter.ops.matmul import MatMul
from converter.ops.shape import Concat, Reshape, Transpose, Unsqueeze
from converter.passes.eliminate import eliminate_noops
from converter.passes.simplify_shapes import dim_origins, simplify_reshape_patterns
from pass_check import run_pass_checked, unchanged


def _dim(shape_source, index):
    gathered = Gather(ShapeOf(shape_source), const(np.int64(index)), const(np.int64(0)))
    return Unsqueeze(gathered, const(np.array([0])))


def _heads_graph(swap: bool = False):
    """Reshape [B, S, 8] → [B, S, 2, 4] with B and S gathered from the *input's* shape."""
    x = parameter("x", ElementType.f32, Shape.of(None, None, 8))
    projected = Add(MatMul(x.outputs[0], const(np.ones((8, 8), np.float32)), transpose_a=False, transpose_b=False), const(np.ones(8, np.float32)))
    first, second = (1, 0) if swap else (0, 1)
    pattern = Concat(_dim(x.outputs[0], first), _dim(x.outputs[0], second), const(np.array([2, 4])), axis=0)
    return Graph([x], [Relu(Reshape(projected, pattern, special_zero=False))])


def test_gathered_dims_become_copies() -> None:
    optimized = run_pass_checked(_heads_graph(), simplify_reshape_patterns)
    reshape = optimized.outputs[0].producer.inputs[0].producer
    assert reshape.inputs[1].const.tolist() == [0, 0, 2, 4] and reshape.attrs["special_zero"]
    assert "ShapeOf" not in optimized.op_histogram()


def test_gathered_dims_read_through_an_integer_convert() -> None:
    """TF builds the pattern in i32 and the frontend converts it to i64: Convert(Concat(...))."""
    x = parameter("x", ElementType.f32, Shape.of(None, 6))
    batch = Convert(_dim(x.outputs[0], 0), destination_type=ElementType.i32)
    pattern = Convert(Concat(batch, const(np.array([2, 3], np.int32)), axis=0), destination_type=ElementType.i64)
    graph = Graph([x], [Relu(Reshape(x.outputs[0], pattern, special_zero=False))])
    optimized = run_pass_checked(graph, simplify_reshape_patterns)
    reshape = optimized.outputs[0].producer.inputs[0].producer
    assert reshape.inputs[1].const.tolist() == [0, 2, 3] and reshape.attrs["special_zero"]


def test_swapped_dims_are_not_mistaken_for_copies() -> None:
    optimized = simplify_reshape_patterns(_heads_graph(swap=True).copy())
    reshape = optimized.outputs[0].producer.inputs[0].producer
    pattern = reshape.inputs[1].const
    assert pattern is None or 0 not in pattern.tolist()[:2]


def test_origins_follow_transpose_and_matmul() -> None:
    x = parameter("x", ElementType.f32, Shape.of(None, None, 8))
    moved = Transpose(x.outputs[0], const(np.array([1, 0, 2])))
    graph = Graph([x], [moved])
    origins = dim_origins(graph)
    assert origins[moved][:2] == origins[graph.inputs[0]][1::-1]


def test_constant_patterns_are_left_alone() -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 8))
    assert unchanged(Graph([x], [Reshape(x.outputs[0], const(np.array([4, 4])), special_zero=False)]), simplify_reshape_patterns)


def test_transposes_that_cancel_vanish_and_chains_merge() -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 3, 4))
    there = Transpose(x.outputs[0], const(np.array([1, 0, 2])))
    back = Transpose(there, const(np.array([1, 0, 2])))
    chained = Transpose(Transpose(back, const(np.array([2, 0, 1]))), const(np.array([0, 2, 1])))
    optimized = run_pass_checked(Graph([x], [Relu(chained)]), eliminate_noops)
    assert optimized.op_histogram() == {"Const": 1, "Parameter": 1, "ReLU": 1, "Transpose": 1}


def test_shape_reads_come_from_one_place_and_static_dims_fold() -> None:
    from converter.passes.eliminate import eliminate_duplicates
    from converter.passes.simplify_shapes import canonicalize_shape_reads

    x = parameter("x", ElementType.f32, Shape.of(None, None, 8))
    hidden = Relu(Add(x.outputs[0], const(np.ones(8, np.float32))))
    batch_from_x = Gather(ShapeOf(x.outputs[0]), const(np.int64(0)), const(np.int64(0)))
    batch_from_hidden = Gather(ShapeOf(hidden), const(np.int64(0)), const(np.int64(0)))
    width = Gather(ShapeOf(hidden), const(np.array([2])), const(np.int64(0)))
    total = Add(Add(batch_from_x, batch_from_hidden), Unsqueeze(width, const(np.array([0]))))
    graph = Graph([x], [hidden, total])

    def both(g: Graph) -> Graph:
        return eliminate_duplicates(canonicalize_shape_reads(g))

    optimized = run_pass_checked(graph, both)
    histogram = optimized.op_histogram()
    assert histogram["ShapeOf"] == 1 and histogram["Gather"] == 1  # one read of the batch dim, width is a constant


def test_static_slices_of_a_partly_dynamic_shape_become_constants() -> None:
    from converter.ops.indexing import Slice
    from converter.passes.simplify_shapes import canonicalize_shape_reads

    x = parameter("x", ElementType.f32, Shape.of(None, 3, 8))
    tail = Slice(ShapeOf(x.outputs[0]), const(np.array([1])), const(np.array([2**62])), const(np.array([1])), const(np.array([0])))
    reversed_tail = Slice(ShapeOf(x.outputs[0]), const(np.array([-1])), const(np.array([0])), const(np.array([-1])))
    flat = Reshape(x.outputs[0], Concat(const(np.array([-1])), Unsqueeze(Gather(tail, const(np.int64(1)), const(np.int64(0))), const(np.array([0]))), axis=0), special_zero=False)
    graph = Graph([x], [flat, Add(reversed_tail, reversed_tail)])
    optimized = run_pass_checked(graph, canonicalize_shape_reads)
    assert "Slice" not in optimized.op_histogram()


def test_expand_with_minus_one_reads_the_batch_dim_directly() -> None:
    """x.expand(n, -1, -1) as PyTorch exports it: Expand(x, Where(Equal(s, -1), 1, s))."""
    from converter.ops.elementwise import Equal, Select
    from converter.ops.shape import Broadcast
    from converter.passes.simplify_shapes import dim_origins, fold_shape_values

    patches = parameter("patches", ElementType.f32, Shape.of(None, 5, 8))
    token = const(np.ones((1, 1, 8), np.float32))
    target = Concat(_dim(patches.outputs[0], 0), const(np.array([-1, -1])), axis=0)
    fixed = Select(Equal(target, const(np.full(3, -1))), const(np.ones(3, np.int64)), target)
    expanded = Broadcast(token, fixed, mode="bidirectional")
    graph = Graph([patches], [Concat(expanded, patches.outputs[0], axis=1)])
    optimized = run_pass_checked(graph, fold_shape_values)
    histogram = optimized.op_histogram()
    assert "Select" not in histogram and "Equal" not in histogram
    broadcast = next(n for n in optimized.nodes() if n.op.type == "Broadcast")
    origins = dim_origins(optimized)
    assert origins[broadcast.outputs[0]][0] == origins[optimized.inputs[0]][0]


def _flatten_cells_graph(batch: int | None):
    """`x.view(b, C, h * w)` as exported: Concat(b, C, h·w) of dims read at run time. With a static
    batch, canonicalize_shape_reads has turned the batch read into Unsqueeze(Const): still a number."""
    from converter.ops.elementwise import Multiply

    x = parameter("x", ElementType.f32, Shape.of(batch, 6, None, None))
    head = Relu(x.outputs[0])
    b = Unsqueeze(const(np.int64(batch)), const(np.array([0]))) if batch is not None else _dim(head, 0)
    cells = Multiply(_dim(head, 2), _dim(head, 3))
    pattern = Concat(b, const(np.array([6])), cells, axis=0)
    return Graph([x], [Reshape(head, pattern, special_zero=False)])


def test_a_product_of_the_remaining_dims_becomes_minus_one() -> None:
    for batch, expected in ((1, [1, 6, -1]), (None, [0, 6, -1])):
        optimized = run_pass_checked(_flatten_cells_graph(batch), simplify_reshape_patterns)
        reshape = optimized.outputs[0].producer
        assert reshape.inputs[1].const.tolist() == expected, batch
        assert "ShapeOf" not in optimized.op_histogram() and "Multiply" not in optimized.op_histogram()


def test_two_unknown_parts_stay_computed() -> None:
    from converter.ops.elementwise import Multiply

    x = parameter("x", ElementType.f32, Shape.of(1, 6, None, None))
    head = Relu(x.outputs[0])
    pattern = Concat(Multiply(_dim(head, 1), _dim(head, 2)), Multiply(_dim(head, 3), const(np.array([1]))), axis=0)
    graph = Graph([x], [Reshape(head, pattern, special_zero=False)])
    assert unchanged(graph, simplify_reshape_patterns)
