"""Components that read other frames than their own: nnet1's Splice (nnet3's TdnnComponent is
an affine component, affine.py)."""

from __future__ import annotations

import numpy as np

from converter.frontends.kaldi.components.common import integers
from converter.frontends.kaldi.graph import Handler, KaldiContext, Unsupported
from converter.ir.graph import Value


def Splice(ctx: KaldiContext, x: Value, frame_offsets: np.ndarray) -> Value:
    """Frame t holds x(t + o) for each offset o, side by side. nnet1 repeats the first and last
    frames beyond an utterance's edges; over a window the output covers the frames whose
    offsets all exist (docs/kaldi.md)."""
    offsets = integers(frame_offsets, "the frame offsets")
    if not offsets:
        raise Unsupported("no frame offsets")
    return ctx.splice(x, offsets)


NNET1: dict[str, Handler] = {f.__name__: f for f in (Splice,)}
