"""TFLite QUANTIZE, DEQUANTIZE and DENSIFY.

The IR carries every quantized tensor as its real value (see tensors.py), so:
- QUANTIZE passes its input on; the walk rounds it onto the output's grid (a FakeQuantize),
  which also requantizes an int8 input to other parameters.
- DEQUANTIZE of a quantized tensor is its real value already; of a float16 tensor it converts
  to f32 (a float16 constant becomes an f32 constant here: the FP32 IR keeps f32 weights and
  compress_fp16 stores them back as the same f16 values in the FP16 IR).
- DENSIFY's sparse constant input was densified when it was read.
"""

from __future__ import annotations

import numpy as np

from converter.frontends.tflite.model import Handler, TFLiteContext
from converter.ir.graph import Value
from converter.ir.types import ElementType
from converter.ops.core import Convert, const


def QUANTIZE(ctx: TFLiteContext, x: Value) -> Value:
    return x


def DEQUANTIZE(ctx: TFLiteContext, x: Value) -> Value:
    if x.element_type is ElementType.f32:
        return x
    if x.const is not None:
        return const(np.asarray(x.const).astype(np.float32), name=x.producer.name)
    return Convert(x, destination_type=ElementType.f32)


def DENSIFY(ctx: TFLiteContext, x: Value) -> Value:
    return x


HANDLERS: dict[str, Handler] = {"QUANTIZE": QUANTIZE, "DEQUANTIZE": DEQUANTIZE, "DENSIFY": DENSIFY}
GRID_PRESERVING: frozenset[str] = frozenset({"QUANTIZE", "DENSIFY"})
