"""MXNet ops that are identities at inference: Dropout, _copy (identity), BlockGrad (stop_gradient)."""

from __future__ import annotations

from converter.frontends.mxnet.attributes import Unsupported
from converter.frontends.mxnet.model import Handler, MXNetContext
from converter.ir.graph import Value


def Dropout(
    ctx: MXNetContext, data: Value, *, p: float = 0.5, mode: str = "training", axes: tuple[int, ...] = (), cudnn_off: bool = False
) -> Value:
    if mode == "always" and p > 0:
        raise Unsupported("mode 'always' drops at random at inference too")
    return data


def _copy(ctx: MXNetContext, data: Value) -> Value:
    return data


def BlockGrad(ctx: MXNetContext, data: Value) -> Value:
    return data


HANDLERS: dict[str, Handler] = {"Dropout": Dropout, "_copy": _copy, "BlockGrad": BlockGrad}
