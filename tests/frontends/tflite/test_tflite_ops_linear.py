"""TFLite BATCH_MATMUL, CONV_3D and CONV_3D_TRANSPOSE against the interpreter (float, int8 and
hybrid batch matmuls), and the options tables of every handled op against TFLite's own schema."""

from __future__ import annotations

import inspect
import re

import pytest

pytest.importorskip("tensorflow")

from tflite_support import check, edit, from_function, ops_of, random, tf  # noqa: E402

from converter.frontends.tflite.ops import HANDLERS  # noqa: E402
from converter.frontends.tflite.schema import BUILTIN_OPTIONS  # noqa: E402


def spec(*shape: int | None, dtype=tf.float32) -> tf.TensorSpec:
    return tf.TensorSpec(shape, dtype)


# ---------------------------------------------------------------- BATCH_MATMUL


def test_batch_matmul(tmp_path):
    w = random(8, 5, seed=4)

    def f(x, y, z):
        return {
            "plain": tf.matmul(x, y),
            "adj_y": tf.matmul(x, x, adjoint_b=True),
            "adj_x": tf.matmul(y, y, adjoint_a=True),
            "broadcast": tf.matmul(z, y),  # [3, 1, 2, 3, 8] @ [2, 8, 5]
            "constant": tf.einsum("bij,jk->bik", x, w),
        }

    data = from_function(f, [spec(2, 3, 8), spec(2, 8, 5), spec(3, 1, 2, 3, 8)])
    check(tmp_path, data, expect_ops=["BATCH_MATMUL"])


@pytest.mark.parametrize("adj_x, adj_y", [(False, False), (True, False), (False, True), (True, True)])
def test_batch_matmul_adjoint_options(tmp_path, adj_x, adj_y):
    """adj_x / adj_y written into the flatbuffer: the same operands read transposed."""
    data = from_function(lambda x, y: tf.matmul(x, y), [spec(2, 4, 4), spec(2, 4, 4)])

    def adjoint(model):
        options = ops_of(model, "BATCH_MATMUL")[0].builtinOptions
        options.adjX, options.adjY = adj_x, adj_y

    check(tmp_path, edit(data, adjoint), expect_ops=["BATCH_MATMUL"])


def test_int8_batch_matmul(tmp_path):
    def f(x, y):
        return {"product": tf.matmul(x, y), "adjoint": tf.matmul(x, x, adjoint_b=True)}

    # square operands: the calibrator may feed the inputs in another order than the signature's
    samples = [[random(2, 6, 6, seed=i), random(2, 6, 6, seed=50 + i)] for i in range(16)]
    data = from_function(f, [spec(2, 6, 6), spec(2, 6, 6)], representative=samples, integer_io=True)
    check(tmp_path, data, quantized=True, expect_ops=["BATCH_MATMUL"])


def test_hybrid_batch_matmul_with_asymmetric_inputs(tmp_path):
    """int8 weights, float activations (dynamic range); asymmetric_quantize_inputs only changes TFLite's on-the-fly rounding."""
    w = random(2, 16, 6, seed=1)
    data = from_function(lambda x: tf.matmul(x, w), [spec(2, 3, 16)])

    def hybrid(converter_model):
        for op in ops_of(converter_model, "BATCH_MATMUL"):
            op.builtinOptions.asymmetricQuantizeInputs = True

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [tf.function(lambda x: tf.matmul(x, w), input_signature=[spec(2, 3, 16)]).get_concrete_function()]
    )
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    quantized = converter.convert()
    assert len(quantized) < len(data)  # the weights are int8
    check(tmp_path, edit(quantized, hybrid), expect_ops=["BATCH_MATMUL"], rtol=1e-2, atol=2e-2)


# ---------------------------------------------------------------- 3-D convolutions


@pytest.mark.parametrize("padding, strides, dilations", [("SAME", 1, 1), ("VALID", 2, 1), ("SAME", 2, 1), ("SAME", 1, 2)])
def test_conv_3d(tmp_path, padding, strides, dilations):
    w, b = random(2, 3, 3, 2, 4, seed=1), random(4, seed=2)

    def f(x):
        return tf.nn.relu(tf.nn.conv3d(x, w, [1, strides, strides, strides, 1], padding, dilations=[1, dilations, dilations, dilations, 1]) + b)

    check(tmp_path, from_function(f, [spec(1, 5, 6, 7, 2)]), expect_ops=["CONV_3D"])


