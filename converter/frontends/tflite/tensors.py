"""TFLite tensors as IR values: element types, shapes, constants, quantization and sparsity.

The IR computes in real numbers what TFLite computes on quantized integers:
- A quantized weight (int8/uint8/int16, scale and zero point per tensor or along
  `quantized_dimension`) stays integer in the IR: `Const → Convert(f32) → Subtract(zero point)
  → Multiply(scale)`, the Subtract left out when every zero point is 0 (OpenVINO's compressed
  weight pattern, kept by fold_constants). A quantized int32/int64 bias is dequantized here.
- A quantized activation is carried as its real value; the op that produces it is followed by a
  FakeQuantize onto the tensor's grid (`fake_quantized`), so rounding and clamping happen where
  TFLite's kernels do them. Quantized graph inputs are dequantized after the Parameter, quantized
  graph outputs quantized back to their integer type (`quantized_output`).
- float16 constants stay f16; DEQUANTIZE makes them f32 (ops/quantization.py).
- Sparse constants (the DENSIFY input) are densified here, with numpy.

Constants are numpy views on the memory-mapped file; only rearranged weights (OHWI → OIHW)
and densified or dequantized ones are new arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ml_dtypes
import numpy as np

from converter.frontends.tflite.schema import Model, Quantization, Sparsity, Tensor, tensor_type_name
from converter.ir.graph import Value
from converter.ir.types import ElementType, Shape
from converter.ops import elementwise as ew
from converter.ops.activation import Clamp
from converter.ops.core import Convert, const
from converter.ops.quantization import FakeQuantize
from converter.ops.shape import Reshape, Transpose


class Unsupported(Exception):
    """Something irforge cannot express (a tensor type, an option value); names the reason."""


NUMPY_TYPES: dict[str, np.dtype] = {
    "FLOAT32": np.dtype("<f4"),
    "FLOAT16": np.dtype("<f2"),
    "FLOAT64": np.dtype("<f8"),
    "BFLOAT16": np.dtype(ml_dtypes.bfloat16),
    "INT64": np.dtype("<i8"),
    "INT32": np.dtype("<i4"),
    "INT16": np.dtype("<i2"),
    "INT8": np.dtype("i1"),
    "UINT64": np.dtype("<u8"),
    "UINT32": np.dtype("<u4"),
    "UINT16": np.dtype("<u2"),
    "UINT8": np.dtype("u1"),
    "BOOL": np.dtype(np.bool_),
}

# The integer range of each quantized type: (qmin, qmax).
QUANTIZED_RANGES: dict[str, tuple[int, int]] = {"INT8": (-128, 127), "UINT8": (0, 255), "INT16": (-32768, 32767)}
DEQUANTIZED_HERE = ("INT32", "INT64")  # quantized biases: small, dequantized at conversion


def numpy_dtype(tensor: Tensor) -> np.dtype:
    try:
        return NUMPY_TYPES[tensor.type_name]
    except KeyError:
        raise Unsupported(f"tensor {tensor.name!r} is {tensor_type_name(tensor.type)}, which is not supported") from None


def element_type(tensor: Tensor) -> ElementType:
    return ElementType.from_numpy(numpy_dtype(tensor))


def ir_shape(tensor: Tensor) -> Shape:
    """The tensor's shape, dynamic where shape_signature says -1."""
    if tensor.shape_signature is not None and len(tensor.shape_signature) == len(tensor.shape):
        return Shape(tuple(None if d < 0 else int(d) for d in tensor.shape_signature))
    return Shape(tuple(int(d) for d in tensor.shape))


def is_quantized_activation(tensor: Tensor) -> bool:
    """A tensor whose integers stand for real numbers on a grid (an activation or a weight)."""
    return tensor.is_quantized and tensor.type_name in QUANTIZED_RANGES


# ---------------------------------------------------------------- constants


