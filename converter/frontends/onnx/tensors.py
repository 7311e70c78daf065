"""ONNX TensorProto / AttributeProto values as numpy arrays and Python values.

The decoding follows onnx.numpy_helper.to_array and onnx.helper.get_attribute_value (the ONNX
spec's storage rules: raw_data little-endian, else the typed field each element type is stored
in). The common element types are decoded here; the packed 4-, 2- and 6-bit types, 8-bit
floats, bfloat16, complex and string tensors are handed to onnx's own decoder, so the onnx
package is imported only by a model that has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from converter.frontends.onnx import proto
from converter.ir.types import ElementType

_T = proto.TensorProto
_A = proto.AttributeProto

# ONNX element type → IR element type, and back.
ELEMENT_TYPES = {
    _T.FLOAT: ElementType.f32,
    _T.DOUBLE: ElementType.f64,
    _T.FLOAT16: ElementType.f16,
    _T.BFLOAT16: ElementType.bf16,
    _T.FLOAT8E4M3FN: ElementType.f8e4m3,
    _T.FLOAT8E5M2: ElementType.f8e5m2,
    _T.FLOAT4E2M1: ElementType.f4e2m1,
    _T.INT64: ElementType.i64,
    _T.INT32: ElementType.i32,
    _T.INT16: ElementType.i16,
    _T.INT8: ElementType.i8,
    _T.INT4: ElementType.i4,
    _T.UINT64: ElementType.u64,
    _T.UINT32: ElementType.u32,
    _T.UINT16: ElementType.u16,
    _T.UINT8: ElementType.u8,
    _T.UINT4: ElementType.u4,
    _T.BOOL: ElementType.boolean,
}
ONNX_ELEMENT_TYPES = {ir: code for code, ir in ELEMENT_TYPES.items()}

# Element types numpy holds natively: (dtype, the typed field the values sit in without raw_data).
_NATIVE: dict[int, tuple[np.dtype, str]] = {
    _T.FLOAT: (np.dtype(np.float32), "float_data"),
    _T.DOUBLE: (np.dtype(np.float64), "double_data"),
    _T.FLOAT16: (np.dtype(np.float16), "int32_data"),
    _T.INT64: (np.dtype(np.int64), "int64_data"),
    _T.INT32: (np.dtype(np.int32), "int32_data"),
    _T.INT16: (np.dtype(np.int16), "int32_data"),
    _T.INT8: (np.dtype(np.int8), "int32_data"),
    _T.UINT64: (np.dtype(np.uint64), "uint64_data"),
    _T.UINT32: (np.dtype(np.uint32), "uint64_data"),
    _T.UINT16: (np.dtype(np.uint16), "int32_data"),
    _T.UINT8: (np.dtype(np.uint8), "int32_data"),
    _T.BOOL: (np.dtype(np.bool_), "int32_data"),
    _T.COMPLEX64: (np.dtype(np.complex64), "float_data"),
    _T.COMPLEX128: (np.dtype(np.complex128), "double_data"),
    _T.STRING: (np.dtype(object), "string_data"),
}

# Element types ml_dtypes supplies (attribute names of the ml_dtypes module).
_ML_DTYPES = {
    _T.BFLOAT16: "bfloat16",
    _T.FLOAT8E4M3FN: "float8_e4m3fn",
    _T.FLOAT8E4M3FNUZ: "float8_e4m3fnuz",
    _T.FLOAT8E5M2: "float8_e5m2",
    _T.FLOAT8E5M2FNUZ: "float8_e5m2fnuz",
    _T.UINT4: "uint4",
    _T.INT4: "int4",
    _T.FLOAT4E2M1: "float4_e2m1fn",
    _T.FLOAT8E8M0: "float8_e8m0fnu",
    _T.UINT2: "uint2",
    _T.INT2: "int2",
    _T.FLOAT6E2M3: "float6_e2m3fn",
    _T.FLOAT6E3M2: "float6_e3m2fn",
}

# Several elements to a byte (or to an int32_data entry): sizes are onnx's decoder's to check.
PACKED_TYPES = frozenset({_T.INT4, _T.UINT4, _T.FLOAT4E2M1, _T.INT2, _T.UINT2, _T.FLOAT6E2M3, _T.FLOAT6E3M2})


def numpy_dtype(data_type: int) -> np.dtype:
    """The numpy dtype of an ONNX element type (onnx.helper.tensor_dtype_to_np_dtype)."""
    native = _NATIVE.get(data_type)
    if native is not None:
        return native[0]
    name = _ML_DTYPES.get(data_type)
    if name is None:
        raise ValueError(f"element type {proto.data_type_name(data_type)} has no numpy dtype")
    import ml_dtypes

    return np.dtype(getattr(ml_dtypes, name))


def to_array(tensor: proto.TensorProto) -> np.ndarray:
    """The tensor's values (stored in the message, not external data). Arrays decoded from
    raw_data share its buffer and are read-only, as onnx's are."""
    native = _NATIVE.get(tensor.data_type)
    if native is None or tensor.data_type in (_T.STRING, _T.COMPLEX64, _T.COMPLEX128) or tensor.HasField("segment"):
        from onnx import numpy_helper

        return numpy_helper.to_array(proto.as_onnx(tensor))
    dtype, field = native
    dims = tuple(tensor.dims)
    if tensor.HasField("raw_data"):
        return np.frombuffer(tensor.raw_data, dtype=dtype.newbyteorder("<")).astype(dtype, copy=False).reshape(dims)
    stored = getattr(tensor, field)
    if tensor.data_type in (_T.FLOAT16, _T.UINT16, _T.INT16, _T.BOOL):
        # The element's bits sit in the low bits of each int32 entry.
        bits = np.array(stored, dtype=np.int32).view(np.uint32).astype(np.uint16 if dtype.itemsize == 2 else np.uint8)
        return bits.view(dtype).reshape(dims)
    storage = np.int32 if field == "int32_data" else np.uint64 if field == "uint64_data" else dtype
    return np.asarray(stored, dtype=storage).astype(dtype).reshape(dims)


