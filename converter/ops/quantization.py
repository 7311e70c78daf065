"""Quantization ops: FakeQuantize-1 (how OpenVINO's INT8 IRs quantize activations).

The ONNX frontend does not emit it (its quotient and rounding are not ONNX's QuantizeLinear
to the bit); it is here so INT8 IRs written by OpenVINO's tools read, fold and run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, REQUIRED, broadcast_all


def _infer_fake_quantize(node: Node) -> list[TensorType]:
    x = node.inputs[0]
    return [TensorType(x.element_type, broadcast_all([v.shape for v in node.inputs]))]


def fake_quantize(x: np.ndarray, input_low, input_high, output_low, output_high, levels: int) -> np.ndarray:
    """x ≤ min(il, ih) → ol; x > max(il, ih) → oh; else
    round((x - il) / (ih - il) * (levels - 1)) / (levels - 1) * (oh - ol) + ol, rounding half to even."""
    steps = x.dtype.type(levels - 1)
    with np.errstate(all="ignore"):
        quantized = np.round((x - input_low) / (input_high - input_low) * steps) / steps * (output_high - output_low) + output_low
    result = np.where(x > np.maximum(input_low, input_high), output_high, quantized)
    result = np.where(x <= np.minimum(input_low, input_high), output_low, result)
    return np.asarray(result, dtype=x.dtype)


def _fake_quantize_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x, *limits = inputs
    return [fake_quantize(x, *(np.asarray(v, dtype=x.dtype) for v in limits), attrs["levels"])]


FakeQuantize = OpSpec(
    "FakeQuantize",
    "opset1",
    (Attr("levels", AttrKind.INT, REQUIRED), Attr("auto_broadcast", AttrKind.STR, "numpy")),
    _infer_fake_quantize,
    _fake_quantize_kernel,
    doc="inputs: data, input_low, input_high, output_low, output_high",
)

OPS: tuple[OpSpec, ...] = (FakeQuantize,)
