"""ONNX shape ops → IR Reshape/Transpose/Squeeze/Unsqueeze/Concat/Split/Broadcast/Tile/Pad/...;
the IR ops' kernels and their own ONNX lowerings (IR read back from disk runs in onnxruntime)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter.errors import NodeConversionError
from converter.frontends import onnx as onnx_frontend
from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, Shape
from converter.ops import shape as ops
from converter.ops.core import const, parameter
from converter.runtime import execute
from converter.validate import compare

FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64


def single_op_model(
    op: str,
    inputs: Sequence[tuple[str, int, list | None]],
    outputs: int = 1,
    opset: int = 21,
    initializers: dict[str, np.ndarray] | None = None,
    out_type: int = FLOAT,
    **attrs,
) -> onnx.ModelProto:
    """One node reading graph inputs (name, type, shape) and initializers; outputs y0, y1, ..."""
    initializers = initializers or {}
    input_names = [name for name, _, _ in inputs] + list(initializers)
    order = attrs.pop("input_order", None)
    node = helper.make_node(op, order or input_names, [f"y{i}" for i in range(outputs)], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(name, dtype, shape) for name, dtype, shape in inputs],
        [helper.make_tensor_value_info(f"y{i}", out_type, None) for i in range(outputs)],
        [numpy_helper.from_array(array, name) for name, array in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8 if opset < 21 else 10
    return model


def x_input(shape: list | None, name: str = "x", dtype: int = FLOAT) -> tuple[str, int, list | None]:
    return (name, dtype, shape)


def i64(values) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def random(shape: Sequence[int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- Reshape / Flatten


@pytest.mark.parametrize(
    "x_shape,target,allowzero",
    [
        ([2, 3, 4], [4, 6], 0),
        ([2, 3, 4], [0, -1], 0),
        (["N", 3, 4], [0, 12], 0),
        (["N", 3, 4], [-1, 4], 0),
        ([2, 3, 4], [3, 8], 1),
        ([0, 3, 4], [3, 4, 0], 1),
        (["N", "C", 4], [0, 0, 2, 2], 0),
    ],
)
def test_reshape(check_onnx, x_shape, target, allowzero):
    model = single_op_model("Reshape", [x_input(x_shape)], initializers={"shape": i64(target)}, allowzero=allowzero)
    inputs = [random([d if isinstance(d, int) else 2 for d in x_shape])]
    check_onnx(model, inputs)


def test_reshape_with_runtime_target(check_onnx):
    model = single_op_model("Reshape", [x_input(["N", 6]), ("shape", INT64, [3])])
    check_onnx(model, [random([4, 6]), i64([2, 3, -1])])


def test_reshape_before_opset_14(check_onnx):
    model = single_op_model("Reshape", [x_input([2, 3, 4])], opset=13, initializers={"shape": i64([0, -1])})
    check_onnx(model)


@pytest.mark.parametrize("axis", [0, 1, 2, 3, 4, -1, -3])
@pytest.mark.parametrize("x_shape", [[2, 3, 4, 5], ["N", 3, 4, 5], ["N", 3, "H", 5], [2, "C", 4, "W"]])
def test_flatten(check_onnx, axis, x_shape):
    model = single_op_model("Flatten", [x_input(x_shape)], opset=13, axis=axis)
    check_onnx(model, [random([d if isinstance(d, int) else 3 for d in x_shape])])


def test_flatten_default_axis_opset_9(check_onnx):
    check_onnx(single_op_model("Flatten", [x_input(["N", 2, 3])], opset=9))


# ---------------------------------------------------------------- Transpose / Squeeze / Unsqueeze / Concat


@pytest.mark.parametrize("perm", [None, [0, 2, 1, 3], [3, 0, 1, 2], [1, 0, 3, 2]])
def test_transpose(check_onnx, perm):
    attrs = {} if perm is None else {"perm": perm}
    check_onnx(single_op_model("Transpose", [x_input(["N", 3, 4, 5])], **attrs), [random([2, 3, 4, 5])])


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axes", [None, [1], [-1], [1, 3], [3, -3]])
def test_squeeze(check_onnx, opset, axes):
    shape = ["N", 1, 4, 1]
    if axes is None:
        model = single_op_model("Squeeze", [x_input([2, 1, 4, 1])], opset=opset)
    elif opset < 13:
        model = single_op_model("Squeeze", [x_input(shape)], opset=opset, axes=axes)
    else:
        model = single_op_model("Squeeze", [x_input(shape)], opset=opset, initializers={"axes": i64(axes)})
    check_onnx(model, [random([2, 1, 4, 1])])


def test_squeeze_without_axes_rejects_dynamic_dims():
    model = single_op_model("Squeeze", [x_input(["N", 1, 3])], opset=13)
    with pytest.raises(NodeConversionError, match="dynamic"):
        onnx_frontend.convert(model)


def test_squeeze_rejects_axis_that_is_not_one():
    model = single_op_model("Squeeze", [x_input([2, 3])], initializers={"axes": i64([1])})
    with pytest.raises(NodeConversionError, match="not 1"):
        onnx_frontend.convert(model)


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axes", [[0], [-1], [1, 3], [4, 0, 2], [-5, -1]])
def test_unsqueeze(check_onnx, opset, axes):
    if opset < 13:
        model = single_op_model("Unsqueeze", [x_input(["N", 4, 5])], opset=opset, axes=axes)
    else:
        model = single_op_model("Unsqueeze", [x_input(["N", 4, 5])], opset=opset, initializers={"axes": i64(axes)})
    check_onnx(model, [random([2, 4, 5])])


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_concat(check_onnx, axis):
    shapes = [[2, 3], [2, 3], [2, 3]]
    inputs = [x_input(["N", 3] if i == 0 else s, f"x{i}") for i, s in enumerate(shapes)]
    check_onnx(single_op_model("Concat", inputs, axis=axis), [random(s, i) for i, s in enumerate(shapes)])


def test_concat_of_shapes_feeds_reshape(check_onnx):
    """The exporter pattern Shape → Gather → Unsqueeze → Concat → Reshape, with a dynamic batch."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus_one"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", FLOAT, ["N", 3, 4])],
        [helper.make_tensor_value_info("y", FLOAT, None)],
        [
            numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
            numpy_helper.from_array(i64([0]), "axes0"),
            numpy_helper.from_array(i64([-1]), "minus_one"),
        ],
    )
    check_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), [random([5, 3, 4])])


