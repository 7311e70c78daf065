"""TFLite shape, indexing, reduction, creation and layout ops against the interpreter: float,
integer and int8 models built by TensorFlow's TFLite converter (edited for options it does not
emit), IR reloaded and run in OpenVINO."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tflite_support import check, edit, from_function, ops_of, random, rename_op, tf  # noqa: E402

from converter.api import optimize  # noqa: E402
from converter.frontends.tflite import convert_tflite, load_tflite  # noqa: E402
from converter.validate.runners import GraphRunner  # noqa: E402


def spec(*shape: int | None, dtype=tf.float32) -> tf.TensorSpec:
    return tf.TensorSpec(shape, dtype)


def named(data: bytes, **arrays: np.ndarray) -> dict[str, np.ndarray]:
    """Feeds by argument name (the converter names an input serving_default_x:0, or x)."""
    model, _ = load_tflite(data)
    graph = model.subgraphs[0]
    names = [graph.tensors[index].name for index in graph.inputs]
    return {next(n for n in names if n in (key, f"serving_default_{key}:0")): array for key, array in arrays.items()}


def test_pack_unpack_split_tile_pad_reverse(tmp_path):
    def f(x):
        a, b = tf.split(x, 2, axis=1)
        parts = tf.split(x, [1, -1, 2], axis=2)
        return {
            "pack": tf.stack([x, x * 2.0], axis=1),
            "pack_last": tf.stack([x, -x], axis=-1),
            "unpack": tf.unstack(x, axis=1)[1] * 2.0,
            "split": a * b,
            "split_v": parts[1] * 2.0,
            "tile": tf.tile(x, [1, 2, 1]),
            "broadcast_to": tf.broadcast_to(x[:, :1], [2, 4, 6]) * 1.0,
            "reflect": tf.pad(x, [[0, 0], [1, 2], [2, 1]], mode="REFLECT"),
            "symmetric": tf.pad(x, [[1, 0], [1, 2], [0, 1]], mode="SYMMETRIC"),
            "reverse": tf.reverse(x, [1, -1]),
        }

    expect = ["PACK", "UNPACK", "SPLIT", "SPLIT_V", "TILE", "BROADCAST_TO", "MIRROR_PAD", "REVERSE_V2"]
    check(tmp_path, from_function(f, [spec(None, 4, 6)]), feeds={"serving_default_x:0": random(2, 4, 6)}, expect_ops=expect)


@pytest.mark.parametrize("axis, batch_dims", [(0, 0), (1, 0), (-1, 0), (1, 1), (2, 1), (-1, -1)])
def test_gather(tmp_path, axis, batch_dims):
    data = from_function(lambda x, i: tf.gather(x, i, axis=axis, batch_dims=batch_dims), [spec(3, 4, 5), spec(3, 2, dtype=tf.int32)])
    indices = np.array([[0, 2], [1, 1], [2, 0]], np.int32)
    check(tmp_path, data, feeds={"serving_default_x:0": random(3, 4, 5), "serving_default_i:0": indices}, expect_ops=["GATHER"])


def test_gather_nd(tmp_path):
    def f(x, i):
        return {"elements": tf.gather_nd(x, i), "rows": tf.gather_nd(x, i[:, :1])}

    indices = np.array([[0, 1], [2, 3], [1, 0]], np.int32)
    check(tmp_path, from_function(f, [spec(3, 4, 5), spec(3, 2, dtype=tf.int32)]), feeds={"serving_default_x:0": random(3, 4, 5), "serving_default_i:0": indices}, expect_ops=["GATHER_ND"])


@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_and_arg_extremes(tmp_path, keepdims):
    def f(x):
        return {
            "min": tf.reduce_min(x, 1, keepdims=keepdims),
            "prod": tf.reduce_prod(x, [0, 2], keepdims=keepdims),
            "any": tf.reduce_any(x > 0.5, 1, keepdims=keepdims),
            "all": tf.reduce_all(x > -0.5, -1, keepdims=keepdims),
            "argmax": tf.argmax(x, axis=2),
            "argmin": tf.argmin(x, axis=1, output_type=tf.int32),
        }

    x = np.round(random(2, 4, 6), 1)  # ties: the first index wins
    check(tmp_path, from_function(f, [spec(2, 4, 6)]), feeds={"serving_default_x:0": x}, expect_ops=["REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY", "REDUCE_ALL", "ARG_MAX", "ARG_MIN"])


def test_shape_fill_zeros_cast_range_topk_cumsum(tmp_path):
    def f(x):
        batch = tf.shape(x)[0]
        return {
            "shape": tf.shape(x),
            "shape64": tf.shape(x, out_type=tf.int64),
            "fill": tf.fill(tf.stack([batch, 3]), 2.5),
            "zeros_like": tf.zeros_like(x) + x,
            "cast": tf.cast(x * 3.0, tf.int32),
            "cast_bool": tf.cast(tf.round(x), tf.bool),
            "cast_back": tf.cast(tf.cast(x * 4.0, tf.int32), tf.float32),
            "range": tf.range(1, batch * 7, 2),
            "range_float": tf.range(0.5, tf.cast(batch, tf.float32) * 2.0, 0.75),
            "topk": tf.math.top_k(x, 3),
            "cumsum": tf.cumsum(x, axis=1),
            "cumsum_options": tf.cumsum(x, axis=1, exclusive=True, reverse=True),
        }

    x = random(2, 4, 6, low=-2, high=2)
    x[0, 0, :3] = 0.25  # top_k ties keep index order
    data = from_function(f, [spec(None, 4, 6)])
    check(tmp_path, data, feeds=named(data, x=x), expect_ops=["SHAPE", "FILL", "ZEROS_LIKE", "CAST", "RANGE", "TOPK_V2", "CUMSUM"])


def test_space_and_depth(tmp_path):
    def f(x):
        return {
            "space_to_depth": tf.nn.space_to_depth(x, 2),
            "depth_to_space": tf.nn.depth_to_space(x, 2),
            "space_to_batch": tf.space_to_batch_nd(x, [2, 2], [[0, 0], [1, 1]]) * 2.0,
            "batch_to_space": tf.batch_to_space(x, [1, 2], [[0, 0], [1, 1]]) * 2.0,
        }

    check(tmp_path, from_function(f, [spec(2, 4, 6, 8)]), expect_ops=["SPACE_TO_DEPTH", "DEPTH_TO_SPACE", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"])


def test_space_to_batch_3d(tmp_path):
    data = from_function(lambda x: tf.batch_to_space(tf.space_to_batch_nd(x, [3], [[1, 2]]) * 2.0, [3], [[0, 1]]), [spec(2, 6, 4)])
    check(tmp_path, data, expect_ops=["SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"])


def test_normalizations(tmp_path):
    def f(x):
        return {
            "l2": tf.math.l2_normalize(x, axis=-1),
            "lrn": tf.nn.local_response_normalization(x, 2, 1.0, 0.5, 0.75),
            "lrn_wide": tf.nn.local_response_normalization(x, 5, 0.3, 2.0, 0.5),
        }

    x = random(2, 3, 4, 8, low=-2, high=2)
    x[0, 0, 0] = 0.0  # the norm's epsilon
    check(tmp_path, from_function(f, [spec(2, 3, 4, 8)]), feeds={"serving_default_x:0": x}, expect_ops=["L2_NORMALIZATION", "LOCAL_RESPONSE_NORMALIZATION"])


def test_pack_and_unpack_options(tmp_path):
    """PACK's values_count and UNPACK's num as the converter writes them; UNPACK without num has one output per slice."""

    def f(x):
        return {"pack": tf.stack([x, x * 3.0, x * 2.0], axis=0), "unpack": tf.unstack(x, axis=-1)[2] * 2.0}

    data = from_function(f, [spec(2, 3)])

    def clear(model):
        ops_of(model, "UNPACK")[0].builtinOptions.num = 0

    check(tmp_path, data, expect_ops=["PACK", "UNPACK"])
    graph, _ = optimize(convert_tflite(edit(data, clear)))  # the interpreter refuses UNPACK without num
    x = random(2, 3)
    got = GraphRunner(graph, "openvino").run([x])
    np.testing.assert_allclose(got[[o.names[0] for o in graph.outputs].index("PartitionedCall:1")], x[:, 2] * 2.0, rtol=1e-6)


# ---------------------------------------------------------------- quantized


@pytest.fixture(scope="module")
def int8_shapes():
    def f(x):
        y = x * 0.5 + 0.1
        a, b = tf.split(y, 2, axis=-1)
        return {
            "pack": tf.stack([a, b], axis=1),
            "unpack": tf.unstack(y, axis=1)[0],
            "tile": tf.tile(y, [1, 2, 1, 1]),
            "mirror": tf.pad(y, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT"),
            "reverse": tf.reverse(y, [2]),
            "gather": tf.gather(y, [1, 3, 0], axis=3),
            "space_to_depth": tf.nn.space_to_depth(y, 2),
            "depth_to_space": tf.nn.depth_to_space(y, 2),
            "space_to_batch": tf.space_to_batch_nd(y, [2, 2], [[0, 0], [0, 0]]),
            "reduce_min": tf.reduce_min(y, [1, 2]),
            "argmax": tf.argmax(y, axis=-1),
            "topk": tf.math.top_k(y, 2).values,
            "l2": tf.math.l2_normalize(y, axis=-1),
        }

    samples = [[random(1, 4, 4, 8, seed=s)] for s in range(16)]
    return from_function(f, [spec(1, 4, 4, 8)], representative=samples, integer_io=True)


def test_int8_shape_ops(tmp_path, int8_shapes):
    """Quantized selections and layouts keep their grid; l2 normalization and reductions within one step."""
    feeds = named(int8_shapes, x=np.random.default_rng(0).integers(-128, 128, (1, 4, 4, 8)).astype(np.int8))
    expect = ["PACK", "UNPACK", "TILE", "MIRROR_PAD", "REVERSE_V2", "GATHER", "SPACE_TO_DEPTH", "DEPTH_TO_SPACE", "SPACE_TO_BATCH_ND", "REDUCE_MIN", "ARG_MAX", "TOPK_V2", "L2_NORMALIZATION"]
    check(tmp_path, int8_shapes, feeds=feeds, quantized=True, expect_ops=expect)


def test_reduce_any_written_as_reduce_all(tmp_path):
    """The same operator with the other code (each takes bool input and keep_dims)."""
    data = from_function(lambda x: tf.reduce_any(x > 0, 1), [spec(2, 3)])

    def to_all(model):
        rename_op(model, "REDUCE_ANY", "REDUCE_ALL")

    check(tmp_path, edit(data, to_all), expect_ops=["REDUCE_ALL"])
