"""TF control flow: While (Keras RNNs, tf.while_loop), TensorLists and If, as SavedModels, as frozen
GraphDefs that keep While with its function library and as frozen GraphDefs lowered to TF1's
Enter/Merge/Switch/Exit loops; TF1 while_loop with TensorArrays and cond. Run in OpenVINO against
TensorFlow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from tf_support import ATOL, RTOL, random, run_ir, tf, write_graph  # noqa: E402
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2  # noqa: E402

from converter.api import optimize  # noqa: E402
from converter.errors import NodeConversionError, UnsupportedOpsError  # noqa: E402
from converter.frontends.tensorflow import convert_graphdef, convert_saved_model  # noqa: E402
from converter.ir.graph import Graph  # noqa: E402

STEPS, FEATURES = 6, 5


def _sequence_models() -> dict[str, keras.Model]:
    """Small Keras RNNs with a dynamic batch, several layer kinds per model to keep exports few."""
    keras.utils.set_random_seed(0)
    layers = keras.layers
    models = {}

    x = keras.Input((STEPS, FEATURES), name="x")
    hidden = layers.LSTM(8, return_sequences=True)(x)
    models["lstm_stacked"] = keras.Model(x, [hidden, layers.LSTM(6)(hidden)])

    x = keras.Input((STEPS, FEATURES), name="x")
    models["gru_reset_after"] = keras.Model(
        x, [layers.GRU(6, return_sequences=True, reset_after=True)(x), layers.GRU(5, reset_after=False)(x)]
    )

    x = keras.Input((STEPS, FEATURES), name="x")
    backwards = layers.SimpleRNN(6, return_sequences=True, go_backwards=True)(x)
    models["simple_rnn_go_backwards"] = keras.Model(x, [backwards, layers.GRU(4, go_backwards=True)(backwards)])

    x = keras.Input((STEPS, FEATURES), name="x")
    both = layers.Bidirectional(layers.GRU(4, return_sequences=True))(x)
    models["bidirectional"] = keras.Model(x, layers.Bidirectional(layers.LSTM(3), merge_mode="sum")(both))

    x = keras.Input((STEPS, FEATURES), name="x")
    masked = layers.Masking(0.0)(x)
    models["masking"] = keras.Model(x, [layers.LSTM(4, return_sequences=True)(masked), layers.GRU(3)(masked)])
    return models


def _freeze(function, specs, lower: bool = False) -> tuple[object, object]:
    """Variables as Consts; control flow kept as While/If with the function library, or lowered
    to TF1's frames and Switch/Merge conds (convert_variables_to_constants_v2's default)."""
    concrete = tf.function(function).get_concrete_function(*specs)
    frozen = convert_variables_to_constants_v2(concrete, lower_control_flow=lower)
    return frozen, frozen.graph.as_graph_def()


def _check(graph: Graph, folder: Path, feeds: dict[str, np.ndarray], expected: list[np.ndarray]) -> Graph:
    optimized, _ = optimize(graph)
    actual = run_ir(optimized, folder, feeds)
    assert len(actual) == len(expected)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert got.shape == want.shape, f"output {index}: {got.shape}, TensorFlow {want.shape}"
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=f"output {index}")
    return optimized


def _loops(graph: Graph) -> list:
    return [node for node in graph.nodes() if node.op.type == "Loop"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Each model as a SavedModel folder, a frozen .pb and a lowered frozen .pb, with its Keras model."""
    root = tmp_path_factory.mktemp("rnn")
    result = {}
    specs = [tf.TensorSpec([None, STEPS, FEATURES], tf.float32, name="x")]
    for name, model in _sequence_models().items():
        folder = root / name
        model.export(str(folder), verbose=False)
        files = {"saved_model": (folder, None, None)}
        for kind, lower, loop_op in [("frozen", False, "While"), ("lowered", True, "Enter")]:
            frozen, graph_def = _freeze(lambda x, model=model: model(x), specs, lower)
            assert {loop_op, "TensorListFromTensor", "TensorListReserve"} <= {n.op for n in graph_def.node}
            pb = write_graph(graph_def, root / f"{name}_{kind}.pb")
            files[kind] = (pb, [t.name for t in frozen.inputs], [t.name for t in frozen.outputs])
        result[name] = (model, files)
    return result


