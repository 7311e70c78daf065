"""sink_transposes through values several ops read (converter/passes/transpose_regions.py) and the
StridedSlice / Slice movers: op histograms before and after, outputs equal (onnxruntime via
run_pass_checked; OpenVINO on the written IR)."""

from pathlib import Path

import numpy as np
import pytest

import converter
from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Relu, Sigmoid
from converter.ops.conv import Convolution
from converter.ops.core import const, parameter
from converter.ops.elementwise import Add, Multiply
from converter.ops.indexing import Slice, StridedSlice
from converter.ops.shape import Concat, Pad, Reshape, Transpose
from converter.passes.manager import random_graph_inputs
from converter.passes.sink_transposes import sink_transposes
from converter.runtime import execute
from converter.validate import compare, run_ir
from pass_check import run_pass_checked, unchanged

TO_NCHW = (0, 3, 1, 2)
TO_NHWC = (0, 2, 3, 1)
RNG = np.random.default_rng(0)


def _t(value: Value, perm: tuple[int, ...]) -> Value:
    return Transpose(value, const(np.array(perm, dtype=np.int64)))


def _ints(*values: int) -> Value:
    return const(np.array(values, dtype=np.int64))


def _conv(value: Value, c_in: int, c_out: int) -> Value:
    weights = const((RNG.standard_normal((c_out, c_in, 1, 1)) * 0.5).astype(np.float32))
    return Convolution(value, weights, strides=(1, 1), pads_begin=(0, 0), pads_end=(0, 0), dilations=(1, 1))


def _histogram(graph: Graph) -> dict[str, int]:
    return {k: v for k, v in graph.op_histogram().items() if k not in ("Const", "Parameter")}


def _harmonic_stacking() -> Graph:
    """basic-pitch's harmonic stacking: NCHW → NHWC, read by slices along W (each padded back to
    full width) and by the Concat of them all on the channel axis, then a slice, then NHWC → NCHW."""
    x = parameter("x", ElementType.f32, Shape.of(None, 1, 5, 12))
    nhwc = _t(x.outputs[0], TO_NHWC)  # [N, 5, 12, 1]
    parts: list[Value] = [nhwc]
    for shift in (2, 4, 7):
        sliced = StridedSlice(nhwc, _ints(0, 0, shift, 0), _ints(0, 0, 0, 0), _ints(1, 1, 1, 1),
                              begin_mask=(1, 1, 0, 1), end_mask=(1, 1, 1, 1))
        parts.append(Pad(sliced, _ints(0, 0, 0, 0), _ints(0, 0, shift, 0), const(np.array(0, np.float32)), pad_mode="constant"))
    stacked = Concat(*parts, axis=3)  # [N, 5, 12, 4]
    trimmed = StridedSlice(stacked, _ints(0, 0, 0), _ints(0, 0, 9), _ints(1, 1, 1), begin_mask=(1, 1, 1), end_mask=(1, 1, 0))
    return Graph([x], [Relu(_conv(_t(trimmed, TO_NCHW), 4, 2))])


def test_a_transpose_read_by_slices_and_their_concat_cancels_with_the_one_after(tmp_path: Path) -> None:
    graph = _harmonic_stacking()
    before = _histogram(graph)
    assert before == {"Transpose": 2, "StridedSlice": 4, "Pad": 3, "Concat": 1, "Convolution": 1, "ReLU": 1}
    optimized = run_pass_checked(graph, sink_transposes)
    after = _histogram(optimized)
    assert after.pop("Transpose", 0) == 0, after
    assert after == {k: v for k, v in before.items() if k != "Transpose"}
    # and on OpenVINO, from the written IR
    inputs = random_graph_inputs(graph, 3)
    xml = tmp_path / "m.xml"
    converter.save_model(optimized, xml)
    result = compare(execute(graph, inputs), run_ir(xml, inputs, "openvino"), 1e-5, 1e-6)
    assert result.ok, result.detail


