"""TFLite recurrent ops: UNIDIRECTIONAL_SEQUENCE_LSTM, BIDIRECTIONAL_SEQUENCE_LSTM and
UNIDIRECTIONAL_SEQUENCE_RNN.

TFLite's float LSTM step (lstm_eval.cc), gates in the order input, forget, cell, output:
    i = σ(W_i·x + R_i·h + P_i⊙c + b_i)      (CIFG, no input gate weights: i = 1 − f)
    f = σ(W_f·x + R_f·h + P_f⊙c + b_f)
    g = act(W_c·x + R_c·h + b_c)
    c' = clip(f⊙c + i⊙g, cell_clip)
    o = σ(W_o·x + R_o·h + P_o⊙c' + b_o)
    h' = o⊙act(c'), then clip(W_proj·h' + b_proj, proj_clip) with a projection.
With layer norm, each gate's sum without the bias is normalized over the cells (variance + 1e-8
under the root), scaled by its coefficients, then the bias is added. `act` is the fused
activation applied as a function; with diagonal_recurrent_tensors R is a vector (R⊙h). The
peephole (P), projection and layer-norm tensors are optional inputs, left out as -1.

An LSTM that IR LSTMSequence-5 computes exactly (no peephole, projection, layer norm or cell
clip — LSTMSequence clips the gates' inputs, TFLite the cell state — and a TANH or RELU
activation) becomes one; a CIFG one too, its input gate computing σ(−z_f) = 1 − f. Any other
is a Loop over time: the input's projection for every step is one MatMul before the Loop, the
body does the recurrent part of one step. UNIDIRECTIONAL_SEQUENCE_RNN (h' = act(W·x + R·h + b))
likewise becomes RNNSequence-5 for TANH and RELU, a Loop otherwise.

The states start from their (variable) tensors: zeros, as the interpreter starts them; the
kernels write the last states back into those tensors, which the IR does not model. Integer
(int8/int16 activation) LSTMs are refused; hybrid ones (int8 weights, float activations) compute
the real product.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.frontends.tflite.ops.common import i64, scalar_like
from converter.frontends.tflite.tensors import Unsupported, is_quantized_activation
from converter.ir.graph import Graph, Value
from converter.ir.types import ElementType, Shape
from converter.ops import activation as act
from converter.ops import control
from converter.ops import elementwise as ew
from converter.ops import rnn as rnn_ops
from converter.ops.core import Convert, ShapeOf, const, parameter
from converter.ops.indexing import Gather, Slice
from converter.ops.matmul import MatMul
from converter.ops.normalization import MVN
from converter.ops.shape import Broadcast, Concat, Reshape, Split, Squeeze, Transpose, Unsqueeze

LAYER_NORM_EPSILON = 1e-8  # TFLite's MeanStddevNormalization, under the square root
SEQUENCE_ACTIVATIONS = {"TANH": "tanh", "RELU": "relu"}  # the ones the IR's sequence ops run


def _activation(x: Value, function: str, what: str) -> Value:
    """The fused activation applied as a function, as TFLite's recurrent kernels apply it."""
    if function == "TANH":
        return act.Tanh(x)
    if function == "RELU":
        return act.Relu(x)
    if function == "RELU6":
        return act.Clamp(x, min=0.0, max=6.0)
    if function == "RELU_N1_TO_1":
        return act.Clamp(x, min=-1.0, max=1.0)
    if function == "NONE" and what == "RNN":
        return x
    if function == "SIGN_BIT" and what == "RNN":
        return Convert(ew.Less(x, scalar_like(x, 0)), destination_type=x.element_type)
    # The LSTM kernels leave their output buffers unwritten for NONE: no defined result.
    raise Unsupported(f"{what} with fused activation {function}")


def _clip(x: Value, limit: float) -> Value:
    return act.Clamp(x, min=-limit, max=limit) if limit > 0 else x


def _check_float(ctx: TFLiteContext, what: str) -> None:
    tensor = ctx.input_tensors[0]
    if tensor is not None and is_quantized_activation(tensor):
        raise Unsupported(f"{what} with quantized ({tensor.type_name}) activations: TFLite's integer recurrent kernels are not converted")