# ---------------------------------------------------------------- Split


@pytest.mark.parametrize(
    "opset,x_shape,axis,split,outputs",
    [
        (11, [6, 4], 0, None, 3),
        (11, [6, 4], 0, [1, 5], 2),
        (11, ["N", 6], -1, [2, 2, 2], 3),
        (13, [6, 4], 1, None, 2),
        (13, ["N", 6], 1, [4, 2], 2),
        (18, [6, 4], 0, [2, 4], 2),
    ],
)
def test_split(check_onnx, opset, x_shape, axis, split, outputs):
    if split is not None and opset < 13:
        model = single_op_model("Split", [x_input(x_shape)], outputs, opset, axis=axis, split=split)
    elif split is not None:
        model = single_op_model("Split", [x_input(x_shape)], outputs, opset, initializers={"split": i64(split)}, axis=axis)
    else:
        model = single_op_model("Split", [x_input(x_shape)], outputs, opset, axis=axis)
    check_onnx(model, [random([6 if isinstance(d, str) else d for d in x_shape])])


@pytest.mark.parametrize("size,outputs", [(7, 3), (8, 3), (6, 3), (4, 3)])
@pytest.mark.parametrize("dynamic", [False, True])
def test_split_num_outputs_uneven(check_onnx, size, outputs, dynamic):
    model = single_op_model("Split", [x_input([2, "L" if dynamic else size])], outputs, 18, axis=1, num_outputs=outputs)
    check_onnx(model, [random([2, size])])


def test_split_runtime_lengths(check_onnx):
    model = single_op_model("Split", [x_input([6, 2]), ("split", INT64, [2])], 2, 13)
    check_onnx(model, [random([6, 2]), i64([4, 2])])


# ---------------------------------------------------------------- Expand / Tile


