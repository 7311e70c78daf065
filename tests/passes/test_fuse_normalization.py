import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from converter import convert_model, save_model
from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Clamp
from converter.ops.core import ShapeOf, const, parameter
from converter.ops.elementwise import Add, Divide, Maximum, Multiply, Negative, Power, Sqrt, SquaredDifference, Subtract
from converter.ops.reduction import ReduceL2, ReduceMean, ReduceSum
from converter.ops.shape import Broadcast
from converter.passes import PASSES
from converter.passes.fuse_normalization import fuse_mvn, fuse_normalize_l2
from converter.runtime import execute
from converter.validate import compare, run_ir, run_onnxruntime
from models import OnnxBuilder
from pass_check import run_pass_checked, unchanged

RNG = np.random.default_rng(0)


def _x(*dims: int | None):
    return parameter("x", ElementType.f32, Shape(dims))


def _c(value, shape=()):
    return const(np.full(shape, value, np.float32))


def _axes(*axes: int) -> Value:
    return const(np.array(axes, np.int64))


def _square(v: Value, form: str) -> Value:
    return Power(v, _c(2.0)) if form == "power" else Multiply(v, v)


def _divide_by_sqrt(n: Value, r: Value, form: str) -> Value:
    """n / sqrt(r) as the exporters spell it."""
    if form == "div_sqrt":
        return Divide(n, Sqrt(r))
    if form == "div_pow_half":
        return Divide(n, Power(r, _c(0.5)))
    if form == "mul_rsqrt_pow":
        return Multiply(Power(r, _c(-0.5)), n)
    return Multiply(n, Divide(_c(1.0), Sqrt(r)))  # tf2onnx Rsqrt → Sqrt + Reciprocal


def _layer_norm(x: Value, axes: tuple[int, ...], eps: float | None, square="power", divide="div_sqrt", outside=False, eps_shape=()) -> Value:
    mean = ReduceMean(x, _axes(*axes), keep_dims=True)
    d = Subtract(x, mean)
    if square.startswith("squared_difference"):
        squared = SquaredDifference(mean, x) if square.endswith("reversed") else SquaredDifference(x, mean)
    elif square == "own_mean":  # Keras K.var computes the mean again
        again = Subtract(x, ReduceMean(x, _axes(*axes), keep_dims=True))
        squared = Multiply(again, again)
    else:
        squared = _square(d, square)
    var = ReduceMean(squared, _axes(*axes), keep_dims=True)
    if outside:
        return Divide(d, Add(Sqrt(var), _c(eps, eps_shape)))
    if eps is None:
        return _divide_by_sqrt(d, var, divide)
    return _divide_by_sqrt(d, Add(_c(eps, eps_shape), var) if eps_shape == (1,) else Add(var, _c(eps, eps_shape)), divide)


# ------------------------------------------------------------------ MVN


def test_pytorch_layer_norm_keeps_gamma_and_beta() -> None:
    x = _x(2, 5, 16)
    y = _layer_norm(x.outputs[0], (-1,), 1e-5)
    y.producer.name = "ln/div"
    y = Add(Multiply(y, const(RNG.random(16).astype(np.float32))), const(RNG.random(16).astype(np.float32)))
    optimized = run_pass_checked(Graph([x], [y]), fuse_mvn)
    assert optimized.op_histogram() == {"Add": 1, "Const": 3, "MVN": 1, "Multiply": 1, "Parameter": 1}
    (mvn,) = [n for n in optimized.nodes() if n.op.type == "MVN"]
    assert mvn.name == "ln/div" and mvn.inputs[0] is optimized.inputs[0]
    assert mvn.attrs == {"normalize_variance": True, "eps": pytest.approx(1e-5), "eps_mode": "inside_sqrt"}
    assert mvn.inputs[1].const.tolist() == [2]


def test_outside_sqrt_and_two_stacked_norms() -> None:
    x = _x(None, 4, 6)
    first = _layer_norm(x.outputs[0], (1, 2), 1e-3, outside=True)
    second = _layer_norm(first, (-1,), 1e-6, square="mul", divide="mul_rsqrt_pow")
    optimized = run_pass_checked(Graph([x], [second]), fuse_mvn)
    assert optimized.op_histogram() == {"Const": 2, "MVN": 2, "Parameter": 1}
    modes = sorted(n.attrs["eps_mode"] for n in optimized.nodes() if n.op.type == "MVN")
    assert modes == ["inside_sqrt", "outside_sqrt"]


