"""TF graph plumbing: Const, placeholders, identities, NoOp, Cast, Shape/Size/Rank, Fill, Range, *Like."""

from __future__ import annotations

import numpy as np

from converter.frontends.tensorflow.graph import Handler, TFContext
from converter.frontends.tensorflow.ops.common import i64
from converter.frontends.tensorflow.protos import DataType
from converter.frontends.tensorflow.tensors import Unsupported, element_type
from converter.ir.graph import Value
from converter.ir.types import Shape
from converter.ops import misc, reduction
from converter.ops.core import Convert, ShapeOf, const
from converter.ops.shape import Broadcast, Reshape


def Const(ctx: TFContext, *, value: np.ndarray, dtype: int) -> Value:
    return const(value, name=ctx.node_name)


def Placeholder(ctx: TFContext, *, dtype: int, shape: Shape | None = None) -> Value:
    return ctx.parameter(element_type(dtype), shape if shape is not None else Shape.dynamic_rank())


def PlaceholderWithDefault(ctx: TFContext, default: Value, *, dtype: int, shape: Shape | None = None) -> Value:
    """Its default value (e.g. Keras' learning phase), unless named as an input (see graph.py)."""
    return default


def Identity(ctx: TFContext, x: Value) -> Value:
    return x


def IdentityN(ctx: TFContext, *xs: Value) -> list[Value]:
    return list(xs)


def StopGradient(ctx: TFContext, x: Value) -> Value:
    return x


def PreventGradient(ctx: TFContext, x: Value, *, message: str = "") -> Value:
    return x


def Snapshot(ctx: TFContext, x: Value) -> Value:
    return x


def NoOp(ctx: TFContext) -> None:
    return None


def Cast(ctx: TFContext, x: Value, *, DstT: int, SrcT: int | None = None, Truncate: bool = False) -> Value:
    target = element_type(DstT)
    return x if x.element_type is target else Convert(x, destination_type=target)


def Shape_(ctx: TFContext, x: Value, *, out_type: int = DataType.DT_INT32) -> Value:
    return ShapeOf(x, output_type=element_type(out_type))


def Size(ctx: TFContext, x: Value, *, out_type: int = DataType.DT_INT32) -> Value:
    return reduction.ReduceProd(ShapeOf(x, output_type=element_type(out_type)), i64([0]), keep_dims=False)


def Rank(ctx: TFContext, x: Value) -> Value:
    if x.shape.rank is not None:
        return const(np.array(x.shape.rank, dtype=np.int32))
    rank = ShapeOf(ShapeOf(x, output_type=element_type(DataType.DT_INT32)), output_type=element_type(DataType.DT_INT32))
    return Reshape(rank, i64([]), special_zero=False)


def Fill(ctx: TFContext, dims: Value, value: Value, *, index_type: int | None = None) -> Value:
    return Broadcast(value, dims, mode="numpy")


def ZerosLike(ctx: TFContext, x: Value) -> Value:
    return Broadcast(const(np.zeros((), dtype=x.element_type.numpy)), ShapeOf(x), mode="numpy")


def OnesLike(ctx: TFContext, x: Value) -> Value:
    return Broadcast(const(np.ones((), dtype=x.element_type.numpy)), ShapeOf(x), mode="numpy")


def Range(ctx: TFContext, start: Value, limit: Value, delta: Value, *, Tidx: int = DataType.DT_INT32) -> Value:
    if 0 in (list(np.asarray(delta.const).reshape(-1)) if delta.const is not None else []):
        raise Unsupported("Range: delta is 0")
    return misc.Range(start, limit, delta, output_type=element_type(Tidx))


HANDLERS: dict[str, Handler] = {
    "Const": Const,
    "Placeholder": Placeholder,
    "PlaceholderWithDefault": PlaceholderWithDefault,
    "Identity": Identity,
    "IdentityN": IdentityN,
    "StopGradient": StopGradient,
    "PreventGradient": PreventGradient,
    "Snapshot": Snapshot,
    "NoOp": NoOp,
    "Cast": Cast,
    "Shape": Shape_,
    "Size": Size,
    "Rank": Rank,
    "Fill": Fill,
    "ZerosLike": ZerosLike,
    "OnesLike": OnesLike,
    "Range": Range,
}
