import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

import converter
from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Clamp, HardSigmoid, HSigmoid, Relu, Sigmoid, SoftPlus, Tanh
from converter.ops.core import const, parameter
from converter.ops.elementwise import Add, Divide, Erf, Exp, Log, Maximum, Minimum, Multiply, Negative, Power, Subtract
from converter.passes import PASSES
from converter.passes.fuse_activations import (
    fuse_activations,
    fuse_clamp,
    fuse_gelu,
    fuse_hsigmoid,
    fuse_hswish,
    fuse_mish,
    fuse_softplus,
    fuse_swish,
)
from converter.runtime import execute
from converter.validate import compare, run_ir, run_onnxruntime
from models import OnnxBuilder
from pass_check import run_pass_checked, unchanged

SQRT2 = math.sqrt(2)
TANH_SCALE = math.sqrt(2 / math.pi)
CUBIC = 0.044715

Build = Callable[[Value], Value]


def c(number: float, rank: int = 0) -> Value:
    """A float32 constant holding one number, shaped [] or [1, ..., 1]."""
    return const(np.full((1,) * rank, number, np.float32))


def graph_of(build: Build, dims: tuple[int, ...] = (2, 3, 4)) -> Graph:
    x = parameter("x", ElementType.f32, Shape.of(*dims))
    return Graph([x], [build(x.outputs[0])])


def assert_fuses(build: Build, pass_fn: Callable[[Graph], Graph], histogram: dict[str, int], dims=(2, 3, 4)) -> Graph:
    optimized = run_pass_checked(graph_of(build, dims), pass_fn)
    assert optimized.op_histogram() == histogram
    return optimized


# ------------------------------------------------------------------ spellings

SWISH = {
    "x*sigmoid(x)": lambda x: Multiply(x, Sigmoid(x)),
    "sigmoid(x)*x": lambda x: Multiply(Sigmoid(x), x),
}
SWISH_BETA = {
    "x*sigmoid(x*b)": lambda x, b: Multiply(x, Sigmoid(Multiply(x, b))),
    "sigmoid(b*x)*x": lambda x, b: Multiply(Sigmoid(Multiply(b, x)), x),
}


def relu6_spellings(rank: int = 0) -> dict[str, Build]:
    return {
        "Clamp": lambda v: Clamp(v, min=0.0, max=6.0),
        "Minimum(Relu)": lambda v: Minimum(Relu(v), c(6, rank)),
        "Minimum(Maximum)": lambda v: Minimum(c(6, rank), Maximum(v, c(0, rank))),
        "Maximum(Minimum)": lambda v: Maximum(Minimum(v, c(6, rank)), c(0, rank)),
    }


def hsigmoid_spellings(rank: int = 0) -> dict[str, Build]:
    spellings: dict[str, Build] = {}
    for name, relu6 in relu6_spellings(rank).items():
        spellings[f"{name}(x+3)/6"] = lambda x, relu6=relu6: Divide(relu6(Add(x, c(3, rank))), c(6, rank))
        spellings[f"{name}(3+x)*(1/6)"] = lambda x, relu6=relu6: Multiply(relu6(Add(c(3, rank), x)), c(1 / 6, rank))
        spellings[f"(1/6)*{name}(x+3)"] = lambda x, relu6=relu6: Multiply(c(1 / 6, rank), relu6(Add(x, c(3, rank))))
    spellings["HardSigmoid(1/6, 0.5)"] = lambda x: HardSigmoid(x, c(1 / 6, rank), c(0.5, rank))
    spellings["clip(x/6+0.5, 0, 1)"] = lambda x: Clamp(Add(Divide(x, c(6, rank)), c(0.5, rank)), min=0.0, max=1.0)
    spellings["min(max(0.5+x*(1/6), 0), 1)"] = lambda x: Minimum(
        Maximum(Add(c(0.5, rank), Multiply(x, c(1 / 6, rank))), c(0, rank)), c(1, rank)
    )
    return spellings


def hswish_spellings(rank: int = 0) -> dict[str, Build]:
    spellings: dict[str, Build] = {"x*HSigmoid(x)": lambda x: Multiply(x, HSigmoid(x))}
    for name, relu6 in relu6_spellings(rank).items():
        r = lambda x, relu6=relu6: relu6(Add(x, c(3, rank)))  # noqa: E731
        spellings[f"(x*{name})/6"] = lambda x, r=r: Divide(Multiply(x, r(x)), c(6, rank))
        spellings[f"x*({name}/6)"] = lambda x, r=r: Multiply(x, Divide(r(x), c(6, rank)))
        spellings[f"(x*(1/6))*{name}"] = lambda x, r=r: Multiply(Multiply(x, c(1 / 6, rank)), r(x))
        spellings[f"{name}*(x/6)"] = lambda x, r=r: Multiply(r(x), Divide(x, c(6, rank)))
        spellings[f"((x*{name})*(1/6))"] = lambda x, r=r: Multiply(Multiply(r(x), x), c(1 / 6, rank))
    spellings["x*HardSigmoid(1/6, 0.5)"] = lambda x: Multiply(x, HardSigmoid(x, c(1 / 6, rank), c(0.5, rank)))
    spellings["clip(x/6+0.5, 0, 1)*x"] = lambda x: Multiply(
        Clamp(Add(Divide(x, c(6, rank)), c(0.5, rank)), min=0.0, max=1.0), x
    )
    return spellings


