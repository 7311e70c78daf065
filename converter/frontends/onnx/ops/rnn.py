"""ONNX LSTM, GRU, RNN → OpenVINO LSTMSequence-5, GRUSequence-5, RNNSequence-5.

ONNX keeps X as [seq, batch, input] (layout 0) or [batch, seq, input] (layout 1),
states as [num_directions, batch, hidden] (layout 0) and Y as
[seq, num_directions, batch, hidden]; OpenVINO wants X [batch, seq, input],
states [batch, num_directions, hidden] and gives Y [batch, num_directions, seq,
hidden]. ONNX LSTM gates are ordered i, o, f, c, OpenVINO's f, i, c, o; GRU
gates are z, r, h in both. ONNX biases are [Wb, Rb] (2 × gates × hidden);
OpenVINO takes their sum, except GRU with linear_before_reset, whose h-gate
keeps Wbh and Rbh apart (4 × hidden). Constant weights are rearranged in numpy,
others with Gather/Add/Concat in the graph.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from converter.frontends.onnx.converter import OnnxContext, Unsupported
from converter.ir.graph import Value
from converter.ops import activation as activation_ops
from converter.ops import elementwise as ew
from converter.ops import indexing
from converter.ops import matmul as matmul_ops
from converter.ops import rnn as rnn_ops
from converter.ops import shape as shape_ops
from converter.ops.core import ShapeOf, const
from converter.ops.spec import OpSpec

LSTM_GATES_ONNX_TO_OV = (2, 0, 3, 1)
"""ONNX LSTM blocks i, o, f, c: OpenVINO block k is ONNX block LSTM_GATES_ONNX_TO_OV[k] (f, i, c, o)."""


# ---------------------------------------------------------------- attributes


def _directions(direction: str) -> int:
    if direction not in rnn_ops.DIRECTIONS:
        raise Unsupported(f"direction {direction!r} is not one of {', '.join(rnn_ops.DIRECTIONS)}")
    return rnn_ops.num_directions(direction)


def _activations(activations: Sequence[str] | None, defaults: tuple[str, ...], directions: int) -> tuple[str, ...]:
    """ONNX gives one list per direction; OpenVINO one list for both, lower-case."""
    if not activations:
        return defaults
    names = [name.lower() for name in activations]
    per_direction = len(defaults)
    if len(names) == per_direction and directions == 2:
        names = names * 2
    if len(names) != per_direction * directions:
        raise Unsupported(f"expected {per_direction * directions} activations, got {len(names)}")
    if directions == 2 and names[:per_direction] != names[per_direction:]:
        raise Unsupported(f"different activations per direction {activations} cannot be expressed")
    unsupported = sorted({n for n in names if n not in rnn_ops.ACTIVATIONS})
    if unsupported:
        raise Unsupported(f"activation(s) {unsupported} are not supported (only Sigmoid, Tanh, Relu)")
    return tuple(names[:per_direction])


def _hidden_size(hidden_size: int | None, r: Value) -> int:
    if hidden_size is not None:
        if r.shape.rank == 3 and r.shape[2] is not None and int(hidden_size) != r.shape[2]:
            raise Unsupported(f"hidden_size {hidden_size} disagrees with R's shape {r.shape}")
        return int(hidden_size)
    if r.shape.rank == 3 and r.shape[2] is not None:
        return int(r.shape[2])
    raise Unsupported("hidden_size is not given and R's shape is not static")


def _clip(clip: float | None) -> float:
    if clip is None:
        return 0.0
    if clip <= 0:
        raise Unsupported(f"clip must be positive, got {clip}")
    return float(clip)


# ---------------------------------------------------------------- graph helpers


def _int64s(values: Sequence[int] | np.ndarray) -> Value:
    return const(np.asarray(values, dtype=np.int64))


def _transpose(x: Value, order: Sequence[int]) -> Value:
    return shape_ops.Transpose(x, _int64s(order))


def _take_rows(x: Value, rows: np.ndarray) -> Value:
    """x[:, rows] (axis 1), folded in numpy when x is constant."""
    array = x.const
    if array is not None:
        return const(np.ascontiguousarray(np.take(array, rows, axis=1)))
    return indexing.Gather(x, _int64s(rows), _int64s(1))


def _gate_rows(blocks: Sequence[int], hidden: int, offset: int = 0) -> np.ndarray:
    """Row indices of the given hidden-sized blocks, in that order."""
    return np.concatenate([np.arange(hidden) + offset + block * hidden for block in blocks]).astype(np.int64)


def _add(a: Value, b: Value) -> Value:
    if a.const is not None and b.const is not None:
        return const(np.asarray(a.const + b.const, dtype=a.const.dtype))
    return ew.Add(a, b)


def _negate(x: Value) -> Value:
    if x.const is not None:
        return const(np.negative(x.const))
    return ew.Multiply(x, const(np.array(-1, dtype=x.element_type.numpy)))


def _concat(values: list[Value], axis: int) -> Value:
    if all(v.const is not None for v in values):
        return const(np.concatenate([v.const for v in values], axis=axis))
    return shape_ops.Concat(*values, axis=axis)


def _dim(x: Value, axis: int) -> Value:
    """x.shape[axis] as an i64 tensor of shape [1]: a constant when static."""
    if x.shape.rank is not None and x.shape[axis] is not None:
        return _int64s([x.shape[axis]])
    return indexing.Gather(ShapeOf(x), _int64s([axis]), _int64s(0))


def _broadcast_op() -> OpSpec:
    broadcast = getattr(shape_ops, "Broadcast", None)
    if broadcast is None:
        raise Unsupported("a dynamic batch size needs Broadcast, which is not available")
    return broadcast


def _filled(value: float | int, dtype: np.dtype, dims: list[Value | int]) -> Value:
    """A tensor of `value` whose dims are ints or [1]-shaped i64 tensors."""
    if all(isinstance(d, int) for d in dims) and math.prod(dims) * np.dtype(dtype).itemsize <= 1 << 20:  # type: ignore[arg-type]
        return const(np.full([int(d) for d in dims], value, dtype=dtype))  # type: ignore[arg-type]
    target = _concat([_int64s([d]) if isinstance(d, int) else d for d in dims], axis=0)
    return _broadcast_op()(const(np.array(value, dtype=dtype)), target)


def _static_or_tensor(x: Value, axis: int) -> Value | int:
    if x.shape.rank is not None and x.shape[axis] is not None:
        return int(x.shape[axis])
    return _dim(x, axis)


# ---------------------------------------------------------------- the common conversion


class _Sequence:
    """What every recurrent op shares: layouts, states, lengths, outputs."""

    def __init__(self, x: Value, layout: int, directions: int, hidden: int):
        if layout not in (0, 1):
            raise Unsupported(f"layout must be 0 or 1, got {layout}")
        if x.shape.rank not in (None, 3):
            raise Unsupported(f"X must be 3-D, got {x.shape}")
        self.layout = layout
        self.directions = directions
        self.hidden = hidden
        self.x = x if layout == 1 else _transpose(x, (1, 0, 2))  # [batch, seq, input]
        self.dtype = x.element_type.numpy

    def batch(self) -> Value | int:
        return _static_or_tensor(self.x, 0)

    def pin_batch(self, states: Sequence[Value | None], sequence_lens: Value | None) -> None:
        """Give X the static batch its states or lengths declare: OpenVINO's CPU plugin fails to compile
        a sequence whose X batch is dynamic while the states' batch is static."""
        if self.x.shape.rank != 3 or self.x.shape[0] is not None:
            return
        state_batch_axis = 1 if self.layout == 0 else 0
        known = [s.shape[state_batch_axis] for s in states if s is not None and s.shape.rank == 3]
        if sequence_lens is not None and sequence_lens.shape.rank == 1:
            known.append(sequence_lens.shape[0])
        batch = next((d for d in known if d is not None), None)
        if batch is not None:
            self.x = shape_ops.Reshape(self.x, _int64s([batch, 0, 0]), special_zero=True)

    def state(self, initial: Value | None) -> Value:
        """ONNX initial state → [batch, dirs, hidden]; zeros when absent."""
        if initial is None:
            return _filled(0, self.dtype, [self.batch(), self.directions, self.hidden])
        return initial if self.layout == 1 else _transpose(initial, (1, 0, 2))

    def lengths(self, sequence_lens: Value | None) -> Value:
        if sequence_lens is not None:
            if not sequence_lens.element_type.is_integer:
                raise Unsupported(f"sequence_lens must be integer, got {sequence_lens.element_type.value}")
            return sequence_lens
        seq = _static_or_tensor(self.x, 1)
        batch = self.batch()
        if isinstance(seq, int):
            return _filled(seq, np.dtype(np.int64), [batch])
        if isinstance(batch, int):
            return _concat([seq] * batch, axis=0)
        return _broadcast_op()(seq, batch)

    def outputs(self, y: Value, states: list[Value]) -> list[Value]:
        """OpenVINO outputs → ONNX Y, Y_h (and Y_c)."""
        if self.layout == 0:
            return [_transpose(y, (2, 1, 0, 3))] + [_transpose(s, (1, 0, 2)) for s in states]
        return [_transpose(y, (0, 2, 1, 3))] + states


