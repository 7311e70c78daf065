"""ONNX indexing ops → IR Slice-8, Gather-8, GatherElements-6, GatherND-8, ScatterElementsUpdate-12,
ScatterNDUpdate-15, ReverseSequence-1, ...; the IR ops' kernels and their own ONNX lowerings."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto

from converter.ir.types import ElementType, Shape
from converter.ops import indexing as ops
from converter.ops.core import const, parameter
from converter.validate import compare
from tests.ops.test_shape import (
    FLOAT,

    check_ir,
    f32_parameter,
    i64,
    ort_single,
    random,
    single_op_model,
    x_input,
)

INT32 = TensorProto.INT32


# ---------------------------------------------------------------- Slice


@pytest.mark.parametrize(
    "starts,ends,axes,steps",
    [
        ([0, 1], [2, 3], None, None),
        ([1], [-1], [1], None),
        ([-1], [-1000], [2], [-1]),
        ([10, -100], [-20, 1000], [2, 1], [-2, 2]),
        ([0], [np.iinfo(np.int64).max], [-1], [3]),
        ([2, 0], [0, 4], [0, 2], [-1, 2]),
    ],
)
def test_slice(check_onnx, starts, ends, axes, steps):
    initializers = {"starts": i64(starts), "ends": i64(ends)}
    if axes is not None:
        initializers["axes"] = i64(axes)
    if steps is not None:
        initializers["steps"] = i64(steps)
    model = single_op_model("Slice", [x_input(["N", 4, 5])], initializers=initializers, opset=13)
    check_onnx(model, [random([3, 4, 5])])


def test_slice_with_steps_but_no_axes(check_onnx):
    initializers = {"starts": i64([0, 3]), "ends": i64([3, 0]), "axes": i64([0, 1]), "steps": i64([1, -1])}
    model = single_op_model("Slice", [x_input([3, 4])], initializers=initializers, input_order=["x", "starts", "ends", "", "steps"])
    check_onnx(model)


def test_slice_runtime_starts_i32(check_onnx):
    model = single_op_model(
        "Slice", [x_input(["N", 6]), ("starts", INT32, [1]), ("ends", INT32, [1])], initializers={"axes": np.array([1], dtype=np.int32)}
    )
    check_onnx(model, [random([2, 6]), np.array([1], dtype=np.int32), np.array([-1], dtype=np.int32)])


@pytest.mark.parametrize("axes", [None, [1, 0]])
def test_slice_before_opset_10(check_onnx, axes):
    attrs = {"starts": [1, 0], "ends": [3, -1]} | ({} if axes is None else {"axes": axes})
    check_onnx(single_op_model("Slice", [x_input([4, 5])], opset=9, **attrs))


# ---------------------------------------------------------------- Gather / GatherElements / GatherND


@pytest.mark.parametrize(
    "axis,indices",
    [(0, [0, 2]), (1, [[0, -1], [2, 1]]), (-1, [-5, 4, 0]), (1, 2), (2, [[[1]]])],
)
def test_gather(check_onnx, axis, indices):
    model = single_op_model("Gather", [x_input(["N", 4, 5])], initializers={"indices": i64(indices)}, axis=axis, opset=13)
    check_onnx(model, [random([3, 4, 5])])


def test_gather_runtime_i32_indices(check_onnx):
    model = single_op_model("Gather", [x_input([4, 3]), ("indices", INT32, ["K"])], opset=11)
    check_onnx(model, [random([4, 3]), np.array([3, -4, 1], dtype=np.int32)])


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dynamic", [False, True])
def test_gather_elements(check_onnx, axis, dynamic):
    """Indices may be smaller than the data off the axis (OpenVINO needs a crop there)."""
    indices = np.array([[0, -1, 1], [2, 0, -3]], dtype=np.int64)
    inputs = [x_input(["N", 3] if dynamic else [3, 3]), ("indices", TensorProto.INT64, ["K", 3] if dynamic else [2, 3])]
    model = single_op_model("GatherElements", inputs, axis=axis)
    check_onnx(model, [random([3, 3]), indices])


@pytest.mark.parametrize(
    "data_shape,indices,batch_dims",
    [
        ([2, 3, 4], [[0, 1], [1, 2]], 0),
        ([2, 3, 4], [[[0], [1]], [[1], [-1]]], 0),
        ([2, 3, 4], [[1], [0]], 1),
        ([2, 3, 4], [[[1, 3]], [[2, 0]]], 1),
        ([2, 3, 4], [[0, 1, 2]], 0),
    ],
)
def test_gather_nd(check_onnx, data_shape, indices, batch_dims):
    model = single_op_model("GatherND", [x_input(data_shape)], initializers={"indices": i64(indices)}, batch_dims=batch_dims)
    check_onnx(model)


# ---------------------------------------------------------------- ScatterElements / Scatter / ScatterND


@pytest.mark.parametrize("reduction", ["none", "add", "mul", "max", "min"])
@pytest.mark.parametrize("axis", [0, -1])
def test_scatter_elements(check_onnx, reduction, axis):
    indices = i64([[1, 0, 2], [0, 2, 1]]) if reduction == "none" else i64([[1, 1, 2], [-1, 2, 1]])
    initializers = {"indices": indices, "updates": random([2, 3], seed=5)}
    model = single_op_model("ScatterElements", [x_input([3, 3])], initializers=initializers, axis=axis, reduction=reduction, opset=18)
    check_onnx(model)


@pytest.mark.parametrize("opset", [9, 10])
def test_scatter_deprecated(check_onnx, opset):
    initializers = {"indices": i64([[1, 0, 2]]), "updates": random([1, 3], seed=5)}
    check_onnx(single_op_model("Scatter", [x_input([3, 3])], initializers=initializers, axis=0, opset=opset))


@pytest.mark.parametrize("reduction", ["none", "add", "mul", "max", "min"])
def test_scatter_nd(check_onnx, reduction):
    indices = i64([[0], [2]]) if reduction == "none" else i64([[0], [2], [-3]])
    updates = random([indices.shape[0], 4, 2], seed=3)
    model = single_op_model("ScatterND", [x_input([3, 4, 2])], initializers={"indices": indices, "updates": updates}, reduction=reduction, opset=18)
    check_onnx(model)


def test_scatter_nd_element_indices(check_onnx):
    model = single_op_model(
        "ScatterND", [x_input([3, 4]), ("updates", FLOAT, [2])], initializers={"indices": i64([[0, 1], [2, -1]])}, input_order=["x", "indices", "updates"]
    )
    check_onnx(model, [random([3, 4]), random([2], seed=1)])


# ---------------------------------------------------------------- ReverseSequence


@pytest.mark.parametrize("batch_axis,time_axis", [(1, 0), (0, 1)])
def test_reverse_sequence(check_onnx, batch_axis, time_axis):
    model = single_op_model(
        "ReverseSequence", [x_input([4, 4, 2])], initializers={"lens": i64([4, 1, 3, 2])}, batch_axis=batch_axis, time_axis=time_axis
    )
    check_onnx(model)


# ---------------------------------------------------------------- IR ops directly


@pytest.mark.parametrize(
    "data_shape,indices_shape,axis,batch_dims",
    [([2, 3, 4], [2, 2], 1, 1), ([2, 3, 4], [2, 3], 2, 1), ([2, 3, 4, 2], [2, 3, 2], 3, 2), ([2, 3, 4], [2, 5], -1, -1), ([2, 3, 4], [2], 2, 1)],
)
def test_ir_gather_batch_dims(data_shape, indices_shape, axis, batch_dims):
    node, x = f32_parameter("x", *data_shape)
    size = data_shape[axis]
    indices = np.random.default_rng(1).integers(-size, size, indices_shape).astype(np.int32)
    check_ir([ops.Gather(x, const(indices), const(np.int64(axis)), batch_dims=batch_dims)], [node], [random(data_shape)])


@pytest.mark.parametrize("reduction", ["sum", "prod", "min", "max", "mean"])
@pytest.mark.parametrize("use_init_val", [True, False])
def test_ir_scatter_elements_reductions(reduction, use_init_val):
    node, x = f32_parameter("x", 3, 4)
    indices = const(np.array([[0, 1, 0, 2], [0, 1, 2, 2]], dtype=np.int32))
    updates = const(random([2, 4], seed=4))
    y = ops.ScatterElementsUpdate(x, indices, updates, const(np.int64(0)), reduction=reduction, use_init_val=use_init_val)
    check_ir([y], [node], [random([3, 4])])


def test_ir_scatter_elements_integer_mean():
    node = parameter("x", ElementType.i32, Shape.of(5))
    y = ops.ScatterElementsUpdate(
        node.outputs[0], const(i64([0, 0, 3])), const(np.array([4, -9, 7], dtype=np.int32)), const(np.int64(0)), reduction="mean"
    )
    check_ir([y], [node], [np.array([1, 2, 3, 4, 5], dtype=np.int32)])


@pytest.mark.parametrize("reduction", ["none", "sum", "sub", "prod", "min", "max"])
def test_ir_scatter_nd_reductions(reduction):
    node, x = f32_parameter("x", 3, 2)
    indices = const(np.array([[2], [-3]], dtype=np.int32))
    y = ops.ScatterNDUpdate(x, indices, const(random([2, 2], seed=2)), reduction=reduction)
    check_ir([y], [node], [random([3, 2])])


def test_ir_reverse_sequence_other_axes():
    node, x = f32_parameter("x", 2, 3, 4)
    y = ops.ReverseSequence(x, const(np.array([4.0, 2.0, 1.0], dtype=np.float32)), batch_axis=1, seq_axis=-1)
    check_ir([y], [node], [random([2, 3, 4])])


def test_ir_slice_without_axes_i32():
    node, x = f32_parameter("x", 5, 6)
    ints = lambda values: const(np.array(values, dtype=np.int32))  # noqa: E731
    check_ir([ops.Slice(x, ints([4, 1]), ints([0, 100]), ints([-2, 2]))], [node], [random([5, 6])])


def test_ir_gather_elements_and_nd_with_i32_indices():
    node, x = f32_parameter("x", 2, 3)
    elements = ops.GatherElements(x, const(np.array([[2, 0], [-1, 1]], dtype=np.int32)), axis=1)
    nd = ops.GatherND(x, const(np.array([[1, -1], [0, 0]], dtype=np.int32)))
    check_ir([elements, nd], [node], [random([2, 3])])


# ---------------------------------------------------------------- kernels against onnxruntime


def test_kernels_match_onnxruntime():
    x = random([3, 4, 5])
    indices = np.random.default_rng(2).integers(-4, 4, [2, 3, 5])
    expected = ort_single("GatherElements", [x, indices], axis=1)
    assert compare(expected, ops.GatherElements.kernel([x, indices], {"axis": 1}), 0, 0).ok
    expected = ort_single("Gather", [x, indices], axis=1)
    assert compare(expected, ops.Gather.kernel([x, indices, i64(1)], {"batch_dims": 0}), 0, 0).ok
    nd_indices = i64([[[1, 2], [0, 0]], [[2, 3], [1, 1]], [[0, 0], [0, 3]]])
    expected = ort_single("GatherND", [x, nd_indices], batch_dims=1)
    assert compare(expected, ops.GatherND.kernel([x, nd_indices], {"batch_dims": 1}), 0, 0).ok
    starts, ends, axes, steps = i64([3, -1]), i64([0, -100]), i64([1, 2]), i64([-1, -2])
    expected = ort_single("Slice", [x, starts, ends, axes, steps])
    assert compare(expected, ops.Slice.kernel([x, starts, ends, steps, axes], {}), 0, 0).ok
    updates = random([2, 3, 5], seed=9)
    for onnx_reduction, reduction in (("add", "sum"), ("mul", "prod"), ("max", "max"), ("min", "min")):
        expected = ort_single("ScatterElements", [x, indices, updates], axis=1, reduction=onnx_reduction)
        actual = ops.ScatterElementsUpdate.kernel([x, indices, updates, i64(1)], {"reduction": reduction, "use_init_val": True})
        assert compare(expected, actual, 1e-6, 1e-6).ok, reduction
    nd_updates = random([3, 2, 5], seed=8)
    expected = ort_single("ScatterND", [x, nd_indices, nd_updates], reduction="add")
    assert compare(expected, ops.ScatterNDUpdate.kernel([x, nd_indices, nd_updates], {"reduction": "sum"}), 1e-6, 1e-6).ok
    lengths = i64([1, 3, 2, 0])
    expected = ort_single("ReverseSequence", [x[:, :4], lengths], batch_axis=1, time_axis=0)
    actual = ops.ReverseSequence.kernel([x[:, :4], lengths], {"batch_axis": 1, "seq_axis": 0})
    assert compare(expected, actual, 0, 0).ok





# ---------------------------------------------------------------- Compress / Trilu


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_compress(check_onnx, axis):
    attrs = {} if axis is None else {"axis": axis}
    model = single_op_model("Compress", [x_input(["N", 3]), ("condition", TensorProto.BOOL, ["C"])], **attrs)
    size = 3 if axis in (1, -1) else 4
    check_onnx(model, [random([4, 3]), np.arange(size) % 2 == 0])


@pytest.mark.parametrize("upper", [0, 1])
@pytest.mark.parametrize("k", [None, 0, 2, -1, -7])
@pytest.mark.parametrize("x_shape", [[4, 5], [2, 3, 3], ["B", "N", "M"]])
def test_trilu(check_onnx, upper, k, x_shape):
    inputs = [x_input(x_shape)]
    arrays = [random([2, 4, 5]) if isinstance(x_shape[0], str) else random(x_shape)]
    if k is not None:
        inputs.append(("k", TensorProto.INT64, []))
        arrays.append(np.array(k, dtype=np.int64))
    check_onnx(single_op_model("Trilu", inputs, upper=upper, opset=14), arrays)


# ---------------------------------------------------------------- StridedSlice-1 (IR only: no ONNX op maps to it)

STRIDED_CASES = [
    # begin, end, stride, begin_mask, end_mask, new_axis_mask, shrink_axis_mask, ellipsis_mask
    ([0, 1], [2, 3], [1, 1], [0, 0], [0, 0], [], [], []),
    ([1, 0, 0], [0, 0, -1], [1, 1, -2], [0, 1, 1], [1, 1, 0], [], [], []),
    ([0, 2], [0, 0], [1, 1], [0, 0], [0, 1], [1, 0], [], []),
    ([-1, 0], [0, 0], [1, 1], [0, 1], [0, 1], [], [1, 0], []),
    ([0, 1], [0, 3], [1, 1], [0, 0], [0, 0], [], [], [1, 0]),
    ([0, 0, 1], [0, 0, 2], [1, 1, 1], [0, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]),
    ([3, 1], [-100, 10], [-1, 2], [0, 0], [0, 0], [], [], []),
]


@pytest.mark.parametrize("begin,end,stride,begin_mask,end_mask,new_axis_mask,shrink_axis_mask,ellipsis_mask", STRIDED_CASES)
def test_ir_strided_slice(begin, end, stride, begin_mask, end_mask, new_axis_mask, shrink_axis_mask, ellipsis_mask):
    node, x = f32_parameter("x", 4, 5, 3)
    y = ops.StridedSlice(
        x,
        const(i64(begin)),
        const(i64(end)),
        const(i64(stride)),
        begin_mask=begin_mask,
        end_mask=end_mask,
        new_axis_mask=new_axis_mask,
        shrink_axis_mask=shrink_axis_mask,
        ellipsis_mask=ellipsis_mask,
    )
    check_ir([y], [node], [random([4, 5, 3])])


def test_ir_strided_slice_runtime_bounds():
    node, x = f32_parameter("x", 4, None)
    begin_node = parameter("begin", ElementType.i32, Shape.of(2))
    y = ops.StridedSlice(x, begin_node.outputs[0], const(i64([3, 0])), begin_mask=[0, 0], end_mask=[0, 1], shrink_axis_mask=[1, 0])
    assert y.shape.dims == (None,)
    check_ir([y], [node, begin_node], [random([4, 6]), np.array([-1, 2], dtype=np.int32)])


# ------------------------------------------------------------------ TensorScatter


@pytest.mark.parametrize("mode", ["linear", "circular"])
@pytest.mark.parametrize("axis", [-2, 1])
@pytest.mark.parametrize("with_indices", [True, False])
def test_tensor_scatter(tmp_path, mode: str, axis: int, with_indices: bool) -> None:
    """Against ONNX's reference: a [B, H, S, D] cache, a 3-long update, per-batch write positions
    (circular: wrapping past the cache's end), the batch dynamic."""
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    from converter import convert_model, save_model
    from converter.validate import run_ir
    from models import model_of

    rng = np.random.default_rng(3)
    cache_shape = [2, 3, 5, 4]
    update_shape = list(cache_shape)
    update_shape[axis] = 3
    past = rng.normal(size=cache_shape).astype(np.float32)
    update = rng.normal(size=update_shape).astype(np.float32)
    starts = np.array([1, 4 if mode == "circular" else 2], dtype=np.int64)
    if axis == 1 and mode == "linear":
        starts = np.array([0, 0], dtype=np.int64)  # 3 + 3 > 3 heads would run off the axis
    names = ["past", "update"] + (["write_indices"] if with_indices else [])
    inputs = [("past", TensorProto.FLOAT, [None, *cache_shape[1:]]), ("update", TensorProto.FLOAT, [None, *update_shape[1:]])]
    if with_indices:
        inputs.append(("write_indices", TensorProto.INT64, [None]))
    node = helper.make_node("TensorScatter", names, ["y"], mode=mode, axis=axis)
    model = model_of([node], inputs, ("y",), opset=24)
    feeds = [past, update] + ([starts] if with_indices else [])
    expected = ReferenceEvaluator(model).run(None, dict(zip(names, feeds)))
    save_model(convert_model(model), tmp_path / "m.xml")
    for backend in ("openvino", "onnxruntime"):
        np.testing.assert_array_equal(run_ir(tmp_path / "m.xml", feeds, backend)[0], expected[0])
