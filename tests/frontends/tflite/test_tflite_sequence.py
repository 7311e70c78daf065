"""TFLite recurrent ops against the interpreter: Keras LSTMs converted by TensorFlow's TFLite
converter (tf_keras' fused UNIDIRECTIONAL_SEQUENCE_LSTM, Keras 3's WHILE loop), and hand-written
one-op models for what the converter does not emit: CIFG, peephole, projection, layer-norm and
clipped LSTMs, BIDIRECTIONAL_SEQUENCE_LSTM, UNIDIRECTIONAL_SEQUENCE_RNN."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tensorflow.lite.python import schema_py_generated as schema  # noqa: E402
from tflite_builder import Input, Output, Quantized, State, single_op  # noqa: E402
from tflite_support import check, edit, from_keras, op_types, ops_of, random, run_ir, write  # noqa: E402

from converter.api import optimize  # noqa: E402
from converter.errors import NodeConversionError  # noqa: E402
from converter.frontends.tflite import convert_tflite  # noqa: E402
from converter.frontends.tflite.reference import TFLiteReference  # noqa: E402

ACTIVATIONS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4}


@pytest.fixture(scope="module")
def tf_keras():
    return pytest.importorskip("tf_keras")


@pytest.fixture(scope="module")
def keras_lstm(tf_keras) -> bytes:
    """Two stacked LSTMs; the converter fuses each into UNIDIRECTIONAL_SEQUENCE_LSTM (cell_clip 10)."""
    tf_keras.utils.set_random_seed(0)
    layers = tf_keras.layers
    model = tf_keras.Sequential([layers.InputLayer((6, 4), batch_size=2), layers.LSTM(8, return_sequences=True), layers.LSTM(5)])
    return from_keras(model)


def test_keras_lstm(tmp_path, keras_lstm):
    """TFLite clips the cell state (cell_clip), LSTMSequence the gates: a Loop over time."""
    feeds = {"serving_default_input_1:0": random(2, 6, 4, low=-3, high=3)}
    graph = check(tmp_path, keras_lstm, feeds=feeds, expect_ops=["UNIDIRECTIONAL_SEQUENCE_LSTM"])
    assert op_types(graph).count("Loop") == 2


def test_keras_lstm_without_cell_clip_is_an_lstm_sequence(tmp_path, keras_lstm):
    def unclipped(model):
        for op in ops_of(model, "UNIDIRECTIONAL_SEQUENCE_LSTM"):
            op.builtinOptions.cellClip = 0.0

    graph = check(tmp_path, edit(keras_lstm, unclipped), expect_ops=["UNIDIRECTIONAL_SEQUENCE_LSTM"])
    assert op_types(graph).count("LSTMSequence") == 2 and "Loop" not in op_types(graph)


def test_keras_3_lstm_is_a_while_loop(tmp_path):
    """Keras 3's LSTM reaches TFLite as a WHILE loop over the time steps (GRU and SimpleRNN alike)."""
    import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input((5, 3), batch_size=2)
    outputs = keras.layers.GRU(4)(keras.layers.LSTM(6, return_sequences=True)(inputs))
    data = from_keras(keras.Model(inputs, outputs))
    graph = check(tmp_path, data, expect_ops=["WHILE"])
    assert "Loop" in op_types(graph)


# ---------------------------------------------------------------- hand-written LSTMs

BATCH, STEPS, INPUTS, CELLS = 2, 5, 3, 4


def lstm_tensors(
    rng: np.random.Generator, cells: int, inputs: int, outputs: int, cifg: bool, peephole: bool, projection: bool, layer_norm: bool
) -> list[np.ndarray | None]:
    """The 17 weight tensors of one direction (input, forget, cell, output gates)."""

    def w(*shape: int) -> np.ndarray:
        return rng.uniform(-0.6, 0.6, shape).astype(np.float32)

    gates = [None if cifg else w(cells, inputs)] + [w(cells, inputs) for _ in range(3)]
    recurrent = [None if cifg else w(cells, outputs)] + [w(cells, outputs) for _ in range(3)]
    peepholes = [None if cifg or not peephole else w(cells), w(cells) if peephole else None, w(cells) if peephole else None]
    biases = [None if cifg else w(cells)] + [w(cells) + (1.0 if k == 0 else 0.0) for k in range(3)]
    projections = [w(outputs, cells), w(outputs)] if projection else [None, None]
    return [*gates, *recurrent, *peepholes, *biases, *projections]


