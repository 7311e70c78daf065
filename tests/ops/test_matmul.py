"""ONNX MatMul, Gemm, Einsum → IR MatMul-1, Einsum-7; the numpy kernels; the lowerings."""

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
from converter.ops import matmul as ops
from converter.ops.core import const, parameter
from converter.validate import compare, run_ir

FLOAT = TensorProto.FLOAT


def single_node_model(
    op: str,
    shapes: list[list],
    constants: dict[str, np.ndarray] | None = None,
    opset: int = 21,
    dtype: int = FLOAT,
    **attrs,
) -> onnx.ModelProto:
    constants = constants or {}
    names = [chr(ord("a") + i) if shape is not None else "" for i, shape in enumerate(shapes)]
    inputs = [helper.make_tensor_value_info(n, dtype, s) for n, s in zip(names, shapes) if n and n not in constants]
    initializers = [numpy_helper.from_array(array, name) for name, array in constants.items()]
    node = helper.make_node(op, names, ["y"], **attrs)
    graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", dtype, None)], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


MATMUL_CASES = [
    ([3, 4], [4, 5]),
    ([2, 3, 4], [2, 4, 5]),
    ([2, 1, 3, 4], [5, 4, 2]),
    ([4], [4, 5]),
    ([2, 3, 4], [4]),
    ([4], [4]),
    ([4], [2, 4, 3]),
    (["N", "S", 4], [4, 6]),
]


@pytest.mark.parametrize("a_shape,b_shape", MATMUL_CASES, ids=[str(c) for c in MATMUL_CASES])
def test_matmul(check_onnx, a_shape, b_shape):
    check_onnx(single_node_model("MatMul", [a_shape, b_shape]))


def test_matmul_constant_weights(check_onnx):
    weights = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    check_onnx(single_node_model("MatMul", [["N", 8], [8, 3]], {"b": weights}, opset=9))


def test_matmul_int32(check_onnx):
    rng = np.random.default_rng(0)
    inputs = [rng.integers(-5, 5, (3, 4)).astype(np.int32), rng.integers(-5, 5, (4, 2)).astype(np.int32)]
    check_onnx(single_node_model("MatMul", [[3, 4], [4, 2]], dtype=TensorProto.INT32), inputs)


GEMM_CASES = [
    ("default", {}, [3, 5]),
    ("no_bias", {}, None),
    ("scalar_bias", {}, []),
    ("vector_bias", {}, [5]),
    ("column_bias", {}, [3, 1]),
    ("transA", {"transA": 1}, [5]),
    ("transB", {"transB": 1}, [5]),
    ("alpha_beta", {"alpha": 0.5, "beta": -2.0, "transA": 1, "transB": 1}, [1, 5]),
    ("beta_zero", {"beta": 0.0}, [3, 5]),
]


@pytest.mark.parametrize("constant", [False, True])
@pytest.mark.parametrize("name,attrs,c_shape", GEMM_CASES, ids=[c[0] for c in GEMM_CASES])
def test_gemm(check_onnx, name, attrs, c_shape, constant):
    rng = np.random.default_rng(0)
    a_shape = [4, 3] if attrs.get("transA") else [3, 4]
    b_shape = [5, 4] if attrs.get("transB") else [4, 5]
    constants = {}
    if constant:
        constants["b"] = rng.standard_normal(b_shape).astype(np.float32)
        if c_shape is not None:
            constants["c"] = rng.standard_normal(c_shape).astype(np.float32)
    shapes = [a_shape, b_shape] + ([c_shape] if c_shape is not None else [])
    check_onnx(single_node_model("Gemm", shapes, constants, **attrs))


@pytest.mark.parametrize("opset", [7, 9, 11, 13])
def test_gemm_opsets(check_onnx, opset):
    check_onnx(single_node_model("Gemm", [["N", 4], [4, 5], [5]], opset=opset, alpha=2.0, beta=0.5))