@pytest.mark.parametrize("name", ["lstm_stacked", "gru_reset_after", "simple_rnn_go_backwards", "bidirectional", "masking"])
@pytest.mark.parametrize("kind", ["saved_model", "frozen", "lowered"])
def test_keras_rnn_becomes_counted_loops(exported, tmp_path, name, kind):
    model, files = exported[name]
    path, inputs, outputs = files[kind]
    graph = convert_saved_model(path) if kind == "saved_model" else convert_graphdef(path, inputs=inputs, outputs=outputs)
    (input_name,) = [p.name for p in graph.parameters]
    for batch in (1, 3):
        x = random(batch, STEPS, FEATURES, seed=batch)
        if name == "masking":
            x[:, -2:] = 0.0  # padded steps
            x[0, 1] = 0.0
        expected = [np.asarray(y) for y in tf.nest.flatten(model(x))]
        optimized = _check(graph, tmp_path / f"b{batch}", {input_name: x}, expected)
    loops = _loops(optimized)
    assert loops and not {"TensorListStack", "While"} & set(optimized.op_histogram())
    for loop in loops:
        assert loop.inputs[0].const is not None and int(loop.inputs[0].const) == STEPS, "the trip count is the sequence length"
        body = loop.bodies["body"]
        assert body.outputs[loop.attrs["condition_output"]].const is not None, "cond is the trip count alone"
        assert "ScatterNDUpdate" not in body.op_histogram()
        if kind != "lowered":  # TF1 loops have no shape invariants
            assert all(p.outputs[0].shape.rank != 2 or p.outputs[0].shape[1] is not None for p in body.parameters)
        invariant = [i for i, edge in enumerate(loop.attrs["back_edges"]) if edge == -1]
        ranks = [body.parameters[i].outputs[0].shape.rank for i in invariant]
        assert ranks and set(ranks) == {3}, "the sequence (and the mask) are the invariant inputs; weights are Consts"


# ---------------------------------------------------------------- tf.function loops and conditions


class Loops(tf.Module):
    """A counted loop with a TensorArray, a loop whose condition reads the data, a tf.cond, and
    loops in a loop with a cond inside and a growing TensorArray."""

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x"), tf.TensorSpec([], tf.int32, name="n")])
    def counted(self, x, n):
        steps = tf.TensorArray(tf.float32, size=n)
        total = tf.zeros_like(x)
        for i in tf.range(n):
            total = total * 0.5 + x * tf.cast(i, tf.float32)
            steps = steps.write(i, total)
        return {"total": total, "steps": steps.stack()}

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def until(self, x):
        i = tf.constant(0)
        y = x

        def body(i, y):
            return i + 1, y * 1.5 + 1.0

        i, y = tf.while_loop(lambda i, y: tf.reduce_sum(tf.abs(y)) < 100.0, body, [i, y], maximum_iterations=50)
        return {"count": i, "y": y}

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x"), tf.TensorSpec([], tf.int32, name="n")])
    def nested(self, x, n):
        grown = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        y = x
        for i in tf.range(n):
            z = y
            for j in tf.range(i + 1):
                z = z * 0.9 + tf.cast(j, tf.float32)
            if tf.reduce_sum(z) > 0:
                y = z - 1.0
            else:
                y = z + 1.0
            grown = grown.write(i, y)
        return {"y": y, "grown": grown.stack()}

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def choose(self, x):
        return {"y": tf.cond(tf.reduce_sum(x) > 0.0, lambda: tf.nn.relu(x) * 2.0, lambda: tf.exp(x) - 1.0)}


FEEDS = {
    "counted": [{"x": random(2, 3, seed=1), "n": np.array(4, np.int32)}, {"x": random(1, 3, seed=2), "n": np.array(1, np.int32)}],
    "until": [{"x": random(2, 3, seed=3)}, {"x": random(1, 3, seed=4) * 40.0}],
    "nested": [{"x": random(2, 3, seed=9), "n": np.array(3, np.int32)}, {"x": random(1, 3, seed=10), "n": np.array(1, np.int32)}],
    "choose": [{"x": np.abs(random(2, 3, seed=5))}, {"x": -np.abs(random(3, 3, seed=6))}],
}


@pytest.fixture(scope="module")
def loops_module(tmp_path_factory):
    module = Loops()
    folder = tmp_path_factory.mktemp("loops") / "saved"
    tf.saved_model.save(module, str(folder), signatures={name: getattr(module, name) for name in FEEDS})
    return module, folder


@pytest.mark.parametrize("name", list(FEEDS))
@pytest.mark.parametrize("kind", ["saved_model", "frozen", "lowered"])
def test_tf_function_loops_and_conditions(loops_module, tmp_path, name, kind):
    module, folder = loops_module
    function = getattr(module, name)
    if kind == "saved_model":
        graph = convert_saved_model(folder, signature=name)
    else:
        frozen, graph_def = _freeze(function, function.input_signature, lower=kind == "lowered")
        graph = convert_graphdef(write_graph(graph_def, tmp_path / "model.pb"), [t.name for t in frozen.inputs], [t.name for t in frozen.outputs])
    for index, feeds in enumerate(FEEDS[name]):
        result = function(**{k: tf.constant(v) for k, v in feeds.items()})
        expected = [result[key].numpy() for key in sorted(result)]  # signature keys and tf.nest order alike
        inputs = {p.name: feeds[p.name.split(":")[0]] for p in graph.parameters}
        optimized = _check(graph, tmp_path / f"run{index}", inputs, expected)
    histogram = optimized.op_histogram()
    expected_op = "Loop" if name != "choose" else "If" if kind != "lowered" else "Select"  # a TF1 cond computes both branches
    assert expected_op in histogram, histogram


