"""TF function calls and resource variables: (Stateful)PartitionedCall inline the called
function; a variable node (VarHandleOp, VariableV2) is its value, a constant from the
model's variables, and reading it (ReadVariableOp, ResourceGather) reads that constant."""

from __future__ import annotations

from converter.frontends.tensorflow.graph import Handler, TFContext
from converter.frontends.tensorflow.ops.common import i64
from converter.ir.graph import Value
from converter.ir.types import Shape
from converter.ops.indexing import Gather


def PartitionedCall(
    ctx: TFContext,
    *args: Value,
    f: str,
    Tin: list[int] | None = None,
    Tout: list[int] | None = None,
    config: str = "",
    config_proto: str | bytes = "",
    executor_type: str = "",
) -> list[Value | None]:
    return ctx.call_function(f, args)


def VarHandleOp(
    ctx: TFContext,
    *,
    dtype: int,
    shape: Shape,
    container: str = "",
    shared_name: str = "",
    debug_name: str = "",
    allowed_devices: list[str] | None = None,
) -> Value:
    return ctx.variable()


def VariableV2(ctx: TFContext, *, dtype: int, shape: Shape, container: str = "", shared_name: str = "") -> Value:
    return ctx.variable()


def ReadVariableOp(ctx: TFContext, resource: Value, *, dtype: int | None = None) -> Value:
    return resource


def ResourceGather(
    ctx: TFContext, resource: Value, indices: Value, *, batch_dims: int = 0, validate_indices: bool = True, dtype: int | None = None
) -> Value:
    return Gather(resource, indices, i64(0), batch_dims=batch_dims)


HANDLERS: dict[str, Handler] = {
    "PartitionedCall": PartitionedCall,
    "StatefulPartitionedCall": PartitionedCall,
    "VarHandleOp": VarHandleOp,
    "VariableV2": VariableV2,
    "ReadVariableOp": ReadVariableOp,
    "ResourceGather": ResourceGather,
}