def test_gemm_rank_3_rejected():
    with pytest.raises(NodeConversionError, match="rank 3"):
        convert_model(single_node_model("Gemm", [[2, 3, 4], [4, 5]]))


EINSUM_CASES = [
    ("ij,jk->ik", [[3, 4], [4, 5]]),
    ("bij,bjk->bik", [[2, 3, 4], [2, 4, 5]]),
    ("ij->ji", [[3, 4]]),
    ("ij->i", [[3, 4]]),
    ("i,i", [[5], [5]]),
    ("i,j->ij", [[3], [4]]),
    ("ii->i", [[4, 4]]),
    ("...ii->...i", [[2, 3, 3]]),
    ("ij,jk", [[3, 4], [4, 5]]),
    ("...ij,...jk->...ik", [[2, 3, 4], [1, 4, 5]]),
    ("bhqd,bhkd->bhqk", [["B", 2, 3, 4], ["B", 2, 5, 4]]),
    ("ij,jk,kl->il", [[2, 3], [3, 4], [4, 2]]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum(check_onnx, equation, shapes):
    check_onnx(single_node_model("Einsum", shapes, opset=12, equation=equation))


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_kernel(equation, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal([d if isinstance(d, int) else 2 for d in s]).astype(np.float32) for s in shapes]
    node = ops.Einsum.node(*[const(a) for a in arrays], equation=equation)
    (result,) = ops.Einsum.kernel([*arrays], node.attrs)  # type: ignore[misc]
    np.testing.assert_allclose(result, np.einsum(equation, *arrays), rtol=1e-5)
    assert node.outputs[0].shape.dims == result.shape


@pytest.mark.parametrize("transpose_a", [False, True])
@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("a_shape,b_shape", [((2, 3, 4), (4, 5)), ((4,), (4, 5)), ((2, 1, 3, 4), (3, 4, 4)), ((4,), (4,))])
def test_matmul_kernel_and_lowering(tmp_path: Path, a_shape, b_shape, transpose_a, transpose_b):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(a_shape).astype(np.float32)
    if transpose_a and a.ndim >= 2:
        a = np.swapaxes(a, -1, -2).copy()
    b = rng.standard_normal(b_shape).astype(np.float32)
    if transpose_b and b.ndim >= 2:
        b = np.swapaxes(b, -1, -2).copy()
    x = parameter("a", ElementType.f32, Shape(a.shape))
    y = ops.MatMul(x.outputs[0], const(b), transpose_a=transpose_a, transpose_b=transpose_b)
    expected = np.matmul(
        np.swapaxes(a, -1, -2) if transpose_a and a.ndim >= 2 else a,
        np.swapaxes(b, -1, -2) if transpose_b and b.ndim >= 2 else b,
    )
    (kernel_result,) = ops.MatMul.kernel([a, b], {"transpose_a": transpose_a, "transpose_b": transpose_b})  # type: ignore[misc]
    np.testing.assert_allclose(kernel_result, expected, rtol=1e-5)
    assert y.shape.dims == expected.shape
    save_model(Graph([x], [y]), tmp_path / "model.xml")
    for backend in ("openvino", "onnxruntime"):
        result = compare([expected], run_ir(tmp_path / "model.xml", [a], backend), 1e-4, 1e-5)
        assert result.ok, f"{backend}: {result.detail}"


def test_einsum_bfloat16_inside_graph(tmp_path: Path):
    from converter.ops.core import Convert

    x = parameter("x", ElementType.f32, Shape.of(2, 3, 4))
    narrow = Convert(x.outputs[0], destination_type=ElementType.bf16)
    y = Convert(ops.Einsum(narrow, narrow, equation="bij,bkj->bik"), destination_type=ElementType.f32)
    save_model(Graph([x], [y]), tmp_path / "model.xml")
    data = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    expected = run_ir(tmp_path / "model.xml", [data], "openvino")
    result = compare(expected, run_ir(tmp_path / "model.xml", [data], "onnxruntime"), 2e-2, 2e-2)
    assert result.ok, result.detail