def gelu_erf_spellings(rank: int = 0) -> dict[str, Build]:
    def erf(x: Value, by_division: bool) -> Value:
        return Erf(Divide(x, c(SQRT2, rank)) if by_division else Multiply(x, c(1 / SQRT2, rank)))

    return {
        # PyTorch (opset < 20): ((x * (erf(x / √2) + 1)) * 0.5
        "pytorch": lambda x: Multiply(Multiply(x, Add(erf(x, True), c(1, rank))), c(0.5, rank)),
        # HuggingFace: x * 0.5 * (1 + erf(x / √2))
        "huggingface": lambda x: Multiply(Multiply(x, c(0.5, rank)), Add(c(1, rank), erf(x, True))),
        # tf2onnx (tf.nn.gelu, Keras 3 on TF): 0.5 * x * (1 + erf(x * 0.70710678))
        "tf2onnx": lambda x: Multiply(Multiply(c(0.5, rank), x), Add(c(1, rank), erf(x, False))),
        # JAX / Keras 3 numpy: x * (1 + erf(x / √2)) / 2
        "keras3": lambda x: Divide(Multiply(x, Add(c(1, rank), erf(x, True))), c(2, rank)),
        "half-inside": lambda x: Multiply(x, Multiply(c(0.5, rank), Add(erf(x, False), c(1, rank)))),
        "distributed": lambda x: Multiply(Add(c(0.5, rank), Multiply(erf(x, False), c(0.5, rank))), x),
        # Keras 3 gelu(approximate=False) in a TF SavedModel: (0.5 * x) * Erfc(-x * 0.70710678),
        # Erfc read as 1 - Erf
        "tf erfc": lambda x: Multiply(
            Multiply(c(0.5, rank), x), Subtract(c(1, rank), Erf(Multiply(Negative(x), c(1 / SQRT2, rank))))
        ),
        "erfc(-x/√2) * x * 0.5": lambda x: Multiply(
            Multiply(Subtract(c(1, rank), Erf(Divide(Negative(x), c(SQRT2, rank)))), x), c(0.5, rank)
        ),
        "1 - erf(x * -1/√2)": lambda x: Multiply(
            Multiply(x, c(0.5, rank)), Subtract(c(1, rank), Erf(Multiply(x, c(-1 / SQRT2, rank))))
        ),
        "0.5 - 0.5 * erf(-x/√2)": lambda x: Multiply(
            x, Subtract(c(0.5, rank), Multiply(c(0.5, rank), Erf(Negative(Divide(x, c(SQRT2, rank))))))
        ),
    }


def gelu_tanh_spellings(rank: int = 0) -> dict[str, Build]:
    def cube(x: Value, kind: str) -> Value:
        if kind == "pow":
            return Power(x, c(3, rank))
        if kind == "x*x*x":
            return Multiply(Multiply(x, x), x)
        return Multiply(x, Power(x, c(2, rank)))

    def inner(x: Value, kind: str) -> Value:
        return Multiply(c(TANH_SCALE, rank), Add(x, Multiply(c(CUBIC, rank), cube(x, kind))))

    def distributed(x: Value, kind: str) -> Value:
        return Add(Multiply(x, c(TANH_SCALE, rank)), Multiply(c(TANH_SCALE * CUBIC, rank), cube(x, kind)))

    return {
        # PyTorch approximate="tanh": x * (0.5 * (1 + tanh(√(2/π) * (x + 0.044715 * x³))))
        "pytorch": lambda x: Multiply(x, Multiply(c(0.5, rank), Add(c(1, rank), Tanh(inner(x, "pow"))))),
        # tf2onnx / Keras 3 on TF: 0.5 * x * (1 + tanh(0.7978845608 * (x + 0.044715 * pow(x, 3))))
        "tf2onnx": lambda x: Multiply(Multiply(c(0.5, rank), x), Add(c(1, rank), Tanh(inner(x, "pow")))),
        # GPT-2 style: 0.5 * x * (1 + tanh(...(x + 0.044715 * x * x * x)))
        "x*x*x": lambda x: Multiply(c(0.5, rank), Multiply(x, Add(Tanh(inner(x, "x*x*x")), c(1, rank)))),
        "x*x^2": lambda x: Multiply(Multiply(x, Add(Tanh(inner(x, "x*x^2")), c(1, rank))), c(0.5, rank)),
        "distributed": lambda x: Multiply(Multiply(x, c(0.5, rank)), Add(c(1, rank), Tanh(distributed(x, "pow")))),
        "distributed x*x*x": lambda x: Divide(
            Multiply(x, Add(c(1, rank), Tanh(distributed(x, "x*x*x")))), c(2, rank)
        ),
        # tanh is odd: 1 - tanh(-u) = 1 + tanh(u)
        "1 - tanh(-u)": lambda x: Multiply(
            Multiply(c(0.5, rank), x), Subtract(c(1, rank), Tanh(Negative(inner(x, "pow"))))
        ),
    }


