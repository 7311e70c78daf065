"""Recurrent layers: LSTM, GRU, SimpleRNN → OpenVINO LSTMSequence-5, GRUSequence-5, RNNSequence-5; Bidirectional.

Keras keeps kernel [input, gates × units], recurrent_kernel [units, gates × units] and the bias
[gates × units] (GRU with reset_after: [2, 3 × units], input and recurrent bias); OpenVINO wants
W [1, gates × units, input], R [1, gates × units, units], B [1, gates × units]. LSTM gates are
i, f, c, o in Keras and f, i, c, o in OpenVINO; GRU's are z, r, h in both. With go_backwards
Keras reads the sequence from the end and returns its outputs in that order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.frontends.keras.context import Layer, Unsupported
from converter.frontends.keras.layers.activation import activation_name
from converter.frontends.keras.layers.common import dims_of, int64s, rank_of
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops import rnn as rnn_ops
from converter.ops.core import const
from converter.ops.indexing import Slice
from converter.ops.shape import Broadcast, Concat, Squeeze, Unsqueeze

LSTM_KERAS_TO_OV = (1, 0, 2, 3)  # OpenVINO block k is Keras block LSTM_KERAS_TO_OV[k]
INT64_MIN = np.iinfo(np.int64).min
MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _activation(spec: Any, what: str) -> str:
    name = activation_name(spec)
    if name not in rnn_ops.ACTIVATIONS:
        raise Unsupported(f"{what}={name!r}: recurrent sequences run only {', '.join(rnn_ops.ACTIVATIONS)}")
    return str(name)


def _gates(matrix: np.ndarray, units: int, order: tuple[int, ...]) -> np.ndarray:
    """Reorder the gate blocks of the last axis."""
    blocks = [matrix[..., i * units:(i + 1) * units] for i in order]
    return np.concatenate(blocks, axis=-1)


def _flip_time(x: Value) -> Value:
    return Slice(x, int64s([-1]), int64s([INT64_MIN]), int64s([-1]), int64s([1]))


def _zeros_state(x: Value, units: int) -> Value:
    """[batch, 1, units] zeros, batch read from x at run time."""
    target = Concat(dims_of(x, [0]), int64s([1, units]), axis=0)
    return Broadcast(const(np.zeros((), dtype=x.element_type.numpy)), target)


def _initial_states(layer: Layer, x: Value, units: int, count: int) -> list[Value]:
    given = layer.call_option("initial_state")
    if given is None:
        return [_zeros_state(x, units) for _ in range(count)]
    states = given if isinstance(given, list) else [given]
    if len(states) != count or not all(isinstance(s, Value) for s in states):
        raise Unsupported(f"initial_state must be {count} tensor(s)")
    return [Unsqueeze(s, int64s(1)) for s in states]


def _check_options(stateful: bool, time_major: bool, x: Value) -> None:
    if stateful:
        raise Unsupported("stateful recurrent layers are not supported")
    if time_major:
        raise Unsupported("time_major=True is not supported")
    if rank_of(x) != 3:
        raise Unsupported(f"expects [batch, time, features], got rank {rank_of(x)}")
    if not x.element_type.is_float:
        raise Unsupported(f"expects a float input, got {x.element_type.value}")


def _run(op, layer: Layer, x: Value, weights: tuple[np.ndarray, np.ndarray, np.ndarray], states: list[Value],
         units: int, activations: list[str], go_backwards: bool, return_sequences: bool, return_state: bool, **attrs: Any) -> list[Value]:
    w, r, b = (const(np.ascontiguousarray(a[np.newaxis]).astype(x.element_type.numpy)) for a in weights)
    lengths = Broadcast(dims_of(x, [1]), dims_of(x, [0]))
    node = op.node(x, *states, lengths, w, r, b, direction="reverse" if go_backwards else "forward",
                   hidden_size=units, activations=activations, **attrs)
    y, *final = node.outputs
    sequence = Squeeze(y, int64s(1))  # [batch, 1, time, units] → [batch, time, units]
    if go_backwards:
        sequence = _flip_time(sequence)  # Keras returns the outputs in the order it read them
    final = [Squeeze(s, int64s(1)) for s in final]
    output = sequence if return_sequences else final[0]
    return [output, *final] if return_state else [output]


def LSTM(layer: Layer, x: Value, *, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
         use_bias: bool = True, unit_forget_bias: bool = True, dropout: float = 0.0, recurrent_dropout: float = 0.0,
         return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
         unroll: bool = False, use_cudnn: Any = "auto", time_major: bool = False, implementation: int = 2,
         zero_output_for_mask: bool = False) -> list[Value]:
    """unit_forget_bias (initialization), dropouts (training), unroll, use_cudnn and implementation (speed) leave inference alone."""
    _check_options(stateful, time_major, x)
    if layer.call_option("mask") is not None:
        raise Unsupported("masks are not supported")
    kernel, recurrent, *rest = layer.variables("kernel", "recurrent_kernel", "bias" if use_bias else None)
    bias = rest[0] if rest else np.zeros(4 * units, dtype=kernel.dtype)
    w = _gates(kernel, units, LSTM_KERAS_TO_OV).T
    r = _gates(recurrent, units, LSTM_KERAS_TO_OV).T
    b = _gates(bias, units, LSTM_KERAS_TO_OV)
    gate, cell = _activation(recurrent_activation, "recurrent_activation"), _activation(activation, "activation")
    states = _initial_states(layer, x, units, 2)
    return _run(rnn_ops.LSTMSequence, layer, x, (w, r, b), states, units, [gate, cell, cell], go_backwards, return_sequences, return_state)


def GRU(layer: Layer, x: Value, *, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
        use_bias: bool = True, dropout: float = 0.0, recurrent_dropout: float = 0.0, return_sequences: bool = False,
        return_state: bool = False, go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
        reset_after: bool = True, use_cudnn: Any = "auto", time_major: bool = False, implementation: int = 2,
        zero_output_for_mask: bool = False) -> list[Value]:
    """reset_after=True (Keras 3's default): the reset gate multiplies the recurrent product with its bias,
    OpenVINO's linear_before_reset."""
    _check_options(stateful, time_major, x)
    if layer.call_option("mask") is not None:
        raise Unsupported("masks are not supported")
    kernel, recurrent, *rest = layer.variables("kernel", "recurrent_kernel", "bias" if use_bias else None)
    if reset_after:
        bias = rest[0] if rest else np.zeros((2, 3 * units), dtype=kernel.dtype)
        if bias.shape != (2, 3 * units):
            raise Unsupported(f"reset_after bias has shape {bias.shape}, expected (2, {3 * units})")
        input_bias, recurrent_bias = bias
        b = np.concatenate([input_bias[: 2 * units] + recurrent_bias[: 2 * units], input_bias[2 * units:], recurrent_bias[2 * units:]])
    else:
        b = rest[0] if rest else np.zeros(3 * units, dtype=kernel.dtype)
    activations = [_activation(recurrent_activation, "recurrent_activation"), _activation(activation, "activation")]
    states = _initial_states(layer, x, units, 1)
    return _run(rnn_ops.GRUSequence, layer, x, (kernel.T, recurrent.T, b), states, units, activations, go_backwards,
                return_sequences, return_state, linear_before_reset=bool(reset_after))


def SimpleRNN(layer: Layer, x: Value, *, units: int, activation: Any = "tanh", use_bias: bool = True, dropout: float = 0.0,
              recurrent_dropout: float = 0.0, return_sequences: bool = False, return_state: bool = False,
              go_backwards: bool = False, stateful: bool = False, unroll: bool = False, time_major: bool = False,
              zero_output_for_mask: bool = False) -> list[Value]:
    _check_options(stateful, time_major, x)
    if layer.call_option("mask") is not None:
        raise Unsupported("masks are not supported")
    kernel, recurrent, *rest = layer.variables("kernel", "recurrent_kernel", "bias" if use_bias else None)
    b = rest[0] if rest else np.zeros(units, dtype=kernel.dtype)
    states = _initial_states(layer, x, units, 1)
    return _run(rnn_ops.RNNSequence, layer, x, (kernel.T, recurrent.T, b), states, units, [_activation(activation, "activation")],
                go_backwards, return_sequences, return_state)


def _backward_config(forward: dict[str, Any], backward: dict[str, Any] | None) -> dict[str, Any]:
    """Keras builds the backward layer as the forward one reading backwards, named backward_<name>."""
    if backward is not None:
        return backward
    config = dict(forward.get("config") or {})
    name = str(config.get("name", "rnn"))
    config["name"] = "backward_" + name.removeprefix("forward_")
    config["go_backwards"] = not config.get("go_backwards", False)
    return {**forward, "config": config}


def Bidirectional(layer: Layer, x: Value, *, layer_: dict[str, Any], merge_mode: str | None = "concat", weights: Any = None,
                  backward_layer: dict[str, Any] | None = None) -> list[Value]:
    """`layer_` is the config's `layer`: the forward LSTM/GRU/SimpleRNN."""
    forward = layer_
    if weights is not None:
        raise Unsupported("initial weights in the config are not supported")
    if not isinstance(forward, dict) or forward.get("class_name") not in ("LSTM", "GRU", "SimpleRNN"):
        raise Unsupported(f"wraps {forward.get('class_name') if isinstance(forward, dict) else forward!r}, not LSTM/GRU/SimpleRNN")
    if merge_mode not in MERGE_MODES:
        raise Unsupported(f"merge_mode={merge_mode!r} is not one of {MERGE_MODES}")
    backward = _backward_config(forward, backward_layer)
    forward_out = layer.inner(forward, [x], suffix="forward")
    backward_out = layer.inner(backward, [x], weights=_child_like(layer, backward), suffix="backward")
    return_sequences = bool(forward.get("config", {}).get("return_sequences", False))
    y, y_reverse = forward_out[0], backward_out[0]
    if return_sequences:
        y_reverse = _flip_time(y_reverse)
    if merge_mode is None:
        merged = [y, y_reverse]
    elif merge_mode == "concat":
        merged = [Concat(y, y_reverse, axis=rank_of(y) - 1)]
    elif merge_mode == "sum":
        merged = [ew.Add(y, y_reverse)]
    elif merge_mode == "mul":
        merged = [ew.Multiply(y, y_reverse)]
    else:
        merged = [ew.Divide(ew.Add(y, y_reverse), const(np.asarray(2, dtype=y.element_type.numpy)))]
    return merged + forward_out[1:] + backward_out[1:]


def _child_like(layer: Layer, config: dict[str, Any]):
    """The backward layer's weights: by its name, else the one sub-layer whose name says backward."""
    name = str(config.get("config", {}).get("name"))
    if name in layer.weights.children:
        return layer.weights.children[name]
    candidates = [w for key, w in layer.weights.children.items() if key.startswith("backward")]
    return candidates[0] if len(candidates) == 1 else layer.weights.child(name)


LAYERS = {
    "LSTM": LSTM,
    "GRU": GRU,
    "SimpleRNN": SimpleRNN,
    "Bidirectional": Bidirectional,
}