@settings(max_examples=25, deadline=None)
@given(
    shape=st.sampled_from([(3, 8), (2, 3, 8), (2, 3, 4, 5)]),
    axes_choice=st.sampled_from(["last", "last_negative", "last_two", "all_but_first"]),
    eps=st.sampled_from([None, 0.0, 1e-12, 1e-5, 1e-2]),
    eps_shape=st.sampled_from([(), (1,), "full"]),
    square=st.sampled_from(["power", "mul", "squared_difference", "squared_difference_reversed", "own_mean"]),
    divide=st.sampled_from(["div_sqrt", "div_pow_half", "mul_rsqrt_pow", "mul_reciprocal"]),
    outside=st.booleans(),
)
def test_layer_norm_spellings_fuse(shape, axes_choice, eps, eps_shape, square, divide, outside) -> None:
    rank = len(shape)
    axes = {"last": (rank - 1,), "last_negative": (-1,), "last_two": (-2, -1), "all_but_first": tuple(range(1, rank))}[axes_choice]
    outside = outside and eps is not None
    x = _x(*shape)
    y = _layer_norm(x.outputs[0], axes, eps, square, divide, outside, (1,) * rank if eps_shape == "full" else eps_shape)
    optimized = run_pass_checked(Graph([x], [y]), fuse_mvn, rtol=1e-4, atol=1e-5)
    assert optimized.op_histogram() == {"Const": 1, "MVN": 1, "Parameter": 1}
    (mvn,) = [n for n in optimized.nodes() if n.op.type == "MVN"]
    assert mvn.attrs["eps_mode"] == ("outside_sqrt" if outside else "inside_sqrt")
    assert np.float32(mvn.attrs["eps"]) == np.float32(eps or 0.0)


def test_mvn_near_misses_stay_unchanged() -> None:
    x = _x(2, 3, 8)
    xv = x.outputs[0]
    mean = ReduceMean(xv, _axes(-1), keep_dims=True)
    d = Subtract(xv, mean)
    var_other_axes = ReduceMean(Multiply(d, d), _axes(1), keep_dims=True)
    assert unchanged(Graph([x], [Divide(d, Sqrt(Add(var_other_axes, _c(1e-5))))]), fuse_mvn)
    var = ReduceMean(Multiply(d, d), _axes(-1), keep_dims=True)
    per_channel_eps = const(np.full((8,), 1e-5, np.float32))
    assert unchanged(Graph([x], [Divide(d, Sqrt(Add(var, per_channel_eps)))]), fuse_mvn)
    # the centered tensor is also an output
    assert unchanged(Graph([x], [Divide(d, Sqrt(Add(var, _c(1e-5)))), d]), fuse_mvn)
    # the variance of something else
    other = Subtract(xv, ReduceMean(xv, _axes(-1), keep_dims=True))
    var_of_other = ReduceMean(Multiply(other, other), _axes(-1), keep_dims=True)
    y = Multiply(Subtract(xv, mean), Power(Add(var_of_other, _c(1e-5)), _c(-0.5)))
    assert unchanged(Graph([x], [y, other]), fuse_mvn)
    # a negative eps, and the mean's square without centering
    assert unchanged(Graph([x], [Divide(d, Sqrt(Add(var, _c(-1e-5))))]), fuse_mvn)
    plain = ReduceMean(Multiply(xv, xv), _axes(-1), keep_dims=True)
    assert unchanged(Graph([x], [Divide(d, Sqrt(Add(plain, _c(1e-5))))]), fuse_mvn)


def _tf_inverse_std(var: Value, eps: float, gamma: Value | None, form: str, order: bool) -> Value:
    """[gamma *] rsqrt(var + eps) as TF spells it (Rsqrt → 1 / Sqrt), or gamma / sqrt(var + eps)."""
    radicand = Add(var, _c(eps)) if order else Add(_c(eps), var)
    if form == "gamma_over_sqrt" and gamma is not None:
        return Divide(gamma, Sqrt(radicand))
    inverse = Power(radicand, _c(-0.5)) if form == "pow" else Divide(_c(1.0), Sqrt(radicand))
    if gamma is None:
        return inverse
    return Multiply(inverse, gamma) if order else Multiply(gamma, inverse)