def erf_gelu(x: Value, rank: int = 0, sqrt2: float = SQRT2, half: float = 0.5, of: Value | None = None) -> Value:
    """half * of * (1 + erf(x / sqrt2)); of = x in a Gelu."""
    return Multiply(Multiply(x if of is None else of, Add(Erf(Divide(x, c(sqrt2, rank))), c(1, rank))), c(half, rank))


def tanh_gelu(
    x: Value, rank: int = 0, scale: float = TANH_SCALE, cubic: float = CUBIC, power: float = 3, combine: Callable = Add
) -> Value:
    """0.5 * x * (1 + tanh(scale * (x + cubic * x^power))), `combine` in place of the +."""
    inner = Multiply(c(scale, rank), Add(x, Multiply(c(cubic, rank), Power(x, c(power, rank)))))
    return Multiply(Multiply(c(0.5, rank), x), combine(c(1, rank), Tanh(inner)))


def softplus_spellings(rank: int = 0) -> dict[str, Build]:
    return {
        "log(exp(x)+1)": lambda x: Log(Add(Exp(x), c(1, rank))),
        "log(1+exp(x))": lambda x: Log(Add(c(1, rank), Exp(x))),
    }


def clamp_spellings(low: float, high: float, rank: int = 0) -> dict[str, Build]:
    return {
        "min(max(x, lo), hi)": lambda x: Minimum(Maximum(x, c(low, rank)), c(high, rank)),
        "min(hi, max(lo, x))": lambda x: Minimum(c(high, rank), Maximum(c(low, rank), x)),
        "max(min(x, hi), lo)": lambda x: Maximum(Minimum(x, c(high, rank)), c(low, rank)),
        "max(lo, min(hi, x))": lambda x: Maximum(c(low, rank), Minimum(c(high, rank), x)),
    }


# ------------------------------------------------------------------ structure and numbers


@pytest.mark.parametrize("name", SWISH)
def test_swish(name: str) -> None:
    assert_fuses(SWISH[name], fuse_swish, {"Parameter": 1, "Swish": 1})


@pytest.mark.parametrize("name", SWISH_BETA)
@pytest.mark.parametrize("rank", [0, 1, 3])
def test_swish_with_beta(name: str, rank: int) -> None:
    build = lambda x: SWISH_BETA[name](x, c(0.75, rank))  # noqa: E731
    optimized = assert_fuses(build, fuse_swish, {"Const": 1, "Parameter": 1, "Swish": 1})
    beta = optimized.outputs[0].producer.inputs[1].const
    assert beta.shape == () and beta.dtype == np.float32 and beta == np.float32(0.75)


def test_swish_beta_spread_over_a_product_tree() -> None:
    build = lambda x: Multiply(x, Sigmoid(Divide(Multiply(c(3.0), x), c(2.0))))  # noqa: E731
    optimized = assert_fuses(build, fuse_swish, {"Const": 1, "Parameter": 1, "Swish": 1})
    assert optimized.outputs[0].producer.inputs[1].const == np.float32(1.5)


def test_sigmoid_gelu_approximation_is_a_swish_not_a_gelu() -> None:
    build = lambda x: Multiply(x, Sigmoid(Multiply(c(1.702), x)))  # noqa: E731
    optimized = assert_fuses(build, fuse_activations, {"Const": 1, "Parameter": 1, "Swish": 1})
    assert optimized.outputs[0].producer.inputs[1].const == np.float32(1.702)


@pytest.mark.parametrize("name", list(hsigmoid_spellings()))
def test_hsigmoid(name: str) -> None:
    assert_fuses(hsigmoid_spellings()[name], fuse_hsigmoid, {"HSigmoid": 1, "Parameter": 1})


@pytest.mark.parametrize("name", list(hswish_spellings()))
def test_hswish(name: str) -> None:
    assert_fuses(hswish_spellings()[name], fuse_hswish, {"HSwish": 1, "Parameter": 1})


def test_hswish_whose_gate_has_another_reader_is_not_fused() -> None:
    def build(x: Value) -> Value:
        gate = Divide(Clamp(Add(x, c(3)), min=0.0, max=6.0), c(6))
        return Add(Multiply(x, gate), gate)

    # The gate stays (another node reads it), so x * gate stays too: HSwish would compute it twice.
    assert unchanged(graph_of(build), fuse_hswish)
    assert_fuses(build, fuse_activations, {"Add": 1, "HSigmoid": 1, "Multiply": 1, "Parameter": 1})


@pytest.mark.parametrize("name", list(gelu_erf_spellings()))
def test_gelu_erf(name: str) -> None:
    optimized = assert_fuses(gelu_erf_spellings()[name], fuse_gelu, {"Gelu": 1, "Parameter": 1})
    assert optimized.outputs[0].producer.attrs["approximation_mode"] == "ERF"


@pytest.mark.parametrize("name", list(gelu_tanh_spellings()))
def test_gelu_tanh(name: str) -> None:
    optimized = assert_fuses(gelu_tanh_spellings()[name], fuse_gelu, {"Gelu": 1, "Parameter": 1})
    assert optimized.outputs[0].producer.attrs["approximation_mode"] == "TANH"


@pytest.mark.parametrize("name", list(softplus_spellings()))
def test_softplus(name: str) -> None:
    assert_fuses(softplus_spellings()[name], fuse_softplus, {"Parameter": 1, "SoftPlus": 1})