def sparse_to_dense(sparse: proto.SparseTensorProto) -> np.ndarray:
    """A SparseTensorProto's dense array: indices are [NNZ] linear or [NNZ, rank] coordinates."""
    values = to_array(sparse.values)
    indices = to_array(sparse.indices).astype(np.int64)
    dense = np.zeros(tuple(sparse.dims), dtype=values.dtype)
    if indices.ndim == 1:
        dense.reshape(-1)[indices] = values
    else:
        dense[tuple(indices.T)] = values
    return dense


def attribute_value(attribute: proto.AttributeProto) -> Any:
    """The attribute's value by its declared type (onnx.helper.get_attribute_value): strings stay
    bytes, repeated fields become lists, tensors and graphs stay messages."""
    kind = attribute.type
    field = _ATTRIBUTE_FIELDS.get(kind)
    if field is None:
        raise ValueError(f"attribute {attribute.name!r} has no value type ({kind})")
    value = getattr(attribute, field)
    return list(value) if kind in _REPEATED_ATTRIBUTES else value


_ATTRIBUTE_FIELDS = {
    _A.FLOAT: "f",
    _A.INT: "i",
    _A.STRING: "s",
    _A.TENSOR: "t",
    _A.GRAPH: "g",
    _A.SPARSE_TENSOR: "sparse_tensor",
    _A.TYPE_PROTO: "tp",
    _A.FLOATS: "floats",
    _A.INTS: "ints",
    _A.STRINGS: "strings",
    _A.TENSORS: "tensors",
    _A.GRAPHS: "graphs",
    _A.SPARSE_TENSORS: "sparse_tensors",
    _A.TYPE_PROTOS: "type_protos",
}
_REPEATED_ATTRIBUTES = frozenset({_A.FLOATS, _A.INTS, _A.STRINGS, _A.TENSORS, _A.GRAPHS, _A.SPARSE_TENSORS, _A.TYPE_PROTOS})


@dataclass(frozen=True)
class ExternalData:
    """Where a tensor's bytes live outside the model (TensorProto.external_data; the spec's keys)."""

    location: str
    offset: int | None = None
    length: int | None = None

    @staticmethod
    def of(tensor: proto.TensorProto) -> ExternalData:
        entries = {entry.key: entry.value for entry in tensor.external_data}
        try:
            offset = int(entries["offset"]) if "offset" in entries else None
            length = int(entries["length"]) if "length" in entries else None
        except ValueError:
            raise ValueError(f"external data of {tensor.name!r}: offset and length must be integers ({entries})") from None
        return ExternalData(entries.get("location", ""), offset, length)