def test_loop_condition_reading_the_data_is_evaluated_each_iteration(loops_module):
    _, folder = loops_module
    (loop,) = _loops(convert_saved_model(folder, signature="until"))
    assert int(loop.inputs[0].const) == 50, "maximum_iterations bounds the loop counter"
    condition = loop.bodies["body"].outputs[loop.attrs["condition_output"]]
    assert condition.const is None and loop.inputs[1].const is None


def _tf1_loop_graph():
    """A TF1 while_loop (control flow v1) reading one TensorArray and writing another, a cond inside."""
    tf1 = tf.compat.v1
    graph = tf.Graph()
    weights = random(3, 3, seed=7)
    with graph.as_default():
        x = tf1.placeholder(tf.float32, [None, 3], name="x")
        steps = tf.TensorArray(tf.float32, size=4).unstack(tf.stack([x, x * 2.0, x * 3.0, x * 4.0]))
        outputs = tf.TensorArray(tf.float32, size=4)

        def body(i, state, outputs):
            state = tf.tanh(tf.matmul(state, weights) + steps.read(i))
            state = tf.cond(tf.reduce_sum(state) > 0.0, lambda: state * 2.0, lambda: state - 1.0)
            return i + 1, state, outputs.write(i, state)

        _, state, outputs = tf1.while_loop(lambda i, *_: i < 4, body, [tf.constant(0), x, outputs])
        stacked, last = tf.identity(outputs.stack(), name="stacked"), tf.identity(state, name="last")
    return graph, x, [stacked, last]


def test_tf1_while_loop_with_tensor_arrays_and_a_cond_inside(tmp_path):
    tf1 = tf.compat.v1
    tf1.disable_control_flow_v2()
    try:
        graph, x, fetches = _tf1_loop_graph()
    finally:
        tf1.enable_control_flow_v2()
    feeds = {"x": random(2, 3, seed=8)}
    with graph.as_default(), tf1.Session() as session:
        expected = session.run(fetches, {x: feeds["x"]})
    graph_def = graph.as_graph_def()
    assert {"Enter", "TensorArrayV3", "TensorArrayScatterV3", "TensorArrayGatherV3", "Merge"} <= {n.op for n in graph_def.node}
    converted = convert_graphdef(write_graph(graph_def, tmp_path / "tf1.pb"), inputs=["x"], outputs=["stacked", "last"])
    optimized = _check(converted, tmp_path / "ir", feeds, expected)
    (loop,) = _loops(optimized)
    assert int(loop.inputs[0].const) == 4 and "Select" in loop.bodies["body"].op_histogram()


# ---------------------------------------------------------------- what is not supported


def test_unsupported_ops_in_loop_bodies_and_branches_are_reported_at_once(tmp_path):
    class Special(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([3], tf.float32)])
        def __call__(self, x):
            y = tf.while_loop(lambda y: tf.reduce_sum(y) < 10.0, lambda y: tf.math.igamma(y, y) + y + 1.0, [x])[0]
            return tf.cond(tf.reduce_sum(x) > 0.0, lambda: tf.math.zeta(y + 1.0, y), lambda: y)

    module = Special()
    folder = tmp_path / "special"
    tf.saved_model.save(module, str(folder))
    with pytest.raises(UnsupportedOpsError) as error:
        convert_saved_model(folder)
    assert set(error.value.unsupported) == {"Igamma", "Zeta"}
    _, lowered = _freeze(module.__call__, module.__call__.input_signature, lower=True)
    with pytest.raises(UnsupportedOpsError) as error:
        convert_graphdef(write_graph(lowered, tmp_path / "lowered.pb"))
    assert set(error.value.unsupported) == {"Igamma", "Zeta"}, "inside TF1 loop frames and cond branches too"


def test_list_written_at_a_data_dependent_index_is_a_conversion_error(tmp_path):
    class Scatter(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([4], tf.float32)])
        def __call__(self, x):
            slots = tf.TensorArray(tf.float32, size=4)
            for i in tf.range(4):
                slots = slots.write(tf.cast(x[i] > 0.0, tf.int32), x[i])
            return slots.stack()

    folder = tmp_path / "scatter"
    tf.saved_model.save(Scatter(), str(folder))
    with pytest.raises(NodeConversionError, match="index other than an iteration counter"):
        convert_saved_model(folder)