def test_nested_softplus_fuses_in_one_run() -> None:
    build = lambda x: Log(Add(Exp(Log(Add(Exp(x), c(1)))), c(1)))  # noqa: E731
    assert_fuses(build, fuse_softplus, {"Parameter": 1, "SoftPlus": 2})


@pytest.mark.parametrize("order", ["x*tanh", "tanh*x"])
def test_mish(order: str) -> None:
    def build(x: Value) -> Value:
        gate = Tanh(SoftPlus(x))
        return Multiply(x, gate) if order == "x*tanh" else Multiply(gate, x)

    assert_fuses(build, fuse_mish, {"Mish": 1, "Parameter": 1})


def test_mish_from_log_exp() -> None:
    build = lambda x: Multiply(Tanh(Log(Add(c(1), Exp(x)))), x)  # noqa: E731
    assert_fuses(build, fuse_mish, {"Mish": 1, "Parameter": 1})
    assert_fuses(build, fuse_activations, {"Mish": 1, "Parameter": 1})


@pytest.mark.parametrize("name", list(clamp_spellings(-1.5, 2.0)))
def test_clamp(name: str) -> None:
    optimized = assert_fuses(clamp_spellings(-1.5, 2.0)[name], fuse_clamp, {"Clamp": 1, "Parameter": 1})
    assert (optimized.outputs[0].producer.attrs["min"], optimized.outputs[0].producer.attrs["max"]) == (-1.5, 2.0)


@pytest.mark.parametrize(
    "build",
    [lambda x: Minimum(Relu(x), c(6)), lambda x: Minimum(c(6, 1), Relu(x)), lambda x: Relu(Minimum(x, c(6)))],
    ids=["min(relu(x), 6)", "min(6, relu(x))", "relu(min(x, 6))"],
)
def test_relu6_becomes_clamp(build: Build) -> None:
    optimized = assert_fuses(build, fuse_clamp, {"Clamp": 1, "Parameter": 1})
    assert (optimized.outputs[0].producer.attrs["min"], optimized.outputs[0].producer.attrs["max"]) == (0.0, 6.0)


WIDE_RANGE = {
    "gelu erf": (gelu_erf_spellings()["keras3"], fuse_gelu),
    "gelu tanh": (gelu_tanh_spellings()["x*x*x"], fuse_gelu),
    "softplus": (softplus_spellings()["log(exp(x)+1)"], fuse_softplus),
    # Worst case near x = -16.64, where 1 + exp(x) rounds up by half a float32 unit: the
    # decomposed form is then off by |x|·2⁻²⁴ ≈ 0.99e-6, just inside atol.
    "mish": (lambda x: Multiply(x, Tanh(Log(Add(Exp(x), c(1))))), fuse_mish),
    "hswish": (hswish_spellings()["x*HardSigmoid(1/6, 0.5)"], fuse_hswish),
}


@pytest.mark.parametrize("name", list(WIDE_RANGE))
def test_fused_op_matches_the_decomposed_form_over_a_wide_range(name: str) -> None:
    """Default tolerance (rtol 1e-5, atol 1e-6) on a grid from -20 to 20, step 1e-3."""
    build, pass_fn = WIDE_RANGE[name]
    x = np.linspace(-20, 20, 40001, dtype=np.float32)
    graph = graph_of(build, (x.size,))
    optimized = pass_fn(graph.copy())
    assert "Parameter" in optimized.op_histogram() and len(optimized.op_histogram()) == 2
    result = compare(execute(graph, [x]), execute(optimized, [x]), rtol=1e-5, atol=1e-6)
    assert result.ok, result.detail


def test_fused_node_takes_the_last_node_name_and_the_output_names() -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 3))
    product = Multiply(x.outputs[0], Sigmoid(x.outputs[0]), name="silu/mul")
    product.names.append("y")
    optimized = run_pass_checked(Graph([x], [product]), fuse_swish)
    assert optimized.outputs[0].producer.name == "silu/mul"
    assert optimized.outputs[0].names == ["y"]


def test_fused_shape_and_dynamic_dims_are_kept() -> None:
    build = gelu_erf_spellings(rank=2)["pytorch"]
    optimized = assert_fuses(build, fuse_gelu, {"Gelu": 1, "Parameter": 1}, dims=(None, 5))
    assert optimized.outputs[0].shape == Shape.of(None, 5)


@pytest.mark.parametrize("element_type", [ElementType.f16, ElementType.bf16])
def test_constants_are_compared_at_the_precision_of_their_type(element_type: ElementType) -> None:
    x = parameter("x", element_type, Shape.of(4, 8))
    v = x.outputs[0]

    def k(number: float) -> Value:
        return const(np.array(number, element_type.numpy))

    # √2 stored in 16 bits is 1e-4 (f16) or 2e-3 (bf16) off: the rounding of the type, not another function.
    graph = Graph([x], [Multiply(Multiply(v, Add(Erf(Divide(v, k(SQRT2))), k(1))), k(0.5))])
    if element_type is ElementType.f16:
        optimized = run_pass_checked(graph, fuse_activations, rtol=1e-2, atol=1e-3)
    else:  # onnxruntime has no bf16 Erf kernel: structure only
        optimized = fuse_activations(graph.copy())
    assert optimized.op_histogram() == {"Gelu": 1, "Parameter": 1}
    off = Graph([x], [Multiply(Multiply(v, Add(Erf(Divide(v, k(1.5))), k(1))), k(0.5))])
    assert unchanged(off, fuse_activations)


