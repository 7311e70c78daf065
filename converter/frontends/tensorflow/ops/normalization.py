"""TF FusedBatchNorm (V1, V2, V3) in inference mode and LRN → IR BatchNormInference and LRN."""

from __future__ import annotations

from converter.frontends.tensorflow.graph import Handler, TFContext
from converter.frontends.tensorflow.ops.common import channels_first, channels_last, i64, known_rank
from converter.frontends.tensorflow.tensors import Unsupported
from converter.ir.graph import Value
from converter.ops.core import Convert
from converter.ops import normalization as ops
from converter.ops.normalization import BatchNormInference


def _same_type(value: Value, like: Value) -> Value:
    """FusedBatchNormV2/V3 may keep f32 statistics for f16 data (attr U)."""
    return value if value.element_type is like.element_type else Convert(value, destination_type=like.element_type)


def _batch_norm(
    x: Value,
    scale: Value,
    offset: Value,
    mean: Value,
    variance: Value,
    epsilon: float,
    data_format: str,
    is_training: bool,
    outputs: int,
) -> list[Value | None]:
    if is_training:
        raise Unsupported("is_training=True (batch statistics) is not supported; freeze the model for inference")
    rank = known_rank(x, "FusedBatchNorm")
    parameters = [_same_type(p, x) for p in (scale, offset, mean, variance)]
    y = BatchNormInference(channels_first(x, data_format, rank), *parameters, epsilon=epsilon)
    # batch_mean, batch_variance, then reserve spaces: the moving statistics in inference mode
    extra: list[Value | None] = [mean, variance, mean, variance, None]
    return [channels_last(y, data_format, rank), *extra[: outputs - 1]]


def FusedBatchNorm(
    ctx: TFContext,
    x: Value,
    scale: Value,
    offset: Value,
    mean: Value,
    variance: Value,
    *,
    epsilon: float = 0.0001,
    exponential_avg_factor: float = 1.0,
    data_format: str = "NHWC",
    is_training: bool = True,
) -> list[Value | None]:
    return _batch_norm(x, scale, offset, mean, variance, epsilon, data_format, is_training, outputs=5)


def FusedBatchNormV3(
    ctx: TFContext,
    x: Value,
    scale: Value,
    offset: Value,
    mean: Value,
    variance: Value,
    *,
    epsilon: float = 0.0001,
    exponential_avg_factor: float = 1.0,
    data_format: str = "NHWC",
    is_training: bool = True,
) -> list[Value | None]:
    return _batch_norm(x, scale, offset, mean, variance, epsilon, data_format, is_training, outputs=6)


def LRN(ctx: TFContext, x: Value, *, depth_radius: int = 5, bias: float = 1.0, alpha: float = 1.0, beta: float = 0.5) -> Value:
    """Over the last axis: x / (bias + alpha * sum of squares over depth ± depth_radius)^beta.
    The IR divides alpha by the window size, so it gets alpha × size."""
    rank = known_rank(x, "LRN")
    size = 2 * depth_radius + 1
    # OpenVINO's CPU plugin normalizes across axis 1 (channels) or the spatial axes only
    y = ops.LRN(channels_first(x, "NHWC", rank), i64([1]), alpha=alpha * size, beta=beta, bias=bias, size=size)
    return channels_last(y, "NHWC", rank)


HANDLERS: dict[str, Handler] = {
    "LRN": LRN,
    "FusedBatchNorm": FusedBatchNorm,
    "FusedBatchNormV2": FusedBatchNorm,
    "FusedBatchNormV3": FusedBatchNormV3,
}
