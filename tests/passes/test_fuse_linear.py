import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.activation import Relu
from converter.ops.conv import Convolution, ConvolutionBackpropData, GroupConvolution, GroupConvolutionBackpropData
from converter.ops.core import const, parameter
from converter.ops.elementwise import Add, Divide, Multiply, Subtract
from converter.ops.shape import Pad
from converter.passes.fuse_linear import fuse_linear
from converter.passes.fuse_pad import fuse_pad_into_convolution
from pass_check import run_pass_checked, unchanged

RNG = np.random.default_rng(0)


def _rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _conv(x, kind: str, channels_in=4, channels_out=6, groups=2):
    conv_attrs = dict(strides=(1, 1), pads_begin=(1, 1), pads_end=(1, 1), dilations=(1, 1))
    if kind == "Convolution":
        return Convolution(x, const(_rand(channels_out, channels_in, 3, 3)), **conv_attrs)
    if kind == "GroupConvolution":
        return GroupConvolution(x, const(_rand(groups, channels_out // groups, channels_in // groups, 3, 3)), **conv_attrs)
    if kind == "ConvolutionBackpropData":
        return ConvolutionBackpropData(x, const(_rand(channels_in, channels_out, 3, 3)), **conv_attrs)
    return GroupConvolutionBackpropData(x, const(_rand(groups, channels_in // groups, channels_out // groups, 3, 3)), **conv_attrs)


KINDS = ["Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData"]


@pytest.mark.parametrize("kind", KINDS)
def test_conv_bias_scale_shift_fold_into_weights(kind: str) -> None:
    x = parameter("x", ElementType.f32, Shape.of(None, 4, 5, 5))
    v = _conv(x.outputs[0], kind)
    v = Add(v, const(_rand(1, 6, 1, 1)))
    v = Multiply(v, const(_rand(1, 6, 1, 1)))
    v = Subtract(v, const(_rand(1, 6, 1, 1)))
    v = Divide(v, const(np.full((1, 6, 1, 1), 3.0, np.float32)))
    optimized = run_pass_checked(Graph([x], [Relu(v)]), fuse_linear, rtol=1e-5, atol=1e-5)
    assert optimized.op_histogram() == {"Add": 1, "Const": 2, kind: 1, "Parameter": 1, "ReLU": 1}


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    scale_shape=st.sampled_from([(), (1,), (1, 1, 1, 1), (1, 6, 1, 1), (6, 1, 1)]),
    scale_first=st.booleans(),
)
def test_any_per_channel_or_scalar_scale_folds(kind: str, scale_shape: tuple, scale_first: bool) -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 4, 5, 5))
    conv = _conv(x.outputs[0], kind)
    scale = const((RNG.random(scale_shape) + 0.5).astype(np.float32))
    v = Multiply(scale, conv) if scale_first else Multiply(conv, scale)
    optimized = run_pass_checked(Graph([x], [v]), fuse_linear, rtol=1e-5, atol=1e-5)
    assert "Multiply" not in optimized.op_histogram()


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(KINDS), scale_shape=st.sampled_from([(), (1,), (1, 4, 1, 1), (4, 1, 1)]), padded=st.booleans())
def test_input_scale_folds_into_the_convolution(kind: str, scale_shape: tuple, padded: bool) -> None:
    """conv(relu(x) * s, W) → conv(relu(x), W·s): a BatchNorm's scale after a ReLU, padding or not."""
    x = parameter("x", ElementType.f32, Shape.of(2, 4, 5, 5))
    scale = const((RNG.random(scale_shape) + 0.5).astype(np.float32))
    conv = _conv(Multiply(Relu(x.outputs[0]), scale), kind)
    if not padded:
        conv.producer.attrs.update(pads_begin=(0, 0), pads_end=(0, 0))
    optimized = run_pass_checked(Graph([x], [conv]), fuse_linear, rtol=1e-5, atol=1e-5)
    assert "Multiply" not in optimized.op_histogram()


def test_input_scale_over_spatial_dims_or_read_twice_stays() -> None:
    x = parameter("x", ElementType.f32, Shape.of(1, 4, 5, 5))
    assert unchanged(Graph([x], [_conv(Multiply(x.outputs[0], const(_rand(1, 1, 5, 5))), "Convolution")]), fuse_linear)
    scaled = Multiply(x.outputs[0], const(_rand(1, 4, 1, 1)))
    assert unchanged(Graph([x], [_conv(scaled, "Convolution"), Relu(scaled)]), fuse_linear)


def test_scale_over_spatial_dims_is_not_folded() -> None:
    x = parameter("x", ElementType.f32, Shape.of(1, 4, 5, 5))
    v = Multiply(_conv(x.outputs[0], "Convolution"), const(_rand(1, 1, 5, 5)))
    assert unchanged(Graph([x], [v]), fuse_linear)


def test_conv_output_read_twice_is_not_folded() -> None:
    x = parameter("x", ElementType.f32, Shape.of(1, 4, 5, 5))
    conv = _conv(x.outputs[0], "Convolution")
    graph = Graph([x], [Multiply(conv, const(_rand(1, 6, 1, 1))), Relu(conv)])
    assert unchanged(graph, fuse_linear)


def test_pad_folds_into_convolution() -> None:
    x = parameter("x", ElementType.f32, Shape.of(1, 4, 5, 5))
    padded = Pad(x.outputs[0], const(np.array([0, 0, 1, 2])), const(np.array([0, 0, 2, 0])), const(np.float32(0)), pad_mode="constant")
    graph = Graph([x], [_conv(padded, "Convolution")])
    optimized = run_pass_checked(graph, fuse_pad_into_convolution)
    conv = optimized.outputs[0].producer
    assert "Pad" not in optimized.op_histogram()
    assert conv.attrs["pads_begin"] == (2, 3) and conv.attrs["pads_end"] == (3, 1)


@pytest.mark.parametrize("kind", ["Convolution", "GroupConvolution"])
def test_pad_folds_into_a_valid_convolution(kind: str) -> None:
    """Keras ZeroPadding2D + a VALID convolution (MobileNetV2's strided depthwise blocks): the
    valid convolution's own pads attributes do not count."""
    x = parameter("x", ElementType.f32, Shape.of(None, 4, 6, 6))
    padded = Pad(x.outputs[0], const(np.array([0, 0, 0, 0])), const(np.array([0, 0, 1, 1])), const(np.float32(0)), pad_mode="constant")
    conv = _conv(padded, kind)
    valid = conv.producer.op(*conv.producer.inputs, **{**conv.producer.attrs, "auto_pad": "valid"})
    optimized = run_pass_checked(Graph([x], [valid]), fuse_pad_into_convolution)
    fused = optimized.outputs[0].producer
    assert "Pad" not in optimized.op_histogram()
    assert (fused.attrs["auto_pad"], fused.attrs["pads_begin"], fused.attrs["pads_end"]) == ("explicit", (0, 0), (1, 1))


def _nhwc_padded(begins: list[int], ends: list[int], value: float = 0.0):
    """An NHWC input padded, then transposed to NCHW for the convolution (Keras ResNet50's conv1_pad)."""
    from converter.ops.shape import Transpose

    x = parameter("x", ElementType.f32, Shape.of(None, 5, 5, 4))
    padded = Pad(x.outputs[0], const(np.array(begins)), const(np.array(ends)), const(np.float32(value)), pad_mode="constant")
    return x, Transpose(padded, const(np.array([0, 3, 1, 2])))


def test_pad_before_a_layout_transpose_folds_into_convolution() -> None:
    x, nchw = _nhwc_padded([0, 3, 1, 0], [0, 2, 3, 0])
    optimized = run_pass_checked(Graph([x], [_conv(nchw, "Convolution")]), fuse_pad_into_convolution)
    conv = optimized.outputs[0].producer
    assert "Pad" not in optimized.op_histogram() and optimized.op_histogram()["Transpose"] == 1
    assert conv.inputs[0].producer.op.type == "Transpose" and conv.inputs[0].producer.inputs[0] is optimized.inputs[0]
    assert conv.attrs["pads_begin"] == (4, 2) and conv.attrs["pads_end"] == (3, 4)  # its own 1s plus the Pad's H, W


@pytest.mark.parametrize("begins, value, read_twice", [([1, 1, 1, 0], 0.0, False), ([0, 1, 1, 1], 0.0, False), ([0, 1, 1, 0], 1.0, False), ([0, 1, 1, 0], 0.0, True)])
def test_pad_before_a_transpose_that_pads_more_than_space_stays(begins: list[int], value: float, read_twice: bool) -> None:
    """Batch or channel padding, a non-zero value, or a Transpose read elsewhere: nothing moves."""
    x, nchw = _nhwc_padded(begins, [0, 1, 1, 0], value)
    outputs = [_conv(nchw, "Convolution")] + ([Relu(nchw)] if read_twice else [])
    assert unchanged(Graph([x], outputs), fuse_pad_into_convolution)


@pytest.mark.parametrize("mode, value, begins", [("reflect", 0.0, [0, 0, 1, 1]), ("constant", 1.0, [0, 0, 1, 1]), ("constant", 0.0, [0, 1, 1, 1])])
def test_pad_that_is_not_zero_spatial_padding_stays(mode: str, value: float, begins: list[int]) -> None:
    x = parameter("x", ElementType.f32, Shape.of(1, 4 - begins[1], 5, 5))
    padded = Pad(x.outputs[0], const(np.array(begins)), const(np.array([0, 0, 1, 1])), const(np.float32(value)), pad_mode=mode)
    graph = Graph([x], [_conv(padded, "Convolution")])
    assert unchanged(graph, fuse_pad_into_convolution)


@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("between", ["none", "transpose", "gather"])
def test_layernorm_affine_folds_into_the_next_projection(transpose_b: bool, between: str) -> None:
    from converter.ops.indexing import Gather
    from converter.ops.matmul import MatMul
    from converter.ops.shape import Transpose as TransposeOp

    x = parameter("x", ElementType.f32, Shape.of(2, 3, 4))
    gamma, beta = _rand(4), _rand(4)
    value = Add(Multiply(x.outputs[0], const(gamma)), const(beta))  # what LayerNorm leaves after MVN
    if between == "transpose":
        value = TransposeOp(value, const(np.array([1, 0, 2])))
    elif between == "gather":
        value = Gather(value, const(np.int64(0)), const(np.int64(1)))
    weights = _rand(5, 4) if transpose_b else _rand(4, 5)
    projected = Add(MatMul(value, const(weights), transpose_a=False, transpose_b=transpose_b), const(_rand(5)))
    optimized = run_pass_checked(Graph([x], [Relu(projected)]), fuse_linear, rtol=1e-5, atol=1e-5)
    histogram = optimized.op_histogram()
    assert histogram.get("Multiply", 0) == 0 and histogram["Add"] == 1 and histogram["MatMul"] == 1


def test_scaled_weights_are_the_float64_product_rounded_once() -> None:
    """The blocked product (no float64 copy of the weights) keeps the bits of the whole-array one,
    for f32, f16 and f64 weights, per-channel factors that f32 cannot hold and ones it can."""
    from converter.passes.fuse_linear import _scaled

    for dtype in (np.float32, np.float16, np.float64):
        weights = RNG.standard_normal((70, 33, 3, 3)).astype(dtype)
        for factor in (RNG.standard_normal((70, 1, 1, 1)) * 3.7, np.full((70, 1, 1, 1), 0.5), RNG.standard_normal((1, 33, 1, 1))):
            expected = (weights.astype(np.float64) * factor).astype(dtype)
            result = _scaled(weights, factor)
            assert result.dtype == dtype and result.shape == weights.shape
            assert result.tobytes() == expected.tobytes()