def _tf_layer_norm(x: Value, axes, eps, gamma, beta, shift: str, inverse: str, variance: str, order: bool) -> Value:
    """Keras 3 / tf.nn.batch_normalization: y = x * s + (-mean * s) [+ beta] and its variants."""
    mean = ReduceMean(x, _axes(*axes), keep_dims=True)
    if variance == "squared_difference":
        squared = SquaredDifference(x, mean) if order else SquaredDifference(mean, x)
    else:  # tf.math.reduce_variance: its own mean, (x - m) * (x - m)
        d = Subtract(x, ReduceMean(x, _axes(*axes), keep_dims=True))
        squared = Multiply(d, d)
    s = _tf_inverse_std(ReduceMean(squared, _axes(*axes), keep_dims=True), eps, gamma, inverse, order)
    scaled = Multiply(x, s) if order else Multiply(s, x)
    if shift == "centered":  # (x - mean) * s [+ beta]
        y = Multiply(Subtract(x, mean), s) if order else Multiply(s, Subtract(x, mean))
        return y if beta is None else Add(y, beta)
    if shift == "subtract":  # x * s - mean * s [- (-beta)]
        product = Multiply(mean, s) if order else Multiply(s, mean)
        return Subtract(scaled, product if beta is None else Subtract(product, beta))
    if shift == "beta_minus" and beta is not None:  # tf.nn.batch_normalization: offset - mean * inv
        return Add(scaled, Subtract(beta, Multiply(mean, s)))
    if shift == "negated_product":
        offset = Negative(Multiply(mean, s))
    else:  # Keras 3: -mean * inv
        offset = Multiply(Negative(mean), s) if order else Multiply(s, Negative(mean))
    if beta is not None:
        offset = Add(offset, beta) if order else Add(beta, offset)
    return Add(scaled, offset) if order else Add(offset, scaled)