def _time_major(x: Value, time_major: bool) -> Value:
    if x.shape.rank != 3:
        raise Unsupported(f"a sequence of shape {x.shape}, expected rank 3")
    return x if time_major else Transpose(x, i64([1, 0, 2]))


def _from_time_major(y: Value, time_major: bool) -> Value:
    return y if time_major else Transpose(y, i64([1, 0, 2]))


def _static_dim(x: Value, axis: int) -> int | None:
    return x.shape[axis] if x.shape.rank is not None else None


def _dim(x: Value, axis: int) -> Value:
    """Dimension `axis` of x as an i64 scalar."""
    size = _static_dim(x, axis)
    if size is not None:
        return i64(size)
    return Gather(ShapeOf(x), i64(axis), i64(0))


def _reversed(x: Value, axis: int = 0) -> Value:
    return Slice(x, i64([-1]), i64([np.iinfo(np.int64).min]), i64([-1]), i64([axis]))


def _rows(*weights: Value) -> Value:
    """Weight matrices [n, k] (or vectors [n]) stacked into [Σn, k] (one MatMul for all gates);
    constants at once, so a Loop body gets them as constants."""
    if len(weights) == 1:
        return weights[0]
    if all(w.const is not None for w in weights):
        return const(np.concatenate([np.asarray(w.const) for w in weights], axis=0))
    return Concat(*weights, axis=0)


# ---------------------------------------------------------------- the Loop over time


Step = Callable[[Value, list[Value], dict[str, Value]], tuple[list[Value], Value]]


def _inside(value: Value) -> Value | None:
    """A constant's twin for a body (a new node on the same array), or None: a body Parameter."""
    return const(value.const) if value.const is not None else None


def _recurrence(
    projected: Value, states: Sequence[Value], weights: dict[str, Value], step: Step, reverse: bool = False, name: str = ""
) -> tuple[Value, list[Value]]:
    """A Loop over the time-major `projected` [T, B, ...]: `step(projected[t], states, weights)`
    gives the next states and the step's output; returns the outputs stacked [T, B, ...] (in
    time order, for `reverse` too) and the last states. Weights are constants inside the body
    when they are constants, else invariant inputs."""
    iteration = parameter(f"{name}/t", ElementType.i64, Shape(())).outputs[0]
    state_parameters = [parameter(f"{name}/state{k}", s.element_type, s.shape).outputs[0] for k, s in enumerate(states)]
    full = parameter(f"{name}/inputs", projected.element_type, projected.shape).outputs[0]
    inputs: list[Value] = [*states, projected]
    parameters = [iteration, *state_parameters, full]
    inner: dict[str, Value] = {}
    for key, value in weights.items():
        twin = _inside(value)
        if twin is None:
            twin = parameter(f"{name}/{key}", value.element_type, value.shape).outputs[0]
            parameters.append(twin)
            inputs.append(value)
        inner[key] = twin
    index = ew.Subtract(ew.Subtract(_dim(full, 0), i64(1)), iteration) if reverse else iteration
    new_states, output = step(Gather(full, index, i64(0)), state_parameters, inner)
    results = [const(np.array(True)), *new_states, Unsqueeze(output, i64([0]))]
    count = len(states)
    node = control.loop_node(
        _dim(projected, 0),
        const(np.array(True)),
        inputs,
        Graph([p.producer for p in parameters], results, "body"),
        body_inputs=[-1, *range(len(inputs))],
        back_edges=[-1, *(1 + k for k in range(count)), *([-1] * (len(parameters) - 1 - count))],
        current_iteration=0,
        condition_output=0,
        outputs=[*((1 + k, control.CONCAT_NONE, 0, -1, 1, 1) for k in range(count)), (1 + count, 0, 0, -1, 1, 1)],
        name=name,
    )
    stacked = node.outputs[count]
    return (_reversed(stacked) if reverse else stacked), list(node.outputs[:count])


# ---------------------------------------------------------------- LSTM