def _check_float(x: Value) -> None:
    if not x.element_type.is_float:
        raise Unsupported(f"X must be a float tensor, got {x.element_type.value}")


def _summed_bias(b: Value | None, gates: int, hidden: int, directions: int, blocks: Sequence[int], dtype: np.dtype) -> Value:
    """ONNX [Wb, Rb] → OpenVINO Wb + Rb, gate blocks reordered."""
    if b is None:
        return const(np.zeros((directions, gates * hidden), dtype=dtype))
    wb = _take_rows(b, _gate_rows(blocks, hidden))
    rb = _take_rows(b, _gate_rows(blocks, hidden, offset=gates * hidden))
    return _add(wb, rb)


# ---------------------------------------------------------------- handlers


def LSTM(
    ctx: OnnxContext,
    x: Value,
    w: Value,
    r: Value,
    b: Value | None = None,
    sequence_lens: Value | None = None,
    initial_h: Value | None = None,
    initial_c: Value | None = None,
    p: Value | None = None,
    *,
    activation_alpha: list[float] | None = None,
    activation_beta: list[float] | None = None,
    activations: list[str] | None = None,
    clip: float | None = None,
    direction: str = "forward",
    hidden_size: int | None = None,
    input_forget: int = 0,
    layout: int = 0,
    output_sequence: int = 0,
) -> list[Value]:
    """activation_alpha/beta only matter to activations OpenVINO cannot run; output_sequence (opset 1) only
    says Y may be omitted."""
    _check_float(x)
    directions = _directions(direction)
    hidden = _hidden_size(hidden_size, r)
    names = _activations(activations, ("sigmoid", "tanh", "tanh"), directions)
    sequence = _Sequence(x, layout, directions, hidden)
    sequence.pin_batch([initial_h, initial_c], sequence_lens)
    blocks = list(LSTM_GATES_ONNX_TO_OV)
    rows = _gate_rows(blocks, hidden)
    w_ov, r_ov = _take_rows(w, rows), _take_rows(r, rows)
    b_ov = _summed_bias(b, 4, hidden, directions, blocks, sequence.dtype)
    if p is not None and not _all_zero(p):
        # LSTMSequence-5 has no peepholes: spell the cells out step by step.
        cell = _PeepholeCell(names, _clip(clip), bool(input_forget), hidden)
        states = [sequence.state(initial_h), sequence.state(initial_c)]
        y, finals = _unrolled_lstm(sequence, cell, (w_ov, r_ov, b_ov, p), states, sequence_lens, direction)
        return sequence.outputs(y, finals)
    if input_forget:
        # f = 1 - i = sigmoid(-z_i): give the forget gate the input gate's weights, negated.
        if names[0] != "sigmoid":
            raise Unsupported("input_forget needs a Sigmoid gate activation")
        w_ov, r_ov, b_ov = (_coupled_forget_gate(v, hidden) for v in (w_ov, r_ov, b_ov))
    node = rnn_ops.LSTMSequence.node(
        sequence.x,
        sequence.state(initial_h),
        sequence.state(initial_c),
        sequence.lengths(sequence_lens),
        w_ov,
        r_ov,
        b_ov,
        direction=direction,
        hidden_size=hidden,
        activations=names,
        clip=_clip(clip),
    )
    return sequence.outputs(node.outputs[0], node.outputs[1:])


