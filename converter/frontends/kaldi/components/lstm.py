"""LstmNonlinearityComponent: the cell arithmetic of an LSTM layer, one frame at a time (the
recurrence itself is in the descriptors)."""

from __future__ import annotations

import numpy as np

from converter.frontends.kaldi.components.common import input_dim, matrix, split_columns
from converter.frontends.kaldi.graph import Handler, KaldiContext, Unsupported
from converter.ir.graph import Value
from converter.ops import activation as act
from converter.ops import elementwise as ew
from converter.ops.shape import Concat


def LstmNonlinearityComponent(ctx: KaldiContext, x: Value, *, params: np.ndarray, use_dropout: bool = False) -> Value:
    """The input is [i, f, c, o, c_prev] (C dims each; with dropout, 3 more: the i, f, o scales);
    params are the peephole weights w_ic, w_fc, w_oc [3, C]. The output is [c_t, m_t]:

        i_t = σ(i + w_ic·c_prev)   f_t = σ(f + w_fc·c_prev)
        c_t = f_t·f_scale·c_prev + i_t·i_scale·tanh(c)
        o_t = σ(o + w_oc·c_t)      m_t = o_t·o_scale·tanh(c_t)
    """
    peepholes = matrix(params, "<Params>", rows=3)
    cell = peepholes.shape[1]
    extra = input_dim(x) - 5 * cell
    if extra not in (0, 3):
        raise Unsupported(f"the input has {input_dim(x)} dims, expected 5 × {cell} (+ 3 with dropout)")
    parts = split_columns(x, [cell] * 5 + [1] * extra)
    i_part, f_part, c_part, o_part, c_prev = parts[:5]
    w_ic, w_fc, w_oc = (ctx.floats(peepholes[k]) for k in range(3))
    i_t = act.Sigmoid(ew.Add(i_part, ew.Multiply(w_ic, c_prev)))
    f_t = act.Sigmoid(ew.Add(f_part, ew.Multiply(w_fc, c_prev)))
    if extra:
        i_t, f_t = ew.Multiply(i_t, parts[5]), ew.Multiply(f_t, parts[6])
    c_t = ew.Add(ew.Multiply(f_t, c_prev), ew.Multiply(i_t, act.Tanh(c_part)))
    o_t = act.Sigmoid(ew.Add(o_part, ew.Multiply(w_oc, c_t)))
    if extra:
        o_t = ew.Multiply(o_t, parts[7])
    m_t = ew.Multiply(o_t, act.Tanh(c_t))
    return Concat(c_t, m_t, axis=1)


NNET3: dict[str, Handler] = {f.__name__: f for f in (LstmNonlinearityComponent,)}