class _LstmWeights:
    """One direction's tensors, by their role (None where left out)."""

    def __init__(self, tensors: Sequence[Value | None], aux: Sequence[Value | None] = (None,) * 4, layer_norm: Sequence[Value | None] = (None,) * 4):
        (self.w_i, self.w_f, self.w_c, self.w_o, self.r_i, self.r_f, self.r_c, self.r_o, self.p_i, self.p_f, self.p_o,
         self.b_i, self.b_f, self.b_c, self.b_o, self.projection, self.projection_bias) = tensors  # fmt: skip
        self.aux_i, self.aux_f, self.aux_c, self.aux_o = aux
        self.ln_i, self.ln_f, self.ln_c, self.ln_o = layer_norm
        required = {"input_to_forget": self.w_f, "input_to_cell": self.w_c, "input_to_output": self.w_o, "recurrent_to_forget": self.r_f,
                    "recurrent_to_cell": self.r_c, "recurrent_to_output": self.r_o, "forget_gate_bias": self.b_f,
                    "cell_gate_bias": self.b_c, "output_gate_bias": self.b_o}  # fmt: skip
        missing = [name for name, value in required.items() if value is None]
        if missing:
            raise Unsupported(f"the LSTM's {', '.join(missing)} weights are left out")
        self.cifg = self.w_i is None
        if self.cifg and (self.r_i is not None or self.b_i is not None):
            raise Unsupported("a CIFG LSTM (no input gate weights) with input gate recurrent weights or bias")
        if not self.cifg and (self.r_i is None or self.b_i is None):
            raise Unsupported("the LSTM's input gate recurrent weights or bias are left out")
        if self.cifg and self.p_i is not None:
            raise Unsupported("a CIFG LSTM with input gate peephole weights")
        if self.projection is None and self.projection_bias is not None:
            raise Unsupported("a projection bias without projection weights")
        if self.has_aux and (any(w is None for w in (self.aux_f, self.aux_c, self.aux_o)) or (self.aux_i is None) != self.cifg):
            raise Unsupported("the auxiliary input weights are incomplete")
        self.layer_norm = any(w is not None for w in (self.ln_i, self.ln_f, self.ln_c, self.ln_o))
        if self.layer_norm and (any(w is None for w in (self.ln_f, self.ln_c, self.ln_o)) or (self.ln_i is None) != self.cifg):
            raise Unsupported("the layer norm coefficients are incomplete")
        cells = self.w_f.shape[0] if self.w_f.shape.rank == 2 else None
        if cells is None:
            raise Unsupported(f"input-to-forget weights of shape {self.w_f.shape}, expected [cells, inputs]")
        self.cells: int = cells

    @property
    def has_aux(self) -> bool:
        return any(w is not None for w in (self.aux_i, self.aux_f, self.aux_c, self.aux_o))

    @property
    def gates(self) -> list[str]:
        return ["f", "c", "o"] if self.cifg else ["i", "f", "c", "o"]

    def fits_sequence(self, cell_clip: float, activation: str, diagonal: bool) -> bool:
        """LSTMSequence-5 computes this LSTM exactly."""
        peephole = any(p is not None for p in (self.p_i, self.p_f, self.p_o))
        plain = not (peephole or self.projection is not None or self.layer_norm or self.has_aux or diagonal)
        return plain and cell_clip == 0 and activation in SEQUENCE_ACTIVATIONS