# ---------------------------------------------------------------- LSTM with peepholes, unrolled

MAX_UNROLLED_STEPS = 512


def _pick(value: Value, index: int, axis: int) -> Value:
    """value[index] along `axis` (the axis disappears), folded when constant."""
    array = value.const
    if array is not None:
        return const(np.ascontiguousarray(np.take(array, index, axis=axis)))
    return indexing.Gather(value, _int64s(index), _int64s(axis))


def _unsqueeze(value: Value, axis: int) -> Value:
    return shape_ops.Unsqueeze(value, _int64s([axis]))


class _PeepholeCell:
    """One ONNX LSTM step with peepholes, on OpenVINO-ordered (f, i, c, o) weights of one direction."""

    def __init__(self, activations: tuple[str, ...], clip: float, input_forget: bool, hidden: int):
        ops = {"sigmoid": activation_ops.Sigmoid, "tanh": activation_ops.Tanh, "relu": activation_ops.Relu}
        self.f, self.g, self.h = (ops[name] for name in activations)
        self.clip = clip
        self.input_forget = input_forget
        self.hidden = hidden

    def _clipped(self, x: Value) -> Value:
        return activation_ops.Clamp(x, min=-self.clip, max=self.clip) if self.clip > 0 else x

    def __call__(self, x_t: Value, h: Value, c: Value, weights: tuple[Value, ...]) -> tuple[Value, Value]:
        w, r, b, p_i, p_o, p_f = weights
        gates = ew.Add(ew.Add(matmul_ops.MatMul(x_t, w, transpose_b=True), matmul_ops.MatMul(h, r, transpose_b=True)), b)
        forget, input_, candidate, output = shape_ops.Split.node(gates, _int64s(1), num_splits=4).outputs
        i = self.f(self._clipped(ew.Add(input_, ew.Multiply(p_i, c))))
        if self.input_forget:
            f = ew.Subtract(const(np.array(1, dtype=c.element_type.numpy)), i)
        else:
            f = self.f(self._clipped(ew.Add(forget, ew.Multiply(p_f, c))))
        new_c = ew.Add(ew.Multiply(f, c), ew.Multiply(i, self.g(self._clipped(candidate))))
        o = self.f(self._clipped(ew.Add(output, ew.Multiply(p_o, new_c))))
        return ew.Multiply(o, self.h(new_c)), new_c


