"""The frontend's own TF protobuf schema against TensorFlow's, and the tensor-bundle reader
against TensorFlow's checkpoint reader (TensorFlow is the reference here only)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")

from google.protobuf import descriptor_pool  # noqa: E402

from converter.errors import InvalidModelError  # noqa: E402
from converter.frontends.tensorflow import protos  # noqa: E402
from converter.frontends.tensorflow.bundle import OBJECT_GRAPH_KEY, READ_BYTES, read_bundle  # noqa: E402
from converter.ir.arrays import file_region  # noqa: E402


def _tensorflow_descriptors():
    from tensorflow.core.framework import graph_pb2, tensor_pb2, types_pb2  # noqa: F401
    from tensorflow.core.protobuf import (  # noqa: F401
        meta_graph_pb2,
        saved_model_pb2,
        saved_object_graph_pb2,
        tensor_bundle_pb2,
        trackable_object_graph_pb2,
    )

    return descriptor_pool.Default()


def _ours_and_theirs(pool, ours, theirs):
    """Every (our message, TensorFlow's message) pair, nested ones included."""
    yield ours, theirs
    for nested in ours.nested_types:
        yield from _ours_and_theirs(pool, nested, theirs.nested_types_by_name[nested.name])


def test_every_field_matches_tensorflow_number_type_and_label():
    pool = _tensorflow_descriptors()
    checked = 0
    for name in protos.FILE_PROTO.message_type:
        ours = protos.POOL.FindMessageTypeByName(f"{protos.PACKAGE}.{name.name}")
        for mine, upstream in _ours_and_theirs(pool, ours, pool.FindMessageTypeByName(f"tensorflow.{name.name}")):
            for field in mine.fields:
                other = upstream.fields_by_name.get(field.name)
                assert other is not None, f"{mine.full_name}.{field.name} is not in TensorFlow's {upstream.full_name}"
                where = f"{mine.full_name}.{field.name}"
                assert field.number == other.number, where
                assert field.type == other.type, where
                assert field.is_repeated == other.is_repeated, where
                if field.message_type is not None:
                    assert field.message_type.full_name.removeprefix(protos.PACKAGE) == other.message_type.full_name.removeprefix("tensorflow"), where
                # oneof names do not reach the wire (TF renamed has_length to has_length_hack)
                assert (field.containing_oneof is None) == (other.containing_oneof is None), where
                checked += 1
            for enum in mine.enum_types:
                upstream_values = {v.name: v.number for v in upstream.enum_types_by_name[enum.name].values}
                assert {v.name: v.number for v in enum.values} == upstream_values
    upstream_types = {v.name: v.number for v in pool.FindEnumTypeByName("tensorflow.DataType").values}
    assert {member.name: member.value for member in protos.DataType} == upstream_types
    assert checked > 100


def test_reads_tensorflow_graphs_binary_and_text_in_one_process():
    from google.protobuf import text_format

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def f(x):
        return tf.nn.relu(x * 2.0 + tf.constant([1.0, 2.0, 3.0]))

    theirs = f.get_concrete_function().graph.as_graph_def()
    ours = protos.GraphDef.FromString(theirs.SerializeToString())
    assert [(n.name, n.op, list(n.input)) for n in ours.node] == [(n.name, n.op, list(n.input)) for n in theirs.node]
    text = protos.parse_text(text_format.MessageToString(theirs), protos.GraphDef())
    assert [(n.name, n.op) for n in text.node] == [(n.name, n.op) for n in theirs.node]
    const = next(n for n in ours.node if n.op == "Const" and n.attr["value"].tensor.tensor_shape.dim)
    assert const.attr["value"].WhichOneof("value") == "tensor"
    assert protos.DataType(const.attr["dtype"].type).name == "DT_FLOAT"


# ---------------------------------------------------------------- tensor bundles


class Weights(tf.Module):
    def __init__(self, count: int = 0):
        rng = np.random.default_rng(0)
        self.kernel = tf.Variable(rng.standard_normal((3, 4)).astype(np.float32))
        self.filters = tf.Variable(rng.standard_normal((3, 3, 32, 16)).astype(np.float32))  # 18 KiB: mapped
        self.half = tf.Variable(rng.standard_normal((2, 5)).astype(np.float16))
        self.ids = tf.Variable(np.arange(7, dtype=np.int64))
        self.flags = tf.Variable(np.array([True, False, True]))
        self.scale = tf.Variable(2.5, dtype=tf.float64)
        self.small = tf.Variable(np.arange(6, dtype=np.int8).reshape(2, 3))
        self.brain = tf.Variable(tf.constant([1.5, -2.0], dtype=tf.bfloat16))
        self.empty = tf.Variable(np.zeros((0, 3), np.float32))
        # enough entries for several data blocks and restart points in the index
        self.many = [tf.Variable(np.full((i % 5 + 1,), i, np.float32)) for i in range(count)]

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def __call__(self, x):
        return tf.matmul(x, self.kernel)


def _assert_same_as_tensorflow(prefix: str, bundle) -> None:
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    assert set(bundle) == set(shapes)
    for key in shapes:
        expected = reader.get_tensor(key)
        if key == OBJECT_GRAPH_KEY:
            assert bundle[key].reshape(-1)[0] == expected
            continue
        actual = bundle[key]
        assert actual.shape == expected.shape and actual.dtype == expected.dtype, key
        np.testing.assert_array_equal(actual, expected, err_msg=key)


def test_checkpoint_keys_and_values_equal_tensorflow(tmp_path):
    prefix = tf.train.Checkpoint(model=Weights(count=300)).write(str(tmp_path / "ckpt" / "weights"))
    bundle = read_bundle(prefix + ".index")
    assert len(bundle) > 300
    _assert_same_as_tensorflow(prefix, bundle)
    # over READ_BYTES read in place: a read-only view of the data file's map, at the index entry's offset
    filters = bundle["model/filters/.ATTRIBUTES/VARIABLE_VALUE"]
    entry = bundle.entries["model/filters/.ATTRIBUTES/VARIABLE_VALUE"]
    assert entry.size > READ_BYTES
    assert file_region(filters) == (str(bundle.data_path(entry.shard_id)), entry.offset) and not filters.flags.writeable
    # smaller: read into memory (a map costs more than the read), read-only all the same
    kernel = bundle["model/kernel/.ATTRIBUTES/VARIABLE_VALUE"]
    assert file_region(kernel) is None and not kernel.flags.writeable
    graph = bundle.object_graph()
    keys = {attribute.checkpoint_key for node in graph.nodes for attribute in node.attributes}
    assert keys == set(bundle) - {OBJECT_GRAPH_KEY}


def test_saved_model_variables_folder_equals_tensorflow(tmp_path):
    tf.saved_model.save(Weights(), str(tmp_path / "saved"))
    bundle = read_bundle(tmp_path / "saved" / "variables")
    _assert_same_as_tensorflow(str(tmp_path / "saved" / "variables" / "variables"), bundle)
    root = bundle.object_graph().nodes[0]
    kernel_id = next(child.node_id for child in root.children if child.local_name == "kernel")
    (attribute,) = bundle.object_graph().nodes[kernel_id].attributes
    assert attribute.checkpoint_key == "kernel/.ATTRIBUTES/VARIABLE_VALUE"


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    prefix = tf.train.Checkpoint(model=Weights()).write(str(folder / "weights"))
    return prefix


def _copy(prefix: str, target) -> str:
    import shutil

    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copy(prefix + suffix, str(target) + suffix)
    return str(target)


def test_short_data_file_names_the_file_and_the_key(small_checkpoint, tmp_path):
    prefix = _copy(small_checkpoint, tmp_path / "w")
    data = tmp_path / "w.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:-3])
    with pytest.raises(InvalidModelError, match=r"w\.data-00000-of-00001: too short for key '.*'"):
        read_bundle(prefix)


def test_missing_data_file_names_the_file(small_checkpoint, tmp_path):
    prefix = _copy(small_checkpoint, tmp_path / "w")
    (tmp_path / "w.data-00000-of-00001").unlink()
    with pytest.raises(InvalidModelError, match=r"w\.data-00000-of-00001: no such file \(holds key"):
        read_bundle(prefix)


def test_corrupt_or_compressed_index_is_a_clear_error(small_checkpoint, tmp_path):
    prefix = _copy(small_checkpoint, tmp_path / "w")
    index = tmp_path / "w.index"
    original = index.read_bytes()
    corrupt = bytearray(original)
    corrupt[10] ^= 0xFF
    index.write_bytes(bytes(corrupt))
    with pytest.raises(InvalidModelError, match="CRC32C"):
        read_bundle(prefix)
    index.write_bytes(original[:-1])
    with pytest.raises(InvalidModelError, match="bad table magic"):
        read_bundle(prefix)
    # the first data block's trailer says "snappy"
    from converter.frontends.tensorflow.bundle import FOOTER_SIZE, _block_handle, _block_entries, _read_block

    footer = original[-FOOTER_SIZE:]
    _, position = _block_handle(footer, 0)
    index_handle, _ = _block_handle(footer, position)
    _, first = next(_block_entries(_read_block(original, index_handle)))
    (offset, size), _ = _block_handle(first, 0)
    compressed = bytearray(original)
    compressed[offset + size] = 1
    index.write_bytes(bytes(compressed))
    with pytest.raises(InvalidModelError, match=r"compressed \(type 1\)"):
        read_bundle(prefix)
    with pytest.raises(InvalidModelError, match="no such file"):
        read_bundle(tmp_path / "absent")
