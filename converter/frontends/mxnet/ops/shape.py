"""MXNet shape ops → IR Reshape, Transpose, Concat, Split, Slice, Pad, Tile.

Reshape's special codes (matrix_op-inl.h InferReshapeShape), read left to right against the
input's dims: 0 copies the current dim, -1 is inferred (and consumes one dim), -2 copies all
the remaining dims, -3 merges the next two, -4 splits one into the two values that follow (one
may be -1); any other value is taken as is and consumes one dim. `reverse` applies the codes
from the right. The deprecated `target_shape` (0: inferred) and `keep_highest` map onto them.
Dims a code copies are read at run time when they are dynamic.

slice's begin/end/step entries may be None (the whole axis in the step's direction); slice_axis
slices one axis; slice_like takes the dims of a second input (all axes by default); Crop cuts
H and W to h_w or to its second input's, at `offset` or centred.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.frontends.mxnet.ops.common import checked_axis, dim, dims, i64, known_rank, same_type, scalar_like, shape_vector
from converter.ir.graph import Value
from converter.ops import elementwise as ew
from converter.ops import shape as ops
from converter.ops.indexing import Slice

BIG = np.iinfo(np.int64).max
SMALL = np.iinfo(np.int64).min


def Concat(ctx: MXNetContext, *data: Value, num_args: int = 0, dim: int = 1) -> Value:
    if not data:
        raise Unsupported("no inputs")
    if len(data) == 1:
        return data[0]
    rank = known_rank(data[0], "Concat")
    return ops.Concat(*[same_type(x, data[0]) for x in data], axis=checked_axis(dim, rank, "dim"))


def SliceChannel(ctx: MXNetContext, data: Value, *, num_outputs: int = 1, axis: int = 1, squeeze_axis: bool = False) -> list[Value]:
    rank = known_rank(data, "SliceChannel")
    axis = checked_axis(axis, rank)
    if num_outputs < 1:
        raise Unsupported(f"num_outputs {num_outputs}")
    parts = [data] if num_outputs == 1 else list(ops.Split.node(data, i64(axis), num_splits=num_outputs).outputs)
    if squeeze_axis:
        parts = [ops.Squeeze(part, i64([axis])) for part in parts]
    return parts


def slice(
    ctx: MXNetContext,
    data: Value,
    *,
    begin: tuple[int | None, ...] = (),
    end: tuple[int | None, ...] = (),
    step: tuple[int | None, ...] = (),
) -> Value:
    rank = known_rank(data, "slice")
    if len(begin) != len(end) or len(begin) > rank or (step and len(step) != len(begin)):
        raise Unsupported(f"begin {begin}, end {end}, step {step} for a rank-{rank} input")
    starts, stops, steps = [], [], []
    for index in range(len(begin)):
        s = step[index] if step and step[index] is not None else 1
        if s == 0:
            raise Unsupported("step 0")
        b, e = begin[index], end[index]
        starts.append(b if b is not None else (0 if s > 0 else BIG))
        stops.append(e if e is not None else (BIG if s > 0 else SMALL))
        steps.append(s)
    if not starts:
        return data
    return Slice(data, i64(starts), i64(stops), i64(steps), i64(list(range(len(starts)))))


def slice_axis(ctx: MXNetContext, data: Value, *, axis: int = 0, begin: int = 0, end: int | None = None) -> Value:
    rank = known_rank(data, "slice_axis")
    return Slice(data, i64([begin]), i64([BIG if end is None else end]), i64([1]), i64([checked_axis(axis, rank)]))


def slice_like(ctx: MXNetContext, data: Value, shape_like: Value, *, axes: tuple[int, ...] = ()) -> Value:
    rank = known_rank(data, "slice_like")
    like_rank = known_rank(shape_like, "slice_like")
    if not axes and rank != like_rank:
        raise Unsupported(f"inputs of ranks {rank} and {like_rank} with no axes")
    chosen = [checked_axis(a, rank) for a in axes] if axes else list(range(rank))
    if any(a >= like_rank for a in chosen):
        raise Unsupported(f"axes {axes} beyond shape_like's rank {like_rank}")
    stops = shape_vector([dim(shape_like, a) for a in chosen])
    return Slice(data, i64([0] * len(chosen)), stops, i64([1] * len(chosen)), i64(chosen))


def Crop(
    ctx: MXNetContext,
    data: Value,
    crop_like: Value | None = None,
    *,
    num_args: int = 1,
    offset: tuple[int, ...] = (0, 0),
    h_w: tuple[int, ...] = (0, 0),
    center_crop: bool = False,
) -> Value:
    if known_rank(data, "Crop") != 4:
        raise Unsupported("Crop takes NCHW inputs")
    if crop_like is not None:
        size = dims(crop_like, 2, 4)
    elif len(h_w) == 2 and all(v > 0 for v in h_w):
        size = i64(list(h_w))
    else:
        raise Unsupported(f"h_w {h_w} and no second input")
    if center_crop:
        begin = ew.Divide(ew.Subtract(dims(data, 2, 4), size), i64(2), m_pythondiv=False)
    else:
        if len(offset) != 2:
            raise Unsupported(f"offset {offset}")
        begin = i64(list(offset))
    return Slice(data, begin, ew.Add(begin, size), i64([1, 1]), i64([2, 3]))


def _reshape_pieces(codes: list[int], rank: int) -> list[tuple]:
    """The output dims as ("dim", i), ("merge", i, j), ("split", i, known_other), ("value", n) or ("infer",)."""
    pieces: list[tuple] = []
    source = 0
    position = 0
    while position < len(codes):
        code = codes[position]
        if code == 0:
            if source >= rank:
                raise Unsupported(f"code 0 beyond the input's rank {rank}")
            pieces.append(("dim", source))
            source += 1
        elif code == -1:
            pieces.append(("infer",))
            source += 1
        elif code == -2:
            pieces.extend(("dim", i) for i in range(source, rank))
            source = rank
        elif code == -3:
            if source + 1 >= rank:
                raise Unsupported(f"code -3 beyond the input's rank {rank}")
            pieces.append(("merge", source, source + 1))
            source += 2
        elif code == -4:
            if position + 2 >= len(codes) or source >= rank:
                raise Unsupported("code -4 needs two values after it and a dim to split")
            first, second = codes[position + 1], codes[position + 2]
            if first == -1 and second == -1:
                raise Unsupported("code -4 with two -1")
            if first < -1 or second < -1 or first == 0 or second == 0:
                raise Unsupported(f"code -4 followed by {first}, {second}")
            pieces.append(("split", source, second) if first == -1 else ("value", first))
            pieces.append(("split", source, first) if second == -1 else ("value", second))
            source += 1
            position += 2
        elif code > 0:
            pieces.append(("value", code))
            source += 1
        else:
            raise Unsupported(f"shape code {code}")
        position += 1
    if sum(1 for p in pieces if p[0] == "infer") > 1:
        raise Unsupported("more than one -1")
    return pieces


def Reshape(
    ctx: MXNetContext,
    data: Value,
    *,
    shape: tuple[int, ...] = (),
    reverse: bool = False,
    target_shape: tuple[int, ...] = (),
    keep_highest: bool = False,
) -> Value:
    codes = list(shape)
    if not codes and target_shape:  # the deprecated form: 0 is the inferred dim
        codes = [-1 if v == 0 else v for v in target_shape]
        if keep_highest:
            codes[0] = 0
    if not codes:
        raise Unsupported("no shape")
    rank = known_rank(data, "Reshape")
    if reverse:
        codes = codes[::-1]
    pieces = _reshape_pieces(codes, rank)
    if reverse:
        pieces = [_mirrored(p, rank) for p in pieces[::-1]]
    return ops.Reshape(data, shape_vector([_piece(data, p) for p in pieces]), special_zero=False)


def _mirrored(piece: tuple, rank: int) -> tuple:
    """A piece computed on the reversed input, for the input as it is."""
    kind = piece[0]
    if kind == "dim":
        return ("dim", rank - 1 - piece[1])
    if kind == "merge":
        return ("merge", rank - 1 - piece[2], rank - 1 - piece[1])
    if kind == "split":
        return ("split", rank - 1 - piece[1], piece[2])
    return piece


def _piece(data: Value, piece: tuple) -> Value | int:
    kind = piece[0]
    if kind == "value":
        return int(piece[1])
    if kind == "infer":
        return -1
    if kind == "dim":
        return dim(data, piece[1])
    if kind == "merge":
        first, second = dim(data, piece[1]), dim(data, piece[2])
        if first.const is not None and second.const is not None:
            return int(first.const[0]) * int(second.const[0])
        return ew.Multiply(first, second)
    whole = dim(data, piece[1])
    if whole.const is not None:
        return int(whole.const[0]) // int(piece[2])
    return ew.Divide(whole, i64([piece[2]]), m_pythondiv=False)


def Flatten(ctx: MXNetContext, data: Value) -> Value:
    return ops.Reshape(data, i64([0, -1]), special_zero=True)


def transpose(ctx: MXNetContext, data: Value, *, axes: tuple[int, ...] = ()) -> Value:
    rank = known_rank(data, "transpose")
    order = [checked_axis(a, rank) for a in axes] if axes else list(range(rank))[::-1]
    if sorted(order) != list(range(rank)):
        raise Unsupported(f"axes {axes} are not a permutation of rank {rank}")
    return ops.Transpose(data, i64(order))


def expand_dims(ctx: MXNetContext, data: Value, *, axis: int = 0) -> Value:
    rank = known_rank(data, "expand_dims")
    return ops.Unsqueeze(data, i64([checked_axis(axis, rank + 1)]))


def squeeze(ctx: MXNetContext, data: Value, *, axis: tuple[int, ...] | None = None) -> Value:
    rank = known_rank(data, "squeeze")
    if axis is None:
        if data.shape.dims is None or None in data.shape.dims:
            raise Unsupported("squeeze without axes needs a static shape")
        axes = [i for i, d in enumerate(data.shape.dims) if d == 1]
    else:
        axes = [checked_axis(a, rank) for a in axis]
    if not axes:
        return data
    return ops.Squeeze(data, i64(axes))


PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect"}


def Pad(ctx: MXNetContext, data: Value, *, mode: str = "constant", pad_width: tuple[int, ...] = (), constant_value: float = 0.0) -> Value:
    rank = known_rank(data, "Pad")
    if mode not in PAD_MODES:
        raise Unsupported(f"mode {mode!r}")
    if len(pad_width) != 2 * rank:
        raise Unsupported(f"pad_width {pad_width} for a rank-{rank} input (two values per axis)")
    begin, end = i64(list(pad_width[0::2])), i64(list(pad_width[1::2]))
    if mode == "constant":
        return ops.Pad(data, begin, end, scalar_like(data, constant_value), pad_mode="constant")
    return ops.Pad(data, begin, end, pad_mode=PAD_MODES[mode])


def tile(ctx: MXNetContext, data: Value, *, reps: tuple[int, ...] = ()) -> Value:
    if not reps:
        return data
    return ops.Tile(data, i64(list(reps)))


HANDLERS: dict[str, Handler] = {
    "Concat": Concat,
    "SliceChannel": SliceChannel,
    "slice": slice,
    "slice_axis": slice_axis,
    "slice_like": slice_like,
    "Crop": Crop,
    "Reshape": Reshape,
    "Flatten": Flatten,
    "transpose": transpose,
    "expand_dims": expand_dims,
    "squeeze": squeeze,
    "Pad": Pad,
    "tile": tile,
}
