"""fuse_qdq: an ONNX QuantizeLinear → DequantizeLinear pair on an activation becomes one FakeQuantize.

The ONNX frontend lowers the two ops exactly (converter/frontends/onnx/ops/quantization.py):

    x → Divide(s_q) → Round(half_to_even) → [Add(zp_q)] → Clamp(qmin, qmax) → Convert(int)
      → Convert(f32) → [Subtract(zp_dq)] → Multiply(s_dq)

OpenVINO's low-precision transformations only recognise FakeQuantize on activations, so this chain
runs in float unless it is replaced by what OpenVINO's own ONNX frontend writes:

    FakeQuantize(x, (qmin − zp_q)·s_q, (qmax − zp_q)·s_q, (qmin − zp_dq)·s_dq, (qmax − zp_dq)·s_dq,
                 levels = qmax − qmin + 1)

(levels 256, int8 and uint8), per tensor or per axis (the scale and zero point
constants already broadcast against x). It is one step off at most, and only near rounding ties:
FakeQuantize recomputes the quotient as (x − input_low) / (input_high − input_low) · (levels − 1),
whose float rounding differs from x / s_q by an ulp or so (docs/quantization.md, "QDQ ONNX models").

Weights need nothing here: a DequantizeLinear of an int8 initializer already is
`i8 Const → Convert → [Subtract] → Multiply`, which fold_constants keeps. A lone QuantizeLinear
(an integer model output) or DequantizeLinear (an integer model input) is left exact.
"""

from __future__ import annotations

import numpy as np

from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType
from converter.ops.core import const
from converter.ops.quantization import FakeQuantize
from converter.passes.patterns import producer

E = ElementType
QUANTIZED_TYPES = (E.i8, E.u8)
"""Integer types whose Q → DQ pair becomes a FakeQuantize (levels 256). 16-bit pairs stay exact:
OpenVINO's CPU plugin strips a 65536-level FakeQuantize as an identity (its LPT "QDQ stripping"),
so values beyond the range no longer saturate (measured: 2.0 through [0, 1] came out 2.0), and
fails to compile one that sits between a Parameter and a Result; it has no int16 kernels to gain
from it either. 4-bit pairs stay exact too (no 16-level activation kernels)."""


def fuse_qdq(graph: Graph) -> Graph:
    mapping: dict[Value, Value] = {}
    for node in graph.nodes():
        fused = _match_qdq(node)
        if fused is not None:
            mapping[node.outputs[0]] = fused
    if mapping:
        graph.replace_values(mapping)
    return graph


def _constant(value: Value) -> np.ndarray | None:
    """A constant, also through the Convert that keeps an integer zero point unfolded."""
    if value.const is not None:
        return np.asarray(value.const)
    convert = producer(value, "Convert")
    if convert is not None and convert.inputs[0].const is not None:
        return np.asarray(convert.inputs[0].const).astype(value.element_type.numpy)
    return None


def _operand_and_constant(node: Node) -> tuple[Value, np.ndarray] | None:
    a, b = node.inputs[:2]
    array = _constant(b)
    if array is None or _constant(a) is not None:
        return None
    return a, array


def _dequantize(node: Node) -> tuple[Value, np.ndarray, np.ndarray] | None:
    """Multiply(s) ∘ [Subtract(zp)] ∘ Convert(f32) of an integer: (the integer, scale, zero point)."""
    if node.op.type != "Multiply" or node.outputs[0].element_type is not E.f32:
        return None
    operands = _operand_and_constant(node)
    if operands is None:
        operands = _swapped(node)
    if operands is None:
        return None
    centered, scale = operands
    zero_point = np.zeros((), dtype=np.float32)
    subtract = producer(centered, "Subtract")
    if subtract is not None:
        zp = _constant(subtract.inputs[1])
        if zp is None:
            return None
        centered, zero_point = subtract.inputs[0], zp
    convert = producer(centered, "Convert")
    if convert is None or convert.inputs[0].element_type not in QUANTIZED_TYPES:
        return None
    return convert.inputs[0], scale, zero_point


def _swapped(node: Node) -> tuple[Value, np.ndarray] | None:
    a, b = node.inputs[:2]
    array = _constant(a)
    if array is None or _constant(b) is not None:
        return None
    return b, array


def _quantize(integer: Value) -> tuple[Value, np.ndarray, np.ndarray, float, float] | None:
    """Convert(int) ∘ Clamp ∘ [Add(zp)] ∘ Round(half_to_even) ∘ Divide(s) of x:
    (x, scale, zero point, qmin, qmax)."""
    convert = producer(integer, "Convert")
    if convert is None:
        return None
    clamp = producer(convert.inputs[0], "Clamp")
    if clamp is None or clamp.inputs[0].element_type is not E.f32:
        return None
    info = integer.element_type.iinfo()
    low, high = max(float(clamp.attrs["min"]), float(info.min)), min(float(clamp.attrs["max"]), float(info.max))
    if low != np.ceil(low) or high != np.floor(high) or high <= low:
        return None
    rounded = clamp.inputs[0]
    zero_point = np.zeros((), dtype=np.float32)
    add = producer(rounded, "Add")
    if add is not None:
        operands = _operand_and_constant(add)
        if operands is None:
            return None
        rounded, zero_point = operands
    round_node = producer(rounded, "Round")
    if round_node is None or round_node.attrs["mode"] != "half_to_even":
        return None
    divide = producer(round_node.inputs[0], "Divide")
    if divide is None:
        return None
    scale = _constant(divide.inputs[1])
    if scale is None or _constant(divide.inputs[0]) is not None:
        return None
    if not np.all(np.isfinite(scale)) or not np.all(scale > 0) or np.any(zero_point != np.round(zero_point)):
        return None
    return divide.inputs[0], scale, zero_point, low, high


def _match_qdq(node: Node) -> Value | None:
    dequantized = _dequantize(node)
    if dequantized is None:
        return None
    integer, dq_scale, dq_zero_point = dequantized
    quantized = _quantize(integer)
    if quantized is None:
        return None
    x, q_scale, q_zero_point, low, high = quantized
    if not np.all(np.isfinite(dq_scale)) or x.element_type is not E.f32:
        return None
    f64 = np.float64
    input_low = (low - q_zero_point.astype(f64)) * q_scale.astype(f64)
    input_high = (high - q_zero_point.astype(f64)) * q_scale.astype(f64)
    output_low = (low - dq_zero_point.astype(f64)) * dq_scale.astype(f64)
    output_high = (high - dq_zero_point.astype(f64)) * dq_scale.astype(f64)
    limits = [const(np.asarray(v, dtype=np.float32)) for v in (input_low, input_high, output_low, output_high)]
    return FakeQuantize(x, *limits, levels=int(high - low) + 1, auto_broadcast="numpy")