def test_every_activation_in_one_graph() -> None:
    def build(x: Value) -> Value:
        parts = [
            SWISH["x*sigmoid(x)"](x),
            hsigmoid_spellings()["Minimum(Relu)(x+3)/6"](x),
            hswish_spellings()["(x*Clamp)/6"](x),
            gelu_erf_spellings()["pytorch"](x),
            gelu_tanh_spellings()["tf2onnx"](x),
            softplus_spellings()["log(exp(x)+1)"](x),
            Multiply(x, Tanh(Log(Add(Exp(x), c(1))))),
            clamp_spellings(-1, 1)["max(min(x, hi), lo)"](x),
        ]
        total = parts[0]
        for part in parts[1:]:
            total = Add(total, part)
        return total

    expected = {"Add": 7, "Clamp": 1, "Gelu": 2, "HSigmoid": 1, "HSwish": 1, "Mish": 1}
    expected.update({"Parameter": 1, "SoftPlus": 1, "Swish": 1})
    assert_fuses(build, fuse_activations, expected)


# ------------------------------------------------------------------ property tests

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


@st.composite
def shape_and_constant_rank(draw: st.DrawFn) -> tuple[tuple[int, ...], int]:
    dims = draw(shapes)
    return dims, draw(st.integers(0, len(dims)))


@settings(max_examples=25, deadline=None)
@given(
    shape_and_constant_rank(),
    st.sampled_from(list(hswish_spellings())),
    st.sampled_from(list(hsigmoid_spellings())),
)
def test_hard_activations_any_spelling(case, hswish_name: str, hsigmoid_name: str) -> None:
    dims, rank = case
    assert_fuses(hswish_spellings(rank)[hswish_name], fuse_hswish, {"HSwish": 1, "Parameter": 1}, dims)
    assert_fuses(hsigmoid_spellings(rank)[hsigmoid_name], fuse_hsigmoid, {"HSigmoid": 1, "Parameter": 1}, dims)


@settings(max_examples=25, deadline=None)
@given(
    shape_and_constant_rank(),
    st.sampled_from(list(gelu_erf_spellings())),
    st.sampled_from(list(gelu_tanh_spellings())),
)
def test_gelu_any_spelling(case, erf_name: str, tanh_name: str) -> None:
    dims, rank = case
    assert_fuses(gelu_erf_spellings(rank)[erf_name], fuse_gelu, {"Gelu": 1, "Parameter": 1}, dims)
    assert_fuses(gelu_tanh_spellings(rank)[tanh_name], fuse_gelu, {"Gelu": 1, "Parameter": 1}, dims)


@settings(max_examples=25, deadline=None)
@given(shape_and_constant_rank(), st.sampled_from(list(SWISH_BETA)), st.floats(0.0, 4.0, width=32))
def test_swish_any_beta(case, name: str, beta: float) -> None:
    dims, rank = case
    histogram = {"Parameter": 1, "Swish": 1} if beta == 1 else {"Const": 1, "Parameter": 1, "Swish": 1}
    assert_fuses(lambda x: SWISH_BETA[name](x, c(beta, rank)), fuse_swish, histogram, dims)


@settings(max_examples=25, deadline=None)
@given(
    shape_and_constant_rank(),
    st.sampled_from(list(clamp_spellings(0, 0))),
    st.floats(-3, 3, width=32),
    st.floats(-3, 3, width=32),
)
def test_clamp_any_bounds(case, name: str, low: float, high: float) -> None:
    dims, rank = case
    graph = graph_of(clamp_spellings(low, high, rank)[name], dims)
    if low > high:
        assert unchanged(graph, fuse_clamp)  # not a clamp: min(max(x, lo), hi) is hi everywhere
        return
    optimized = run_pass_checked(graph, fuse_clamp)
    assert optimized.op_histogram() == {"Clamp": 1, "Parameter": 1}


@settings(max_examples=25, deadline=None)
@given(shape_and_constant_rank(), st.sampled_from(list(softplus_spellings())), st.booleans())
def test_softplus_and_mish_any_spelling(case, name: str, x_first: bool) -> None:
    dims, rank = case
    softplus = softplus_spellings(rank)[name]
    assert_fuses(softplus, fuse_softplus, {"Parameter": 1, "SoftPlus": 1}, dims)

    def mish(x: Value) -> Value:
        gate = Tanh(softplus(x))
        return Multiply(x, gate) if x_first else Multiply(gate, x)

    assert_fuses(mish, fuse_activations, {"Mish": 1, "Parameter": 1}, dims)


EPS32 = float(np.finfo(np.float32).eps)


