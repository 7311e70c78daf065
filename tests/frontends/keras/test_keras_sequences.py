"""Recurrent layers, Bidirectional, TimeDistributed and MultiHeadAttention against Keras."""

from __future__ import annotations

import pytest

from keras_support import random_input, randomize

RNN_CASES = {
    "lstm_last": lambda L: [L.LSTM(5)],
    "lstm_sequences_backwards": lambda L: [L.LSTM(4, return_sequences=True, go_backwards=True)],
    "lstm_no_bias_relu": lambda L: [L.LSTM(3, use_bias=False, activation="relu", return_sequences=True)],
    "gru_reset_after": lambda L: [L.GRU(4, return_sequences=True)],
    "gru_reset_before": lambda L: [L.GRU(4, reset_after=False)],
    "gru_backwards": lambda L: [L.GRU(3, go_backwards=True)],
    "simple_rnn": lambda L: [L.SimpleRNN(4, return_sequences=True)],
    "simple_rnn_backwards_last": lambda L: [L.SimpleRNN(3, go_backwards=True, activation="relu")],
    "bidirectional_lstm_concat": lambda L: [L.Bidirectional(L.LSTM(3, return_sequences=True))],
    "bidirectional_gru_sum": lambda L: [L.Bidirectional(L.GRU(4), merge_mode="sum")],
    "bidirectional_gru_ave_sequences": lambda L: [L.Bidirectional(L.GRU(2, return_sequences=True), merge_mode="ave")],
    "stacked": lambda L: [L.LSTM(4, return_sequences=True), L.GRU(3, return_sequences=True), L.TimeDistributed(L.Dense(2))],
    "time_distributed_conv": None,
}


@pytest.mark.parametrize("case", sorted(k for k, v in RNN_CASES.items() if v))
def test_recurrent(keras, check_keras, case):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 4), name="x"), *RNN_CASES[case](keras.layers)])
    randomize(model)
    check_keras(model)


def test_return_state_and_initial_state(keras, check_keras):
    keras.utils.set_random_seed(0)
    L = keras.layers
    x = keras.Input((5, 3), name="x")
    sequence, h, c = L.LSTM(4, return_sequences=True, return_state=True)(x)
    y = L.GRU(4)(sequence, initial_state=h)
    bi = L.Bidirectional(L.SimpleRNN(2, return_state=True))(x)
    model = keras.Model(x, [y, c, *bi])
    randomize(model)
    check_keras(model)


def test_time_distributed_conv(keras, check_keras):
    keras.utils.set_random_seed(0)
    L = keras.layers
    model = keras.Sequential([keras.Input((3, 6, 6, 2), name="frames"), L.TimeDistributed(L.Conv2D(3, 3, padding="same")),
                              L.TimeDistributed(L.GlobalAveragePooling2D())])
    randomize(model)
    check_keras(model)


def test_transformer_block(keras, check_keras):
    """MultiHeadAttention + LayerNormalization + GELU feed-forward, self- and cross-attention, masks."""
    keras.utils.set_random_seed(0)
    L = keras.layers
    x = keras.Input((6, 8), name="tokens")
    memory = keras.Input((4, 8), name="memory")
    mask = keras.Input((6, 4), name="mask", dtype="bool")
    attended = L.MultiHeadAttention(2, 4, name="self_attention")(x, x, use_causal_mask=True)
    h = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, attended]))
    cross, scores = L.MultiHeadAttention(2, 3, value_dim=5, name="cross")(h, memory, attention_mask=mask, return_attention_scores=True)
    h = L.LayerNormalization(epsilon=1e-6)(L.Add()([h, cross]))
    feed = L.Dense(8)(L.Dense(16, activation="gelu")(h))
    model = keras.Model([x, memory, mask], [L.Add()([h, feed]), scores])
    randomize(model)
    masks = random_input((2, 6, 4), seed=7) > -0.5
    check_keras(model, [random_input((2, 6, 8)), random_input((2, 4, 8), seed=1), masks])