def lstm_model(
    cifg=False, peephole=False, projection=False, layer_norm=False, activation="TANH", cell_clip=0.0, proj_clip=0.0, time_major=False,
    hybrid=False, diagonal=False, seed=0,
) -> bytes:  # fmt: skip
    rng = np.random.default_rng(seed)
    outputs = 3 if projection else CELLS
    tensors: list = lstm_tensors(rng, CELLS, INPUTS, outputs, cifg, peephole, projection, layer_norm)
    if hybrid:  # weights and peepholes as int8, biases float
        scale = 0.6 / 127
        weights = set(range(11)) | {15}
        tensors = [Quantized(np.round(t / scale).astype(np.int8), scale) if t is not None and k in weights else t for k, t in enumerate(tensors)]
    if diagonal:  # recurrent weights as vectors: R⊙h
        tensors[4:8] = [None if r is None else rng.uniform(-0.6, 0.6, CELLS).astype(np.float32) for r in tensors[4:8]]
    norms = [None if cifg else rng.uniform(0.5, 1.5, CELLS).astype(np.float32)] + [rng.uniform(0.5, 1.5, CELLS).astype(np.float32) for _ in range(3)]
    options = schema.UnidirectionalSequenceLSTMOptionsT()
    options.fusedActivationFunction = ACTIVATIONS[activation]
    options.cellClip, options.projClip, options.timeMajor = cell_clip, proj_clip, time_major
    options.diagonalRecurrentTensors = diagonal
    shape = [STEPS, BATCH, INPUTS] if time_major else [BATCH, STEPS, INPUTS]
    out_shape = [STEPS, BATCH, outputs] if time_major else [BATCH, STEPS, outputs]
    inputs = [Input("x", shape), *tensors, State([BATCH, outputs]), State([BATCH, CELLS]), *(norms if layer_norm else [None] * 4)]
    return single_op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [Output("y", out_shape)], options, schema.BuiltinOptions.UnidirectionalSequenceLSTMOptions)


LSTMS = {
    "plain": {},
    "cifg": {"cifg": True},
    "peephole": {"peephole": True},
    "cifg peephole": {"cifg": True, "peephole": True},
    "projection": {"projection": True},
    "projection clipped": {"projection": True, "proj_clip": 0.3},
    "cell clipped": {"cell_clip": 0.4},
    "layer norm": {"layer_norm": True},
    "layer norm cifg peephole projection": {"layer_norm": True, "cifg": True, "peephole": True, "projection": True},
    "relu": {"activation": "RELU"},
    "relu6": {"activation": "RELU6"},
    "relu_n1_to_1": {"activation": "RELU_N1_TO_1", "peephole": True},
    "time major": {"time_major": True},
    "diagonal recurrent": {"diagonal": True},
    "diagonal cifg peephole": {"diagonal": True, "cifg": True, "peephole": True},
}


@pytest.mark.parametrize("variant", list(LSTMS))
def test_lstm_variants(tmp_path, variant):
    data = lstm_model(**LSTMS[variant])
    x = random(*([STEPS, BATCH, INPUTS] if LSTMS[variant].get("time_major") else [BATCH, STEPS, INPUTS]), low=-2, high=2)
    graph = check(tmp_path, data, feeds={"x": x})
    plain = variant in ("plain", "cifg", "relu", "time major")
    assert ("LSTMSequence" in op_types(graph)) == plain and ("Loop" in op_types(graph)) != plain


def test_lstm_without_a_fused_activation_is_refused():
    """TFLite's LSTM kernels leave their output buffers unwritten for NONE."""
    with pytest.raises(NodeConversionError, match="NONE"):
        convert_tflite(lstm_model(activation="NONE"))


def test_hybrid_lstm(tmp_path):
    """int8 weights, float activations: TFLite's hybrid kernel quantizes the activations on the fly
    (within about 1e-2 here), the IR computes the real product."""
    data = lstm_model(peephole=True, hybrid=True)
    check(tmp_path, data, feeds={"x": random(BATCH, STEPS, INPUTS, low=-2, high=2)}, rtol=2e-2, atol=2e-2)


def test_integer_lstm_is_refused():
    def int8_input(model):
        tensor = model.subgraphs[0].tensors[model.subgraphs[0].inputs[0]]
        tensor.type = schema.TensorType.INT8
        tensor.quantization = schema.QuantizationParametersT()
        tensor.quantization.scale, tensor.quantization.zeroPoint = [0.02], [0]

    with pytest.raises(NodeConversionError, match="integer recurrent kernels"):
        convert_tflite(edit(lstm_model(), int8_input))


# ---------------------------------------------------------------- bidirectional LSTM