@pytest.mark.parametrize(
    "x_shape,target",
    [([3, 1], [2, 3, 4]), ([3, 1], [1, 1]), (["N", 1], [3, 4]), ([1], [2, 2])],
)
def test_expand(check_onnx, x_shape, target):
    model = single_op_model("Expand", [x_input(x_shape)], initializers={"shape": i64(target)})
    check_onnx(model, [random([3 if isinstance(d, str) else d for d in x_shape])])


def test_expand_runtime_shape(check_onnx):
    model = single_op_model("Expand", [x_input([3, 1]), ("shape", INT64, [3])])
    check_onnx(model, [random([3, 1]), i64([2, 1, 5])])


@pytest.mark.parametrize("repeats", [[1, 2, 3], [2, 2, 2], [3, 1, 1]])
@pytest.mark.parametrize("runtime", [False, True])
def test_tile(check_onnx, repeats, runtime):
    if runtime:
        model = single_op_model("Tile", [x_input(["N", 3, 4]), ("repeats", INT64, [3])])
        check_onnx(model, [random([2, 3, 4]), i64(repeats)])
    else:
        model = single_op_model("Tile", [x_input(["N", 3, 4])], initializers={"repeats": i64(repeats)})
        check_onnx(model, [random([2, 3, 4])])


# ---------------------------------------------------------------- Pad


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge", "wrap"])
@pytest.mark.parametrize("pads", [[0, 1, 2, 0, 2, 1], [1, 0, 0, 0, 0, 3], [0, -1, 1, 0, 2, -1]])
def test_pad(check_onnx, mode, pads):
    model = single_op_model("Pad", [x_input(["N", 4, 5])], opset=19, initializers={"pads": i64(pads)}, mode=mode)
    check_onnx(model, [random([2, 4, 5])])


def test_pad_wrap_wider_than_the_input(check_onnx):
    model = single_op_model("Pad", [x_input([2, "W"])], opset=19, initializers={"pads": i64([0, 5, 0, 7])}, mode="wrap")
    check_onnx(model, [random([2, 3])])


def test_pad_constant_value_and_axes(check_onnx):
    model = single_op_model(
        "Pad",
        [x_input(["N", 4, 5])],
        opset=18,
        initializers={"pads": i64([1, 2, 0, 3]), "value": np.array(1.5, dtype=np.float32), "axes": i64([-1, 0])},
    )
    check_onnx(model, [random([2, 4, 5])])


def test_pad_runtime_pads_and_value(check_onnx):
    model = single_op_model("Pad", [x_input([2, 4]), ("pads", INT64, [4]), ("value", FLOAT, [])], opset=13)
    check_onnx(model, [random([2, 4]), i64([1, 0, 2, 3]), np.array(-2.0, dtype=np.float32)])


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
def test_pad_before_opset_11(check_onnx, mode):
    model = single_op_model("Pad", [x_input([2, 4, 5])], opset=10, pads=[0, 1, 2, 0, 1, 1], mode=mode, value=0.5)
    check_onnx(model)


# ---------------------------------------------------------------- DepthToSpace / SpaceToDepth / Shape / Size


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_to_space(check_onnx, mode):
    model = single_op_model("DepthToSpace", [x_input(["N", 8, 2, 3])], opset=13, blocksize=2, mode=mode)
    check_onnx(model, [random([2, 8, 2, 3])])


def test_space_to_depth(check_onnx):
    model = single_op_model("SpaceToDepth", [x_input(["N", 2, 4, 6])], opset=13, blocksize=2)
    check_onnx(model, [random([1, 2, 4, 6])])


@pytest.mark.parametrize("start,end", [(0, None), (1, None), (-1, None), (0, -1), (1, 3), (-10, 10), (3, 1)])
def test_shape(check_onnx, start, end):
    attrs = {"start": start} | ({} if end is None else {"end": end})
    model = single_op_model("Shape", [x_input(["N", 3, "H", 5])], opset=15, out_type=INT64, **attrs)
    check_onnx(model, [random([2, 3, 4, 5])])


@pytest.mark.parametrize("x_shape", [[2, 3, 4], ["N", 3, "H"]])
def test_size(check_onnx, x_shape):
    check_onnx(single_op_model("Size", [x_input(x_shape)], opset=13, out_type=INT64), [random([2, 3, 4])])


