"""Frozen GraphDef files as a whole: formats, inputs and outputs, errors, and no TensorFlow import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tf_support import check, freeze, random, run_ir, tf, write_graph  # noqa: E402

from converter.errors import InvalidModelError, NodeConversionError, UnsupportedOpsError  # noqa: E402
from converter.frontends.tensorflow import convert_graphdef  # noqa: E402
from converter.frontends.tensorflow.protos import GraphDef  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[3]


def small_cnn(x):
    rng = np.random.default_rng(0)
    w = tf.constant(rng.standard_normal((3, 3, 3, 4)).astype(np.float32))
    scale, offset = tf.constant(rng.uniform(0.5, 1.5, 4).astype(np.float32)), tf.constant(rng.standard_normal(4).astype(np.float32))
    mean, variance = tf.constant(rng.standard_normal(4).astype(np.float32)), tf.constant(rng.uniform(0.5, 2, 4).astype(np.float32))
    y = tf.nn.conv2d(x, w, 1, "SAME")
    y = tf.compat.v1.nn.fused_batch_norm(y, scale, offset, mean, variance, epsilon=0.001, is_training=False)[0]
    y = tf.nn.max_pool2d(tf.nn.relu6(y), 2, 2, "VALID")
    return tf.nn.softmax(tf.reduce_mean(y, axis=[1, 2]))


class Cnn(tf.Module):
    def __init__(self):
        super().__init__()
        self.kernel = tf.Variable(np.random.default_rng(1).standard_normal((3, 3, 3, 4)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 3], tf.float32)])
    def __call__(self, x):
        return small_cnn(tf.nn.conv2d(x, self.kernel, 1, "SAME")[..., :3])


def test_conversion_never_imports_tensorflow_or_keras(tmp_path):
    _, graph_def = freeze(small_cnn, [tf.TensorSpec([None, 8, 8, 3], tf.float32, name="image")])
    frozen = write_graph(graph_def, tmp_path / "cnn.pb")
    saved = tmp_path / "saved_cnn"
    tf.saved_model.save(Cnn(), str(saved))
    script = textwrap.dedent(
        f"""
        import sys
        from converter.api import optimize, save_model
        from converter.frontends.tensorflow import convert_graphdef, convert_saved_model
        for name, graph in [("frozen", convert_graphdef({str(frozen)!r})), ("saved", convert_saved_model({str(saved)!r}))]:
            graph, _ = optimize(graph)
            save_model(graph, {str(tmp_path)!r} + "/ir/" + name + ".xml")
            print(name, graph.op_histogram())
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras"))
        assert not heavy, heavy
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    frozen_ops, saved_ops = result.stdout.splitlines()
    assert "Convolution" in frozen_ops and "BatchNorm" not in frozen_ops  # folded into the convolution
    assert "Convolution" in saved_ops and "PartitionedCall" not in saved_ops


def test_text_graphdef_and_a_dynamic_batch(tmp_path):
    check(tmp_path, small_cnn, random(2, 8, 8, 3), shapes=[[None, 8, 8, 3]], text=True, expect_ops=["FusedBatchNormV3"])


