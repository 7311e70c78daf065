"""Each MXNet op family: a checkpoint written in the test, converted, run in OpenVINO from the IR
on disk, against the numpy reference (mxnet_reference.py). With IRFORGE_MXNET_PYTHON naming an
interpreter that has mxnet, the numpy reference is checked against real MXNet too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from mxnet_files import SymbolBuilder, assert_close, mxnet_outputs, run_converted, write_checkpoint
from mxnet_reference import run_reference


def rand(*shape: int, seed: int = 0, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed + 7 * len(shape)).uniform(low, high, shape).astype(np.float32)


@dataclass
class Model:
    """A symbol under construction with its weights and feeds."""

    b: SymbolBuilder = field(default_factory=SymbolBuilder)
    args: dict[str, np.ndarray] = field(default_factory=dict)
    aux: dict[str, np.ndarray] = field(default_factory=dict)
    feeds: dict[str, np.ndarray] = field(default_factory=dict)

    def data(self, name: str, array: np.ndarray, declare_shape: bool = True):
        self.feeds[name] = array
        return self.b.var(name, array.shape if declare_shape else None)

    def weight(self, name: str, array: np.ndarray, aux: bool = False):
        (self.aux if aux else self.args)[name] = array
        return self.b.var(name)


# Cases real MXNet 1.9 cannot run on a CPU: channels-last convolutions (cuDNN only) and the 1-D
# 'same' pool (its shape check reads pad[1] of a 1-D pad).
NOT_ON_MXNET_CPU = {"conv2d_nhwc", "max_same_1d"}


def check(model: Model, heads: list, tmp_path: Path, rtol: float = 1e-4, atol: float = 1e-5, mxnet: bool = True) -> list[np.ndarray]:
    path = write_checkpoint(tmp_path, "net", model.b, heads, model.args, model.aux)
    expected = run_reference(path, model.args, model.aux, model.feeds)
    actual = run_converted(path, model.feeds, tmp_path)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert_close(a, e, rtol, atol)
    real = mxnet_outputs(path, model.feeds) if mxnet else None
    if real is not None:
        for r, e in zip(real, expected):
            assert_close(r, e, rtol, atol)
    return actual


Build = Callable[[Model], list]


def _conv(**attrs) -> Build:
    def build(m: Model) -> list:
        groups = int(attrs.get("num_group", 1))
        kernel = attrs["kernel"]
        layout = attrs.get("layout")
        channels_last = layout in ("NWC", "NHWC", "NDHWC")
        spatial = (7, 6, 5)[: len(kernel)]
        shape = (2, *spatial, 4) if channels_last else (2, 4, *spatial)
        x = m.data("data", rand(*shape), declare_shape=True)
        wshape = (8, *kernel, 4 // groups) if channels_last else (8, 4 // groups, *kernel)
        w = m.weight("c_weight", rand(*wshape, seed=1))
        inputs = [x, w] if attrs.get("no_bias") else [x, w, m.weight("c_bias", rand(8, seed=2))]
        return [m.b.op("Convolution", "c", *inputs, num_filter=8, **attrs)]

    return build


def _deconv(**attrs) -> Build:
    def build(m: Model) -> list:
        groups = int(attrs.get("num_group", 1))
        x = m.data("data", rand(2, 4, 5, 4), declare_shape=True)
        w = m.weight("d_weight", rand(4, 6 // groups, *attrs["kernel"], seed=1))
        inputs = [x, w] if attrs.get("no_bias", True) else [x, w, m.weight("d_bias", rand(6, seed=2))]
        return [m.b.op("Deconvolution", "d", *inputs, num_filter=6, **attrs)]

    return build


def _pool(shape=(2, 3, 7, 6), declare_shape: bool = True, **attrs) -> Build:
    def build(m: Model) -> list:
        x = m.data("data", rand(*shape), declare_shape=declare_shape)
        return [m.b.op("Pooling", "p", x, **attrs)]

    return build


def _unary(op: str, shape=(2, 3, 4), low: float = -2.0, high: float = 2.0, declare_shape: bool = True, label: bool = False, **attrs) -> Build:
    def build(m: Model) -> list:
        x = m.data("data", rand(*shape, low=low, high=high), declare_shape)
        inputs = [x, m.b.var("y_label")] if label else [x]  # a training label: no input of the IR
        return [m.b.op(op, "y", *inputs, **attrs)]

    return build


def _binary(op: str, a=(2, 3, 4), b=(2, 3, 4), **attrs) -> Build:
    def build(m: Model) -> list:
        x = m.data("lhs", rand(*a, low=0.5, high=2.0))
        y = m.data("rhs", rand(*b, seed=3, low=0.5, high=2.0))
        return [m.b.op(op, "y", x, y, **attrs)]

    return build


def _norm(op: str, shape=(2, 3, 4, 5), channels: int = 3, **attrs) -> Build:
    def build(m: Model) -> list:
        x = m.data("data", rand(*shape, low=-3, high=3), declare_shape=True)
        gamma = m.weight("n_gamma", rand(channels, seed=1, low=0.5, high=1.5))
        beta = m.weight("n_beta", rand(channels, seed=2))
        return [m.b.op(op, "n", x, gamma, beta, **attrs)]

    return build


def _batch_norm(axis: int = 1, **attrs) -> Build:
    def build(m: Model) -> list:
        shape = (2, 3, 4, 5)
        c = shape[axis]
        x = m.data("data", rand(*shape, low=-3, high=3))
        inputs = [x, m.weight("bn_gamma", rand(c, seed=1, low=0.5, high=1.5)), m.weight("bn_beta", rand(c, seed=2))]
        inputs += [m.weight("bn_moving_mean", rand(c, seed=3), aux=True), m.weight("bn_moving_var", rand(c, seed=4, low=0.5, high=2), aux=True)]
        return [m.b.op("BatchNorm", "bn", *inputs, axis=axis, **attrs)]

    return build


CASES: dict[str, Build] = {
    # convolutions
    "conv2d": _conv(kernel=(3, 3), pad=(1, 1)),
    "conv2d_stride_dilate": _conv(kernel=(3, 2), stride=(2, 1), dilate=(2, 1), pad=(1, 0)),
    "conv2d_groups_no_bias": _conv(kernel=(3, 3), num_group=2, no_bias=True),
    "conv2d_depthwise": _conv(kernel=(3, 3), num_group=4, pad=(1, 1)),
    "conv1d": _conv(kernel=(3,), pad=(1,)),
    "conv3d": _conv(kernel=(2, 2, 2)),
    "conv2d_nhwc": _conv(kernel=(3, 3), pad=(1, 1), layout="NHWC"),
    "deconv": _deconv(kernel=(3, 3), stride=(2, 2), pad=(1, 1)),
    "deconv_adj_bias": _deconv(kernel=(3, 3), stride=(2, 2), pad=(1, 1), adj=(1, 1), no_bias=False),
    "deconv_target_shape": _deconv(kernel=(4, 4), stride=(2, 2), target_shape=(10, 8)),
    "deconv_groups": _deconv(kernel=(2, 2), stride=(2, 2), num_group=2),
    # pooling
    "max_valid": _pool(kernel=(3, 3), stride=(2, 2)),
    "max_full_pad": _pool(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pooling_convention="full"),
    "avg_valid_pad": _pool(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg"),
    "avg_exclude_pad": _pool(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", count_include_pad=False),
    "avg_full": _pool(kernel=(3, 3), stride=(2, 2), pool_type="avg", pooling_convention="full"),
    "avg_full_pad": _pool(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", pooling_convention="full"),
    "avg_full_exclude": _pool(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", pooling_convention="full", count_include_pad=False),
    "sum_full": _pool(kernel=(2, 3), stride=(2, 2), pad=(1, 0), pool_type="sum", pooling_convention="full"),
    "lp2": _pool(kernel=(2, 2), stride=(2, 2), pool_type="lp", p_value=2),
    "max_same_1d": _pool(shape=(2, 3, 9), kernel=(3,), stride=(2,), pooling_convention="same"),
    "avg_dynamic": _pool(declare_shape=False, kernel=(2, 2), stride=(2, 2), pool_type="avg"),
    "global_avg": _pool(kernel=(1, 1), global_pool=True, pool_type="avg"),
    "global_max_nhwc": _pool(shape=(2, 5, 4, 3), global_pool=True, layout="NHWC"),
    "max_nhwc": _pool(shape=(2, 6, 6, 3), kernel=(2, 2), stride=(2, 2), layout="NHWC"),
    # activations
    **{f"act_{kind}": _unary("Activation", act_type=kind) for kind in ("relu", "sigmoid", "tanh", "softrelu", "softsign")},
    **{f"leaky_{kind}": _unary("LeakyReLU", act_type=kind, slope=0.3) for kind in ("leaky", "elu", "selu", "gelu", "rrelu")},
    "softmax_axis": _unary("softmax", axis=1),
    "softmax_temperature": _unary("softmax", temperature=2.5),
    "log_softmax": _unary("log_softmax", axis=-1),
    "softmax_output": _unary("SoftmaxOutput", label=True),
    "softmax_output_multi": _unary("SoftmaxOutput", label=True, multi_output=True),
    "softmax_output_preserve": _unary("SoftmaxOutput", label=True, preserve_shape=True),
    "softmax_activation_channel": _unary("SoftmaxActivation", shape=(2, 3, 2, 2), mode="channel"),
    "softmax_activation_instance": _unary("SoftmaxActivation", shape=(2, 3, 2, 2)),
    # normalizations
    "batch_norm_fix_gamma": _batch_norm(),
    "batch_norm_gamma": _batch_norm(fix_gamma=False, eps=1e-5, use_global_stats=True),
    "batch_norm_axis_last": _batch_norm(axis=-1, fix_gamma=False),
    "instance_norm": _norm("InstanceNorm", eps=1e-4),
    "layer_norm": _norm("LayerNorm", channels=5),
    "layer_norm_axis1": _norm("LayerNorm", axis=1),
    **{f"l2norm_{mode}": _unary("L2Normalization", shape=(2, 3, 4, 2), mode=mode) for mode in ("instance", "channel", "spatial")},
    # element-wise
    **{f"elemwise_{op}": _binary(f"elemwise_{op}") for op in ("add", "sub", "mul", "div")},
    **{f"broadcast_{op}": _binary(f"broadcast_{op}", (2, 1, 4), (3, 1)) for op in ("add", "sub", "mul", "div", "maximum", "minimum", "power", "equal", "greater", "lesser_equal", "logical_and")},
    **{op: _unary(op, low=0.5, high=2.0, scalar=1.5) for op in ("_plus_scalar", "_minus_scalar", "_rminus_scalar", "_mul_scalar", "_div_scalar", "_rdiv_scalar", "_power_scalar", "_rpower_scalar", "_maximum_scalar", "_minimum_scalar", "_greater_scalar", "_equal_scalar")},
    **{op: _unary(op, low=0.25, high=2.0) for op in ("exp", "log", "sqrt", "rsqrt", "square", "abs", "negative", "sigmoid", "relu", "tanh")},
    "round": _unary("round", low=-3, high=3),
    "clip": _unary("clip", a_min=-0.5, a_max=0.75),
    **{f"{op}_axis": _unary(op, shape=(2, 3, 4), axis=(1,), keepdims=True) for op in ("sum", "mean", "max", "min")},
    "sum_all": _unary("sum"),
    "mean_exclude": _unary("mean", shape=(2, 3, 4), axis=(0, 2), exclude=True),
    "cast_int": _unary("Cast", low=-3, high=3, dtype="int32"),
    "zeros_like": _unary("zeros_like"),
    "ones_like": _unary("ones_like"),
    "dropout": _unary("Dropout", p=0.5),
    "identity": _unary("_copy"),
    "block_grad": _unary("BlockGrad"),
    # matrices
    "batch_dot": _binary("batch_dot", (2, 3, 4), (2, 4, 5)),
    "batch_dot_transposed": _binary("batch_dot", (2, 4, 3), (2, 5, 4), transpose_a=True, transpose_b=True),
    "dot_2d": _binary("dot", (3, 4), (4, 5)),
    "dot_nd": _binary("dot", (2, 3, 4), (4, 5, 2)),
    "dot_transposed": _binary("dot", (4, 3), (5, 4), transpose_a=True, transpose_b=True),
    "dot_nd_transpose_a": _binary("dot", (4, 2, 3), (4, 5), transpose_a=True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op(name: str, tmp_path: Path) -> None:
    model = Model()
    heads = CASES[name](model)
    check(model, heads, tmp_path, mxnet=name not in NOT_ON_MXNET_CPU)


# ------------------------------------------------------------------ ops with several inputs or special arguments


def test_fully_connected_flatten_and_not(tmp_path: Path) -> None:
    m = Model()
    x = m.data("data", rand(2, 3, 4, 5))
    flat = m.b.op("FullyConnected", "fc1", x, m.weight("fc1_weight", rand(6, 60, seed=1)), m.weight("fc1_bias", rand(6, seed=2)), num_hidden=6)
    last = m.b.op("FullyConnected", "fc2", x, m.weight("fc2_weight", rand(3, 5, seed=3)), num_hidden=3, no_bias=True, flatten=False)
    check(m, [flat, last], tmp_path)


def test_prelu_per_channel_and_shared(tmp_path: Path) -> None:
    m = Model()
    x = m.data("data", rand(2, 3, 4, 4, low=-2, high=2), declare_shape=True)
    per_channel = m.b.op("LeakyReLU", "p1", x, m.weight("p1_gamma", rand(3, seed=1, low=0, high=0.5)), act_type="prelu")
    shared = m.b.op("LeakyReLU", "p2", x, m.weight("p2_gamma", np.array([0.2], np.float32)), act_type="prelu")
    check(m, [per_channel, shared], tmp_path)


def test_concat_split_and_add_n(tmp_path: Path) -> None:
    m = Model()
    a = m.data("a", rand(2, 3, 4), declare_shape=True)
    b = m.data("b", rand(2, 5, 4, seed=1), declare_shape=True)
    joined = m.b.op("Concat", "cat", a, b, num_args=2, dim=1)
    split = m.b.op("SliceChannel", "split", joined, num_outputs=2, axis=2, squeeze_axis=False)
    summed = m.b.op("add_n", "sum", (split[0], 0), (split[0], 1), (split[0], 0), num_args=3)
    squeezed = m.b.op("SliceChannel", "split2", a, num_outputs=3, axis=1, squeeze_axis=True)
    check(m, [summed, (squeezed[0], 2), (split[0], 1)], tmp_path)


@pytest.mark.parametrize(
    "attrs",
    [
        {"begin": (0, 1), "end": (2, 3)},
        {"begin": (None, None, 1), "end": (None, None, None), "step": (1, -1, 2)},
        {"begin": (1, -1), "end": (None, None), "step": (-1, -2)},
        {"begin": (0, None), "end": (1, -1)},
    ],
)
def test_slice(attrs: dict, tmp_path: Path) -> None:
    m = Model()
    x = m.data("data", rand(2, 4, 5), declare_shape=True)
    check(m, [m.b.op("slice", "s", x, **attrs)], tmp_path)


def test_slice_axis_like_and_crop(tmp_path: Path) -> None:
    m = Model()
    x = m.data("data", rand(2, 3, 7, 6))
    like = m.data("like", rand(1, 2, 4, 3, seed=1))
    axis = m.b.op("slice_axis", "sa", x, axis=2, begin=1, end=-1)
    axis_none = m.b.op("slice_axis", "sn", x, axis=-1, begin=-4, end=None)
    like_all = m.b.op("slice_like", "sl", x, like)
    like_axes = m.b.op("slice_like", "sl2", x, like, axes=(2, -1))
    crop_hw = m.b.op("Crop", "c1", x, num_args=1, h_w=(3, 4), offset=(2, 1))
    crop_like = m.b.op("Crop", "c2", x, like, num_args=2, center_crop=True)
    check(m, [axis, axis_none, like_all, like_axes, crop_hw, crop_like], tmp_path)


@pytest.mark.parametrize(
    "shape, reverse, dims",
    [
        ((0, -1), False, (2, 3, 4, 5)),
        ((-2,), False, (2, 3, 4, 5)),
        ((0, -3, 0), False, (2, 3, 4, 5)),
        ((-4, 1, -1, -2), False, (2, 3, 4, 5)),
        ((0, -4, -1, 2, -2), False, (2, 6, 4, 5)),
        ((-3, -2), False, (2, 3, 4, 5)),
        ((-1, 0), True, (2, 3, 4, 5)),
        ((4, 0, -1), False, (2, 3, 4, 5)),
        ((0, 0, -3), True, (2, 3, 4, 5)),
        ((-1, 5), True, (2, 3, 4, 5)),
    ],
)
@pytest.mark.parametrize("declare_shape", [True, False])
def test_reshape_special_codes(shape: tuple, reverse: bool, dims: tuple, declare_shape: bool, tmp_path: Path) -> None:
    m = Model()
    b = m.b
    x = m.data("data", rand(*dims), declare_shape=declare_shape)
    if not declare_shape:  # an unknown shape of known rank: a 4-D pool fixes it
        x = b.op("Pooling", "p", x, kernel=(1, 1), pool_type="max")
    y = b.op("Reshape", "r", x, shape=shape, reverse=reverse)
    out = check(m, [y], tmp_path)
    assert out[0].ndim >= 1


def test_shape_ops(tmp_path: Path) -> None:
    m = Model()
    x = m.data("data", rand(2, 1, 3, 4), declare_shape=True)
    ops = [
        m.b.op("Flatten", "f", x),
        m.b.op("transpose", "t", x, axes=(0, 2, 3, 1)),
        m.b.op("transpose", "t2", x),
        m.b.op("expand_dims", "e", x, axis=-1),
        m.b.op("squeeze", "s", x, axis=(1,)),
        m.b.op("squeeze", "s2", x),
        m.b.op("tile", "tl", x, reps=(2, 3)),
        m.b.op("Pad", "pc", x, mode="constant", pad_width=(0, 0, 0, 0, 1, 2, 2, 1), constant_value=0.5),
        m.b.op("Pad", "pe", x, mode="edge", pad_width=(0, 0, 0, 0, 1, 2, 2, 1)),
        m.b.op("Pad", "pr", x, mode="reflect", pad_width=(0, 0, 0, 0, 2, 1, 1, 2)),
    ]
    check(m, ops, tmp_path)


def test_upsampling_nearest_and_bilinear(tmp_path: Path) -> None:
    m = Model()
    x = m.data("data", rand(1, 2, 3, 4), declare_shape=True)
    small = m.data("small", rand(1, 3, 3, 4, seed=1), declare_shape=True)
    nearest = m.b.op("UpSampling", "u1", x, scale=2, sample_type="nearest", num_args=1)
    summed = m.b.op("UpSampling", "u2", x, x, scale=3, sample_type="nearest", num_args=2, multi_input_mode="sum")
    joined = m.b.op("UpSampling", "u3", x, small, scale=2, sample_type="nearest", num_args=2)
    weight = m.weight("u4_weight", rand(2, 1, 4, 4, seed=2))
    bilinear = m.b.op("UpSampling", "u4", x, weight, scale=2, sample_type="bilinear", num_filter=2, num_args=2)
    check(m, [nearest, summed, joined, bilinear], tmp_path)


def test_embedding_take_where(tmp_path: Path) -> None:
    m = Model()
    ids = m.data("ids", np.array([[0, 3, 9], [2, -1, 4]], np.float32))
    table = m.weight("emb_weight", rand(5, 3, seed=1))
    embed = m.b.op("Embedding", "emb", ids, table, input_dim=5, output_dim=3)
    x = m.data("x", rand(4, 3, seed=2))
    clipped = m.b.op("take", "t1", x, ids, axis=0, mode="clip")
    wrapped = m.b.op("take", "t2", x, ids, axis=1, mode="wrap")
    cond = m.data("cond", np.array([1, 0, 0, 2], np.float32))
    rows = m.b.op("where", "w1", cond, x, m.b.op("negative", "neg", x))
    mask = m.data("mask", (rand(4, 3, seed=3) > 0).astype(np.float32))
    elements = m.b.op("where", "w2", mask, x, m.b.op("zeros_like", "z", x))
    check(m, [embed, clipped, wrapped, rows, elements], tmp_path)


@pytest.mark.parametrize(
    "attrs",
    [{}, {"sizes": (0.2, 0.4), "ratios": (1, 2, 0.5), "clip": True}, {"sizes": (0.3,), "ratios": (1, 3), "steps": (0.1, 0.125), "offsets": (0.25, 0.5)}],
)
def test_multibox_prior(attrs: dict, tmp_path: Path) -> None:
    m = Model()
    feature = m.data("data", rand(1, 2, 5, 7))
    prior = m.b.op("_contrib_MultiBoxPrior", "prior", feature, **attrs)
    check(m, [prior, m.b.op("relu", "r", feature)], tmp_path)