@pytest.mark.parametrize("padding, size, out", [("SAME", 3, 6), ("SAME", 3, 5), ("VALID", 3, 7), ("VALID", 3, 8)])
def test_conv_3d_transpose(tmp_path, padding, size, out):
    w, b = random(3, 3, 3, 2, 4, seed=1), random(2, seed=2)  # [D, H, W, out, in]

    def f(x):
        return tf.nn.conv3d_transpose(x, w, [1, out, out, out, 2], [1, 2, 2, 2, 1], padding) + b

    check(tmp_path, from_function(f, [spec(1, size, size, size, 4)]), expect_ops=["CONV_3D_TRANSPOSE"])


# ---------------------------------------------------------------- options tables


def _slots(options_class) -> dict[int, str]:
    """Field slot → accessor name of one of TFLite's generated option classes."""
    slots = {}
    for name, function in inspect.getmembers(options_class, inspect.isfunction):
        if name == "Init" or name.endswith(("Length", "IsNone", "AsNumpy")):
            continue
        found = re.search(r"Offset\((\d+)\)", inspect.getsource(function))
        if found:
            slots[(int(found.group(1)) - 4) // 2] = name
    return slots


def test_options_tables_are_tflites():
    """Every table irforge decodes has TFLite's union code, name, and a field per slot named alike."""
    from tensorflow.lite.python import schema_py_generated as schema

    codes = {code: name for name, code in vars(schema.BuiltinOptions).items() if isinstance(code, int) and not name.startswith("_")}
    for code, table in BUILTIN_OPTIONS.items():
        assert codes[code] == table.name
        slots = _slots(getattr(schema, table.name))
        assert len(slots) <= len(table.fields), f"{table.name} has fields irforge does not describe"
        for slot, (name, _, _) in enumerate(table.fields):
            if name is not None:
                assert name.replace("_", "") == slots[slot].lower(), f"{table.name} slot {slot}"


# The options table each op added with issue 9 reads (the BuiltinOptions union's type code).
OPTIONS_OF = {
    "L2_NORMALIZATION": 12, "LOCAL_RESPONSE_NORMALIZATION": 13, "SPACE_TO_DEPTH": 19, "GATHER": 23,
    "BATCH_TO_SPACE_ND": 24, "SPACE_TO_BATCH_ND": 25, "REDUCE_MIN": 27, "REDUCE_PROD": 27, "REDUCE_ANY": 27,
    "REDUCE_ALL": 27, "EXP": 33, "TOPK_V2": 34, "SPLIT": 35, "CAST": 37, "ARG_MAX": 40, "LESS": 41, "NEG": 42,
    "GREATER": 44, "GREATER_EQUAL": 45, "LESS_EQUAL": 46, "SELECT": 47, "TILE": 51, "EQUAL": 53, "NOT_EQUAL": 54,
    "SHAPE": 55, "POW": 56, "ARG_MIN": 57, "PACK": 59, "LOGICAL_OR": 60, "LOGICAL_AND": 62, "LOGICAL_NOT": 63,
    "UNPACK": 64, "FLOOR_DIV": 65, "SQUARE": 66, "ZEROS_LIKE": 67, "FILL": 68, "FLOOR_MOD": 72, "RANGE": 73,
    "SQUARED_DIFFERENCE": 76, "MIRROR_PAD": 77, "ABS": 78, "SPLIT_V": 79, "REVERSE_V2": 81, "GATHER_ND": 83,
    "COS": 84, "WHERE": 85, "DEPTH_TO_SPACE": 94, "SELECT_V2": 98, "BATCH_MATMUL": 101, "CUMSUM": 102,
    "BROADCAST_TO": 104, "CONV_3D": 106, "CONV_3D_TRANSPOSE": 106, "SIGN": 123,
    "UNIDIRECTIONAL_SEQUENCE_RNN": 31, "BIDIRECTIONAL_SEQUENCE_LSTM": 69, "UNIDIRECTIONAL_SEQUENCE_LSTM": 71,
    "IF": 92, "WHILE": 93,
}  # fmt: skip


@pytest.mark.parametrize("op", sorted(OPTIONS_OF))
def test_handler_options_are_the_schema_fields_with_its_defaults(op):
    parameters = inspect.signature(HANDLERS[op]).parameters
    options = {name: p.default for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    fields = {name: default for name, _, default in BUILTIN_OPTIONS[OPTIONS_OF[op]].fields if name is not None}
    assert options == fields