@settings(max_examples=60, deadline=None)
@given(
    shape=st.sampled_from([(3, 8), (2, 3, 8), (2, 3, 4, 5)]),
    last_two=st.booleans(),
    eps=st.sampled_from([1e-3, 1e-5, 0.5]),
    gamma=st.sampled_from([None, "vector", "scalar"]),
    beta=st.sampled_from([None, "vector", "scalar"]),
    shift=st.sampled_from(["negated_mean", "negated_product", "beta_minus", "subtract", "centered"]),
    inverse=st.sampled_from(["rsqrt", "pow", "gamma_over_sqrt"]),
    variance=st.sampled_from(["squared_difference", "own_mean"]),
    order=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_tf_layer_norm_spellings_become_mvn_gamma_beta(shape, last_two, eps, gamma, beta, shift, inverse, variance, order, seed) -> None:
    rng = np.random.default_rng(seed)
    axes = (-2, -1) if last_two else (-1,)
    tail = shape[-2:] if last_two else shape[-1:]
    pick = lambda kind: None if kind is None else const((rng.random(tail if kind == "vector" else ()) + 0.5).astype(np.float32))  # noqa: E731
    x = _x(*shape)
    y = _tf_layer_norm(x.outputs[0], axes, eps, pick(gamma), pick(beta), shift, inverse, variance, order)
    optimized = run_pass_checked(Graph([x], [y]), fuse_mvn, rtol=1e-4, atol=1e-5, seed=seed)
    histogram = optimized.op_histogram()
    assert histogram.get("MVN") == 1, histogram
    assert histogram.get("Multiply", 0) == (gamma is not None) and histogram.get("Add", 0) == (beta is not None), histogram
    assert set(histogram) <= {"MVN", "Multiply", "Add", "Const", "Parameter"}, histogram
    (mvn,) = [n for n in optimized.nodes() if n.op.type == "MVN"]
    assert mvn.inputs[0] is optimized.inputs[0] and mvn.attrs["eps_mode"] == "inside_sqrt"
    assert np.float32(mvn.attrs["eps"]) == np.float32(eps)
    assert sorted(mvn.inputs[1].const.tolist()) == sorted(a % len(shape) for a in axes)


def test_keras3_layer_norm_keeps_its_output_name_and_a_dynamic_batch() -> None:
    x = _x(None, 5, 16)
    gamma, beta = (const(RNG.random(16).astype(np.float32) + 0.5) for _ in range(2))
    y = _tf_layer_norm(x.outputs[0], (-1,), 1e-3, gamma, beta, "negated_mean", "rsqrt", "squared_difference", True)
    y.producer.name = "ln/add_2"
    optimized = run_pass_checked(Graph([x], [y]), fuse_mvn, rtol=1e-4, atol=1e-5)
    assert optimized.op_histogram() == {"Add": 1, "Const": 3, "MVN": 1, "Multiply": 1, "Parameter": 1}
    assert optimized.outputs[0].producer.name == "ln/add_2"


def test_tf_layer_norm_near_misses_stay_unchanged() -> None:
    x = _x(2, 3, 8)
    xv = x.outputs[0]
    mean = ReduceMean(xv, _axes(-1), keep_dims=True)
    var = ReduceMean(SquaredDifference(xv, mean), _axes(-1), keep_dims=True)
    s = Divide(_c(1.0), Sqrt(Add(var, _c(1e-3))))
    # the shift scales by another value than the data
    other = Divide(_c(2.0), Sqrt(Add(var, _c(1e-3))))
    assert unchanged(Graph([x], [Add(Multiply(xv, s), Multiply(Negative(mean), other))]), fuse_mvn)
    # the shift adds the mean instead of subtracting it
    assert unchanged(Graph([x], [Add(Multiply(xv, s), Multiply(mean, s))]), fuse_mvn)
    # the scale is also an output
    assert unchanged(Graph([x], [Add(Multiply(xv, s), Multiply(Negative(mean), s)), s]), fuse_mvn)
    # mean over other axes than the variance
    mean_1 = ReduceMean(xv, _axes(1), keep_dims=True)
    s_1 = Divide(_c(1.0), Sqrt(Add(ReduceMean(SquaredDifference(xv, mean_1), _axes(-1), keep_dims=True), _c(1e-3))))
    assert unchanged(Graph([x], [Add(Multiply(xv, s_1), Multiply(Negative(mean_1), s_1))]), fuse_mvn)
    # the mean of something else than the scaled data
    z = Multiply(xv, _c(2.0))
    assert unchanged(Graph([x], [Add(Multiply(z, s), Multiply(Negative(mean), s))]), fuse_mvn)


# ------------------------------------------------------------------ NormalizeL2


def _sum_squares(x: Value, axes: tuple[int, ...], square: str = "mul") -> Value:
    return ReduceSum(_square(x, square), _axes(*axes), keep_dims=True)


def _normalize_l2(graph: Graph) -> tuple[float, str]:
    (node,) = [n for n in graph.nodes() if n.op.type == "NormalizeL2"]
    assert node.inputs[0] is graph.inputs[0]
    return node.attrs["eps"], node.attrs["eps_mode"]


def test_tf_l2_normalize_is_max_mode() -> None:
    x = _x(3, 10)
    xv = x.outputs[0]
    y = Multiply(xv, Divide(_c(1.0), Sqrt(Maximum(_sum_squares(xv, (1,)), _c(1e-12)))))
    optimized = run_pass_checked(Graph([x], [y]), fuse_normalize_l2)
    assert optimized.op_histogram() == {"Const": 1, "NormalizeL2": 1, "Parameter": 1}
    assert _normalize_l2(optimized) == (pytest.approx(1e-12), "max")


def test_sum_plus_eps_is_add_mode() -> None:
    x = _x(2, 4, 3, 3)
    xv = x.outputs[0]
    y = Divide(xv, Sqrt(Add(_c(1e-6), _sum_squares(xv, (1,), "power"))))
    optimized = run_pass_checked(Graph([x], [y]), fuse_normalize_l2)
    assert _normalize_l2(optimized) == (pytest.approx(1e-6), "add")


@pytest.mark.parametrize("norm", ["reduce_l2", "sqrt_sum"])
def test_unguarded_clip_style_norm_has_eps_zero(norm: str) -> None:
    x = _x(2, 7)
    xv = x.outputs[0]
    length = ReduceL2(xv, _axes(-1), keep_dims=True) if norm == "reduce_l2" else Sqrt(_sum_squares(xv, (-1,), "power"))
    optimized = run_pass_checked(Graph([x], [Divide(xv, length)]), fuse_normalize_l2)
    assert optimized.op_histogram() == {"Const": 1, "NormalizeL2": 1, "Parameter": 1}
    assert _normalize_l2(optimized)[0] == 0.0


@pytest.mark.parametrize("norm", ["reduce_l2", "sqrt_sum"])
@pytest.mark.parametrize("clamp", ["maximum", "clamp"])
@pytest.mark.parametrize("expand", [False, True])
def test_torch_normalize_max_after_sqrt(norm: str, clamp: str, expand: bool) -> None:
    x = _x(4, 6)
    xv = x.outputs[0]
    length = ReduceL2(xv, _axes(1), keep_dims=True) if norm == "reduce_l2" else Sqrt(_sum_squares(xv, (1,)))
    denominator = Clamp(length, min=1e-12, max=float("inf")) if clamp == "clamp" else Maximum(_c(1e-12), length)
    if expand:
        denominator = Broadcast(denominator, ShapeOf(xv), mode="bidirectional")
    optimized = run_pass_checked(Graph([x], [Divide(xv, denominator)]), fuse_normalize_l2)
    assert optimized.op_histogram() == {"Const": 1, "NormalizeL2": 1, "Parameter": 1}
    eps, mode = _normalize_l2(optimized)
    assert mode == "max" and np.sqrt(np.float32(eps)) == np.float32(1e-12)


@pytest.mark.parametrize("eps", [0.5, 1e-12])
def test_torch_normalize_small_rows_clamp_to_eps_exactly(eps: float) -> None:
    x = _x(4, 4)
    xv = x.outputs[0]
    graph = Graph([x], [Divide(xv, Maximum(ReduceL2(xv, _axes(1), keep_dims=True), _c(eps)))])
    optimized = fuse_normalize_l2(graph.copy())
    assert optimized.op_histogram()["NormalizeL2"] == 1
    rows = np.array([[0, 0, 0, 0], [0.1, -0.1, 0, 0.2], [1e-13, 0, 0, -2e-13], [3, 4, 0, 0]], np.float32)
    expected = execute(graph, [rows])[0]
    np.testing.assert_array_equal(execute(optimized, [rows])[0], expected)
    np.testing.assert_allclose(execute(optimized, [rows], "openvino")[0], expected, rtol=1e-6, atol=0)


@settings(max_examples=25, deadline=None)
@given(
    shape=st.sampled_from([(3, 8), (2, 3, 5), (2, 3, 2, 2)]),
    axes_choice=st.sampled_from(["one", "last", "spatial"]),
    eps=st.sampled_from([1e-12, 1e-6, 1e-3, 0.5]),
    eps_shape=st.sampled_from([(), (1,)]),
    form=st.sampled_from(["max_inside", "add_inside", "max_outside", "unguarded_sqrt", "unguarded_l2"]),
    divide=st.sampled_from(["div_sqrt", "div_pow_half", "mul_rsqrt_pow", "mul_reciprocal"]),
    square=st.sampled_from(["mul", "power"]),
)
def test_l2_spellings_fuse(shape, axes_choice, eps, eps_shape, form, divide, square) -> None:
    rank = len(shape)
    axes = {"one": (1,), "last": (-1,), "spatial": tuple(range(1, rank))}[axes_choice]
    x = _x(*shape)
    xv = x.outputs[0]
    sum_squares = _sum_squares(xv, axes, square)
    if form == "max_inside":
        y = _divide_by_sqrt(xv, Maximum(sum_squares, _c(eps, eps_shape)), divide)
    elif form == "add_inside":
        y = _divide_by_sqrt(xv, Add(sum_squares, _c(eps, eps_shape)), divide)
    elif form == "max_outside":
        y = Divide(xv, Maximum(Sqrt(sum_squares), _c(eps, eps_shape)))
    elif form == "unguarded_sqrt":
        y = _divide_by_sqrt(xv, sum_squares, divide)
    else:  # CLIP: x / x.norm(dim=-1, keepdim=True)
        y = Divide(xv, ReduceL2(xv, _axes(*axes), keep_dims=True))
    optimized = run_pass_checked(Graph([x], [y]), fuse_normalize_l2, rtol=1e-5, atol=1e-6)
    assert optimized.op_histogram() == {"Const": 1, "NormalizeL2": 1, "Parameter": 1}
    assert _normalize_l2(optimized)[1] == ("add" if form == "add_inside" else "max")


def test_l2_near_misses_stay_unchanged() -> None:
    x = _x(3, 8)
    xv = x.outputs[0]
    other = parameter("other", ElementType.f32, Shape((3, 8)))
    sum_other = _sum_squares(other.outputs[0], (1,))
    assert unchanged(Graph([x, other], [Divide(xv, Sqrt(Maximum(sum_other, _c(1e-12))))]), fuse_normalize_l2)
    sum_squares = _sum_squares(xv, (1,))
    assert unchanged(Graph([x], [Divide(xv, Sqrt(Maximum(sum_squares, _c(1e-12)))), sum_squares]), fuse_normalize_l2)
    not_kept = ReduceSum(Multiply(xv, xv), _axes(0), keep_dims=False)
    assert unchanged(Graph([x], [Divide(xv, Sqrt(Add(not_kept, _c(1e-12))))]), fuse_normalize_l2)
    per_row_eps = const(np.full((3, 1), 1e-6, np.float32))
    assert unchanged(Graph([x], [Divide(xv, Sqrt(Add(sum_squares, per_row_eps)))]), fuse_normalize_l2)
    # a clamp with an upper bound is not a max
    bounded = Clamp(ReduceL2(xv, _axes(1), keep_dims=True), min=1e-12, max=10.0)
    assert unchanged(Graph([x], [Divide(xv, bounded)]), fuse_normalize_l2)


# ------------------------------------------------------------------ end to end from ONNX


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(PASSES, "fuse_mvn", fuse_mvn)
    monkeypatch.setitem(PASSES, "fuse_normalize_l2", fuse_normalize_l2)


def _pytorch_layer_norm_model(d: int = 16) -> onnx.ModelProto:
    """nn.LayerNorm exported at opset < 17, then F.normalize(x, dim=-1) (ReduceL2, Clip, Expand, Div)."""
    b = OnnxBuilder(5)
    x = b.linear("x", d, d)
    mean = b.op("ReduceMean", [x], axes=[-1], keepdims=1)
    centered = b.op("Sub", [x, mean])
    var = b.op("ReduceMean", [b.op("Pow", [centered, b.scalar(2.0)])], axes=[-1], keepdims=1)
    normalized = b.op("Div", [centered, b.op("Sqrt", [b.op("Add", [var, b.scalar(1e-5)])])])
    y = b.op("Add", [b.op("Mul", [normalized, b.weight(d)]), b.weight(d)])
    norm = b.op("ReduceL2", [y], axes=[-1], keepdims=1)
    clipped = b.op("Clip", [norm, b.scalar(1e-12)])
    out = b.op("Div", [y, b.op("Expand", [clipped, b.op("Shape", [y])])])
    return b.model([helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 5, d])], [(out, "y")], opset=13)


