import numpy as np

from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.core import ShapeOf, const, parameter
from converter.ops.elementwise import Add, Multiply
from converter.ops.indexing import Gather
from converter.ops.shape import Concat, Reshape, Transpose
from converter.passes.fold_constants import fold_constants
from pass_check import run_pass_checked, unchanged


def test_folds_constant_arithmetic_and_transpose() -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 3))
    w = Transpose(Multiply(const(np.arange(6, dtype=np.float32).reshape(3, 2)), const(np.float32(2))), const(np.array([1, 0])))
    graph = Graph([x], [Add(x.outputs[0], w)])
    optimized = run_pass_checked(graph, fold_constants)
    assert optimized.op_histogram() == {"Add": 1, "Const": 1, "Parameter": 1}


def test_folds_static_shape_computations() -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 3, 4))
    shape = ShapeOf(x.outputs[0])
    batch = Gather(shape, const(np.array([0])), const(np.int64(0)))
    target = Concat(batch, const(np.array([-1])), axis=0)
    graph = Graph([x], [Reshape(x.outputs[0], target, special_zero=False)])
    optimized = run_pass_checked(graph, fold_constants)
    assert optimized.op_histogram() == {"Const": 1, "Parameter": 1, "Reshape": 1}
    assert optimized.outputs[0].shape.dims == (2, 12)


def test_keeps_shape_of_dynamic_dims() -> None:
    x = parameter("x", ElementType.f32, Shape.of(None, 3))
    graph = Graph([x], [Reshape(x.outputs[0], ShapeOf(x.outputs[0]), special_zero=False)])
    assert unchanged(graph, fold_constants)


def test_does_not_blow_up_the_bin() -> None:
    x = parameter("x", ElementType.f32, Shape.of(1))
    big = Concat(*[const(np.zeros(20_000, dtype=np.float32))] * 2, axis=0)
    small = Concat(*[const(np.ones(4, dtype=np.float32))] * 2, axis=0)
    graph = Graph([x], [Add(x.outputs[0], big), Add(x.outputs[0], small)])
    optimized = fold_constants(graph.copy())
    assert optimized.op_histogram()["Concat"] == 1  # only the small one folded
