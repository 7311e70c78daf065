"""fuse_pad_into_convolution on poolings: a zero Pad folds into MaxPool (data >= 0, every window
holds a real element) and into AvgPool (pads counted: exclude-pad false). Checked on onnxruntime
(run_pass_checked) and on OpenVINO itself, whose MaxPool pads with -inf."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Clamp, Relu, Sigmoid, Tanh
from converter.ops.core import const, parameter
from converter.ops.pooling import AvgPool1, MaxPool8
from converter.ops.shape import Concat, Pad, Transpose
from converter.passes.fuse_pad import fuse_pad_into_convolution, nonnegative
from converter.passes.manager import random_graph_inputs
from converter.runtime import execute
from converter.validate import compare
from pass_check import run_pass_checked, unchanged


def _x(*dims: int | None):
    return parameter("x", ElementType.f32, Shape.of(*dims))


def _pad(value: Value, begins, ends, fill: float = 0.0) -> Value:
    return Pad(value, const(np.array([0, 0, *begins])), const(np.array([0, 0, *ends])), const(np.float32(fill)), pad_mode="constant")


def _max_pool(value: Value, kernel, strides, pads=((0, 0), (0, 0)), dilations=(1, 1), rounding="floor", auto_pad="valid"):
    return MaxPool8.node(
        value, strides=strides, dilations=dilations, pads_begin=pads[0], pads_end=pads[1], kernel=kernel,
        rounding_type=rounding, auto_pad=auto_pad,
    )


def _avg_pool(value: Value, kernel, strides, pads=((0, 0), (0, 0)), exclude_pad=True, auto_pad="valid") -> Value:
    return AvgPool1(value, strides=strides, pads_begin=pads[0], pads_end=pads[1], kernel=kernel, rounding_type="floor", auto_pad=auto_pad, **{"exclude-pad": exclude_pad})


def _same_on_openvino(graph: Graph, optimized: Graph) -> None:
    inputs = random_graph_inputs(graph, 1)
    result = compare(execute(graph, inputs, "openvino"), execute(optimized, inputs, "openvino"), 1e-6, 1e-6)
    assert result.ok, result.detail


def _positive(value: Value, kind: str) -> Value:
    if kind == "relu":
        return Relu(value)
    if kind == "sigmoid":
        return Sigmoid(value)
    if kind == "relu6":
        return Clamp(value, min=0.0, max=6.0)
    return Transpose(Transpose(Relu(value), const(np.array([0, 2, 3, 1]))), const(np.array([0, 3, 1, 2])))


def test_keras_resnet_pool1_pad_folds_into_the_max_pool() -> None:
    """ReLU → ZeroPadding2D(1) → MaxPool 3x3 / 2 VALID."""
    x = _x(None, 4, 12, 12)
    pool = _max_pool(_pad(Relu(x.outputs[0]), (1, 1), (1, 1)), (3, 3), (2, 2))
    graph = Graph([x], [pool.outputs[0]])
    optimized = run_pass_checked(graph, fuse_pad_into_convolution)
    assert optimized.op_histogram() == {"MaxPool": 1, "Parameter": 1, "ReLU": 1}
    (fused,) = [n for n in optimized.nodes() if n.op.type == "MaxPool"]
    assert fused.attrs["pads_begin"] == (1, 1) and fused.attrs["pads_end"] == (1, 1) and fused.attrs["auto_pad"] == "explicit"
    _same_on_openvino(graph, optimized)


@settings(max_examples=40, deadline=None)
@given(
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    strides=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    data=st.data(),
    source=st.sampled_from(["relu", "sigmoid", "relu6", "moved"]),
    own=st.booleans(),
)
def test_zero_pads_smaller_than_the_kernel_fold_into_max_pool(size, kernel, strides, data, source, own) -> None:
    begins = [data.draw(st.integers(0, k - 1)) for k in kernel]
    ends = [data.draw(st.integers(0, k - 1)) for k in kernel]
    own_pads = ((0, 0), (0, 0))
    if own:  # its own -inf pads outside the zeros; the sum must stay below the kernel
        own_pads = tuple(tuple(data.draw(st.integers(0, k - 1 - p)) for k, p in zip(kernel, side)) for side in (begins, ends))
    if any(s + b + e + o1 + o2 < k for s, b, e, o1, o2, k in zip(size, begins, ends, own_pads[0], own_pads[1], kernel)):
        return  # no window at all
    x = _x(2, 3, *size)
    pool = _max_pool(_pad(_positive(x.outputs[0], source), begins, ends), kernel, strides, own_pads, auto_pad="explicit" if own else "valid")
    graph = Graph([x], [pool.outputs[0]])
    optimized = run_pass_checked(graph, fuse_pad_into_convolution)
    assert "Pad" not in optimized.op_histogram()
    _same_on_openvino(graph, optimized)


def test_max_pool_near_misses_stay_unchanged() -> None:
    x = _x(1, 2, 8, 8)
    relu = Relu(x.outputs[0])
    padded = _pad(relu, (1, 1), (1, 1))
    cases = {
        "the data may be negative": _max_pool(_pad(x.outputs[0], (1, 1), (1, 1)), (3, 3), (2, 2)),
        "tanh is not >= 0": _max_pool(_pad(Tanh(x.outputs[0]), (1, 1), (1, 1)), (3, 3), (2, 2)),
        "a window lies in the padding": _max_pool(_pad(relu, (2, 0), (0, 0)), (2, 2), (1, 1)),
        "pads beyond the kernel with its own": _max_pool(padded, (2, 2), (2, 2), ((1, 0), (0, 0)), auto_pad="explicit"),
        "dilated windows can miss the data": _max_pool(padded, (2, 2), (1, 1), dilations=(3, 3)),
        "ceil rounding": _max_pool(padded, (3, 3), (2, 2), rounding="ceil", auto_pad="explicit"),
        "same padding": _max_pool(padded, (3, 3), (2, 2), auto_pad="same_upper"),
        "another fill value": _max_pool(_pad(relu, (1, 1), (1, 1), fill=1.0), (3, 3), (2, 2)),
    }
    for reason, pool in cases.items():
        assert unchanged(Graph([x], [pool.outputs[0]]), fuse_pad_into_convolution), reason
    pool = _max_pool(padded, (3, 3), (2, 2))
    assert unchanged(Graph([x], [pool.outputs[0], pool.outputs[1]]), fuse_pad_into_convolution), "the indices are read"
    assert unchanged(Graph([x], [_max_pool(padded, (3, 3), (2, 2)).outputs[0], padded]), fuse_pad_into_convolution), "the Pad is read"


@pytest.mark.parametrize("own_pads, exclude_pad, fuses", [(False, True, True), (False, False, True), (True, False, True), (True, True, False)])
def test_zero_pad_folds_into_avg_pool_that_counts_pads(own_pads, exclude_pad, fuses) -> None:
    x = _x(None, 3, 7, 6)
    pads = ((1, 0), (0, 1)) if own_pads else ((0, 0), (0, 0))
    y = _avg_pool(_pad(x.outputs[0], (1, 2), (2, 1)), (3, 3), (2, 1), pads, exclude_pad, "explicit" if own_pads else "valid")
    graph = Graph([x], [y])
    if not fuses:
        assert unchanged(graph, fuse_pad_into_convolution)
        return
    optimized = run_pass_checked(graph, fuse_pad_into_convolution)
    (pool,) = [n for n in optimized.nodes() if n.op.type == "AvgPool"]
    assert pool.inputs[0] is optimized.inputs[0] and pool.attrs["exclude-pad"] is False
    _same_on_openvino(graph, optimized)


def test_nonnegative_values() -> None:
    x = _x(1, 2, 4, 4)
    xv = x.outputs[0]
    assert nonnegative(Relu(xv)) and nonnegative(Clamp(xv, min=0.0, max=1.0)) and nonnegative(Sigmoid(xv))
    assert nonnegative(Concat(Relu(xv), Sigmoid(xv), axis=1))
    assert not nonnegative(Concat(Relu(xv), xv, axis=1))
    assert not nonnegative(Clamp(xv, min=-1.0, max=1.0)) and not nonnegative(xv)
    assert nonnegative(const(np.array([0.0, 2.0], np.float32))) and not nonnegative(const(np.array([-1.0], np.float32)))