def bidirectional_model(merge_outputs: bool, time_major: bool, aux: str = "none", peephole: bool = False) -> bytes:
    rng = np.random.default_rng(5)
    forward = lstm_tensors(rng, CELLS, INPUTS, CELLS, False, peephole, False, False)
    backward = lstm_tensors(rng, CELLS, INPUTS, CELLS, False, False, False, False)
    shape = [STEPS, BATCH, INPUTS] if time_major else [BATCH, STEPS, INPUTS]
    states = [State([BATCH, CELLS]) for _ in range(4)]
    aux_input = Input("aux", shape) if aux != "none" else None
    aux_weights = [rng.uniform(-0.6, 0.6, (CELLS, INPUTS)).astype(np.float32) for _ in range(8)] if aux == "weights" else [None] * 8
    options = schema.BidirectionalSequenceLSTMOptionsT()
    options.fusedActivationFunction, options.cellClip = ACTIVATIONS["TANH"], 5.0
    options.mergeOutputs, options.timeMajor = merge_outputs, time_major
    out = [STEPS, BATCH] if time_major else [BATCH, STEPS]
    outputs = [Output("y", [*out, 2 * CELLS])] if merge_outputs else [Output("forward", [*out, CELLS]), Output("backward", [*out, CELLS])]
    inputs = [Input("x", shape), *forward, *backward, *states, aux_input, *aux_weights]
    return single_op("BIDIRECTIONAL_SEQUENCE_LSTM", inputs, outputs, options, schema.BuiltinOptions.BidirectionalSequenceLSTMOptions)


@pytest.mark.parametrize(
    "merge_outputs, time_major, aux, peephole",
    [(False, True, "none", False), (True, False, "none", True), (False, False, "input", False), (True, True, "weights", False)],
)
def test_bidirectional_lstm(tmp_path, merge_outputs, time_major, aux, peephole):
    data = bidirectional_model(merge_outputs, time_major, aux, peephole)
    shape = [STEPS, BATCH, INPUTS] if time_major else [BATCH, STEPS, INPUTS]
    feeds = {"x": random(*shape, low=-2, high=2)}
    if aux != "none":
        feeds["aux"] = random(*shape, seed=1, low=-2, high=2)
    if merge_outputs and not time_major:
        # TFLite's kernel writes merged batch-major outputs with the wrong batch stride (from
        # batch 1 on they disagree with its own unmerged outputs): compare with those, concatenated.
        twin = write(bidirectional_model(False, time_major, aux, peephole), tmp_path / "twin.tflite")
        reference = TFLiteReference(twin)
        expected = np.concatenate(reference.run(feeds), axis=-1)
        graph, _ = optimize(convert_tflite(data))
        (actual,) = run_ir(graph, tmp_path / "ir", feeds, TFLiteReference(write(data, tmp_path / "model.tflite")))
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
        return
    check(tmp_path, data, feeds=feeds)


# ---------------------------------------------------------------- RNN


def rnn_model(activation: str, time_major: bool) -> bytes:
    rng = np.random.default_rng(7)
    units = 5
    options = schema.SequenceRNNOptionsT()
    options.fusedActivationFunction, options.timeMajor = ACTIVATIONS[activation], time_major
    shape = [STEPS, BATCH, INPUTS] if time_major else [BATCH, STEPS, INPUTS]
    out = [STEPS, BATCH, units] if time_major else [BATCH, STEPS, units]
    weights = [rng.uniform(-0.7, 0.7, s).astype(np.float32) for s in ((units, INPUTS), (units, units), (units,))]
    inputs = [Input("x", shape), *weights, State([BATCH, units])]
    return single_op("UNIDIRECTIONAL_SEQUENCE_RNN", inputs, [Output("y", out)], options, schema.BuiltinOptions.SequenceRNNOptions)


@pytest.mark.parametrize("activation, time_major", [("TANH", False), ("RELU", True), ("RELU6", False), ("NONE", True), ("RELU_N1_TO_1", False)])
def test_sequence_rnn(tmp_path, activation, time_major):
    shape = [STEPS, BATCH, INPUTS] if time_major else [BATCH, STEPS, INPUTS]
    graph = check(tmp_path, rnn_model(activation, time_major), feeds={"x": random(*shape, low=-2, high=2)})
    assert ("RNNSequence" in op_types(graph)) == (activation in ("TANH", "RELU"))


def test_every_reference_run_starts_from_zero_states(tmp_path):
    """The interpreter keeps an LSTM's last states in its variable tensors; the reference resets them."""
    path = tmp_path / "lstm.tflite"
    path.write_bytes(lstm_model())
    reference = TFLiteReference(path)
    x = random(BATCH, STEPS, INPUTS)
    first, second = (reference.run({"x": x})[0] for _ in range(2))
    np.testing.assert_array_equal(first, second)