def _lstm_step(
    weights: _LstmWeights, activation: str, cell_clip: float, proj_clip: float, diagonal: bool
) -> Step:
    """One LSTM step on the projected input x_t [B, G·cells] (G gates, bias included unless
    layer norm), the states (h, c) and the body's weights."""
    gates = weights.gates

    def step(projected: Value, states: list[Value], w: dict[str, Value]) -> tuple[list[Value], Value]:
        h, c = states
        if diagonal:
            recurrent = ew.Multiply(Concat(*[h] * len(gates), axis=1), Reshape(w["recurrent"], i64([1, -1]), special_zero=False))
        else:
            recurrent = MatMul(h, w["recurrent"], transpose_a=False, transpose_b=True)
        total = ew.Add(projected, recurrent)
        parts = dict(zip(gates, Split.node(total, i64(1), num_splits=len(gates)).outputs))

        def gate(name: str, cell_state: Value | None, function: Callable[[Value], Value]) -> Value:
            z = parts[name]
            if f"p_{name}" in w and cell_state is not None:
                z = ew.Add(z, ew.Multiply(cell_state, w[f"p_{name}"]))
            if weights.layer_norm:
                z = ew.Multiply(MVN(z, i64([1]), normalize_variance=True, eps=LAYER_NORM_EPSILON, eps_mode="inside_sqrt"), w[f"ln_{name}"])
                z = ew.Add(z, w[f"b_{name}"])
            return function(z)

        forget = gate("f", c, act.Sigmoid)
        input_gate = ew.Subtract(scalar_like(forget, 1), forget) if weights.cifg else gate("i", c, act.Sigmoid)
        candidate = gate("c", None, lambda z: _activation(z, activation, "LSTM"))
        cell = _clip(ew.Add(ew.Multiply(forget, c), ew.Multiply(input_gate, candidate)), cell_clip)
        output_gate = gate("o", cell, act.Sigmoid)
        hidden = ew.Multiply(output_gate, _activation(cell, activation, "LSTM"))
        if "projection" in w:
            hidden = MatMul(hidden, w["projection"], transpose_a=False, transpose_b=True)
            if "projection_bias" in w:
                hidden = ew.Add(hidden, w["projection_bias"])
            hidden = _clip(hidden, proj_clip)
        return [hidden, cell], hidden

    return step


def _lstm_loop(
    x: Value, aux: Value | None, h0: Value, c0: Value, weights: _LstmWeights, activation: str, cell_clip: float, proj_clip: float,
    diagonal: bool, reverse: bool, name: str,
) -> Value:
    """The LSTM over time-major x [T, B, in]: its outputs [T, B, n_output]."""
    gates = weights.gates
    projected = MatMul(x, _rows(*(getattr(weights, f"w_{g}") for g in gates)), transpose_a=False, transpose_b=True)
    if aux is not None:
        projected = ew.Add(projected, MatMul(aux, _rows(*(getattr(weights, f"aux_{g}") for g in gates)), transpose_a=False, transpose_b=True))
    biases = {g: getattr(weights, f"b_{g}") for g in gates}
    if not weights.layer_norm:
        projected = ew.Add(projected, _rows(*biases.values()))
    body_weights: dict[str, Value] = {"recurrent": _rows(*(getattr(weights, f"r_{g}") for g in gates))}  # [G·n, n], or [G·n] diagonal
    for g in ("i", "f", "o"):
        peephole = getattr(weights, f"p_{g}")
        if peephole is not None:
            body_weights[f"p_{g}"] = peephole
    if weights.layer_norm:
        for g in gates:
            body_weights[f"ln_{g}"] = getattr(weights, f"ln_{g}")
            body_weights[f"b_{g}"] = biases[g]
    if weights.projection is not None:
        body_weights["projection"] = weights.projection
        if weights.projection_bias is not None:
            body_weights["projection_bias"] = weights.projection_bias
    step = _lstm_step(weights, activation, cell_clip, proj_clip, diagonal)
    outputs, _ = _recurrence(projected, [h0, c0], body_weights, step, reverse=reverse, name=name)
    return outputs