# ---------------------------------------------------------------- IR ops directly: kernel vs OpenVINO vs ONNX lowering


def reference(graph: Graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Evaluate a graph with the ops' numpy kernels."""
    values: dict[int, np.ndarray] = {}
    for parameter_node, array in zip(graph.parameters, inputs):
        values[id(parameter_node.outputs[0])] = array
    for node in graph.nodes():
        if node.op.type == "Parameter":
            continue
        assert node.op.kernel is not None, node
        results = node.op.kernel([values[id(v)] for v in node.inputs], node.attrs)
        for value, array in zip(node.outputs, results):
            values[id(value)] = np.asarray(array)
    return [values[id(v)] for v in graph.outputs]


def check_ir(outputs: list[Value], parameters: list, inputs: list[np.ndarray]) -> None:
    graph = Graph(parameters, outputs)
    expected = reference(graph, inputs)
    for value, array in zip(outputs, expected):
        dims = value.shape.dims
        if dims is not None:
            assert len(dims) == array.ndim and all(d in (None, a) for d, a in zip(dims, array.shape)), (value, array.shape)
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, execute(graph, inputs, backend), 1e-5, 1e-6)
        assert result.ok, f"{backend}: {result.detail}"


def f32_parameter(name: str, *dims: int | None) -> tuple:
    node = parameter(name, ElementType.f32, Shape(tuple(dims)))
    return node, node.outputs[0]


@pytest.mark.parametrize("axes", [[1], [0, 1], [-1], [0, 2], []])
def test_ir_squeeze_keeps_axes_that_are_not_one(axes):
    node, x = f32_parameter("x", 2, 1, 3)
    check_ir([ops.Squeeze(x, const(i64(axes)))], [node], [random([2, 1, 3])])


def test_ir_squeeze_dynamic_listed_axis():
    node, x = f32_parameter("x", None, None, 3)
    check_ir([ops.Squeeze(x, const(i64([1])))], [node], [random([2, 1, 3])])


def test_ir_squeeze_without_axes_dynamic_runs_in_onnxruntime():
    """OpenVINO's CPU plugin rejects the dynamic-rank output; the lowering computes it."""
    node, x = f32_parameter("x", None, 1, None)
    graph = Graph([node], [ops.Squeeze(x)])
    for shape in ([1, 1, 3], [2, 1, 1]):
        inputs = [random(shape)]
        assert compare([np.squeeze(inputs[0])], execute(graph, inputs, "onnxruntime"), 0, 0).ok


def test_ir_squeeze_runtime_axes():
    node, x = f32_parameter("x", 2, 1, 3)
    axes_node = parameter("axes", ElementType.i64, Shape.of(2))
    y = ops.Squeeze(x, axes_node.outputs[0])
    graph = Graph([node, axes_node], [y])
    inputs = [random([2, 1, 3]), i64([-2, 0])]
    expected = reference(graph, inputs)
    assert expected[0].shape == (2, 3)
    result = compare(expected, execute(graph, inputs, "onnxruntime"), 0, 0)
    assert result.ok, result.detail


def test_ir_transpose_with_runtime_order():
    node, x = f32_parameter("x", 2, 3, 4)
    order_node = parameter("order", ElementType.i64, Shape.of(3))
    graph = Graph([node, order_node], [ops.Transpose(x, order_node.outputs[0])])
    for order in ([2, 0, 1], [0, 2, 1], [1, 0, 2]):
        inputs = [random([2, 3, 4]), i64(order)]
        expected = [np.transpose(inputs[0], order)]
        assert compare(expected, reference(graph, inputs), 0, 0).ok
        assert compare(expected, execute(graph, inputs, "onnxruntime"), 0, 0).ok


def test_ir_transpose_empty_order_reverses():
    node, x = f32_parameter("x", 2, 3, 4)
    check_ir([ops.Transpose(x, const(np.array([], dtype=np.int64)))], [node], [random([2, 3, 4])])


@pytest.mark.parametrize("lengths", [[1, -1, 2], [-1], [2, 0, 3]])
def test_ir_variadic_split(lengths):
    node, x = f32_parameter("x", 3, None)
    outputs = ops.VariadicSplit.node(x, const(np.int64(-1)), const(np.array(lengths, dtype=np.int32))).outputs
    check_ir(outputs, [node], [random([3, 5])])


