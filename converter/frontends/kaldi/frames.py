"""Frames over a fixed context window: how a Kaldi node's value is laid out in the IR.

The IR's framed input is a matrix [T, dim], frames t = 0 … T-1 of the window. A node's value
is a matrix [T - begin - end, dim] holding the frames t = begin … T-1-end: the frames it can be
computed for. `begin` and `end` follow from the time offsets on the way from the input:
`Offset(x, k)` at frame t reads x at t + k, so its span is x's moved by -k; a time-context
component (TdnnComponent's time offsets, nnet1's Splice) reading offsets o1 … on needs all of
them, so its span narrows by min(o) at the start and max(o) at the end; parts that are
appended or summed are cut to the frames they all have. A value the same at every frame (an
iVector read with ReplaceIndex(ivector, t, 0), a Const) has no span: one row, broadcast.

T stays dynamic in the IR: any T ≥ begin + end + 1 of the outputs works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops import shape as shape_ops
from converter.ops.core import ShapeOf, const
from converter.ops.indexing import Slice

INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Frames:
    """A value [frames, dim] over window frames begin … T-1-end; begin None: the same at every frame ([1, dim])."""

    value: Value
    begin: int | None = 0
    end: int | None = 0
    optional: bool = False  # IfDefined(...): zeros at frames it does not cover

    @property
    def constant(self) -> bool:
        return self.begin is None

    @property
    def dim(self) -> int:
        dims = self.value.shape.dims
        assert dims is not None and dims[1] is not None
        return int(dims[1])

    def shifted(self, offset: int) -> Frames:
        """Offset(x, k): frame t holds x at t + k."""
        if self.constant:
            return self
        assert self.begin is not None and self.end is not None
        return Frames(self.value, self.begin - offset, self.end + offset, self.optional)


def i64(values: int | Sequence[int]) -> Value:
    return const(np.array(values, dtype=np.int64))


def rows(x: Value, start: int, cut_end: int) -> Value:
    """Rows start … n-1-cut_end of x (start, cut_end ≥ 0)."""
    if start == 0 and cut_end == 0:
        return x
    stop = INT64_MAX if cut_end == 0 else -cut_end
    return Slice(x, i64([start]), i64([stop]), i64([1]), i64([0]))


def rows_between(x: Value, start: int, stop: int) -> Value:
    """Rows start … stop-1 of x."""
    return Slice(x, i64([start]), i64([stop]), i64([1]), i64([0]))


def columns(x: Value, start: int, count: int) -> Value:
    """Columns start … start+count-1 of x."""
    dims = x.shape.dims
    if start == 0 and dims is not None and dims[1] == count:
        return x
    return Slice(x, i64([start]), i64([start + count]), i64([1]), i64([1]))


def common_span(parts: Sequence[Frames]) -> tuple[int, int] | None:
    """The frames every framed part has (optional parts left out unless all are optional);
    None when every part is the same at every frame."""
    framed = [p for p in parts if not p.constant]
    required = [p for p in framed if not p.optional] or framed
    if not required:
        return None
    return max(p.begin for p in required), max(p.end for p in required)  # type: ignore[type-var,return-value]


def fit(part: Frames, span: tuple[int, int] | None) -> Value:
    """The part's rows over `span`: cut where it has more frames, zeros where an optional part has fewer."""
    if part.constant or span is None:
        return part.value
    assert part.begin is not None and part.end is not None
    cut_start, cut_end = span[0] - part.begin, span[1] - part.end
    value = rows(part.value, max(cut_start, 0), max(cut_end, 0))
    if cut_start < 0 or cut_end < 0:
        if not part.optional:
            raise ValueError("a part lacks frames it must have")  # common_span makes this unreachable
        zero = const(np.zeros((), dtype=value.element_type.numpy))
        value = shape_ops.Pad(value, i64([max(-cut_start, 0), 0]), i64([max(-cut_end, 0), 0]), zero, pad_mode="constant")
    return value


def broadcast_rows(x: Value, like: Value) -> Value:
    """A one-row x repeated over the rows of `like`."""
    count = Slice(ShapeOf(like), i64([0]), i64([1]), i64([1]), i64([0]))
    target = shape_ops.Concat(count, i64([1]), axis=0)
    repeated = shape_ops.Broadcast(x, target, mode="bidirectional")
    return shape_ops.Reshape(repeated, i64([-1, x.shape.dims[1]]), special_zero=False)  # type: ignore[index]


def append(parts: Sequence[Frames]) -> Frames:
    """Append(...): the parts side by side over the frames they share."""
    if len(parts) == 1:
        return parts[0]
    span = common_span(parts)
    values = [fit(p, span) for p in parts]
    if span is not None:
        like = next(v for v, p in zip(values, parts) if not p.constant)
        values = [broadcast_rows(v, like) if p.constant else v for v, p in zip(values, parts)]
    return _framed(shape_ops.Concat(*values, axis=1), span, all(p.optional for p in parts))


def add(parts: Sequence[Frames]) -> Frames:
    """Sum(...): the parts added over the frames they share (one-row parts broadcast)."""
    if len(parts) == 1:
        return parts[0]
    span = common_span(parts)
    total = fit(parts[0], span)
    for part in parts[1:]:
        total = ew.Add(total, fit(part, span))
    return _framed(total, span, all(p.optional for p in parts))


def splice(part: Frames, offsets: Sequence[int]) -> Frames:
    """Frame t holds [x(t + o1), …, x(t + on)]: TdnnComponent's input, nnet1's Splice."""
    if part.constant or len(offsets) == 0:
        return Frames(shape_ops.Concat(*[part.value] * max(len(offsets), 1), axis=1), None, None)
    shifted = [part.shifted(o) for o in offsets]
    if len(offsets) == 1:
        return shifted[0]
    span = common_span(shifted)
    return _framed(shape_ops.Concat(*[fit(p, span) for p in shifted], axis=1), span)


def _framed(value: Value, span: tuple[int, int] | None, optional: bool = False) -> Frames:
    return Frames(value, None, None) if span is None else Frames(value, span[0], span[1], optional)