def _lstm_sequence(x: Value, h0: Value, c0: Value, weights: _LstmWeights, activation: str, reverse: bool) -> Value:
    """An LSTM LSTMSequence-5 computes exactly, on time-major x: outputs [T, B, n]."""
    if weights.cifg:  # i = 1 − f = σ(−z_f): the input gate gets the forget gate's weights, negated
        w_i, r_i, b_i = (ew.Negative(v) if v.const is None else const(-np.asarray(v.const)) for v in (weights.w_f, weights.r_f, weights.b_f))
    else:
        w_i, r_i, b_i = weights.w_i, weights.r_i, weights.b_i
    order = (weights.w_f, w_i, weights.w_c, weights.w_o), (weights.r_f, r_i, weights.r_c, weights.r_o), (weights.b_f, b_i, weights.b_c, weights.b_o)
    w, r, b = (Unsqueeze(Concat(*parts, axis=0), i64([0])) for parts in order)  # OpenVINO's gate order f, i, c, o
    node = rnn_ops.LSTMSequence.node(
        Transpose(x, i64([1, 0, 2])),
        Unsqueeze(h0, i64([1])),
        Unsqueeze(c0, i64([1])),
        _lengths(x),
        w,
        r,
        b,
        direction="reverse" if reverse else "forward",
        hidden_size=weights.cells,
        activations=["sigmoid", SEQUENCE_ACTIVATIONS[activation], SEQUENCE_ACTIVATIONS[activation]],
    )
    return Transpose(Squeeze(node.outputs[0], i64([1])), i64([1, 0, 2]))  # [B, 1, T, n] → [T, B, n]


def _lengths(sequence: Value) -> Value:
    """Every batch entry's length, the whole sequence (time-major), as i32."""
    steps, batch = (Reshape(_dim(sequence, axis), i64([1]), special_zero=False) for axis in (0, 1))
    return Convert(Broadcast(steps, batch, mode="numpy"), destination_type=ElementType.i32)


def _lstm(
    ctx: TFLiteContext, x: Value, aux: Value | None, h0: Value, c0: Value, weights: _LstmWeights, activation: str, cell_clip: float,
    proj_clip: float, diagonal: bool, reverse: bool, name: str,
) -> Value:
    if cell_clip < 0 or proj_clip < 0:
        raise Unsupported(f"negative clips ({cell_clip}, {proj_clip})")
    if activation not in ("TANH", "RELU", "RELU6", "RELU_N1_TO_1"):
        _activation(x, activation, "LSTM")  # raises
    if weights.fits_sequence(cell_clip, activation, diagonal) and aux is None:
        return _lstm_sequence(x, h0, c0, weights, activation, reverse)
    return _lstm_loop(x, aux, h0, c0, weights, activation, cell_clip, proj_clip, diagonal, reverse, name)


def UNIDIRECTIONAL_SEQUENCE_LSTM(
    ctx: TFLiteContext,
    x: Value,
    input_to_input: Value | None = None, input_to_forget: Value | None = None, input_to_cell: Value | None = None,
    input_to_output: Value | None = None,
    recurrent_to_input: Value | None = None, recurrent_to_forget: Value | None = None, recurrent_to_cell: Value | None = None,
    recurrent_to_output: Value | None = None,
    cell_to_input: Value | None = None, cell_to_forget: Value | None = None, cell_to_output: Value | None = None,
    input_gate_bias: Value | None = None, forget_gate_bias: Value | None = None, cell_gate_bias: Value | None = None,
    output_gate_bias: Value | None = None,
    projection: Value | None = None, projection_bias: Value | None = None,
    output_state: Value | None = None, cell_state: Value | None = None,
    input_layer_norm: Value | None = None, forget_layer_norm: Value | None = None, cell_layer_norm: Value | None = None,
    output_layer_norm: Value | None = None,
    *,
    fused_activation_function: str = "NONE",
    cell_clip: float = 0.0,
    proj_clip: float = 0.0,
    time_major: bool = False,
    asymmetric_quantize_inputs: bool = False,
    diagonal_recurrent_tensors: bool = False,
) -> Value:
    """TFLite's 24 inputs (20 in older files, without the layer norm coefficients); every weight
    may be left out to the signature, the LSTM checks which it needs. (asymmetric_quantize_inputs
    only changes how hybrid kernels round.)"""
    _check_float(ctx, "UNIDIRECTIONAL_SEQUENCE_LSTM")
    if output_state is None or cell_state is None:
        raise Unsupported("the LSTM's state tensors are left out")
    weights = _LstmWeights(
        (input_to_input, input_to_forget, input_to_cell, input_to_output, recurrent_to_input, recurrent_to_forget,
         recurrent_to_cell, recurrent_to_output, cell_to_input, cell_to_forget, cell_to_output, input_gate_bias,
         forget_gate_bias, cell_gate_bias, output_gate_bias, projection, projection_bias),
        layer_norm=(input_layer_norm, forget_layer_norm, cell_layer_norm, output_layer_norm),
    )  # fmt: skip
    sequence = _time_major(x, time_major)
    y = _lstm(ctx, sequence, None, output_state, cell_state, weights, fused_activation_function, cell_clip, proj_clip, diagonal_recurrent_tensors, False, ctx.node_name)
    return _from_time_major(y, time_major)


