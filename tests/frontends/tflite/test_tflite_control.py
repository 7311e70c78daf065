"""TFLite WHILE and IF (further subgraphs as IR Loop / If bodies) against the interpreter: models
from tf.while_loop and tf.cond in a tf.function, converted by TensorFlow's TFLite converter."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tflite_support import check, edit, from_function, op_types, random, rename_op, tf  # noqa: E402

from converter.errors import UnsupportedOpsError  # noqa: E402
from converter.frontends.tflite import convert_tflite, load_tflite  # noqa: E402


def spec(*shape: int | None, dtype=tf.float32) -> tf.TensorSpec:
    return tf.TensorSpec(shape, dtype)


def named(data: bytes, **arrays: np.ndarray) -> dict[str, np.ndarray]:
    """Feeds by argument name (the converter names an input serving_default_x:0, or x)."""
    model, _ = load_tflite(data)
    graph = model.subgraphs[0]
    names = [graph.tensors[index].name for index in graph.inputs]
    return {next(n for n in names if n in (key, f"serving_default_{key}:0")): array for key, array in arrays.items()}


def subgraph_ops(data: bytes) -> list[list[str]]:
    model, _ = load_tflite(data)
    return [[model.operator_codes[op.opcode_index].name for op in graph.operators] for graph in model.subgraphs]


def counted_loop(x, n):
    def body(i, acc):
        return i + 1, acc * 0.9 + tf.sin(acc)

    return tf.while_loop(lambda i, acc: i < n, body, [tf.constant(0), x])[1]


@pytest.fixture(scope="module")
def while_model() -> bytes:
    return from_function(counted_loop, [spec(2, 3), spec(dtype=tf.int32)])


@pytest.mark.parametrize("steps", [0, 1, 5])
def test_while(tmp_path, while_model, steps):
    assert subgraph_ops(while_model)[0] == ["WHILE"]
    graph = check(tmp_path, while_model, feeds=named(while_model, x=random(2, 3), n=np.array(steps, np.int32)))
    assert "Loop" in op_types(graph)


def test_while_with_a_growing_variable(tmp_path):
    """A loop variable whose shape changes each iteration (a Parameter with a dynamic dim)."""

    def f(x, n):
        def body(i, acc):
            return i + 1, tf.concat([acc, acc[-1:] * 2.0], axis=0)

        return tf.while_loop(lambda i, acc: i < n, body, [tf.constant(0), x], shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, 3])])[1]

    data = from_function(f, [spec(1, 3), spec(dtype=tf.int32)])
    check(tmp_path, data, feeds=named(data, x=random(1, 3), n=np.array(4, np.int32)))


def test_nested_while_and_cond_in_a_body(tmp_path):
    def f(x, n):
        def inner(j, v):
            return j + 1, v + tf.cast(j, tf.float32)

        def body(i, acc):
            acc = tf.while_loop(lambda j, v: j < i, inner, [tf.constant(0), acc])[1]
            acc = tf.cond(tf.reduce_sum(acc) > 0, lambda: acc * 0.5, lambda: acc - 1.0)
            return i + 1, acc

        return tf.while_loop(lambda i, acc: i < n, body, [tf.constant(0), x])[1]

    data = from_function(f, [spec(2, 2), spec(dtype=tf.int32)])
    assert sum(ops.count("WHILE") for ops in subgraph_ops(data)) == 2
    check(tmp_path, data, feeds=named(data, x=random(2, 2), n=np.array(3, np.int32)))


@pytest.fixture(scope="module")
def if_model() -> bytes:
    def f(x, c):
        return tf.cond(c > 0, lambda: x * 2.0 + 1.0, lambda: tf.exp(x))

    return from_function(f, [spec(2, 3), spec()])


@pytest.mark.parametrize("condition", [1.0, -1.0])
def test_if(tmp_path, if_model, condition):
    assert "IF" in subgraph_ops(if_model)[0]
    graph = check(tmp_path, if_model, feeds=named(if_model, x=random(2, 3), c=np.array(condition, np.float32)))
    assert "If" in op_types(graph)


@pytest.mark.parametrize("condition", [True, False])
def test_if_with_a_constant_condition_takes_its_branch(tmp_path, condition):
    """TensorFlow folds a constant tf.cond away: the condition is made a constant in the file."""
    from tensorflow.lite.python import schema_py_generated as schema

    data = from_function(lambda x, c: tf.cond(c, lambda: x * 2.0, lambda: tf.exp(x)), [spec(2, 3), spec(dtype=tf.bool)])

    def constant_condition(model):
        graph = model.subgraphs[0]
        (op,) = [op for op in graph.operators if model.operatorCodes[op.opcodeIndex].builtinCode == schema.BuiltinOperator.IF]
        buffer = schema.BufferT()
        buffer.data = [int(condition)]
        model.buffers.append(buffer)
        tensor = schema.TensorT()
        tensor.shape, tensor.type, tensor.buffer, tensor.name = [], schema.TensorType.BOOL, len(model.buffers) - 1, b"condition"
        graph.tensors.append(tensor)
        op.inputs = [len(graph.tensors) - 1, *op.inputs[1:]]

    edited = edit(data, constant_condition)
    graph = check(tmp_path, edited, feeds=named(edited, x=random(2, 3), c=np.array(True)))
    assert "If" not in op_types(graph) and ("Exp" in op_types(graph)) is not condition


def test_unsupported_ops_in_a_body_are_reported(while_model):
    with pytest.raises(UnsupportedOpsError) as caught:
        convert_tflite(edit(while_model, lambda m: rename_op(m, "SIN", "SKIP_GRAM")))
    assert "SKIP_GRAM" in caught.value.unsupported


def test_a_missing_or_recursive_subgraph_is_refused(while_model):
    from converter.errors import InvalidModelError, NodeConversionError

    def body_index(index):
        def change(model):
            (op,) = [op for op in model.subgraphs[0].operators if op.builtinOptionsType]
            op.builtinOptions.bodySubgraphIndex = index

        return change

    with pytest.raises(InvalidModelError, match="subgraph 9"):
        convert_tflite(edit(while_model, body_index(9)))

    def recursive(model):  # the condition subgraph runs the loop again
        rename_op(model, "LESS", "WHILE")
        op = [op for op in model.subgraphs[1].operators][0]
        from tensorflow.lite.python import schema_py_generated as schema

        options = schema.WhileOptionsT()
        options.condSubgraphIndex, options.bodySubgraphIndex = 1, 2
        op.builtinOptionsType, op.builtinOptions = schema.BuiltinOptions.WhileOptions, options

    with pytest.raises(NodeConversionError, match="runs itself"):
        convert_tflite(edit(while_model, recursive))


def test_int8_model_with_a_loop(tmp_path):
    """Full-integer conversion keeps the loop variables float and quantizes inside the body."""

    def f(x):
        def body(i, acc):
            return i + 1, tf.nn.relu(acc * 0.75 + 0.1)

        return tf.while_loop(lambda i, acc: i < 3, body, [tf.constant(0), x])[1]

    samples = [[random(2, 8, seed=i)] for i in range(16)]
    data = from_function(f, [spec(2, 8)], representative=samples, integer_io=True)
    assert "QUANTIZE" in subgraph_ops(data)[2]
    check(tmp_path, data, quantized=True)