def test_ir_split_i32_axis():
    node, x = f32_parameter("x", 4, 6)
    check_ir(ops.Split.node(x, const(np.int32(1)), num_splits=3).outputs, [node], [random([4, 6])])


@pytest.mark.parametrize("mode", ["numpy", "bidirectional"])
def test_ir_broadcast(mode):
    node, x = f32_parameter("x", 3, 1)
    check_ir([ops.Broadcast(x, const(i64([2, 3, 4])), mode=mode)], [node], [random([3, 1])])


def test_ir_broadcast_explicit():
    node, x = f32_parameter("x", 3)
    y = ops.Broadcast(x, const(i64([2, 3, 4])), const(i64([1])), mode="explicit")
    check_ir([y], [node], [random([3])])


@pytest.mark.parametrize("repeats", [[2], [2, 1, 3], [2, 1, 1, 2]])
def test_ir_tile_repeats_of_another_length(repeats):
    node, x = f32_parameter("x", 2, 3, 4)
    check_ir([ops.Tile(x, const(i64(repeats)))], [node], [random([2, 3, 4])])


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_ir_pad_modes(mode):
    node, x = f32_parameter("x", 3, 4)
    check_ir([ops.Pad(x, const(i64([1, -1])), const(i64([2, 1])), pad_mode=mode)], [node], [random([3, 4])])


def test_ir_pad_value_and_i32_pads():
    node, x = f32_parameter("x", 3, 4)
    pads = const(np.array([1, 2], dtype=np.int32))
    check_ir([ops.Pad(x, pads, pads, const(np.float32(7.0)), pad_mode="constant")], [node], [random([3, 4])])


@pytest.mark.parametrize("mode", ["blocks_first", "depth_first"])
@pytest.mark.parametrize("shape", [[1, 8, 2, 3], [2, 16, 2, 1, 3], [1, 6, 4]])
def test_ir_depth_to_space(mode, shape):
    block = 2
    node, x = f32_parameter("x", *shape)
    if shape[1] % block ** (len(shape) - 2):
        pytest.skip("channels do not divide")
    check_ir([ops.DepthToSpace(x, block_size=block, mode=mode)], [node], [random(shape)])


@pytest.mark.parametrize("mode", ["blocks_first", "depth_first"])
@pytest.mark.parametrize("shape", [[1, 2, 4, 6], [2, 3, 2, 4, 2], [1, 3, 4]])
def test_ir_space_to_depth(mode, shape):
    node, x = f32_parameter("x", *shape)
    check_ir([ops.SpaceToDepth(x, block_size=2, mode=mode)], [node], [random(shape)])


def test_ir_space_to_depth_dynamic():
    node, x = f32_parameter("x", None, 2, None, None)
    check_ir([ops.SpaceToDepth(x, block_size=2, mode="depth_first")], [node], [random([1, 2, 4, 6])])


def test_ir_reshape_special_zero_false_keeps_zero():
    node, x = f32_parameter("x", 0, 3)
    check_ir([ops.Reshape(x, const(i64([3, 0])), special_zero=False)], [node], [random([0, 3])])


def test_ir_unsqueeze_runtime_axes_rank_is_known():
    node, x = f32_parameter("x", 2, 3)
    axes_node = parameter("axes", ElementType.i64, Shape.of(2))
    y = ops.Unsqueeze(x, axes_node.outputs[0])
    assert y.shape.rank == 4


# ---------------------------------------------------------------- kernels against onnxruntime


def ort_single(op: str, arrays: list[np.ndarray], outputs: int = 1, opset: int = 21, **attrs) -> list[np.ndarray]:
    from converter.validate import run_onnxruntime

    names = [f"in{i}" for i in range(len(arrays))]
    node = helper.make_node(op, names, [f"out{i}" for i in range(outputs)], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape) for n, a in zip(names, arrays)],
        [helper.make_tensor_value_info(f"out{i}", helper.np_dtype_to_tensor_dtype(arrays[0].dtype), None) for i in range(outputs)],
    )
    return run_onnxruntime(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), arrays)