def _unrolled_lstm(
    sequence: _Sequence,
    cell: _PeepholeCell,
    weights: tuple[Value, Value, Value, Value],
    states: list[Value],
    sequence_lens: Value | None,
    direction: str,
) -> tuple[Value, list[Value]]:
    """Y [batch, dirs, seq, hidden] and final (h, c) [batch, dirs, hidden], one step at a time."""
    steps = sequence.x.shape[1] if sequence.x.shape.rank == 3 else None
    if steps is None or steps > MAX_UNROLLED_STEPS:
        raise Unsupported(f"peepholes are unrolled, which needs a static sequence length of at most {MAX_UNROLLED_STEPS}")
    lengths = sequence.lengths(sequence_lens)
    masked = lengths.const is None or bool(np.any(lengths.const != steps))
    w_ov, r_ov, b_ov, p = weights
    hidden = sequence.hidden
    ys, finals_h, finals_c = [], [], []
    for d in range(sequence.directions):
        reverse = direction == "reverse" or d == 1
        p_d = _pick(p, d, 0)
        direction_weights = (
            _pick(w_ov, d, 0), _pick(r_ov, d, 0), _pick(b_ov, d, 0),
            *(_take_1d(p_d, np.arange(hidden) + k * hidden) for k in range(3)),  # ONNX P is i, o, f
        )
        x = indexing.ReverseSequence(sequence.x, lengths, batch_axis=0, seq_axis=1) if reverse else sequence.x
        h, c = _pick(states[0], d, 1), _pick(states[1], d, 1)
        outputs = []
        for t in range(steps):
            new_h, new_c = cell(_pick(x, t, 1), h, c, direction_weights)
            if masked:
                running = _unsqueeze(ew.Less(const(np.array(t, dtype=lengths.element_type.numpy)), lengths), 1)
                h, c = ew.Select(running, new_h, h), ew.Select(running, new_c, c)
                outputs.append(ew.Select(running, new_h, const(np.array(0, dtype=sequence.dtype))))
            else:
                h, c = new_h, new_c
                outputs.append(new_h)
        y = shape_ops.Concat(*(_unsqueeze(v, 1) for v in outputs), axis=1)
        if reverse:
            y = indexing.ReverseSequence(y, lengths, batch_axis=0, seq_axis=1)
        ys.append(_unsqueeze(y, 1))
        finals_h.append(_unsqueeze(h, 1))
        finals_c.append(_unsqueeze(c, 1))
    return _concat(ys, axis=1), [_concat(finals_h, axis=1), _concat(finals_c, axis=1)]


