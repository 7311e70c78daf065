"""ONNX normalizations → IR BatchNormInference-5, MVN-6, GroupNormalization-12, NormalizeL2-1, LRN-1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter import convert_model, save_model
from converter.errors import NodeConversionError
from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops import normalization as ops
from converter.ops.core import const, parameter
from converter.validate import compare, run_ir, run_onnxruntime

FLOAT = TensorProto.FLOAT


def model_of(
    op: str,
    inputs: list[tuple[str, list | None]],
    constants: dict[str, np.ndarray] | None = None,
    outputs: list[str] | None = None,
    opset: int = 22,
    dtype: int = FLOAT,
    **attrs,
) -> onnx.ModelProto:
    """One node; `inputs` are (name, shape) graph inputs, `constants` become initializers."""
    constants = constants or {}
    outputs = outputs or ["y"]
    names = [n for n, _ in inputs] + list(constants)
    order = attrs.pop("order", names)
    node = helper.make_node(op, order, outputs, **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, dtype, s) for n, s in inputs],
        [helper.make_tensor_value_info(o, dtype if i == 0 else FLOAT, None) for i, o in enumerate(outputs) if o],
        [numpy_helper.from_array(a, n) for n, a in constants.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def stats(channels: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "scale": rng.standard_normal(channels).astype(np.float32),
        "bias": rng.standard_normal(channels).astype(np.float32),
        "mean": rng.standard_normal(channels).astype(np.float32),
        "var": rng.random(channels).astype(np.float32) + 0.5,
    }


@pytest.mark.parametrize("x_shape", [[2, 3], [2, 3, 5], ["N", 3, 4, 5], [1, 3, 2, 3, 4]])
@pytest.mark.parametrize("opset", [7, 9, 15])
def test_batch_norm(check_onnx, x_shape, opset):
    model = model_of("BatchNormalization", [("x", x_shape)], stats(3), opset=opset, epsilon=1e-3)
    check_onnx(model)


def test_batch_norm_statistics_as_inputs(check_onnx):
    names = [("x", [2, 3, 4, 4]), ("scale", [3]), ("bias", [3]), ("mean", [3]), ("var", [3])]
    model = model_of("BatchNormalization", names)
    inputs = list(stats(3).values())
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 4)).astype(np.float32)
    check_onnx(model, [x, *inputs])


@pytest.mark.parametrize("constant", [False, True])
def test_batch_norm_per_activation(check_onnx, constant):
    rng = np.random.default_rng(0)
    arrays = {k: (rng.random((3, 4, 2)) + 0.5).astype(np.float32) for k in ("scale", "bias", "mean", "var")}
    if constant:
        model = model_of("BatchNormalization", [("x", [2, 3, 4, 2])], arrays, opset=7, spatial=0)
        check_onnx(model)
    else:
        model = model_of("BatchNormalization", [("x", [2, 3, 4, 2])] + [(k, [3, 4, 2]) for k in arrays], opset=7, spatial=0)
        check_onnx(model, [rng.standard_normal((2, 3, 4, 2)).astype(np.float32), *arrays.values()])


def test_batch_norm_training_mode(check_onnx):
    outputs = ["y", "running_mean", "running_var"]
    model = model_of("BatchNormalization", [("x", [4, 3, 2, 5])], stats(3), outputs=outputs, opset=15, training_mode=1, momentum=0.8)
    check_onnx(model, atol=1e-4)


def test_batch_norm_training_outputs_of_old_opsets_rejected():
    model = model_of("BatchNormalization", [("x", [4, 3, 2, 5])], stats(3), outputs=["y", "m", "v"], opset=9)
    with pytest.raises(NodeConversionError, match="training outputs"):
        convert_model(model)


def test_batch_norm_fp16_data_fp32_statistics(check_onnx):
    model = model_of("BatchNormalization", [("x", [2, 3, 4])], stats(3), opset=15, dtype=TensorProto.FLOAT16)
    check_onnx(model, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("x_shape", [[2, 3, 5], ["N", 3, 4, 5], [1, 3, 2, 3, 4]])
def test_instance_norm(check_onnx, x_shape):
    constants = {k: v for k, v in stats(3).items() if k in ("scale", "bias")}
    check_onnx(model_of("InstanceNormalization", [("x", x_shape)], constants, epsilon=1e-2), atol=1e-4)


def test_instance_norm_scale_as_input(check_onnx):
    model = model_of("InstanceNormalization", [("x", [2, 3, 4, 4]), ("scale", [3]), ("bias", [3])])
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 4, 4), (3,), (3,))]
    check_onnx(model, inputs, atol=1e-4)


LAYER_NORM_CASES = [
    ([2, 3, 4], -1),
    ([2, 3, 4], 1),
    ([2, 3, 4], 0),
    ([2, 3, 4, 5], -2),
    (["B", "S", 8], -1),
    (["B", "S", 8], 2),
]


@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("x_shape,axis", LAYER_NORM_CASES, ids=[f"{s}-{a}" for s, a in LAYER_NORM_CASES])
def test_layer_norm(check_onnx, x_shape, axis, with_bias):
    rank = len(x_shape)
    normalized = x_shape[axis if axis >= 0 else axis + rank :]
    rng = np.random.default_rng(0)
    constants = {"scale": rng.standard_normal(normalized).astype(np.float32)}
    if with_bias:
        constants["bias"] = rng.standard_normal(normalized).astype(np.float32)
    check_onnx(model_of("LayerNormalization", [("x", x_shape)], constants, opset=17, axis=axis, epsilon=1e-3), atol=1e-4)


@pytest.mark.parametrize("axis", [-1, 1])
def test_layer_norm_mean_and_inverse_deviation(check_onnx, axis):
    constants = {"scale": np.full([3, 4][axis if axis == -1 else 0 :], 1.5, np.float32)}
    model = model_of("LayerNormalization", [("x", [2, 3, 4])], constants, outputs=["y", "mean", "inv_std"], opset=17, axis=axis)
    check_onnx(model, atol=1e-4)


def test_layer_norm_fp16_stash_float(check_onnx):
    constants = {"scale": np.ones(8, np.float16), "bias": np.zeros(8, np.float16)}
    model = model_of("LayerNormalization", [("x", [2, 8])], constants, opset=17, dtype=TensorProto.FLOAT16)
    check_onnx(model, rtol=1e-2, atol=1e-2)


def test_layer_norm_unknown_rank_negative_axis(check_onnx):
    model = model_of("LayerNormalization", [("x", None)], {"scale": np.full(4, 2.0, np.float32)}, opset=17, axis=-1)
    data = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    check_onnx(model, [data], atol=1e-4, backends=("onnxruntime",))  # OpenVINO's CPU plugin rejects unknown-rank inputs


@pytest.mark.parametrize("x_shape,axis", [([2, 3, 8], -1), ([2, 3, 4, 5], 1), (["B", "S", 8], -1), ([2, 3, 4], -3)])
def test_rms_norm(check_onnx, x_shape, axis):
    rank = len(x_shape)
    scale = np.random.default_rng(0).standard_normal(x_shape[axis % rank :]).astype(np.float32)
    check_onnx(model_of("RMSNormalization", [("x", x_shape)], {"scale": scale}, opset=23, axis=axis, epsilon=1e-3), atol=1e-4)


def test_rms_norm_fp16(check_onnx):
    model = model_of("RMSNormalization", [("x", [2, 8])], {"scale": np.full(8, 0.5, np.float16)}, opset=23, dtype=TensorProto.FLOAT16)
    check_onnx(model, rtol=1e-2, atol=1e-2)


def test_layer_norm_axis_out_of_range_rejected():
    with pytest.raises(NodeConversionError, match="out of range"):
        convert_model(model_of("LayerNormalization", [("x", [2, 3])], {"scale": np.ones(3, np.float32)}, opset=17, axis=2))


@pytest.mark.parametrize("opset", [18, 21])
@pytest.mark.parametrize("x_shape,groups", [([2, 4, 3, 3], 2), ([1, 6, 5], 3), ([2, 4, 2, 2], 4), ([1, 4, 2, 2], 1)])
def test_group_norm(check_onnx, opset, x_shape, groups):
    rng = np.random.default_rng(0)
    length = groups if opset < 21 else x_shape[1]
    constants = {"scale": rng.standard_normal(length).astype(np.float32), "bias": rng.standard_normal(length).astype(np.float32)}
    check_onnx(model_of("GroupNormalization", [("x", x_shape)], constants, opset=opset, num_groups=groups, epsilon=1e-3), atol=1e-4)


@pytest.mark.parametrize("opset", [18, 21])
def test_group_norm_scale_as_input(check_onnx, opset):
    length = 2 if opset < 21 else 4
    model = model_of("GroupNormalization", [("x", [2, 4, 3]), ("scale", [length]), ("bias", [length])], opset=opset, num_groups=2)
    rng = np.random.default_rng(0)
    check_onnx(model, [rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 3), (length,), (length,))], atol=1e-4)


@pytest.mark.parametrize("axes", [None, [0, 2, 3], [1], [2, 3], [-1]])
def test_mean_variance_normalization(check_onnx, axes):
    attrs = {} if axes is None else {"axes": axes}
    check_onnx(model_of("MeanVarianceNormalization", [("x", [2, 3, 4, 5])], opset=13, **attrs), atol=1e-4)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_lp_normalization(check_onnx, p, axis):
    check_onnx(model_of("LpNormalization", [("x", [3, 4, 5])], p=p, axis=axis))


def numpy_lrn(x: np.ndarray, size: int, alpha: float, beta: float, bias: float) -> np.ndarray:
    """The ONNX spec: squares summed over channels [c - (size-1)//2, c + ceil((size-1)/2)]."""
    squares = x.astype(np.float64) ** 2
    total = np.zeros_like(squares)
    before, after = (size - 1) // 2, size // 2
    for c in range(x.shape[1]):
        total[:, c] = squares[:, max(0, c - before) : c + after + 1].sum(axis=1)
    return (x / (bias + alpha / size * total) ** beta).astype(x.dtype)


def test_numpy_lrn_agrees_with_onnxruntime():
    data = np.random.default_rng(0).standard_normal((2, 7, 3, 3)).astype(np.float32)
    model = model_of("LRN", [("x", [2, 7, 3, 3])], opset=13, size=3, alpha=0.2, beta=0.6, bias=1.5)
    np.testing.assert_allclose(run_onnxruntime(model, [data])[0], numpy_lrn(data, 3, 0.2, 0.6, 1.5), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bias", [1.0, 1.5])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("x_shape", [[2, 7, 3, 3], [1, 6, 4], [2, 5]])
def test_lrn(tmp_path, size, x_shape, bias):
    """Against numpy: onnxruntime only has odd sizes on 4-D inputs (and agrees with numpy_lrn there)."""
    model = model_of("LRN", [("x", x_shape)], opset=13, size=size, alpha=0.2, beta=0.6, bias=bias)
    data = np.random.default_rng(0).standard_normal(x_shape).astype(np.float32)
    expected = [numpy_lrn(data, size, alpha=0.2, beta=0.6, bias=bias)]
    save_model(convert_model(model), tmp_path / "model.xml")
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, run_ir(tmp_path / "model.xml", [data], backend), 1e-4, 1e-5)
        assert result.ok, f"{backend}: {result.detail}"


def test_lrn_dynamic_batch(check_onnx):
    check_onnx(model_of("LRN", [("x", ["N", 5, 2, 3])], opset=13, size=3, alpha=0.2, beta=0.6, bias=2.0))


# ---------------------------------------------------------------- kernels and lowerings


def run_both(graph: Graph, inputs: list[np.ndarray], tmp_path: Path, expected: list[np.ndarray] | None = None) -> None:
    path = tmp_path / "model.xml"
    save_model(graph, path)
    reference = run_ir(path, inputs, "openvino")
    if expected is not None:
        result = compare(expected, reference, 1e-4, 1e-4)
        assert result.ok, f"kernel vs openvino: {result.detail}"
    result = compare(reference, run_ir(path, inputs, "onnxruntime"), 1e-4, 1e-5)
    assert result.ok, f"lowering vs openvino: {result.detail}"


@pytest.mark.parametrize("eps_mode", ["inside_sqrt", "outside_sqrt"])
@pytest.mark.parametrize("normalize_variance", [False, True])
@pytest.mark.parametrize("axes", [[1], [-2, -1], [0, 2, 3]])
def test_mvn_kernel_and_lowering(tmp_path, eps_mode, normalize_variance, axes):
    data = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    x = parameter("x", ElementType.f32, Shape(data.shape))
    attrs = dict(normalize_variance=normalize_variance, eps=1e-3, eps_mode=eps_mode)
    y = ops.MVN(x.outputs[0], const(np.array(axes, np.int64)), **attrs)
    expected = ops.MVN.kernel([data, np.array(axes)], attrs)  # type: ignore[misc]
    run_both(Graph([x], [y]), [data], tmp_path, expected)


@pytest.mark.parametrize("eps_mode", ["add", "max"])
@pytest.mark.parametrize("axes", [[1], [1, 2], [-1]])
def test_normalize_l2_kernel_and_lowering(tmp_path, eps_mode, axes):
    data = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    x = parameter("x", ElementType.f32, Shape(data.shape))
    attrs = dict(eps=0.5, eps_mode=eps_mode)
    y = ops.NormalizeL2(x.outputs[0], const(np.array(axes, np.int64)), **attrs)
    expected = ops.NormalizeL2.kernel([data, np.array(axes)], attrs)  # type: ignore[misc]
    run_both(Graph([x], [y]), [data], tmp_path, expected)


def test_batch_norm_and_group_norm_kernels_and_lowerings(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((2, 4, 3, 2)).astype(np.float32)
    x = parameter("x", ElementType.f32, Shape(data.shape))
    gamma, beta, mean = (rng.standard_normal(4).astype(np.float32) for _ in range(3))
    variance = rng.random(4).astype(np.float32) + 0.1
    batch = ops.BatchNormInference(x.outputs[0], *(const(a) for a in (gamma, beta, mean, variance)), epsilon=1e-3)
    group = ops.GroupNormalization(x.outputs[0], const(gamma), const(beta), num_groups=2, epsilon=1e-3)
    expected = [
        ops.BatchNormInference.kernel([data, gamma, beta, mean, variance], {"epsilon": 1e-3})[0],  # type: ignore[misc]
        ops.GroupNormalization.kernel([data, gamma, beta], {"num_groups": 2, "epsilon": 1e-3})[0],  # type: ignore[misc]
    ]
    run_both(Graph([x], [batch, group]), [data], tmp_path, expected)


@pytest.mark.parametrize("size", [2, 3, 4, 5])
@pytest.mark.parametrize("axes", [[1], [2, 3]])
def test_lrn_lowering(tmp_path, size, axes):
    data = np.random.default_rng(0).standard_normal((2, 5, 4, 6)).astype(np.float32)
    x = parameter("x", ElementType.f32, Shape(data.shape))
    y = ops.LRN(x.outputs[0], const(np.array(axes, np.int64)), alpha=0.3, beta=0.75, bias=2.0, size=size)
    run_both(Graph([x], [y]), [data], tmp_path)