def _tf2onnx_model(d: int = 12) -> onnx.ModelProto:
    """tf2onnx: tf.nn.moments (SquaredDifference as Sub, Mul), Rsqrt as Sqrt + Reciprocal, tf.math.l2_normalize."""
    b = OnnxBuilder(6)
    mean = b.op("ReduceMean", ["x"], axes=[1, 2], keepdims=1)
    difference = b.op("Sub", ["x", mean])
    var = b.op("ReduceMean", [b.op("Mul", [difference, difference])], axes=[1, 2], keepdims=1)
    inv = b.op("Reciprocal", [b.op("Sqrt", [b.op("Add", [var, b.scalar(1e-3)])])])
    normalized = b.op("Mul", [b.op("Sub", ["x", mean]), inv])
    sum_squares = b.op("ReduceSum", [b.op("Mul", [normalized, normalized]), b.ints(-1)], keepdims=1)
    out = b.op("Mul", [normalized, b.op("Reciprocal", [b.op("Sqrt", [b.op("Max", [sum_squares, b.scalar(1e-12)])])])])
    return b.model([helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, d])], [(out, "y")], opset=13)


@pytest.mark.parametrize("build,shape", [(_pytorch_layer_norm_model, (3, 5, 16)), (_tf2onnx_model, (2, 3, 12))], ids=["pytorch", "tf2onnx"])
def test_exported_models_end_to_end(registered, tmp_path, build, shape) -> None:
    model = build()
    graph = convert_model(model, passes=["eliminate_duplicates", "fuse_mvn", "fuse_normalize_l2"])
    histogram = graph.op_histogram()
    assert (histogram.get("MVN"), histogram.get("NormalizeL2")) == (1, 1)
    assert not {"ReduceMean", "ReduceSum", "ReduceL2", "Sqrt", "Divide", "Power"} & set(histogram)
    xml, _ = save_model(graph, tmp_path / "m.xml")
    text = xml.read_text()
    assert 'type="MVN"' in text and 'type="NormalizeL2"' in text
    inputs = [np.random.default_rng(0).standard_normal(shape).astype(np.float32)]
    result = compare(run_onnxruntime(model, inputs), run_ir(xml, inputs, "openvino"), 1e-4, 1e-5)
    assert result.ok, result.detail