def perturbed_pattern(which: str, factor: float, rank: int) -> tuple[Build, Callable[[Graph], Graph], str]:
    """A pattern with one of its constants multiplied by `factor`, its pass and the op it fuses to."""
    hsigmoid = lambda x, shift=3.0: Divide(Clamp(Add(x, c(shift, rank)), min=0.0, max=6.0), c(6, rank))  # noqa: E731
    relu6_shift = lambda x: Clamp(Add(x, c(3, rank)), min=0.0, max=6.0)  # noqa: E731
    patterns: dict[str, tuple[Build, Callable[[Graph], Graph], str]] = {
        "erf √2": (lambda x: erf_gelu(x, rank, sqrt2=SQRT2 * factor), fuse_gelu, "Gelu"),
        "erf 1/2": (lambda x: erf_gelu(x, rank, half=0.5 * factor), fuse_gelu, "Gelu"),
        "tanh √(2/π)": (lambda x: tanh_gelu(x, rank, scale=TANH_SCALE * factor), fuse_gelu, "Gelu"),
        "tanh 0.044715": (lambda x: tanh_gelu(x, rank, cubic=CUBIC * factor), fuse_gelu, "Gelu"),
        "hsigmoid 3": (lambda x: hsigmoid(x, 3 * factor), fuse_hsigmoid, "HSigmoid"),
        "hswish 1/6": (lambda x: Multiply(Multiply(x, relu6_shift(x)), c(factor / 6, rank)), fuse_hswish, "HSwish"),
    }
    return patterns[which]


@settings(max_examples=25, deadline=None)
@given(
    shape_and_constant_rank(),
    st.sampled_from(["erf √2", "erf 1/2", "tanh √(2/π)", "tanh 0.044715", "hsigmoid 3", "hswish 1/6"]),
    st.sampled_from([0.0, EPS32 / 2, -EPS32 / 2, 1e-5, -1e-5, 1e-3, -1e-3]),
)
def test_constants_must_match_to_float32_rounding(case, which: str, relative_change: float) -> None:
    dims, rank = case
    build, pass_fn, fused_op = perturbed_pattern(which, 1 + relative_change, rank)
    graph = graph_of(build, dims)
    if abs(relative_change) > 4 * EPS32:
        assert unchanged(graph, pass_fn)
    else:
        assert run_pass_checked(graph, pass_fn).op_histogram() == {fused_op: 1, "Parameter": 1}


# ------------------------------------------------------------------ near misses stay unchanged


def _shared(build_inner: Build, build_outer: Callable[[Value, Value], Value]) -> Build:
    """A pattern whose intermediate (build_inner(x)) is also read by an extra Add."""

    def build(x: Value) -> Value:
        inner = build_inner(x)
        return Add(build_outer(x, inner), inner)

    return build


PER_CHANNEL = np.array([1, 2, 3, 4], np.float32)

NEAR_MISSES: dict[str, tuple[Build, Callable[[Graph], Graph]]] = {
    "swish of another value": (lambda x: Multiply(x, Sigmoid(Add(x, c(1)))), fuse_swish),
    "swish with negative beta": (lambda x: Multiply(x, Sigmoid(Multiply(x, c(-1.0)))), fuse_swish),
    "swish with per-channel beta": (lambda x: Multiply(x, Sigmoid(Multiply(x, const(PER_CHANNEL)))), fuse_swish),
    "swish sigmoid read twice": (_shared(lambda x: Sigmoid(x), lambda x, s: Multiply(x, s)), fuse_swish),
    "hsigmoid shift 3.001": (lambda x: Divide(Clamp(Add(x, c(3.001)), min=0.0, max=6.0), c(6)), fuse_hsigmoid),
    "hsigmoid 1/6 as 0.1667": (lambda x: Multiply(Clamp(Add(x, c(3)), min=0.0, max=6.0), c(0.1667)), fuse_hsigmoid),
    "hsigmoid relu6 bound 6.5": (lambda x: Divide(Minimum(Relu(Add(x, c(3))), c(6.5)), c(6)), fuse_hsigmoid),
    "hard sigmoid alpha 0.2": (lambda x: HardSigmoid(x, c(0.2), c(0.5)), fuse_hsigmoid),
    "hsigmoid sum read twice": (
        _shared(lambda x: Add(x, c(3)), lambda x, s: Divide(Clamp(s, min=0.0, max=6.0), c(6))),
        fuse_hsigmoid,
    ),
    "hswish of two values": (lambda x: Multiply(Exp(x), HSigmoid(x)), fuse_hswish),
    "hswish scale 1/5": (lambda x: Divide(Multiply(x, Clamp(Add(x, c(3)), min=0.0, max=6.0)), c(5)), fuse_hswish),
    "hswish relu6 read twice": (
        _shared(lambda x: Clamp(Add(x, c(3)), min=0.0, max=6.0), lambda x, r: Divide(Multiply(x, r), c(6))),
        fuse_hswish,
    ),
    # 1.41421 is 21 float32 units of rounding away from √2: a different function, however close.
    "gelu sqrt2 as 1.41421": (lambda x: erf_gelu(x, sqrt2=1.41421), fuse_gelu),
    "gelu half as 0.49": (lambda x: erf_gelu(x, half=0.49), fuse_gelu),
    "gelu erf of x/2": (lambda x: erf_gelu(x, sqrt2=2.0), fuse_gelu),
    "gelu of another value": (lambda x: erf_gelu(x, of=Exp(x)), fuse_gelu),
    "gelu 1 - erf": (lambda x: Multiply(Multiply(x, Subtract(c(1), Erf(Divide(x, c(SQRT2))))), c(0.5)), fuse_gelu),
    # 0.5 * x * Erfc(x/√2): the flipped sign on one side only
    "gelu 1 + erf(-x/√2)": (lambda x: Multiply(Multiply(x, Add(c(1), Erf(Divide(Negative(x), c(SQRT2))))), c(0.5)), fuse_gelu),
    "gelu 1 - tanh(u)": (lambda x: tanh_gelu(x, combine=Subtract), fuse_gelu),
    "gelu tanh cubic 0.0447": (lambda x: tanh_gelu(x, cubic=0.0447), fuse_gelu),
    "gelu tanh x^2 instead of x^3": (lambda x: tanh_gelu(x, power=2), fuse_gelu),
    "gelu erf read twice": (
        _shared(lambda x: Erf(Divide(x, c(SQRT2))), lambda x, e: Multiply(Multiply(x, Add(e, c(1))), c(0.5))),
        fuse_gelu,
    ),
    "softplus log(exp(x)+2)": (lambda x: Log(Add(Exp(x), c(2))), fuse_softplus),
    "softplus exp read twice": (_shared(lambda x: Exp(x), lambda x, e: Log(Add(e, c(1)))), fuse_softplus),
    "mish of another value": (lambda x: Multiply(Exp(x), Tanh(SoftPlus(x))), fuse_mish),
    "mish with sigmoid": (lambda x: Multiply(x, Sigmoid(SoftPlus(x))), fuse_mish),
    "clamp lo > hi": (lambda x: Maximum(Minimum(x, c(-1)), c(1)), fuse_clamp),
    "clamp per-channel bounds": (lambda x: Minimum(Maximum(x, c(0)), const(PER_CHANNEL)), fuse_clamp),
    "clamp inner read twice": (_shared(lambda x: Maximum(x, c(0)), lambda x, m: Minimum(m, c(6))), fuse_clamp),
    "min of min": (lambda x: Minimum(Minimum(x, c(0)), c(6)), fuse_clamp),
    "relu6 with negative bound": (lambda x: Minimum(Relu(x), c(-1)), fuse_clamp),
    "broadcast to a higher rank": (lambda x: Multiply(x, Sigmoid(Multiply(x, c(2.0, rank=4)))), fuse_swish),
}
# Near misses of one pattern that are still another pattern's match.
FUSED_BY_ANOTHER_PASS = {"hsigmoid relu6 bound 6.5"}  # Minimum(Relu(·), 6.5) is a Clamp