def _take_1d(value: Value, rows: np.ndarray) -> Value:
    if value.const is not None:
        return const(np.ascontiguousarray(value.const[rows]))
    return indexing.Gather(value, _int64s(rows), _int64s(0))


def _coupled_forget_gate(value: Value, hidden: int) -> Value:
    """Replace OpenVINO block f (rows [0, H)) by minus block i (rows [H, 2H))."""
    forget = _negate(_take_rows(value, _gate_rows([1], hidden)))
    rest = _take_rows(value, _gate_rows([1, 2, 3], hidden))
    return _concat([forget, rest], axis=1)


def _all_zero(value: Value) -> bool:
    return value.const is not None and not np.any(value.const)


def GRU(
    ctx: OnnxContext,
    x: Value,
    w: Value,
    r: Value,
    b: Value | None = None,
    sequence_lens: Value | None = None,
    initial_h: Value | None = None,
    *,
    activation_alpha: list[float] | None = None,
    activation_beta: list[float] | None = None,
    activations: list[str] | None = None,
    clip: float | None = None,
    direction: str = "forward",
    hidden_size: int | None = None,
    layout: int = 0,
    linear_before_reset: int = 0,
    output_sequence: int = 0,
) -> list[Value]:
    _check_float(x)
    directions = _directions(direction)
    hidden = _hidden_size(hidden_size, r)
    names = _activations(activations, ("sigmoid", "tanh"), directions)
    sequence = _Sequence(x, layout, directions, hidden)
    sequence.pin_batch([initial_h], sequence_lens)
    if linear_before_reset:
        b_ov = _gru_split_bias(b, hidden, directions, sequence.dtype)
    else:
        b_ov = _summed_bias(b, 3, hidden, directions, (0, 1, 2), sequence.dtype)
    node = rnn_ops.GRUSequence.node(
        sequence.x,
        sequence.state(initial_h),
        sequence.lengths(sequence_lens),
        w,
        r,
        b_ov,
        direction=direction,
        linear_before_reset=bool(linear_before_reset),
        hidden_size=hidden,
        activations=names,
        clip=_clip(clip),
    )
    return sequence.outputs(node.outputs[0], node.outputs[1:])


def _gru_split_bias(b: Value | None, hidden: int, directions: int, dtype: np.dtype) -> Value:
    """[Wbz+Rbz, Wbr+Rbr, Wbh, Rbh] for linear_before_reset."""
    if b is None:
        return const(np.zeros((directions, 4 * hidden), dtype=dtype))
    zr = _add(_take_rows(b, _gate_rows([0, 1], hidden)), _take_rows(b, _gate_rows([3, 4], hidden)))
    return _concat([zr, _take_rows(b, _gate_rows([2, 5], hidden))], axis=1)


def RNN(
    ctx: OnnxContext,
    x: Value,
    w: Value,
    r: Value,
    b: Value | None = None,
    sequence_lens: Value | None = None,
    initial_h: Value | None = None,
    *,
    activation_alpha: list[float] | None = None,
    activation_beta: list[float] | None = None,
    activations: list[str] | None = None,
    clip: float | None = None,
    direction: str = "forward",
    hidden_size: int | None = None,
    layout: int = 0,
    output_sequence: int = 0,
) -> list[Value]:
    _check_float(x)
    directions = _directions(direction)
    hidden = _hidden_size(hidden_size, r)
    names = _activations(activations, ("tanh",), directions)
    sequence = _Sequence(x, layout, directions, hidden)
    sequence.pin_batch([initial_h], sequence_lens)
    node = rnn_ops.RNNSequence.node(
        sequence.x,
        sequence.state(initial_h),
        sequence.lengths(sequence_lens),
        w,
        r,
        _summed_bias(b, 1, hidden, directions, (0,), sequence.dtype),
        direction=direction,
        hidden_size=hidden,
        activations=names,
        clip=_clip(clip),
    )
    return sequence.outputs(node.outputs[0], node.outputs[1:])


HANDLERS = {"LSTM": LSTM, "GRU": GRU, "RNN": RNN}
