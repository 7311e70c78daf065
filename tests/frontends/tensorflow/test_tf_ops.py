"""TF ops, one family at a time: frozen TF graph → irforge IR → OpenVINO, against TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tf_support import check, random, tf  # noqa: E402

raw = tf.raw_ops


def nchw(x):
    return tf.transpose(x, [0, 3, 1, 2])


def nhwc(x):
    return tf.transpose(x, [0, 2, 3, 1])


# ---------------------------------------------------------------- convolutions


@pytest.mark.parametrize(
    "strides, padding, dilations, size",
    [
        (1, "SAME", 1, 9),
        (2, "VALID", 1, 9),
        (2, "SAME", 1, 10),  # odd total padding: the extra row/column goes at the end
        (1, "SAME", 2, 9),
        (1, [[0, 0], [1, 2], [2, 0], [0, 0]], 1, 8),  # EXPLICIT
    ],
)
def test_conv2d_nhwc(tmp_path, strides, padding, dilations, size):
    w = tf.constant(random(3, 3, 3, 5, seed=1))

    def f(x):
        return tf.nn.conv2d(x, w, strides=strides, padding=padding, dilations=dilations)

    check(tmp_path, f, random(2, size, size, 3), expect_ops=["Conv2D"])


def test_conv2d_nchw_and_explicit_pads_against_the_nhwc_graph(tmp_path):
    w = tf.constant(random(3, 2, 4, 6, seed=1))

    def nhwc_conv(x):
        return tf.nn.conv2d(x, w, strides=[1, 2, 1, 1], padding="SAME", dilations=[1, 1, 2, 1])

    def nchw_conv(x):
        y = raw.Conv2D(input=nchw(x), filter=w, strides=[1, 1, 2, 1], padding="SAME", data_format="NCHW", dilations=[1, 1, 1, 2])
        return nhwc(y)

    check(tmp_path, nchw_conv, random(1, 9, 8, 4), reference=nhwc_conv, expect_ops=["Conv2D"])


def test_grouped_conv2d(tmp_path):
    w = tf.constant(random(3, 3, 2, 6, seed=1))  # 4 input channels in 2 groups

    def f(x):
        return tf.nn.conv2d(x, w, strides=1, padding="SAME")

    check(tmp_path, f, random(1, 7, 7, 4), expect_ops=["Conv2D"])


@pytest.mark.parametrize("strides, dilations, padding", [(1, 1, "SAME"), (2, 1, "VALID"), (1, 2, "SAME")])
def test_depthwise_conv2d(tmp_path, strides, dilations, padding):
    w = tf.constant(random(3, 3, 4, 2, seed=1))  # channel multiplier 2

    def f(x):
        s, d = [1, strides, strides, 1], [1, dilations, dilations, 1]
        return raw.DepthwiseConv2dNative(input=x, filter=w, strides=s, padding=padding, dilations=d)

    check(tmp_path, f, random(2, 9, 9, 4), expect_ops=["DepthwiseConv2dNative"])


def test_conv3d_and_3d_pools(tmp_path):
    w = tf.constant(random(2, 3, 3, 2, 4, seed=1))

    def f(x):
        y = tf.nn.conv3d(x, w, strides=[1, 1, 2, 1, 1], padding="SAME")
        return [y, tf.nn.max_pool3d(y, 2, 2, "VALID"), tf.nn.avg_pool3d(y, [1, 3, 3], 1, "SAME")]

    check(tmp_path, f, random(1, 4, 7, 6, 2), expect_ops=["Conv3D", "MaxPool3D", "AvgPool3D"])


def test_conv_bias_relu_conv_keeps_two_transposes(tmp_path):
    w1, b1, w2 = tf.constant(random(3, 3, 3, 8, seed=1)), tf.constant(random(8, seed=2)), tf.constant(random(1, 1, 8, 4, seed=3))

    def f(x):
        y = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w1, 1, "SAME"), b1))
        return tf.nn.conv2d(y, w2, 1, "VALID")

    graph = check(tmp_path, f, random(1, 8, 8, 3), expect_ops=["Conv2D", "BiasAdd", "Relu"])
    assert graph.op_histogram().get("Transpose") == 2  # one at the input, one at the output


def test_bias_add_nchw(tmp_path):
    b = tf.constant(random(3, seed=1))

    def f(x):
        return tf.nn.bias_add(x, b, data_format="NCHW")

    check(tmp_path, f, random(2, 3, 4, 5), expect_ops=["BiasAdd"])


# ---------------------------------------------------------------- batch normalization and matmul


@pytest.mark.parametrize("op", ["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"])
def test_fused_batch_norm_inference(tmp_path, op):
    scale, offset = tf.constant(random(4, seed=1)), tf.constant(random(4, seed=2))
    mean, variance = tf.constant(random(4, seed=3)), tf.constant(random(4, seed=4, low=0.5, high=2.0))

    def f(x):
        return getattr(raw, op)(x=x, scale=scale, offset=offset, mean=mean, variance=variance, epsilon=0.001, is_training=False)[0]

    check(tmp_path, f, random(2, 5, 5, 4), expect_ops=[op])


def test_fused_batch_norm_nchw(tmp_path):
    scale, offset = tf.constant(random(4, seed=1)), tf.constant(random(4, seed=2))
    mean, variance = tf.constant(random(4, seed=3)), tf.constant(random(4, seed=4, low=0.5, high=2.0))

    def batch_norm(x, data_format):
        return raw.FusedBatchNormV3(
            x=x, scale=scale, offset=offset, mean=mean, variance=variance, epsilon=0.01, data_format=data_format, is_training=False
        )[0]

    def channels_first(x):
        return nhwc(batch_norm(nchw(x), "NCHW"))

    def channels_last(x):
        return batch_norm(x, "NHWC")

    check(tmp_path, channels_first, random(2, 5, 5, 4), reference=channels_last, expect_ops=["FusedBatchNormV3"])


def test_matmul_transposes(tmp_path):
    def f(a, b):
        return [
            raw.MatMul(a=a, b=b),
            raw.MatMul(a=tf.transpose(a), b=b, transpose_a=True),
            raw.MatMul(a=a, b=tf.transpose(b), transpose_b=True),
            raw.MatMul(a=tf.transpose(a), b=tf.transpose(b), transpose_a=True, transpose_b=True),
        ]

    check(tmp_path, f, random(3, 4), random(4, 5, seed=1), expect_ops=["MatMul"])


@pytest.mark.parametrize("op", ["BatchMatMulV2", "BatchMatMulV3"])
def test_batch_matmul_broadcast_and_adjoints(tmp_path, op):
    extra = {"Tout": tf.float32} if op == "BatchMatMulV3" else {}

    def f(x, y):
        matmul = getattr(raw, op)
        return [
            matmul(x=x, y=y, **extra),
            matmul(x=tf.linalg.matrix_transpose(x), y=y, adj_x=True, **extra),
            matmul(x=x, y=tf.linalg.matrix_transpose(y), adj_y=True, **extra),
        ]

    check(tmp_path, f, random(2, 3, 4, 5), random(3, 5, 6, seed=1), expect_ops=[op])


# ---------------------------------------------------------------- activations and element-wise ops

ACTIVATIONS = {
    "Relu": tf.nn.relu,
    "Relu6": tf.nn.relu6,
    "Elu": tf.nn.elu,
    "Selu": tf.nn.selu,
    "LeakyRelu": lambda x: tf.nn.leaky_relu(x, alpha=0.3),
    "Sigmoid": tf.sigmoid,
    "Tanh": tf.tanh,
    "Softplus": tf.nn.softplus,
    "Softsign": tf.nn.softsign,
    "Softmax": tf.nn.softmax,
    "LogSoftmax": tf.nn.log_softmax,
    "Erf": tf.math.erf,
}


@pytest.mark.parametrize("op", sorted(ACTIVATIONS))
def test_activation(tmp_path, op):
    check(tmp_path, ACTIVATIONS[op], random(2, 3, 7) * 4, expect_ops=[op])


def test_binary_ops_broadcast(tmp_path):
    def f(a, b):
        positive = tf.abs(a) + 0.5
        return [
            raw.Add(x=a, y=b),
            raw.AddV2(x=a, y=b),
            raw.AddN(inputs=[a, a * 2.0, a * 3.0]),
            raw.Sub(x=a, y=b),
            raw.Mul(x=a, y=b),
            raw.RealDiv(x=a, y=b),
            raw.Maximum(x=a, y=b),
            raw.Minimum(x=a, y=b),
            raw.SquaredDifference(x=a, y=b),
            raw.Pow(x=positive, y=b),
            raw.FloorDiv(x=a, y=b),
            raw.FloorMod(x=a, y=b),
            raw.Greater(x=a, y=b),
            raw.LessEqual(x=a, y=b),
            raw.Equal(x=tf.round(a), y=tf.round(b)),
            raw.LogicalAnd(x=a > 0, y=b > 0),
        ]

    check(tmp_path, f, random(2, 3, 4) * 3, random(3, 1, seed=1) + 2.0, expect_ops=["Add", "AddV2", "AddN", "SquaredDifference"])


def test_unary_ops(tmp_path):
    def f(x):
        positive = tf.abs(x) + 0.1
        return [
            raw.Rsqrt(x=positive),
            raw.Sqrt(x=positive),
            raw.Square(x=x),
            raw.Exp(x=x),
            raw.Log(x=positive),
            raw.Neg(x=x),
            raw.Abs(x=x),
            raw.Floor(x=x),
            raw.Ceil(x=x),
            raw.Round(x=x * 2.0),
            raw.Sign(x=x),
            raw.Reciprocal(x=positive),
            raw.Erfc(x=x),
            raw.LogicalNot(x=x > 0),
        ]

    check(tmp_path, f, np.concatenate([random(20) * 3, np.array([0.5, 1.5, -2.5, 0.0], np.float32)]), expect_ops=["Rsqrt", "Square"])


def test_integer_division_and_modulo(tmp_path):
    def f(a, b):
        return [raw.FloorDiv(x=a, y=b), raw.FloorMod(x=a, y=b), raw.Div(x=a, y=b)]

    a = np.array([7, -7, 8, -9, 0], np.int32)
    b = np.array([2, 2, -3, -4, 5], np.int32)
    check(tmp_path, f, a, b, expect_ops=["FloorDiv", "FloorMod", "Div"])


def test_select_v1_rows_and_v2_broadcast(tmp_path):
    def f(x, y):
        rows = raw.Select(condition=tf.reduce_sum(x, axis=[1, 2]) > 0, x=x, y=y)
        broadcast = raw.SelectV2(condition=x[:, :1, :] > 0, t=x, e=-1.0)
        return [rows, broadcast]

    check(tmp_path, f, random(4, 3, 2), random(4, 3, 2, seed=1), expect_ops=["Select", "SelectV2"])


# ---------------------------------------------------------------- pooling


@pytest.mark.parametrize("op", ["MaxPool", "AvgPool"])
@pytest.mark.parametrize("ksize, strides, padding", [(2, 2, "VALID"), (3, 2, "SAME"), (3, 1, "SAME")])
def test_pool_nhwc(tmp_path, op, ksize, strides, padding):
    def f(x):
        return getattr(tf.nn, "max_pool2d" if op == "MaxPool" else "avg_pool2d")(x, ksize, strides, padding)

    check(tmp_path, f, random(2, 7, 8, 3), expect_ops=[op])


@pytest.mark.parametrize("op", ["MaxPool", "AvgPool"])
def test_pool_nchw_against_the_nhwc_graph(tmp_path, op):
    def pool(x, data_format):
        k, s = ([1, 3, 3, 1], [1, 2, 2, 1]) if data_format == "NHWC" else ([1, 1, 3, 3], [1, 1, 2, 2])
        data = {"input": x} if op == "MaxPool" else {"value": x}
        return getattr(raw, op)(**data, ksize=k, strides=s, padding="SAME", data_format=data_format)

    def channels_first_pool(x):
        return nhwc(pool(nchw(x), "NCHW"))

    def channels_last_pool(x):
        return pool(x, "NHWC")

    check(tmp_path, channels_first_pool, random(1, 7, 7, 2), reference=channels_last_pool, expect_ops=[op])


# ---------------------------------------------------------------- reductions


def test_reductions(tmp_path):
    def f(x):
        return [
            tf.reduce_mean(x, axis=[1, 2]),
            tf.reduce_sum(x, axis=-1, keepdims=True),
            tf.reduce_max(x, axis=0),
            tf.reduce_min(x, axis=[0, -1], keepdims=True),
            tf.reduce_prod(x * 0.5 + 1.0, axis=2),
            tf.reduce_all(x > -1.0, axis=1),
            tf.reduce_any(x > 1.0, axis=[1, 2], keepdims=True),
        ]

    check(tmp_path, f, random(2, 3, 4), expect_ops=["Mean", "Sum", "Max", "Min", "Prod", "All", "Any"])


def test_argmax_argmin(tmp_path):
    def f(x):
        return [tf.argmax(x, axis=1), tf.argmin(x, axis=-1, output_type=tf.int32)]

    x = random(3, 5, 4)
    x[0, 1, :] = x[0, 3, :] = 10.0  # ties: the first index wins
    check(tmp_path, f, x, expect_ops=["ArgMax", "ArgMin"])


# ---------------------------------------------------------------- shape ops


def test_reshape_squeeze_expand_concat_pack_unpack_transpose(tmp_path):
    def f(x):
        flat = tf.reshape(x, [2, -1])
        squeezed = tf.squeeze(x[:, :1], axis=[1])
        all_ones = tf.squeeze(tf.reshape(x, [2, 1, 3, 4, 1]))
        expanded = tf.expand_dims(x, -1)
        concatenated = tf.concat([x, x * 2.0], axis=-2)
        packed = tf.stack([x, x + 1.0, x - 1.0], axis=1)
        first, second = tf.unstack(x[:, :2], axis=1)
        transposed = tf.transpose(x, [2, 0, 1])
        return [flat, squeezed, all_ones, expanded, concatenated, packed, first, second, transposed]

    check(tmp_path, f, random(2, 3, 4), expect_ops=["Reshape", "Squeeze", "ExpandDims", "ConcatV2", "Pack", "Unpack", "Transpose"])


def test_pads(tmp_path):
    paddings = [[0, 0], [1, 2], [2, 1]]

    def f(x):
        return [
            tf.pad(x, paddings),
            tf.pad(x, paddings, constant_values=-3.0),
            tf.pad(x, paddings, mode="REFLECT"),
            tf.pad(x, paddings, mode="SYMMETRIC"),
        ]

    check(tmp_path, f, random(2, 4, 5), expect_ops=["Pad", "PadV2", "MirrorPad"])


def test_tile_split_broadcast_fill_range(tmp_path):
    def f(x):
        a, b, c = tf.split(x, 3, axis=1)
        d, e = tf.split(x, [1, 2], axis=1)
        return [
            tf.tile(x, [2, 1, 3]),
            a,
            c - b,
            d,
            e,
            tf.broadcast_to(x[:, :1, :1], [2, 3, 4]),
            tf.fill([2, 3], 7.0),
            tf.range(1, 11, 3),
            tf.range(0.5, 2.0, 0.25),
        ]

    check(tmp_path, f, random(2, 3, 4), expect_ops=["Tile", "Split", "SplitV", "BroadcastTo", "Fill", "Range"])


def test_shape_size_rank_cast_on_a_dynamic_batch(tmp_path):
    def f(x):
        shape = tf.shape(x)
        return [
            shape,
            tf.shape(x, out_type=tf.int64),
            tf.size(x),
            tf.rank(x),
            tf.cast(x * 3.0, tf.int32),  # truncates toward zero
            tf.cast(tf.cast(x * 3.0, tf.int32), tf.float32),
            tf.cast(x > 0, tf.float32),
            tf.reshape(x, tf.stack([shape[0], -1])),
            tf.zeros_like(x),
            tf.ones_like(x),
        ]

    check(tmp_path, f, random(3, 2, 4), shapes=[[None, 2, 4]], expect_ops=["Shape", "Size", "Cast", "StridedSlice", "ZerosLike", "OnesLike"])


STRIDED_SLICES = {
    "begin-end-masks": lambda x: x[1:, :2, ::2],
    "negative-strides": lambda x: x[::-1, 2:0:-1, -1:],
    "shrink": lambda x: x[1, :, 2],
    "new-axis": lambda x: x[:, tf.newaxis, 1:3, tf.newaxis],
    "ellipsis": lambda x: x[..., 1],
    "ellipsis-new-axis": lambda x: x[tf.newaxis, ..., :2],
}


@pytest.mark.parametrize("case", sorted(STRIDED_SLICES))
def test_strided_slice_masks(tmp_path, case):
    check(tmp_path, STRIDED_SLICES[case], random(3, 4, 5), expect_ops=["StridedSlice"])


def test_strided_slices_of_vectors_become_gather_and_slice(tmp_path):
    """`tf.shape(x)[0]` and friends: the Gather / Slice the shape passes read, so the reshape
    below keeps a static pattern and the IR no ShapeOf."""

    def f(x, v):
        shape = tf.shape(x)
        return [
            tf.reshape(x, [shape[0], 8]),
            v[2], v[-1], v[1:], v[:-1], v[::-2], v[3:0:-1], v[::-1], v[1:5:2],
        ]

    graph = check(tmp_path, f, random(3, 2, 4), random(6, seed=1), shapes=[[None, 2, 4], [6]], expect_ops=["StridedSlice"])
    histogram = graph.op_histogram()
    assert "ShapeOf" not in histogram and "StridedSlice" not in histogram, histogram


def test_slice_and_gather(tmp_path):
    indices = tf.constant([[2, 0], [1, 1]])

    def f(x):
        return [
            tf.slice(x, [1, 0, 2], [-1, 2, 3]),
            tf.gather(x, [2, 0, 1], axis=1),
            tf.gather(x, indices, axis=-1),
            tf.gather(x, tf.constant([[0, 2], [1, 0], [3, 3]]), axis=1, batch_dims=1),
        ]

    check(tmp_path, f, random(3, 4, 5), expect_ops=["Slice", "GatherV2"])


@pytest.mark.parametrize("align_corners, half_pixel_centers", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("op", ["ResizeBilinear", "ResizeNearestNeighbor"])
def test_resize(tmp_path, op, align_corners, half_pixel_centers):
    def f(x):
        up = getattr(raw, op)(images=x, size=[9, 11], align_corners=align_corners, half_pixel_centers=half_pixel_centers)
        down = getattr(raw, op)(images=x, size=[3, 2], align_corners=align_corners, half_pixel_centers=half_pixel_centers)
        return [up, down]

    check(tmp_path, f, random(2, 5, 4, 3), expect_ops=[op])


# ---------------------------------------------------------------- beyond the basics


@pytest.mark.parametrize("padding, strides, size", [("SAME", 2, 8), ("VALID", 2, 9), ("SAME", 1, 5), ("VALID", 3, 13)])
def test_conv2d_backprop_input(tmp_path, padding, strides, size):
    w = tf.constant(random(3, 3, 4, 6, seed=1))  # [H, W, output channels, input channels]

    def f(x):
        batch = tf.shape(x)[0]
        return tf.nn.conv2d_transpose(x, w, tf.stack([batch, size, size, 4]), strides=strides, padding=padding)

    source = (size + strides - 1) // strides if padding == "SAME" else (size - 3) // strides + 1
    check(tmp_path, f, random(2, source, source, 6), shapes=[[None, source, source, 6]], expect_ops=["Conv2DBackpropInput"])


def test_depthwise_dilation_through_space_to_batch(tmp_path):
    w = tf.constant(random(3, 3, 4, 1, seed=1))

    def f(x):
        return tf.nn.depthwise_conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME", dilations=[2, 2])

    check(tmp_path, f, random(2, 9, 10, 4), shapes=[[None, 9, 10, 4]], expect_ops=["SpaceToBatchND", "BatchToSpaceND"])


def test_space_depth_batch_rearrangements(tmp_path):
    def f(x):
        return [
            tf.nn.space_to_depth(x, 2),
            tf.nn.depth_to_space(tf.concat([x, x * 2.0], axis=-1), 2),
            tf.space_to_batch_nd(x, [2, 3], [[0, 0], [1, 1]]),
            tf.batch_to_space(tf.concat([x] * 6, axis=0), [2, 3], [[1, 0], [0, 2]]),
        ]

    check(tmp_path, f, random(2, 4, 4, 2), expect_ops=["SpaceToDepth", "DepthToSpace", "SpaceToBatchND", "BatchToSpaceND"])


def test_einsum_clip_topk_cumsum_reverse(tmp_path):
    def f(a, b):
        values, indices = tf.math.top_k(a, k=3)
        return [
            tf.einsum("bij,bjk->bik", a, b),
            tf.einsum("bij->bji", a),
            raw.ClipByValue(t=a, clip_value_min=-0.5, clip_value_max=0.7),
            raw.ClipByValue(t=a, clip_value_min=a * 0.0 - 0.2, clip_value_max=0.3),
            values,
            indices,
            tf.cumsum(a, axis=1),
            tf.cumsum(a, axis=-1, exclusive=True, reverse=True),
            tf.reverse(a, axis=[0, 2]),
        ]

    check(tmp_path, f, random(2, 3, 5), random(2, 5, 4, seed=1), expect_ops=["Einsum", "ClipByValue", "TopKV2", "Cumsum", "ReverseV2"])


def test_where_one_hot_gather_nd_lrn(tmp_path):
    def f(x, ids):
        return [
            tf.where(x > 0.5),
            tf.one_hot(ids, 4, on_value=2.0, off_value=-1.0),
            tf.one_hot(ids, 3, axis=0),
            tf.gather_nd(x, [[0, 1], [1, 2]]),
            tf.nn.local_response_normalization(tf.reshape(x, [1, 2, 3, 4]), depth_radius=1, bias=2.0, alpha=0.5, beta=0.75),
        ]

    check(tmp_path, f, random(2, 3, 4), np.array([0, 3, -1, 2], np.int32), expect_ops=["Where", "OneHot", "GatherNd", "LRN"])
