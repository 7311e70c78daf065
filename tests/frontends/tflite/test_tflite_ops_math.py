"""TFLite element-wise math, comparisons, logical ops and selections against the interpreter:
float, integer and int8 models built by TensorFlow's TFLite converter (edited where it does not
emit an op or an option), IR reloaded and run in OpenVINO."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tflite_support import check, edit, from_function, ops_of, random, rename_op, tf  # noqa: E402


def spec(*shape: int, dtype=tf.float32) -> tf.TensorSpec:
    return tf.TensorSpec(shape, dtype)


UNARY = {
    "exp": tf.exp,
    "log": tf.math.log,
    "sqrt": tf.sqrt,
    "rsqrt": tf.math.rsqrt,
    "square": tf.square,
    "abs": tf.abs,
    "neg": tf.negative,
    "sin": tf.sin,
    "cos": tf.cos,
    "floor": tf.floor,
    "ceil": tf.math.ceil,
    "round": tf.round,
    "sign": tf.sign,
}
POSITIVE = {"log", "sqrt", "rsqrt"}


def test_unary_math(tmp_path):
    def f(x, p):
        return {name: op(p if name in POSITIVE else x) for name, op in UNARY.items()}

    x = random(3, 8, low=-3, high=3)
    x[0, :4] = [0.5, -0.5, 1.5, -2.5]  # ROUND's ties go to even
    x[1, 0] = 0.0
    feeds = {"serving_default_x:0": x, "serving_default_p:0": random(3, 8, seed=1, low=0.1, high=4)}
    expect = ["EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "ABS", "NEG", "SIN", "COS", "FLOOR", "CEIL", "ROUND", "SIGN"]
    check(tmp_path, from_function(f, [spec(3, 8), spec(3, 8)]), feeds=feeds, expect_ops=expect)


def test_binary_math(tmp_path):
    def f(a, b, p):
        return {
            "pow": tf.pow(p, a),
            "squared_difference": tf.math.squared_difference(a, b),
            "floor_div": tf.math.floordiv(a, b),
            "floor_mod": tf.math.floormod(a, b),
        }

    feeds = {
        "serving_default_a:0": random(2, 3, 4, low=-5, high=5),
        "serving_default_b:0": np.array([[[0.7, -1.3, 2.0, -0.4]]] * 2, np.float32).reshape(2, 1, 4),
        "serving_default_p:0": random(2, 3, 4, seed=2, low=0.2, high=2),
    }
    data = from_function(f, [spec(2, 3, 4), spec(2, 1, 4), spec(2, 3, 4)])
    check(tmp_path, data, feeds=feeds, expect_ops=["POW", "SQUARED_DIFFERENCE", "FLOOR_DIV", "FLOOR_MOD"])


def test_integer_math(tmp_path):
    """Integer floor division and modulo round towards −∞; integer POW, SQUARED_DIFFERENCE, NEG, ABS, SIGN."""

    def f(a, b):
        return {
            "floor_div": tf.math.floordiv(a, b),
            "floor_mod": tf.math.floormod(a, b),
            "pow": tf.pow(a, tf.abs(b) % 3),
            "squared_difference": tf.math.squared_difference(a, b),
            "neg": -a,
            "abs": tf.abs(a),
            "sign": tf.sign(b),
        }

    feeds = {
        "serving_default_a:0": np.array([7, -7, 7, -7, 0, 9, -9, 6], np.int32),
        "serving_default_b:0": np.array([2, 2, -2, -2, 3, 4, 4, -3], np.int32),
    }
    data = from_function(f, [spec(8, dtype=tf.int32), spec(8, dtype=tf.int32)])
    check(tmp_path, data, feeds=feeds, expect_ops=["FLOOR_DIV", "FLOOR_MOD", "POW", "SQUARED_DIFFERENCE", "NEG", "ABS", "SIGN"])


def test_comparisons_logical_and_selections(tmp_path):
    def f(a, b, m):
        return {
            "equal": tf.equal(a, b),
            "not_equal": tf.not_equal(a, b),
            "less": tf.less(a, b),
            "less_equal": tf.less_equal(a, b),
            "greater": tf.greater(a, b),
            "greater_equal": tf.greater_equal(a, b),
            "and": tf.logical_and(a > 0, m),
            "or": tf.logical_or(b > 0, m),
            "not": tf.logical_not(m),
            "select": tf.where(a > b, a, b),
            "rows": tf.raw_ops.Select(condition=a[:, 0] > 0, x=a, y=b),
            "where": tf.where(a > 0.2),
        }

    a = np.round(random(4, 5, low=-2, high=2), 1)
    b = np.round(random(4, 5, seed=1, low=-2, high=2), 1)
    b[0, :3] = a[0, :3]  # some equal values
    feeds = {"serving_default_a:0": a, "serving_default_b:0": b, "serving_default_m:0": random(4, 5, seed=3) > 0}
    data = from_function(f, [spec(4, 5), spec(4, 5), spec(4, 5, dtype=tf.bool)])
    expect = ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT"]
    check(tmp_path, data, feeds=feeds, expect_ops=expect + ["SELECT", "WHERE"])


def test_select_v2_broadcasts(tmp_path):
    def f(c, x, y):
        return tf.where(c, x, y)

    data = from_function(f, [spec(2, 1, dtype=tf.bool), spec(2, 3), spec(1, 3)])
    feeds = {"serving_default_c:0": np.array([[True], [False]]), "serving_default_x:0": random(2, 3), "serving_default_y:0": random(1, 3, seed=1)}
    check(tmp_path, data, feeds=feeds, expect_ops=["SELECT_V2"])


def test_select_written_as_select_v2(tmp_path):
    """The same op with the other code (TensorFlow emits SELECT for equal shapes)."""
    data = from_function(lambda c, x, y: tf.where(c, x, y), [spec(3, 4, dtype=tf.bool), spec(3, 4), spec(3, 4)])
    feeds = {"serving_default_c:0": random(3, 4) > 0, "serving_default_x:0": random(3, 4), "serving_default_y:0": random(3, 4, seed=1)}
    check(tmp_path, edit(data, lambda m: rename_op(m, "SELECT", "SELECT_V2")), feeds=feeds, expect_ops=["SELECT_V2"])


# ---------------------------------------------------------------- quantized


@pytest.fixture(scope="module")
def int8_math(tmp_path_factory):
    def f(x, y):
        p = tf.nn.relu(x) + 0.1
        return {
            "exp": tf.exp(x * 0.5),
            "abs": tf.abs(x),
            "neg": -x,
            "rsqrt": tf.math.rsqrt(p),
            "square": tf.square(x),
            "squared_difference": tf.math.squared_difference(x, y),
            "select": tf.where(x > y, x, y * 0.5),
            "less": tf.cast(tf.less(x, y), tf.float32) + x,
        }

    samples = [[random(2, 16, seed=i), random(2, 16, seed=100 + i)] for i in range(16)]
    return from_function(f, [spec(2, 16), spec(2, 16)], representative=samples, integer_io=True)


def test_int8_math(tmp_path, int8_math):
    """Quantized unary and binary math and comparisons, each within one step of TFLite's integer kernels."""
    graph = check(tmp_path, int8_math, quantized=True, expect_ops=["EXP", "ABS", "NEG", "RSQRT", "SQUARE", "SQUARED_DIFFERENCE", "SELECT", "LESS"])
    assert all(output.element_type.value == "i8" for output in graph.outputs)