def has_data(model: Model, tensor: Tensor) -> bool:
    return 0 < tensor.buffer < len(model.buffers) and model.buffers[tensor.buffer].size > 0


def constant(model: Model, tensor: Tensor) -> Value:
    """A constant tensor as an IR value: quantized integers dequantized (see the module docstring)."""
    dtype = numpy_dtype(tensor)
    shape = tuple(int(d) for d in tensor.shape)
    if tensor.sparsity is not None:
        buffer = model.buffers[tensor.buffer]
        if buffer.size % dtype.itemsize:
            raise ValueError(f"sparse tensor {tensor.name!r}: {buffer.size} bytes are not whole {dtype} values")
        values = model.buffer_array(tensor.buffer, dtype, buffer.size // dtype.itemsize)
        array = densify(values, shape, tensor.sparsity)
    else:
        array = model.buffer_array(tensor.buffer, dtype, math.prod(shape)).reshape(shape)
    quantization = tensor.quantization
    if quantization is not None and quantization.is_affine:
        if tensor.type_name in QUANTIZED_RANGES:
            return dequantized(array, quantization, tensor.name)
        if tensor.type_name in DEQUANTIZED_HERE:
            scale, zero_point = _parameters(quantization, array.ndim)
            return const(((array.astype(np.float64) - zero_point) * scale).astype(np.float32), name=tensor.name)
    return const(array, name=tensor.name)


def _parameters(quantization: Quantization, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Scale and zero point shaped to broadcast against a tensor of `rank` (per channel along
    quantized_dimension, or scalars)."""
    scale = np.asarray(quantization.scale, dtype=np.float32)
    zero_point = np.asarray(quantization.zero_point if quantization.zero_point is not None else np.zeros(1), dtype=np.float32)
    if zero_point.size not in (1, scale.size):
        raise ValueError(f"{zero_point.size} zero points for {scale.size} scales")
    if scale.size == 1:
        return scale.reshape(()), zero_point.reshape(-1)[:1].reshape(())
    axis = quantization.quantized_dimension
    if not 0 <= axis < rank:
        raise ValueError(f"quantized_dimension {axis} is out of range for rank {rank}")
    shape = [1] * rank
    shape[axis] = scale.size
    zero_point = np.broadcast_to(zero_point, scale.shape)
    return scale.reshape(shape), np.ascontiguousarray(zero_point).reshape(shape)


def dequantized(array: np.ndarray, quantization: Quantization, name: str = "") -> Value:
    """`Const(q) → Convert → [Subtract(zero point)] → Multiply(scale)`; a single value is dequantized at once."""
    scale, zero_point = _parameters(quantization, array.ndim)
    if array.size <= 1:
        return const(((array.astype(np.float32) - zero_point) * scale).astype(np.float32), name=name)
    return _dequantization(const(array, name=f"{name}/quantized" if name else ""), scale, zero_point, name)


def _dequantization(stored: Value, scale: np.ndarray, zero_point: np.ndarray, name: str = "") -> Value:
    x = Convert(stored, destination_type=ElementType.f32)
    if np.any(zero_point != 0):
        x = ew.Subtract(x, const(zero_point))
    scaled = ew.Multiply.node(x, const(scale), name=name)
    return scaled.outputs[0]


@dataclass(frozen=True)
class DequantizedWeight:
    """The parts of a dequantization chain built by `dequantized`."""

    stored: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray


def dequantized_weight(value: Value) -> DequantizedWeight | None:
    """The quantized constant behind `value`, when value is the chain `dequantized` builds."""
    node = value.producer
    if node.op.type != "Multiply" or node.inputs[1].const is None:
        return None
    scale, inner = node.inputs[1].const, node.inputs[0].producer
    zero_point = np.zeros((), dtype=np.float32)
    if inner.op.type == "Subtract" and inner.inputs[1].const is not None:
        zero_point, inner = inner.inputs[1].const, inner.inputs[0].producer
    if inner.op.type != "Convert" or inner.inputs[0].const is None:
        return None
    stored = inner.inputs[0].const
    if not all(_per_channel(p, stored.ndim) for p in (scale, zero_point)):
        return None
    return DequantizedWeight(stored, scale, zero_point)


def _per_channel(parameter: np.ndarray, rank: int) -> bool:
    """A single value, or values along one axis of a tensor of `rank` (the shapes `_parameters` makes)."""
    return parameter.size == 1 or (parameter.ndim == rank and sum(d != 1 for d in parameter.shape) == 1)


def rearranged(value: Value, perm: Sequence[int] | None = None, shape: Sequence[int] | None = None) -> Value:
    """value transposed by `perm`, then reshaped to `shape`: constants (quantized ones included)
    are rearranged here, once; anything else gets Transpose / Reshape nodes."""
    if value.const is not None:
        return const(_rearrange(value.const, perm, shape))
    weight = dequantized_weight(value)
    if weight is not None:
        stored = _rearrange(weight.stored, perm, shape)
        parameters = [_rearrange_parameter(p, weight.stored.shape, perm, stored.shape) for p in (weight.scale, weight.zero_point)]
        return _dequantization(const(stored), *parameters)
    if perm is not None:
        value = Transpose(value, const(np.array(perm, dtype=np.int64)))
    if shape is not None:
        value = Reshape(value, const(np.array(shape, dtype=np.int64)), special_zero=False)
    return value


def _rearrange(array: np.ndarray, perm: Sequence[int] | None, shape: Sequence[int] | None) -> np.ndarray:
    if perm is not None:
        array = np.transpose(array, perm)
    if shape is not None:
        array = array.reshape(shape)
    return np.ascontiguousarray(array)


def _rearrange_parameter(parameter: np.ndarray, source: tuple[int, ...], perm: Sequence[int] | None, target: tuple[int, ...]) -> np.ndarray:
    """A per-channel scale or zero point (ones but on the channel axis) moved with its weight."""
    if parameter.size == 1:
        return parameter.reshape(())
    if perm is not None:
        parameter = np.transpose(parameter, perm)
        source = tuple(source[p] for p in perm)
    axis = next(i for i, d in enumerate(parameter.shape) if d != 1)
    before, channels = math.prod(source[:axis]), source[axis]
    for start in range(len(target) + 1):
        if math.prod(target[:start]) != before:
            continue
        for stop in range(start + 1, len(target) + 1):
            if math.prod(target[start:stop]) == channels:
                shape = [1] * start + list(target[start:stop]) + [1] * (len(target) - stop)
                return np.ascontiguousarray(parameter).reshape(shape)
    raise Unsupported(f"a per-channel quantized weight cannot be reshaped from {list(source)} to {list(target)}")


# ---------------------------------------------------------------- quantized activations


def activation_parameters(tensor: Tensor) -> tuple[float, float, int, int]:
    quantization = tensor.quantization
    assert quantization is not None and quantization.scale is not None
    if quantization.scale.size != 1:
        raise Unsupported(f"activation {tensor.name!r} is quantized per channel")
    zero_point = int(quantization.zero_point[0]) if quantization.zero_point is not None and quantization.zero_point.size else 0
    qmin, qmax = QUANTIZED_RANGES[tensor.type_name]
    return float(quantization.scale[0]), zero_point, qmin, qmax


FAKE_QUANTIZE_LEVELS = 256  # OpenVINO's CPU plugin runs wider FakeQuantizes (int16's 65536) imprecisely


def fake_quantized(x: Value, tensor: Tensor) -> Value:
    """x rounded onto the tensor's quantization grid and clamped to its integer range: a
    FakeQuantize for 8-bit tensors (OpenVINO's int8 pattern), the same arithmetic spelled out
    (Divide, Round, Clamp, Multiply) for int16 ones."""
    scale, zero_point, qmin, qmax = activation_parameters(tensor)
    if qmax - qmin + 1 > FAKE_QUANTIZE_LEVELS:
        steps = ew.Round(ew.Divide(x, _scalar(x, scale)), mode="half_to_even")
        return ew.Multiply(Clamp(steps, min=float(qmin - zero_point), max=float(qmax - zero_point)), _scalar(x, scale))
    low = const(np.array((qmin - zero_point) * scale, dtype=np.float32))
    high = const(np.array((qmax - zero_point) * scale, dtype=np.float32))
    return FakeQuantize(x, low, high, low, high, levels=qmax - qmin + 1)


def dequantized_input(x: Value, tensor: Tensor) -> Value:
    """Quantized integers from outside the graph's arithmetic (a graph input, CAST's result) as
    real values. 8-bit ones go through a FakeQuantize from the integer range onto the tensor's
    grid, as OpenVINO's own converter writes them: an exact map of integers to grid points that
    OpenVINO's low-precision transformations read as a quantization and run in the precision
    they choose. (An int8 `Convert → Subtract(zero point) → Multiply` is taken for a signed
    activation with a zero point, which the CPU plugin cannot feed to a convolution whose output
    is quantized: with its default bf16 precision the IR fails to compile, "No suitable
    implementations".) Wider ones keep the Convert → Subtract → Multiply chain."""
    scale, zero_point, qmin, qmax = activation_parameters(tensor)
    if qmax - qmin + 1 > FAKE_QUANTIZE_LEVELS:
        return _dequantization(x, np.array(scale, dtype=np.float32), np.array(zero_point, dtype=np.float32))
    integers = Convert(x, destination_type=ElementType.f32)
    input_low, input_high = (const(np.array(q, dtype=np.float32)) for q in (qmin, qmax))
    output_low = const(np.array((qmin - zero_point) * scale, dtype=np.float32))
    output_high = const(np.array((qmax - zero_point) * scale, dtype=np.float32))
    return FakeQuantize(integers, input_low, input_high, output_low, output_high, levels=qmax - qmin + 1)


def quantized_output(x: Value, tensor: Tensor) -> Value:
    """Real values back to the quantized integers of a graph output."""
    scale, zero_point, qmin, qmax = activation_parameters(tensor)
    steps = ew.Divide(x, const(np.array(scale, dtype=np.float32)))
    if zero_point:
        steps = ew.Add(steps, const(np.array(zero_point, dtype=np.float32)))
    rounded = Clamp(ew.Round(steps, mode="half_to_even"), min=float(qmin), max=float(qmax))
    return Convert(rounded, destination_type=element_type(tensor))


def on_integers(x: Value, tensor: Tensor, compute: Callable[[Value], Value]) -> Value:
    """`compute` (an average: pooling, bilinear interpolation) done as TFLite's integer kernels do
    it on a quantized tensor whose output shares its grid: on the integers q, the result rounded
    half away from zero. (A FakeQuantize after the real-valued average would round ties to even.)"""
    scale, zero_point, _, _ = activation_parameters(tensor)
    steps = ew.Round(ew.Divide(x, _scalar(x, scale)), mode="half_to_even")  # q − zero point, exactly
    shifted = ew.Add(compute(steps), _scalar(x, zero_point))
    rounded = ew.Subtract(ew.Round(shifted, mode="half_away_from_zero"), _scalar(x, zero_point))
    return ew.Multiply(rounded, _scalar(x, scale))


def _scalar(x: Value, number: float) -> Value:
    return const(np.array(number, dtype=x.element_type.numpy))


def same_grid(a: Tensor, b: Tensor) -> bool:
    """Both tensors quantized alike: every value of one is a value of the other."""
    if not (is_quantized_activation(a) and is_quantized_activation(b)) or a.type != b.type:
        return False
    return activation_parameters(a) == activation_parameters(b)


# ---------------------------------------------------------------- sparsity


def densify(values: np.ndarray, shape: Sequence[int], sparsity: Sparsity) -> np.ndarray:
    """The dense tensor of TFLite's sparse format (a variant of TACO).

    The n dims of the tensor, split into blocks by `block_map` (k block dims), are traversed in
    `traversal_order` (n + k entries); each traversed dim is DENSE (every coordinate, `dense_size`
    of them) or SPARSE_CSR (per position of the previous level, the coordinates
    `array_indices[array_segments[p]:array_segments[p + 1]]`). The leaves, in order, are `values`.
    """
    rank = len(shape)
    order, block_map, levels = sparsity.traversal_order, sparsity.block_map, sparsity.dim_metadata
    if len(order) != rank + len(block_map) or len(levels) != len(order) or sorted(order) != list(range(len(order))):
        raise ValueError(f"sparsity: traversal order {list(order)} does not fit rank {rank} with {len(block_map)} block dims")
    if any(not 0 <= dim < rank for dim in block_map):
        raise ValueError(f"sparsity: block map {list(block_map)} names dimensions beyond rank {rank}")
    block_sizes = [1] * rank
    for block, dim in enumerate(block_map):
        block_sizes[dim] = levels[order.index(rank + block)].dense_size
    for level, dim in zip(levels, order):
        expected = shape[dim] // max(block_sizes[dim], 1) if dim < rank else block_sizes[block_map[dim - rank]]
        if level.format == "DENSE" and level.dense_size != expected:
            raise ValueError(f"sparsity: a dense dimension of {level.dense_size} where the shape {list(shape)} has {expected}")
    # A level never has more nodes than the next sparse level has segments, or than there are values.
    bound = max([values.size] + [m.array_segments.size for m in levels if m.array_segments is not None])
    positions = np.zeros(1, dtype=np.int64)  # per node of the current level, its position (index into the next level)
    coordinates: list[np.ndarray] = []  # per traversed level, each leaf-to-be's coordinate
    for metadata in levels:
        if metadata.format == "DENSE":
            size = metadata.dense_size
            if size < 0 or positions.size * size > bound:
                raise ValueError(f"sparsity: a dense dimension of {size} makes more positions than the {values.size} values")
            coordinates = [np.repeat(c, size) for c in coordinates]
            coordinates.append(np.tile(np.arange(size, dtype=np.int64), positions.size))
            positions = (positions[:, None] * size + np.arange(size, dtype=np.int64)).reshape(-1)
        else:
            segments, indices = metadata.array_segments, metadata.array_indices
            if segments is None or indices is None or positions.size and int(positions.max()) + 1 >= segments.size:
                raise ValueError("sparsity: a SPARSE_CSR dimension without enough segments")
            segments = segments.astype(np.int64)
            starts, counts = segments[positions], segments[positions + 1] - segments[positions]
            if np.any(counts < 0) or (segments.size and segments[-1] > indices.size):
                raise ValueError("sparsity: array_segments do not index array_indices")
            coordinates = [np.repeat(c, counts) for c in coordinates]
            positions = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()), dtype=np.int64)
            coordinates.append(indices.astype(np.int64)[positions])
    if positions.size and int(positions.max()) >= values.size:
        raise ValueError(f"sparsity: {positions.size} positions for {values.size} values")
    index = [np.zeros(positions.size, dtype=np.int64) for _ in range(rank)]
    for level, dim in enumerate(order):
        if dim < rank:
            index[dim] += coordinates[level] * block_sizes[dim]
        else:
            index[block_map[dim - rank]] += coordinates[level]
    try:
        dense = np.zeros(tuple(shape), dtype=values.dtype)
    except MemoryError:
        raise Unsupported(f"the dense tensor of shape {list(shape)} does not fit in memory") from None
    if any(np.any(i >= size) for i, size in zip(index, shape)):
        raise ValueError(f"sparsity: coordinates beyond the shape {list(shape)}")
    dense[tuple(index)] = values[positions]
    return dense