def test_outputs_are_the_nodes_nobody_reads_and_placeholder_defaults_apply(tmp_path):
    """Without names, the outputs are the sinks (not NoOps or Asserts); a PlaceholderWithDefault
    is its default unless named as an input; control inputs do not matter."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
        gain = tf.compat.v1.placeholder_with_default(tf.constant(2.0), [], name="gain")
        check_positive = tf.debugging.assert_positive(gain, name="check")
        with tf.control_dependencies([check_positive]):
            scaled = tf.identity(x * gain, name="scaled")
        tf.no_op(name="nothing")
        tf.nn.relu(scaled, name="relu")
        tf.reduce_sum(scaled, axis=1, name="total")
    path = write_graph(graph.as_graph_def(), tmp_path / "model.pb")
    x_value = random(2, 3)

    converted = convert_graphdef(path)
    assert [v.names[0] for v in converted.outputs] == ["relu", "total"]
    assert [p.name for p in converted.parameters] == ["x"]
    relu, total = run_ir(converted, tmp_path / "default", {"x": x_value})
    np.testing.assert_allclose(relu, np.maximum(x_value * 2, 0), rtol=1e-6)
    np.testing.assert_allclose(total, (x_value * 2).sum(axis=1), rtol=1e-6)

    fed = convert_graphdef(path, inputs=["x", "gain"], outputs=["total:0"])
    assert [p.name for p in fed.parameters] == ["x", "gain"]
    (total,) = run_ir(fed, tmp_path / "fed", {"x": x_value, "gain": np.array(3.0, np.float32)})
    np.testing.assert_allclose(total, (x_value * 3).sum(axis=1), rtol=1e-6)
    # the inputs named come first, then the placeholders the outputs need anyway
    assert [p.name for p in convert_graphdef(path, inputs=["gain"]).parameters] == ["gain", "x"]


def test_graphdef_bytes(tmp_path):
    _, graph_def = freeze(small_cnn, [tf.TensorSpec([1, 8, 8, 3], tf.float32, name="image")])
    graph = convert_graphdef(graph_def.SerializeToString())
    assert [p.name for p in graph.parameters] == ["image"] and len(graph.outputs) == 1


def test_truncated_pb_is_one_clear_error(tmp_path):
    _, graph_def = freeze(small_cnn, [tf.TensorSpec([1, 8, 8, 3], tf.float32, name="image")])
    data = graph_def.SerializeToString()
    path = tmp_path / "cut.pb"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidModelError) as error:
        convert_graphdef(path)
    message = str(error.value)
    assert message.startswith(str(path)) and "\n" not in message
    (tmp_path / "garbage.pbtxt").write_text("node { name: 'x' op: ")
    with pytest.raises(InvalidModelError, match="garbage.pbtxt: not a text GraphDef"):
        convert_graphdef(tmp_path / "garbage.pbtxt")
    with pytest.raises(InvalidModelError, match="no such file"):
        convert_graphdef(tmp_path / "absent.pb")


def test_every_unsupported_op_is_listed_at_once(tmp_path):
    def f(a, x):
        return tf.math.igamma(a, x) + tf.math.zeta(a + 1.0, x) + tf.nn.relu(x)

    spec = tf.TensorSpec([3], tf.float32)
    _, graph_def = freeze(f, [spec, spec])
    with pytest.raises(UnsupportedOpsError) as error:
        convert_graphdef(write_graph(graph_def, tmp_path / "model.pb"))
    assert set(error.value.unsupported) == {"Igamma", "Zeta"}
    assert "Igamma (nodes: Igamma)" in str(error.value)


def test_bad_attributes_name_the_file_node_and_op(tmp_path):
    def f(x):
        scale = tf.ones([3])
        return tf.raw_ops.FusedBatchNormV3(x=x, scale=scale, offset=scale, mean=tf.zeros([0]), variance=tf.zeros([0]), is_training=True)[0]

    _, graph_def = freeze(f, [tf.TensorSpec([1, 4, 4, 3], tf.float32)])
    path = write_graph(graph_def, tmp_path / "train.pb")
    with pytest.raises(NodeConversionError, match=r"train\.pb: node 'FusedBatchNormV3' \(FusedBatchNormV3\): is_training=True"):
        convert_graphdef(path)


def test_unknown_attributes_and_dangling_inputs_are_reported(tmp_path):
    _, graph_def = freeze(tf.nn.relu, [tf.TensorSpec([2], tf.float32, name="x")])
    unknown = GraphDef.FromString(graph_def.SerializeToString())
    next(n for n in unknown.node if n.op == "Relu").attr["sharpness"].f = 2.0
    with pytest.raises(NodeConversionError, match=r"node 'Relu' \(Relu\): unsupported attribute\(s\) \['sharpness'\]"):
        convert_graphdef(unknown.SerializeToString())
    dangling = GraphDef.FromString(graph_def.SerializeToString())
    dangling.node.remove(next(n for n in dangling.node if n.op == "Relu"))
    with pytest.raises(InvalidModelError, match="node 'Identity' reads 'Relu', which is not in the graph"):
        convert_graphdef(dangling.SerializeToString())
