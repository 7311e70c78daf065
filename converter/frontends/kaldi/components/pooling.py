"""Max and average pooling over the dims of each frame (not over time)."""

from __future__ import annotations

from converter.frontends.kaldi.components.common import check_dim, input_dim
from converter.frontends.kaldi.frames import i64
from converter.frontends.kaldi.graph import Handler, KaldiContext, Unsupported
from converter.ir.graph import Value
from converter.ops.pooling import AvgPool1, MaxPool8
from converter.ops.shape import Reshape


def _windows(dims: list[int], sizes: list[int], steps: list[int]) -> list[int]:
    if any(s <= 0 for s in sizes + steps) or any(size > dim for size, dim in zip(sizes, dims)):
        raise Unsupported(f"pools of {sizes} with steps {steps} over {dims}")
    return [1 + (dim - size) // step for dim, size, step in zip(dims, sizes, steps)]


# ---------------------------------------------------------------- nnet3


def MaxpoolingComponent(
    ctx: KaldiContext,
    x: Value,
    *,
    input_x_dim: int,
    input_y_dim: int,
    input_z_dim: int,
    pool_x_size: int,
    pool_y_size: int,
    pool_z_size: int,
    pool_x_step: int,
    pool_y_step: int,
    pool_z_step: int,
) -> Value:
    """Each frame is an x × y × z volume (dim index x·Y·Z + y·Z + z); the max of each pool,
    pools in the same order."""
    dims = [input_x_dim, input_y_dim, input_z_dim]
    check_dim(x, dims[0] * dims[1] * dims[2], "x · y · z dims")
    sizes, steps = [pool_x_size, pool_y_size, pool_z_size], [pool_x_step, pool_y_step, pool_z_step]
    pools = _windows(dims, sizes, steps)
    volume = Reshape(x, i64([-1, 1, *dims]), special_zero=False)
    pooled = MaxPool8.node(volume, strides=steps, dilations=[1, 1, 1], pads_begin=[0] * 3, pads_end=[0] * 3, kernel=sizes).outputs[0]
    return Reshape(pooled, i64([-1, pools[0] * pools[1] * pools[2]]), special_zero=False)


# ---------------------------------------------------------------- nnet1


def _patches(ctx: KaldiContext, x: Value, pool_size: int, pool_step: int, pool_stride: int) -> tuple[Value, dict, int]:
    """nnet1 pools: the dims are patches of `pool_stride`; pool q covers patches q·step … q·step+size-1."""
    if pool_stride <= 0 or input_dim(x) % pool_stride != 0:
        raise Unsupported(f"pool stride {pool_stride} does not divide {input_dim(x)} dims")
    patches = input_dim(x) // pool_stride
    pools = _windows([patches], [pool_size], [pool_step])[0]
    grid = Reshape(x, i64([-1, 1, patches, pool_stride]), special_zero=False)
    attrs = {"strides": [pool_step, 1], "pads_begin": [0, 0], "pads_end": [0, 0], "kernel": [pool_size, 1]}
    return grid, attrs, pools * pool_stride


def MaxPoolingComponent(ctx: KaldiContext, x: Value, *, pool_size: int, pool_step: int, pool_stride: int) -> Value:
    grid, attrs, width = _patches(ctx, x, pool_size, pool_step, pool_stride)
    pooled = MaxPool8.node(grid, dilations=[1, 1], **attrs).outputs[0]
    return Reshape(pooled, i64([-1, width]), special_zero=False)


def AveragePoolingComponent(ctx: KaldiContext, x: Value, *, pool_size: int, pool_step: int, pool_stride: int) -> Value:
    grid, attrs, width = _patches(ctx, x, pool_size, pool_step, pool_stride)
    pooled = AvgPool1(grid, **{"exclude-pad": True}, **attrs)
    return Reshape(pooled, i64([-1, width]), special_zero=False)


NNET3: dict[str, Handler] = {f.__name__: f for f in (MaxpoolingComponent,)}
NNET1: dict[str, Handler] = {f.__name__: f for f in (MaxPoolingComponent, AveragePoolingComponent)}
