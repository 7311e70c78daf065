"""Layers that declare inputs or pass blobs on: Input, Split, Dropout, Silence."""

from __future__ import annotations

from collections.abc import Sequence

from converter.frontends.caffe.net import CaffeContext, Handler, Unsupported
from converter.ir.graph import Value


def Input(ctx: CaffeContext, *, shape: Sequence[tuple[int, ...]] = ()) -> list[Value]:
    """One graph input per top; one shape for all tops or one per top."""
    tops = ctx.layer.top if ctx.layer is not None else []
    if len(shape) not in (1, len(tops)):
        raise Unsupported(f"{len(shape)} shapes for {len(tops)} tops")
    return [ctx.input(top, shape[0] if len(shape) == 1 else shape[i]) for i, top in enumerate(tops)]


def Split(ctx: CaffeContext, x: Value) -> list[Value]:
    return [x] * len(ctx.layer.top if ctx.layer is not None else [])


def Dropout(ctx: CaffeContext, x: Value, *, dropout_ratio: float = 0.5) -> Value:
    """Caffe scales by 1 / (1 - ratio) while training: at test time the layer is the identity."""
    return x


def Silence(ctx: CaffeContext, *blobs: Value) -> None:
    return None


HANDLERS: dict[str, Handler] = {"Input": Input, "Split": Split, "Dropout": Dropout, "Silence": Silence}