@pytest.mark.parametrize("name", list(NEAR_MISSES))
def test_near_miss_stays(name: str) -> None:
    build, pass_fn = NEAR_MISSES[name]
    graph = graph_of(build)
    assert unchanged(graph, pass_fn)
    if name not in FUSED_BY_ANOTHER_PASS:
        assert unchanged(graph, fuse_activations)


def test_an_intermediate_that_is_a_graph_output_stays() -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 3))
    gate = Sigmoid(x.outputs[0])
    graph = Graph([x], [Multiply(x.outputs[0], gate), gate])
    assert unchanged(graph, fuse_activations)


def test_integer_min_max_stays() -> None:
    x = parameter("x", ElementType.i32, Shape.of(4))
    graph = Graph([x], [Minimum(Maximum(x.outputs[0], const(np.int32(0))), const(np.int32(6)))])
    assert unchanged(graph, fuse_activations)


# ------------------------------------------------------------------ end to end from ONNX

PASS_FUNCTIONS = {
    "fuse_activations": fuse_activations,
    "fuse_swish": fuse_swish,
    "fuse_hsigmoid": fuse_hsigmoid,
    "fuse_hswish": fuse_hswish,
    "fuse_gelu": fuse_gelu,
    "fuse_softplus": fuse_softplus,
    "fuse_mish": fuse_mish,
    "fuse_clamp": fuse_clamp,
}


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the passes known to `convert_model(passes=...)` whether or not the pipeline lists them yet."""
    for name, pass_fn in PASS_FUNCTIONS.items():
        monkeypatch.setitem(PASSES, name, pass_fn)


def _scalar(b: OnnxBuilder, number: float) -> str:
    return b.init(np.array(number, np.float32), "k")


def pytorch_gelu_erf(b: OnnxBuilder, x: str) -> str:
    erf = b.op("Erf", [b.op("Div", [x, _scalar(b, 1.4142135381698608)])])
    return b.op("Mul", [b.op("Mul", [x, b.op("Add", [erf, _scalar(b, 1.0)])]), _scalar(b, 0.5)])


def pytorch_gelu_tanh(b: OnnxBuilder, x: str) -> str:
    cube = b.op("Pow", [x, _scalar(b, 3.0)])
    inner = b.op("Mul", [_scalar(b, 0.7978845834732056), b.op("Add", [x, b.op("Mul", [_scalar(b, CUBIC), cube])])])
    half = b.op("Mul", [_scalar(b, 0.5), b.op("Add", [_scalar(b, 1.0), b.op("Tanh", [inner])])])
    return b.op("Mul", [x, half])


def tf2onnx_gelu_erf(b: OnnxBuilder, x: str) -> str:
    erf = b.op("Erf", [b.op("Mul", [x, _scalar(b, 0.70710677)])])
    return b.op("Mul", [b.op("Mul", [_scalar(b, 0.5), x]), b.op("Add", [_scalar(b, 1.0), erf])])


def keras3_gelu_tanh(b: OnnxBuilder, x: str) -> str:
    """tf.nn.gelu(approximate=True) through tf2onnx, x³ written x * x * x."""
    cube = b.op("Mul", [b.op("Mul", [x, x]), x])
    inner = b.op("Mul", [b.op("Add", [x, b.op("Mul", [cube, _scalar(b, CUBIC)])]), _scalar(b, TANH_SCALE)])
    return b.op("Mul", [b.op("Mul", [x, _scalar(b, 0.5)]), b.op("Add", [b.op("Tanh", [inner]), _scalar(b, 1.0)])])


def integer_pow_gelu_tanh(b: OnnxBuilder, x: str) -> str:
    """Pow with an int64 exponent (opset ≥ 12): the frontend converts it, fold_constants folds that."""
    cube = b.op("Pow", [x, b.init(np.array(3, np.int64), "k")])
    inner = b.op("Mul", [_scalar(b, 0.7978845608), b.op("Add", [x, b.op("Mul", [_scalar(b, CUBIC), cube])])])
    return b.op("Mul", [b.op("Mul", [_scalar(b, 0.5), x]), b.op("Add", [_scalar(b, 1.0), b.op("Tanh", [inner])])])


def keras3_hard_silu(b: OnnxBuilder, x: str) -> str:
    """x * relu6(x + 3) / 6, relu6 as Clip(0, 6) with input bounds (tf2onnx, opset ≥ 11)."""
    relu6 = b.op("Clip", [b.op("Add", [x, _scalar(b, 3.0)]), _scalar(b, 0.0), _scalar(b, 6.0)])
    return b.op("Mul", [x, b.op("Div", [relu6, _scalar(b, 6.0)])])


def mobilenet_hswish_min_relu(b: OnnxBuilder, x: str) -> str:
    relu6 = b.op("Min", [b.op("Relu", [b.op("Add", [x, _scalar(b, 3.0)])]), _scalar(b, 6.0)])
    return b.op("Div", [b.op("Mul", [x, relu6]), _scalar(b, 6.0)])


def pytorch_hardsigmoid_mul(b: OnnxBuilder, x: str) -> str:
    return b.op("Mul", [x, b.op("HardSigmoid", [x], alpha=1 / 6, beta=0.5)])


def pytorch_silu(b: OnnxBuilder, x: str) -> str:
    return b.op("Mul", [x, b.op("Sigmoid", [x])])


def sigmoid_gelu(b: OnnxBuilder, x: str) -> str:
    return b.op("Mul", [x, b.op("Sigmoid", [b.op("Mul", [_scalar(b, 1.702), x])])])


def pytorch_mish(b: OnnxBuilder, x: str) -> str:
    return b.op("Mul", [x, b.op("Tanh", [b.op("Softplus", [x])])])


def log_exp_softplus(b: OnnxBuilder, x: str) -> str:
    return b.op("Log", [b.op("Add", [b.op("Exp", [x]), _scalar(b, 1.0)])])


def min_max_clamp(b: OnnxBuilder, x: str) -> str:
    return b.op("Min", [b.op("Max", [x, _scalar(b, -0.5)]), _scalar(b, 1.5)])


END_TO_END = [
    (pytorch_gelu_erf, "fuse_gelu", "Gelu"),
    (pytorch_gelu_tanh, "fuse_gelu", "Gelu"),
    (tf2onnx_gelu_erf, "fuse_gelu", "Gelu"),
    (keras3_gelu_tanh, "fuse_gelu", "Gelu"),
    (integer_pow_gelu_tanh, "fold_constants,fuse_gelu", "Gelu"),
    (keras3_hard_silu, "fuse_activations", "HSwish"),
    (mobilenet_hswish_min_relu, "fuse_hswish", "HSwish"),
    (pytorch_hardsigmoid_mul, "fuse_hswish", "HSwish"),
    (pytorch_silu, "fuse_swish", "Swish"),
    (sigmoid_gelu, "fuse_activations", "Swish"),
    (pytorch_mish, "fuse_mish", "Mish"),
    (log_exp_softplus, "fuse_softplus", "SoftPlus"),
    (min_max_clamp, "fuse_clamp", "Clamp"),
]


@pytest.mark.parametrize(
    ("spell", "pass_name", "fused_op"), END_TO_END, ids=[case[0].__name__ for case in END_TO_END]
)
def test_end_to_end_from_onnx(spell, pass_name: str, fused_op: str, registered: None, tmp_path: Path) -> None:
    b = OnnxBuilder()
    y = spell(b, "x")
    model = b.model([helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8, 6])], [(y, "y")])
    graph = converter.convert_model(model, passes=pass_name.split(","))
    histogram = graph.op_histogram()
    assert histogram.get(fused_op) == 1, histogram
    assert set(histogram) <= {fused_op, "Parameter", "Const"}, histogram

    inputs = [(np.random.default_rng(0).standard_normal((2, 8, 6)) * 3).astype(np.float32)]
    xml_path = tmp_path / "m.xml"
    converter.save_model(graph, xml_path)
    expected = run_onnxruntime(model, inputs)
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, run_ir(xml_path, inputs, backend), rtol=1e-4, atol=1e-5)
        assert result.ok, f"{backend}: {result.detail}"
