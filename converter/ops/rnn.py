"""Recurrent sequences: LSTMSequence-5, GRUSequence-5, RNNSequence-5.

OpenVINO layouts: X [batch, seq, input], states [batch, num_directions, hidden],
sequence_lengths [batch], W [num_directions, gates*hidden, input],
R [num_directions, gates*hidden, hidden], B [num_directions, gates*hidden]
(GRU with linear_before_reset: 4*hidden), Y [batch, num_directions, seq, hidden].
Gate order: LSTM f, i, c, o; GRU z, r, h.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, REQUIRED, tensor

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0),
}
"""Activation functions the sequence ops accept (the ones OpenVINO's CPU plugin runs)."""

DIRECTIONS = ("forward", "reverse", "bidirectional")


def _attrs(default_activations: tuple[str, ...], linear_before_reset: bool = False) -> tuple[Attr, ...]:
    attrs = [Attr("direction", AttrKind.STR, REQUIRED)]
    if linear_before_reset:
        attrs.append(Attr("linear_before_reset", AttrKind.BOOL, False))
    attrs += [
        Attr("hidden_size", AttrKind.INT, REQUIRED),
        Attr("activations", AttrKind.STRS, default_activations),
        Attr("activations_alpha", AttrKind.FLOATS, ()),
        Attr("activations_beta", AttrKind.FLOATS, ()),
        Attr("clip", AttrKind.FLOAT, 0.0),
    ]
    return tuple(attrs)


def num_directions(direction: str) -> int:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    return 2 if direction == "bidirectional" else 1


def _first_known(*dims: int | None) -> int | None:
    return next((d for d in dims if d is not None), None)


def _infer_sequence(num_states: int) -> Callable[[Node], list[TensorType]]:
    """Y [batch, dirs, seq, hidden] and `num_states` states [batch, dirs, hidden]."""

    def infer(node: Node) -> list[TensorType]:
        x, initial_h = node.inputs[0], node.inputs[1]
        lengths = node.inputs[1 + num_states]
        directions = num_directions(node.attrs["direction"])
        hidden = node.attrs["hidden_size"]
        batch = _first_known(x.shape[0], initial_h.shape[0], lengths.shape[0])
        seq = x.shape[1] if x.shape.rank == 3 else None
        element_type = x.element_type
        state = tensor(element_type, [batch, directions, hidden])
        return [tensor(element_type, [batch, directions, seq, hidden])] + [state] * num_states

    return infer


# ---------------------------------------------------------------- numpy reference


Cell = Callable[[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray, np.ndarray], list[np.ndarray]]
"""(x_t [batch, input], states, W, R, B) -> new states; states[0] is the hidden state."""


def _activation(attrs: dict[str, Any], index: int) -> Callable[[np.ndarray], np.ndarray]:
    name = attrs["activations"][index].lower()
    if name not in ACTIVATIONS:
        raise ValueError(f"activation {name!r} is not supported")
    return ACTIVATIONS[name]


def _clip(attrs: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    clip = attrs["clip"]
    if clip > 0:
        return lambda x: np.clip(x, -clip, clip)
    return lambda x: x


def _lstm_cell(attrs: dict[str, Any]) -> Cell:
    f, g, h = (_activation(attrs, i) for i in range(3))
    clip = _clip(attrs)

    def cell(x: np.ndarray, states: list[np.ndarray], w: np.ndarray, r: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
        hidden, cell_state = states
        gates = x @ w.T + hidden @ r.T + b
        forget, input_, candidate, output = np.split(clip(gates), 4, axis=-1)
        new_cell = f(forget) * cell_state + f(input_) * g(candidate)
        return [f(output) * h(new_cell), new_cell]

    return cell


def _gru_cell(attrs: dict[str, Any]) -> Cell:
    f, g = (_activation(attrs, i) for i in range(2))
    clip = _clip(attrs)
    size = attrs["hidden_size"]
    linear_before_reset = attrs["linear_before_reset"]

    def cell(x: np.ndarray, states: list[np.ndarray], w: np.ndarray, r: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
        (hidden,) = states
        x_gates = x @ w.T
        z = f(clip(x_gates[:, :size] + hidden @ r[:size].T + b[:size]))
        reset = f(clip(x_gates[:, size : 2 * size] + hidden @ r[size : 2 * size].T + b[size : 2 * size]))
        if linear_before_reset:
            recurrent = reset * (hidden @ r[2 * size :].T + b[3 * size :])
            candidate = g(clip(x_gates[:, 2 * size :] + b[2 * size : 3 * size] + recurrent))
        else:
            candidate = g(clip(x_gates[:, 2 * size :] + (reset * hidden) @ r[2 * size :].T + b[2 * size :]))
        return [(1 - z) * candidate + z * hidden]

    return cell


def _rnn_cell(attrs: dict[str, Any]) -> Cell:
    f = _activation(attrs, 0)
    clip = _clip(attrs)

    def cell(x: np.ndarray, states: list[np.ndarray], w: np.ndarray, r: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
        return [f(clip(x @ w.T + states[0] @ r.T + b))]

    return cell


def _run_sequence(
    cell: Cell, x: np.ndarray, states: Sequence[np.ndarray], lengths: np.ndarray, weights: Sequence[np.ndarray], reverse: bool
) -> tuple[np.ndarray, list[np.ndarray]]:
    """One direction. Steps past a batch entry's length leave its state alone and output zeros."""
    batch, seq = x.shape[0], x.shape[1]
    hidden_size = states[0].shape[-1]
    y = np.zeros((batch, seq, hidden_size), dtype=x.dtype)
    current = [np.array(s, dtype=x.dtype) for s in states]
    for b in range(batch):
        length = int(min(max(lengths[b], 0), seq))
        steps = range(length - 1, -1, -1) if reverse else range(length)
        state = [s[b : b + 1] for s in current]
        for t in steps:
            state = [s.astype(x.dtype) for s in cell(x[b : b + 1, t], state, *weights)]
            y[b, t] = state[0][0]
        for s, new in zip(current, state):
            s[b] = new[0]
    return y, current


def _sequence_kernel(make_cell: Callable[[dict[str, Any]], Cell], num_states: int):
    def kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
        x = inputs[0]
        states = inputs[1 : 1 + num_states]
        lengths = inputs[1 + num_states]
        w, r, b = inputs[2 + num_states : 5 + num_states]
        cell = make_cell(attrs)
        directions = num_directions(attrs["direction"])
        ys, finals = [], []
        for d in range(directions):
            reverse = attrs["direction"] == "reverse" or d == 1
            y, final = _run_sequence(cell, x, [s[:, d] for s in states], lengths, (w[d], r[d], b[d]), reverse)
            ys.append(y)
            finals.append(final)
        outputs = [np.stack(ys, axis=1)]
        for index in range(num_states):
            outputs.append(np.stack([final[index] for final in finals], axis=1))
        return outputs

    return kernel


LSTMSequence = OpSpec(
    "LSTMSequence",
    "opset5",
    _attrs(("sigmoid", "tanh", "tanh")),
    _infer_sequence(2),
    _sequence_kernel(_lstm_cell, 2),
    doc="inputs X, initial_hidden_state, initial_cell_state, sequence_lengths, W, R, B",
)

GRUSequence = OpSpec(
    "GRUSequence",
    "opset5",
    _attrs(("sigmoid", "tanh"), linear_before_reset=True),
    _infer_sequence(1),
    _sequence_kernel(_gru_cell, 1),
    doc="inputs X, initial_hidden_state, sequence_lengths, W, R, B",
)

RNNSequence = OpSpec(
    "RNNSequence",
    "opset5",
    _attrs(("tanh",)),
    _infer_sequence(1),
    _sequence_kernel(_rnn_cell, 1),
    doc="inputs X, initial_hidden_state, sequence_lengths, W, R, B",
)

OPS: tuple[OpSpec, ...] = (LSTMSequence, GRUSequence, RNNSequence)