def BIDIRECTIONAL_SEQUENCE_LSTM(
    ctx: TFLiteContext,
    x: Value,
    fw_i2i: Value | None = None, fw_i2f: Value | None = None, fw_i2c: Value | None = None, fw_i2o: Value | None = None,
    fw_r2i: Value | None = None, fw_r2f: Value | None = None, fw_r2c: Value | None = None, fw_r2o: Value | None = None,
    fw_c2i: Value | None = None, fw_c2f: Value | None = None, fw_c2o: Value | None = None, fw_b_i: Value | None = None,
    fw_b_f: Value | None = None, fw_b_c: Value | None = None, fw_b_o: Value | None = None, fw_proj: Value | None = None,
    fw_proj_b: Value | None = None,
    bw_i2i: Value | None = None, bw_i2f: Value | None = None, bw_i2c: Value | None = None, bw_i2o: Value | None = None,
    bw_r2i: Value | None = None, bw_r2f: Value | None = None, bw_r2c: Value | None = None, bw_r2o: Value | None = None,
    bw_c2i: Value | None = None, bw_c2f: Value | None = None, bw_c2o: Value | None = None, bw_b_i: Value | None = None,
    bw_b_f: Value | None = None, bw_b_c: Value | None = None, bw_b_o: Value | None = None, bw_proj: Value | None = None,
    bw_proj_b: Value | None = None,
    fw_h: Value | None = None, fw_c: Value | None = None, bw_h: Value | None = None, bw_c: Value | None = None,
    aux_input: Value | None = None, fw_aux_i: Value | None = None, fw_aux_f: Value | None = None,
    fw_aux_c: Value | None = None, fw_aux_o: Value | None = None, bw_aux_i: Value | None = None,
    bw_aux_f: Value | None = None, bw_aux_c: Value | None = None, bw_aux_o: Value | None = None,
    *,
    fused_activation_function: str = "NONE",
    cell_clip: float = 0.0,
    proj_clip: float = 0.0,
    merge_outputs: bool = False,
    time_major: bool = True,
    asymmetric_quantize_inputs: bool = False,
) -> list[Value]:
    """TFLite's 48 inputs: x, 17 forward and 17 backward weight tensors (as UNIDIRECTIONAL_SEQUENCE_LSTM's),
    forward h and c, backward h and c, the auxiliary input and 4 + 4 auxiliary weights. The
    backward LSTM reads the sequence from its end; its outputs stay at their time steps. An
    auxiliary input without auxiliary weights is the backward LSTM's input (TFLite's non-stacking
    mode); with them, both directions add its projection. merge_outputs concatenates both
    directions' outputs on the last axis."""
    _check_float(ctx, "BIDIRECTIONAL_SEQUENCE_LSTM")
    forward_states, backward_states = (fw_h, fw_c), (bw_h, bw_c)
    if any(s is None for s in (*forward_states, *backward_states)):
        raise Unsupported("the LSTM's state tensors are left out")
    aux = aux_input
    forward = _LstmWeights(
        (fw_i2i, fw_i2f, fw_i2c, fw_i2o, fw_r2i, fw_r2f, fw_r2c, fw_r2o, fw_c2i,
         fw_c2f, fw_c2o, fw_b_i, fw_b_f, fw_b_c, fw_b_o, fw_proj, fw_proj_b),
        aux=(fw_aux_i, fw_aux_f, fw_aux_c, fw_aux_o),
    )  # fmt: skip
    backward = _LstmWeights(
        (bw_i2i, bw_i2f, bw_i2c, bw_i2o, bw_r2i, bw_r2f, bw_r2c, bw_r2o, bw_c2i,
         bw_c2f, bw_c2o, bw_b_i, bw_b_f, bw_b_c, bw_b_o, bw_proj, bw_proj_b),
        aux=(bw_aux_i, bw_aux_f, bw_aux_c, bw_aux_o),
    )  # fmt: skip
    if forward.has_aux != backward.has_aux:
        raise Unsupported("auxiliary weights for one direction only")
    if forward.has_aux and aux is None:
        raise Unsupported("auxiliary weights without an auxiliary input")
    sequence = _time_major(x, time_major)
    aux_sequence = _time_major(aux, time_major) if aux is not None else None
    backward_input, aux_input = (aux_sequence, None) if aux_sequence is not None and not forward.has_aux else (sequence, aux_sequence)
    assert backward_input is not None
    options = (fused_activation_function, cell_clip, proj_clip, False)
    y_forward = _lstm(ctx, sequence, aux_input, *forward_states, forward, *options, False, f"{ctx.node_name}/forward")  # type: ignore[arg-type]
    y_backward = _lstm(ctx, backward_input, aux_input, *backward_states, backward, *options, True, f"{ctx.node_name}/backward")  # type: ignore[arg-type]
    if merge_outputs:
        return [_from_time_major(Concat(y_forward, y_backward, axis=2), time_major)]
    return [_from_time_major(y_forward, time_major), _from_time_major(y_backward, time_major)]