def test_a_sigmoid_read_by_a_unit_axis_reshape_and_a_concat() -> None:
    """Conv → 1 channel → NHWC → bias → Sigmoid, read by a flattening Reshape (only the unit axis
    moves) and by a Concat with another NHWC branch that goes back to NCHW: all three Transposes go."""
    x = parameter("x", ElementType.f32, Shape.of(None, 4, 6, 5))
    head = _conv(x.outputs[0], 4, 1)
    gate = Sigmoid(Add(_t(head, TO_NHWC), const(np.array([0.3], np.float32))))  # [N, 6, 5, 1]
    flat = Reshape(gate, _ints(-1, 6, 5), special_zero=True)
    other = Relu(_t(_conv(x.outputs[0], 4, 3), TO_NHWC))
    joined = _t(Concat(gate, other, axis=3), TO_NCHW)
    graph = Graph([x], [flat, _conv(joined, 4, 2)])
    assert _histogram(graph)["Transpose"] == 3
    optimized = run_pass_checked(graph, sink_transposes)
    after = _histogram(optimized)
    assert after.get("Transpose", 0) == 0, after
    assert after == {"Convolution": 3, "Add": 1, "Sigmoid": 1, "Reshape": 1, "ReLU": 1, "Concat": 1}


def test_readers_that_cannot_absorb_keep_the_transpose() -> None:
    """Two outputs read the NHWC value (the Relu, and a Sigmoid of it): moving would need a
    Transpose per output, so nothing moves."""
    x = parameter("x", ElementType.f32, Shape.of(1, 3, 4, 5))
    relu = Relu(_t(x.outputs[0], TO_NHWC))
    graph = Graph([x], [relu, Multiply(Sigmoid(relu), const(np.array(2.0, np.float32)))])
    assert unchanged(graph, sink_transposes)


def test_an_undoing_reader_pays_for_the_output_that_keeps_one() -> None:
    """The Relu is read by a Transpose back to NCHW and by a Sigmoid → Multiply output: the
    Transpose moves, the undoing one cancels, only the output's branch keeps one (2 → 1)."""
    x = parameter("x", ElementType.f32, Shape.of(1, 3, 4, 5))
    relu = Relu(_t(x.outputs[0], TO_NHWC))
    first = _conv(_t(relu, TO_NCHW), 3, 2)
    second = Multiply(Sigmoid(relu), const(np.array(2.0, np.float32)))
    graph = Graph([x], [first, second])
    assert _histogram(graph)["Transpose"] == 2
    optimized = run_pass_checked(graph, sink_transposes)
    assert _histogram(optimized) == {"Transpose": 1, "ReLU": 1, "Convolution": 1, "Sigmoid": 1, "Multiply": 1}


def test_a_value_that_is_also_an_output_keeps_its_transpose_once() -> None:
    """NHWC value read by a graph output and by two slices that go back to NCHW: one Transpose
    stays (for the output), the two readers' Transposes and the two on the way go (4 → 1)."""
    x = parameter("x", ElementType.f32, Shape.of(1, 3, 4, 6))
    nhwc = Relu(_t(x.outputs[0], TO_NHWC))
    left = Slice(nhwc, _ints(0), _ints(3), _ints(1), _ints(2))
    right = Slice(nhwc, _ints(3), _ints(6), _ints(1), _ints(2))
    graph = Graph([x], [nhwc, _conv(_t(left, TO_NCHW), 3, 2), _conv(_t(right, TO_NCHW), 3, 2)])
    assert _histogram(graph)["Transpose"] == 3
    optimized = run_pass_checked(graph, sink_transposes)
    assert _histogram(optimized)["Transpose"] == 1, _histogram(optimized)
    assert optimized.outputs[0].producer.op.type == "Transpose"


