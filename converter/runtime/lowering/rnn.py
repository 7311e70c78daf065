"""Lowerings for LSTMSequence-5, GRUSequence-5, RNNSequence-5 to ONNX LSTM, GRU, RNN (layout 0).

The inverse of the frontend: inputs go [batch, seq, ...] → [seq, batch, ...],
LSTM gate blocks f, i, c, o → i, o, f, c, the summed OpenVINO bias becomes
ONNX's Wb with a zero Rb, and Y [seq, dirs, batch, hidden] comes back as
[batch, dirs, seq, hidden].
"""

from __future__ import annotations

import numpy as np

from converter.ir.graph import Node
from converter.ops import rnn as ops
from converter.ops.spec import OpSpec
from converter.ir.types import ElementType
from converter.runtime.lowering.context import ONNX_ELEMENT_TYPE, LoweringContext, LoweringFn

ONNX_ACTIVATIONS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}

LSTM_GATES_OV_TO_ONNX = (1, 3, 0, 2)
"""OpenVINO LSTM blocks f, i, c, o: ONNX block k (i, o, f, c) is OpenVINO block LSTM_GATES_OV_TO_ONNX[k]."""

INT32 = 6
FLOAT = 1


def _rows(blocks: tuple[int, ...], hidden: int) -> np.ndarray:
    return np.concatenate([np.arange(hidden) + block * hidden for block in blocks]).astype(np.int64)


def _activations(node: Node, directions: int) -> list[str]:
    names = [name.lower() for name in node.attrs["activations"]]
    unknown = sorted({n for n in names if n not in ONNX_ACTIVATIONS})
    if unknown:
        raise NotImplementedError(f"{node.op.type} activation(s) {unknown} are not lowered to ONNX")
    return [ONNX_ACTIVATIONS[n] for n in names] * directions


def _common_attrs(node: Node, directions: int) -> dict:
    clip = node.attrs["clip"]
    return {
        "direction": node.attrs["direction"],
        "hidden_size": node.attrs["hidden_size"],
        "activations": _activations(node, directions),
        "clip": clip if clip > 0 else None,
        "layout": 0,
    }


def _zeros_like_rows(ctx: LoweringContext, node: Node, directions: int, rows: int) -> str:
    return ctx.constant(np.zeros((directions, rows), dtype=np.float32))


def _compute_type(node: Node) -> ElementType:
    """onnxruntime's recurrent kernels take f32 only: other float types go through f32 (as OpenVINO's CPU plugin does)."""
    return node.inputs[0].element_type


def _as_f32(ctx: LoweringContext, node: Node, name: str) -> str:
    if _compute_type(node) is ElementType.f32:
        return name
    return ctx.emit1("Cast", [name], to=FLOAT)


def _to_time_major(ctx: LoweringContext, node: Node, x: str) -> str:
    return ctx.emit1("Transpose", [_as_f32(ctx, node, x)], perm=[1, 0, 2])


def _outputs(ctx: LoweringContext, node: Node, outputs: list[str]) -> list[str]:
    results = [ctx.emit1("Transpose", [outputs[0]], perm=[2, 1, 0, 3])]
    results += [ctx.emit1("Transpose", [state], perm=[1, 0, 2]) for state in outputs[1:]]
    if _compute_type(node) is ElementType.f32:
        return results
    return [ctx.emit1("Cast", [r], to=ONNX_ELEMENT_TYPE[_compute_type(node)]) for r in results]


def _bias_with_zero_recurrent(ctx: LoweringContext, node: Node, bias: str, directions: int, rows: int) -> str:
    return ctx.emit1("Concat", [bias, _zeros_like_rows(ctx, node, directions, rows)], axis=1)


def lstm_sequence(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    x, h0, c0, lengths, w, r, b = inputs
    w, r, b = (_as_f32(ctx, node, t) for t in (w, r, b))
    directions = ops.num_directions(node.attrs["direction"])
    hidden = node.attrs["hidden_size"]
    rows = ctx.constant(_rows(LSTM_GATES_OV_TO_ONNX, hidden))
    w, r, b = (ctx.emit1("Gather", [t, rows], axis=1) for t in (w, r, b))
    b = _bias_with_zero_recurrent(ctx, node, b, directions, 4 * hidden)
    outputs = ctx.emit(
        "LSTM",
        [
            _to_time_major(ctx, node, x),
            w,
            r,
            b,
            ctx.emit1("Cast", [lengths], to=INT32),
            _to_time_major(ctx, node, h0),
            _to_time_major(ctx, node, c0),
        ],
        3,
        **_common_attrs(node, directions),
    )
    return _outputs(ctx, node, outputs)


def gru_sequence(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    x, h0, lengths, w, r, b = inputs
    w, r, b = (_as_f32(ctx, node, t) for t in (w, r, b))
    directions = ops.num_directions(node.attrs["direction"])
    hidden = node.attrs["hidden_size"]
    if node.attrs["linear_before_reset"]:
        # [Wbz+Rbz, Wbr+Rbr, Wbh, Rbh] → Wb = [zr, Wbh], Rb = [0, 0, Rbh]
        zr_wh = ctx.emit1("Gather", [b, ctx.constant(_rows((0, 1, 2), hidden))], axis=1)
        rh = ctx.emit1("Gather", [b, ctx.constant(_rows((3,), hidden))], axis=1)
        b = ctx.emit1("Concat", [zr_wh, _zeros_like_rows(ctx, node, directions, 2 * hidden), rh], axis=1)
    else:
        b = _bias_with_zero_recurrent(ctx, node, b, directions, 3 * hidden)
    outputs = ctx.emit(
        "GRU",
        [_to_time_major(ctx, node, x), w, r, b, ctx.emit1("Cast", [lengths], to=INT32), _to_time_major(ctx, node, h0)],
        2,
        linear_before_reset=int(node.attrs["linear_before_reset"]),
        **_common_attrs(node, directions),
    )
    return _outputs(ctx, node, outputs)


def rnn_sequence(ctx: LoweringContext, node: Node, inputs: list[str]) -> list[str]:
    x, h0, lengths, w, r, b = inputs
    w, r, b = (_as_f32(ctx, node, t) for t in (w, r, b))
    directions = ops.num_directions(node.attrs["direction"])
    b = _bias_with_zero_recurrent(ctx, node, b, directions, node.attrs["hidden_size"])
    outputs = ctx.emit(
        "RNN",
        [_to_time_major(ctx, node, x), w, r, b, ctx.emit1("Cast", [lengths], to=INT32), _to_time_major(ctx, node, h0)],
        2,
        **_common_attrs(node, directions),
    )
    return _outputs(ctx, node, outputs)


LOWERINGS: dict[OpSpec, LoweringFn] = {
    ops.LSTMSequence: lstm_sequence,
    ops.GRUSequence: gru_sequence,
    ops.RNNSequence: rnn_sequence,
}