# ---------------------------------------------------------------- RNN


def UNIDIRECTIONAL_SEQUENCE_RNN(
    ctx: TFLiteContext,
    x: Value,
    weights: Value,
    recurrent_weights: Value,
    bias: Value,
    hidden_state: Value,
    *,
    time_major: bool = False,
    fused_activation_function: str = "NONE",
    asymmetric_quantize_inputs: bool = False,
) -> Value:
    """h' = act(W·x + R·h + b) at each step; the outputs are the h'."""
    _check_float(ctx, "UNIDIRECTIONAL_SEQUENCE_RNN")
    sequence = _time_major(x, time_major)
    units = weights.shape[0] if weights.shape.rank == 2 else None
    if fused_activation_function in SEQUENCE_ACTIVATIONS and units is not None:
        node = rnn_ops.RNNSequence.node(
            Transpose(sequence, i64([1, 0, 2])),
            Unsqueeze(hidden_state, i64([1])),
            _lengths(sequence),
            Unsqueeze(weights, i64([0])),
            Unsqueeze(recurrent_weights, i64([0])),
            Unsqueeze(bias, i64([0])),
            direction="forward",
            hidden_size=units,
            activations=[SEQUENCE_ACTIVATIONS[fused_activation_function]],
        )
        y = Transpose(Squeeze(node.outputs[0], i64([1])), i64([1, 0, 2]))
        return _from_time_major(y, time_major)
    _activation(sequence, fused_activation_function, "RNN")  # refuses what it cannot apply
    projected = ew.Add(MatMul(sequence, weights, transpose_a=False, transpose_b=True), bias)

    def step(x_t: Value, states: list[Value], w: dict[str, Value]) -> tuple[list[Value], Value]:
        h = _activation(ew.Add(x_t, MatMul(states[0], w["recurrent"], transpose_a=False, transpose_b=True)), fused_activation_function, "RNN")
        return [h], h

    y, _ = _recurrence(projected, [hidden_state], {"recurrent": recurrent_weights}, step, name=ctx.node_name)
    return _from_time_major(y, time_major)


HANDLERS: dict[str, Handler] = {
    "UNIDIRECTIONAL_SEQUENCE_LSTM": UNIDIRECTIONAL_SEQUENCE_LSTM,
    "BIDIRECTIONAL_SEQUENCE_LSTM": BIDIRECTIONAL_SEQUENCE_LSTM,
    "UNIDIRECTIONAL_SEQUENCE_RNN": UNIDIRECTIONAL_SEQUENCE_RNN,
}
GRID_PRESERVING: frozenset[str] = frozenset()