def test_kernels_match_onnxruntime():
    x = random([2, 3, 4, 5])
    cases = [
        (ops.Reshape, [x, i64([6, -1])], {"special_zero": False}, "Reshape", {"allowzero": 1}),
        (ops.Transpose, [x, i64([3, 1, 0, 2])], {}, "Transpose", {"perm": [3, 1, 0, 2]}),
        (ops.Tile, [x, i64([1, 2, 1, 3])], {}, "Tile", {}),
        (ops.Broadcast, [random([3, 1, 5]), i64([2, 1, 4, 1])], {"mode": "bidirectional"}, "Expand", {}),
        (ops.Concat, [x, x], {"axis": -2}, "Concat", {"axis": -2}),
    ]
    for spec, arrays, attrs, onnx_op, onnx_attrs in cases:
        onnx_arrays = arrays[:1] if onnx_op in ("Transpose", "Concat") else arrays
        if onnx_op == "Concat":
            onnx_arrays = arrays
        expected = ort_single(onnx_op, onnx_arrays, **onnx_attrs)
        assert compare(expected, spec.kernel(arrays, attrs), 0, 0).ok, spec
    pads = i64([0, 1, 2, 0, 1, 0, 0, 2])
    for mode in ("constant", "reflect", "edge"):
        expected = ort_single("Pad", [x, pads], mode=mode)
        actual = ops.Pad.kernel([x, pads[:4], pads[4:]], {"pad_mode": mode})
        assert compare(expected, actual, 0, 0).ok, mode
    for mode, onnx_mode in (("blocks_first", "DCR"), ("depth_first", "CRD")):
        data = random([2, 8, 3, 2])
        expected = ort_single("DepthToSpace", [data], blocksize=2, mode=onnx_mode)
        assert compare(expected, ops.DepthToSpace.kernel([data], {"block_size": 2, "mode": mode}), 0, 0).ok
    data = random([2, 2, 4, 6])
    expected = ort_single("SpaceToDepth", [data], blocksize=2)
    assert compare(expected, ops.SpaceToDepth.kernel([data], {"block_size": 2, "mode": "blocks_first"}), 0, 0).ok
    expected = ort_single("Split", [x, i64([1, 3])], outputs=2, axis=2)
    assert compare(expected, ops.VariadicSplit.kernel([x, i64(2), i64([1, -1])], {}), 0, 0).ok


# ---------------------------------------------------------------- run-time operands OpenVINO cannot take as they are


@pytest.mark.parametrize("axes", [[0], [-1], [3, 1], [-4, 2]])
def test_unsqueeze_runtime_axes(check_onnx, axes):
    """A Reshape to a computed shape: OpenVINO's CPU plugin cannot run a dynamic-rank Unsqueeze."""
    model = single_op_model("Unsqueeze", [x_input(["N", 4]), ("axes", INT64, [len(axes)])], opset=13)
    check_onnx(model, [random([3, 4]), i64(axes)])


@pytest.mark.parametrize("pads", [[0, 1, 2, 3], [1, 0, 0, 7], [0, -1, 2, 1], [-1, 2, 0, -2]])
def test_pad_wrap_runtime_pads(check_onnx, pads):
    model = single_op_model("Pad", [x_input([2, "W"]), ("pads", INT64, [4])], opset=19, mode="wrap")
    check_onnx(model, [random([2, 3]), i64(pads)])


def test_pad_runtime_pads_and_axes(check_onnx):
    inputs = [x_input(["N", 4, 5]), ("pads", INT64, [4]), ("axes", INT64, [2])]
    model = single_op_model("Pad", inputs, opset=18, mode="edge", input_order=["x", "pads", "", "axes"])
    check_onnx(model, [random([2, 4, 5]), i64([1, 0, 2, 3]), i64([-1, 0])])


def test_flatten_unknown_rank(check_onnx):
    """OpenVINO's CPU plugin takes no input of unknown rank; the IR still runs through the lowering."""
    model = single_op_model("Flatten", [x_input(None)], opset=13, axis=2)
    check_onnx(model, [random([2, 3, 4, 5])], backends=("onnxruntime",))
