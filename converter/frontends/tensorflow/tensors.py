"""TensorFlow data types, shapes and TensorProtos as numpy arrays and IR types."""

from __future__ import annotations

import math

from typing import Any

import ml_dtypes
import numpy as np

from converter.frontends.tensorflow.protos import DataType
from converter.ir.types import ElementType, Shape
from converter.limits import over_limit


class Unsupported(Exception):
    """Something irforge cannot express (a data type, an attribute value); names the reason."""


NUMPY_TYPES: dict[int, np.dtype] = {
    DataType.DT_FLOAT: np.dtype(np.float32),
    DataType.DT_DOUBLE: np.dtype(np.float64),
    DataType.DT_HALF: np.dtype(np.float16),
    DataType.DT_BFLOAT16: np.dtype(ml_dtypes.bfloat16),
    DataType.DT_FLOAT8_E5M2: np.dtype(ml_dtypes.float8_e5m2),
    DataType.DT_FLOAT8_E4M3FN: np.dtype(ml_dtypes.float8_e4m3fn),
    DataType.DT_INT64: np.dtype(np.int64),
    DataType.DT_INT32: np.dtype(np.int32),
    DataType.DT_INT16: np.dtype(np.int16),
    DataType.DT_INT8: np.dtype(np.int8),
    DataType.DT_UINT64: np.dtype(np.uint64),
    DataType.DT_UINT32: np.dtype(np.uint32),
    DataType.DT_UINT16: np.dtype(np.uint16),
    DataType.DT_UINT8: np.dtype(np.uint8),
    DataType.DT_BOOL: np.dtype(np.bool_),
    DataType.DT_COMPLEX64: np.dtype(np.complex64),
    DataType.DT_COMPLEX128: np.dtype(np.complex128),
}

REF_OFFSET = 100  # DT_FLOAT_REF = 101: TF1 reference-typed variables, same data


def type_name(dtype: int) -> str:
    try:
        return DataType(dtype).name
    except ValueError:
        return f"data type {dtype}"


def numpy_dtype(dtype: int) -> np.dtype:
    """The numpy dtype of a TF DataType (reference types read as their value type)."""
    if dtype > REF_OFFSET:
        dtype -= REF_OFFSET
    try:
        return NUMPY_TYPES[dtype]
    except KeyError:
        raise Unsupported(f"{type_name(dtype)} is not supported") from None


def element_type(dtype: int) -> ElementType:
    try:
        return ElementType.from_numpy(numpy_dtype(dtype))
    except ValueError:
        raise Unsupported(f"{type_name(dtype)} has no OpenVINO element type") from None


def shape_dims(shape: Any) -> tuple[int | None, ...] | None:
    """A TensorShapeProto's dims (None where -1), or None when even the rank is unknown."""
    if shape.unknown_rank:
        return None
    return tuple(None if d.size < 0 else int(d.size) for d in shape.dim)


def ir_shape(shape: Any) -> Shape:
    return Shape(shape_dims(shape))


def static_dims(shape: Any, what: str) -> tuple[int, ...]:
    dims = shape_dims(shape)
    if dims is None or any(d is None for d in dims):
        raise ValueError(f"{what} has a partly unknown shape {dims}")
    return dims  # type: ignore[return-value]


# The repeated field holding a TensorProto's values, per data type.
TYPED_FIELDS = {
    DataType.DT_FLOAT: "float_val",
    DataType.DT_DOUBLE: "double_val",
    DataType.DT_HALF: "half_val",
    DataType.DT_BFLOAT16: "half_val",
    DataType.DT_INT64: "int64_val",
    DataType.DT_INT32: "int_val",
    DataType.DT_INT16: "int_val",
    DataType.DT_INT8: "int_val",
    DataType.DT_UINT8: "int_val",
    DataType.DT_UINT16: "int_val",
    DataType.DT_UINT32: "uint32_val",
    DataType.DT_UINT64: "uint64_val",
    DataType.DT_BOOL: "bool_val",
    DataType.DT_COMPLEX64: "scomplex_val",
    DataType.DT_COMPLEX128: "dcomplex_val",
}


def tensor_array(tensor: Any) -> np.ndarray:
    """A TensorProto's value: raw little-endian `tensor_content`, or the typed repeated field.

    As in TensorFlow, fewer typed values than elements repeat the last one (a single value
    fills the shape) and no value at all means zeros.
    """
    dtype = numpy_dtype(tensor.dtype)
    shape = static_dims(tensor.tensor_shape, "a constant tensor")
    count = math.prod(shape)  # exact: int64 would wrap for a hostile shape
    problem = over_limit(f"a constant tensor of shape {list(shape)}", count * dtype.itemsize)
    if problem is not None:  # checked before anything is allocated; a fill is bounded by the limit only
        raise ValueError(problem)
    if tensor.tensor_content:
        content = tensor.tensor_content
        if len(content) != count * dtype.itemsize:
            raise ValueError(f"tensor_content has {len(content)} bytes for shape {list(shape)} of {type_name(tensor.dtype)}")
        return np.frombuffer(content, dtype=dtype.newbyteorder("<")).astype(dtype, copy=False).reshape(shape)
    field = TYPED_FIELDS.get(tensor.dtype)
    if field is None:
        raise Unsupported(f"constant of {type_name(tensor.dtype)} is not supported")
    values = getattr(tensor, field)
    if field == "half_val":  # 16-bit patterns stored in int32s
        flat = np.array(values, dtype=np.uint16).view(dtype)
    elif dtype.kind == "c":
        pairs = np.array(values, dtype=np.float32 if dtype == np.complex64 else np.float64)
        flat = pairs[0::2] + 1j * pairs[1::2]
    else:
        flat = np.array(values).astype(dtype)
    if flat.size > count:
        raise ValueError(f"{flat.size} values for shape {list(shape)}")
    if flat.size == count:
        return flat.astype(dtype, copy=False).reshape(shape)
    filled = np.full(count, flat[-1] if flat.size else 0, dtype=dtype)
    filled[: flat.size] = flat
    return filled.reshape(shape)