@pytest.mark.parametrize(
    "begin, end, stride, begin_mask, end_mask",
    [
        ([0, 1, 0, 2], [0, 4, 0, 3], [1, 1, 1, 1], (1, 0, 1, 0), (1, 0, 1, 0)),  # all axes given
        ([0, 3], [0, 0], [1, -1], (1, 0), (1, 1)),  # fewer entries than axes, a reversal
        ([0, 0, 1], [0, 0, -1], None, (1, 1, 0), (1, 1, 0)),  # no strides input
    ],
)
def test_strided_slice_follows_its_axes(begin, end, stride, begin_mask, end_mask) -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 3, 5, 4))
    nhwc = _t(x.outputs[0], TO_NHWC)  # [2, 5, 4, 3]
    bounds = [_ints(*begin), _ints(*end)] + ([_ints(*stride)] if stride is not None else [])
    sliced = StridedSlice(nhwc, *bounds, begin_mask=begin_mask, end_mask=end_mask)
    graph = Graph([x], [_t(Relu(sliced), TO_NCHW)])
    optimized = run_pass_checked(graph, sink_transposes)
    assert _histogram(optimized).get("Transpose", 0) == 0, _histogram(optimized)


def test_strided_slice_with_a_shrink_axis_stops_the_move() -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 3, 5, 4))
    nhwc = _t(x.outputs[0], TO_NHWC)
    sliced = StridedSlice(nhwc, _ints(0, 1), _ints(0, 2), _ints(1, 1), begin_mask=(1, 0), end_mask=(1, 0), shrink_axis_mask=(0, 1))
    graph = Graph([x], [Relu(sliced)])
    assert unchanged(graph, sink_transposes)


@pytest.mark.parametrize("axes", [None, [1, 2], [-1]])
def test_slice_follows_its_axes(axes) -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 3, 6, 5))
    nhwc = _t(x.outputs[0], TO_NHWC)  # [2, 6, 5, 3]
    count = 2 if axes is None else len(axes)
    starts, stops, steps = _ints(*[1] * count), _ints(*[5] * count), _ints(*[2] * count)
    sliced = Slice(nhwc, starts, stops, steps) if axes is None else Slice(nhwc, starts, stops, steps, _ints(*axes))
    graph = Graph([x], [_t(Sigmoid(sliced), TO_NCHW)])
    optimized = run_pass_checked(graph, sink_transposes)
    assert _histogram(optimized).get("Transpose", 0) == 0, _histogram(optimized)


def test_a_reshape_with_a_static_result_reads_through_a_unit_axis_transpose() -> None:
    """Silero VAD's LSTM input: [1, ?, 128] → Transpose(1, 0, 2) → Reshape [1, 0, 0] (special zero).
    The 0 copies a dim the Transpose moves (unknown in the source), but the Reshape's result is
    static [1, 1, 128]: that shape is the pattern on the untransposed data, and the Reshapes merge."""
    from converter.passes.eliminate import eliminate_noops

    x = parameter("x", ElementType.f32, Shape.of(1, 128, None))
    rows = Reshape(x.outputs[0], _ints(1, -1, 128), special_zero=False)
    flat = Reshape(_t(rows, (1, 0, 2)), _ints(1, 0, 0), special_zero=True)
    assert list(flat.shape.dims) == [1, 1, 128]
    graph = Graph([x], [Sigmoid(flat)])
    optimized = eliminate_noops(sink_transposes(graph.copy()))
    assert _histogram(graph) == {"Reshape": 2, "Transpose": 1, "Sigmoid": 1}
    assert _histogram(optimized) == {"Reshape": 1, "Sigmoid": 1}, _histogram(optimized)
    inputs = [RNG.standard_normal((1, 128, 1)).astype(np.float32)]  # the only length the model accepts
    result = compare(execute(graph, inputs), execute(optimized, inputs), 1e-6, 1e-7)
    assert result.ok, result.detail
    assert unchanged(optimized, sink_transposes)
