"""Core layers: Dense, Embedding, Identity, Rescaling, and the layers that do nothing at inference."""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.frontends.keras.context import Layer, Unsupported
from converter.frontends.keras.layers.activation import apply_activation
from converter.frontends.keras.layers.common import add_bias, int64s, rank_of
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops import elementwise as ew
from converter.ops.core import Convert, const
from converter.ops.indexing import Gather
from converter.ops.matmul import MatMul


def _no_lora(lora_rank: int | None, quantization_config: Any) -> None:
    if lora_rank:
        raise Unsupported(f"LoRA (lora_rank={lora_rank}) is not supported")
    if quantization_config is not None:
        raise Unsupported("quantized layers (quantization_config) are not supported")


def Dense(
    layer: Layer,
    x: Value,
    *,
    units: int,
    activation: Any = None,
    use_bias: bool = True,
    lora_rank: int | None = None,
    lora_alpha: float | None = None,
    quantization_config: Any = None,
) -> Value:
    """x @ kernel [in, units] on the last axis of any rank, + bias."""
    _no_lora(lora_rank, quantization_config)
    kernel, *rest = layer.variables("kernel", "bias" if use_bias else None)
    if kernel.ndim != 2 or kernel.shape[1] != units:
        raise Unsupported(f"kernel shape {kernel.shape} does not give {units} units")
    if rank_of(x) < 2:
        raise Unsupported("Dense needs an input of rank 2 or more")
    y = add_bias(MatMul(x, const(kernel)), rest[0] if rest else None)
    return apply_activation(layer, y, activation)


def Embedding(
    layer: Layer,
    x: Value,
    *,
    input_dim: int,
    output_dim: int,
    mask_zero: bool = False,
    weights: Any = None,
    lora_rank: int | None = None,
    lora_alpha: float | None = None,
    quantization_config: Any = None,
    input_length: int | None = None,
    sparse: bool = False,
) -> Value:
    """Rows of the embedding matrix; float ids are cast to int32 first, as Keras does."""
    _no_lora(lora_rank, quantization_config)
    if mask_zero:
        raise Unsupported("mask_zero=True: masks are not carried to the layers after the embedding")
    if sparse:
        raise Unsupported("sparse embeddings are not supported")
    (table,) = layer.variables("embeddings")
    if table.shape != (input_dim, output_dim):
        raise Unsupported(f"embeddings shape {table.shape} is not ({input_dim}, {output_dim})")
    ids = x if x.element_type in (ElementType.i32, ElementType.i64) else Convert(x, destination_type=ElementType.i32)
    return Gather(const(table), ids, int64s(0))


def Identity(layer: Layer, x: Value) -> Value:
    return x


def Dropout(layer: Layer, x: Value, *, rate: float, noise_shape: Any = None) -> Value:
    return x


def SpatialDropout1D(layer: Layer, x: Value, *, rate: float) -> Value:
    return x


def SpatialDropout2D(layer: Layer, x: Value, *, rate: float, data_format: str | None = None) -> Value:
    return x


def SpatialDropout3D(layer: Layer, x: Value, *, rate: float, data_format: str | None = None) -> Value:
    return x


def GaussianNoise(layer: Layer, x: Value, *, stddev: float) -> Value:
    return x


def GaussianDropout(layer: Layer, x: Value, *, rate: float) -> Value:
    return x


def AlphaDropout(layer: Layer, x: Value, *, rate: float, noise_shape: Any = None) -> Value:
    return x


def ActivityRegularization(layer: Layer, x: Value, *, l1: float = 0.0, l2: float = 0.0) -> Value:
    return x


def Rescaling(layer: Layer, x: Value, *, scale: float | list[float], offset: float | list[float] = 0.0) -> Value:
    """x * scale + offset (scalars or per-channel lists, broadcast on the last axis)."""
    dtype = x.element_type.numpy
    scaled = ew.Multiply(x, const(np.asarray(scale, dtype=dtype)))
    return ew.Add(scaled, const(np.asarray(offset, dtype=dtype)))


LAYERS = {
    "Dense": Dense,
    "Embedding": Embedding,
    "Identity": Identity,
    "Dropout": Dropout,
    "SpatialDropout1D": SpatialDropout1D,
    "SpatialDropout2D": SpatialDropout2D,
    "SpatialDropout3D": SpatialDropout3D,
    "GaussianNoise": GaussianNoise,
    "GaussianDropout": GaussianDropout,
    "AlphaDropout": AlphaDropout,
    "ActivityRegularization": ActivityRegularization,
    "Rescaling": Rescaling,
}