def test_options_absent_from_math_ops_are_defaults(tmp_path):
    """Ops whose options tables are empty convert with and without the table."""
    data = from_function(lambda x: {"exp": tf.exp(x), "sq": tf.square(x)}, [spec(2, 3)])

    def drop(model):
        for name in ("EXP", "SQUARE"):
            for op in ops_of(model, name):
                op.builtinOptionsType, op.builtinOptions = 0, None

    check(tmp_path, edit(data, drop), expect_ops=["EXP", "SQUARE"])


def test_int8_existing_ops_rechecked(tmp_path):
    """LOG_SOFTMAX, HARD_SWISH, MAXIMUM / MINIMUM of differently scaled inputs, SQUEEZE, EXPAND_DIMS,
    REDUCE_PROD, SPLIT, GATHER_ND on int8 tensors (the converter leaves LOG, SQRT, SIN, FLOOR_DIV float
    between DEQUANTIZE and QUANTIZE), each within one step."""

    def f(x):
        y = x * 2.0
        return {
            "log_softmax": tf.nn.log_softmax(x * 3.0),
            "hard_swish": y * tf.nn.relu6(y + 3.0) / 6.0,
            "max": tf.maximum(x, y * 0.3),
            "min": tf.minimum(x * 0.7, y),
            "squeeze": tf.squeeze(tf.reshape(x, [2, 1, 16]), 1) + 0.0,
            "expand": tf.expand_dims(x, 1),
            "prod": tf.reduce_prod(x * 0.5 + 1.0, 1),
            "log": tf.math.log(tf.nn.relu(x) + 0.5),
            "sqrt": tf.sqrt(tf.nn.relu(x)),
            "split": tf.split(x, 4, axis=1)[2],
            "gather_nd": tf.gather_nd(x, [[0, 3], [1, 5]]),
            "floor_div": tf.math.floordiv(x, 0.3),
            "sin": tf.sin(x),
            "cast": tf.cast(x, tf.int32),
        }

    samples = [[random(2, 16, seed=i, low=-2, high=2)] for i in range(32)]
    data = from_function(f, [spec(2, 16)], representative=samples, integer_io=True)
    expect = ["LOG_SOFTMAX", "HARD_SWISH", "MAXIMUM", "MINIMUM", "REDUCE_PROD", "SPLIT", "GATHER_ND", "CAST"]
    check(tmp_path, data, quantized=True, expect_ops=expect)


def test_cast_of_a_quantized_tensor_casts_its_integers(tmp_path):
    samples = [[random(2, 8, seed=i, low=-2, high=2)] for i in range(8)]
    data = from_function(lambda x: {"cast": tf.cast(x, tf.int32), "y": x * 2.0}, [spec(2, 8)], representative=samples, integer_io=True)

    def raw(model):  # CAST reads the int8 input itself, not its DEQUANTIZE
        graph = model.subgraphs[0]
        (cast,) = ops_of(model, "CAST")
        cast.inputs = [graph.inputs[0]]

    check(tmp_path, edit(data, raw), quantized=True, expect_ops=["CAST"])
