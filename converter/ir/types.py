"""Element types and shapes, spelled the way OpenVINO IR spells them."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np


class ElementType(enum.Enum):
    """An IR element type. The value is the IR spelling (`element_type="f32"`)."""

    f64 = "f64"
    f32 = "f32"
    f16 = "f16"
    bf16 = "bf16"
    f8e4m3 = "f8e4m3"
    f8e5m2 = "f8e5m2"
    f4e2m1 = "f4e2m1"
    i64 = "i64"
    i32 = "i32"
    i16 = "i16"
    i8 = "i8"
    i4 = "i4"
    u64 = "u64"
    u32 = "u32"
    u16 = "u16"
    u8 = "u8"
    u4 = "u4"
    boolean = "boolean"

    @property
    def numpy(self) -> np.dtype:
        dtype = _NUMPY.get(self)
        if dtype is None:  # an ml_dtypes type: that package is imported the first time one is needed
            import ml_dtypes

            dtype = _NUMPY[self] = np.dtype(getattr(ml_dtypes, _ML_DTYPES[self]))
        return dtype

    def iinfo(self) -> np.iinfo:
        """Range of an integer type (numpy's iinfo does not know i4 / u4)."""
        dtype = self.numpy
        if dtype.kind in "iu":
            return np.iinfo(dtype)
        import ml_dtypes

        return ml_dtypes.iinfo(dtype)

    def finfo(self) -> np.finfo:
        """Machine limits of a float type (numpy's finfo does not know bf16 or the 8- and 4-bit floats)."""
        dtype = self.numpy
        if dtype.kind == "f":
            return np.finfo(dtype)
        import ml_dtypes

        return ml_dtypes.finfo(dtype)

    @property
    def precision(self) -> str:
        """The spelling used in a port's `precision` attribute."""
        return _PRECISION[self]

    @property
    def is_float(self) -> bool:
        return self in _FLOATS  # a set built once: reading enum members on every call is slow

    @property
    def is_integer(self) -> bool:
        return self in _INTEGERS

    @property
    def itemsize(self) -> int:
        """Bytes per element in memory (numpy's; 1 for the 4-bit types, which ml_dtypes keeps a byte each)."""
        return self.numpy.itemsize

    @property
    def bitwidth(self) -> int:
        """Bits per element as stored in IR (4 for i4, u4, f4e2m1: packed two to a byte)."""
        return 4 if self in _NIBBLES else 8 * self.numpy.itemsize

    def storage_bytes(self, count: int) -> int:
        """Bytes `count` elements take in a .bin file."""
        return (count + 1) // 2 if self in _NIBBLES else count * self.numpy.itemsize

    @staticmethod
    def from_numpy(dtype: np.dtype | type) -> ElementType:
        dtype = np.dtype(dtype)
        for element_type, numpy_dtype in _NUMPY.items():
            if numpy_dtype == dtype:
                return element_type
        for element_type in _ML_DTYPES:
            if element_type.numpy == dtype:
                return element_type
        raise ValueError(f"no IR element type for numpy dtype {dtype}")

    @staticmethod
    def from_precision(precision: str) -> ElementType:
        for element_type, spelling in _PRECISION.items():
            if spelling == precision:
                return element_type
        raise ValueError(f"unknown port precision {precision!r}")


_FLOATS = frozenset(
    {ElementType.f64, ElementType.f32, ElementType.f16, ElementType.bf16, ElementType.f8e4m3, ElementType.f8e5m2, ElementType.f4e2m1}
)
_NIBBLES = frozenset({ElementType.i4, ElementType.u4, ElementType.f4e2m1})
_INTEGERS = frozenset(set(ElementType) - _FLOATS - {ElementType.boolean})

_NUMPY = {  # the ml_dtypes types join on first use (ElementType.numpy)
    ElementType.f64: np.dtype(np.float64),
    ElementType.f32: np.dtype(np.float32),
    ElementType.f16: np.dtype(np.float16),
    ElementType.i64: np.dtype(np.int64),
    ElementType.i32: np.dtype(np.int32),
    ElementType.i16: np.dtype(np.int16),
    ElementType.i8: np.dtype(np.int8),
    ElementType.u64: np.dtype(np.uint64),
    ElementType.u32: np.dtype(np.uint32),
    ElementType.u16: np.dtype(np.uint16),
    ElementType.u8: np.dtype(np.uint8),
    ElementType.boolean: np.dtype(np.bool_),
}
_ML_DTYPES = {
    ElementType.bf16: "bfloat16",
    ElementType.f8e4m3: "float8_e4m3fn",
    ElementType.f8e5m2: "float8_e5m2",
    ElementType.f4e2m1: "float4_e2m1fn",
    ElementType.i4: "int4",
    ElementType.u4: "uint4",
}

_PRECISION = {
    ElementType.f64: "FP64",
    ElementType.f32: "FP32",
    ElementType.f16: "FP16",
    ElementType.bf16: "BF16",
    ElementType.f8e4m3: "F8E4M3",
    ElementType.f8e5m2: "F8E5M2",
    ElementType.f4e2m1: "F4E2M1",
    ElementType.i64: "I64",
    ElementType.i32: "I32",
    ElementType.i16: "I16",
    ElementType.i8: "I8",
    ElementType.i4: "I4",
    ElementType.u64: "U64",
    ElementType.u32: "U32",
    ElementType.u16: "U16",
    ElementType.u8: "U8",
    ElementType.u4: "U4",
    ElementType.boolean: "BOOL",
}


Dim = int | None
"""A dimension: a non-negative int when static, None when dynamic."""


@dataclass(frozen=True)
class Shape:
    """A tensor shape: `dims` is None when even the rank is unknown."""

    dims: tuple[Dim, ...] | None

    @staticmethod
    def of(*dims: Dim) -> Shape:
        return Shape(tuple(dims))

    @staticmethod
    def dynamic_rank() -> Shape:
        return Shape(None)

    @staticmethod
    def dynamic(rank: int) -> Shape:
        return Shape((None,) * rank)

    @property
    def rank(self) -> int | None:
        return None if self.dims is None else len(self.dims)

    @property
    def is_static(self) -> bool:
        return self.dims is not None and all(d is not None for d in self.dims)

    @property
    def static(self) -> tuple[int, ...]:
        if not self.is_static:
            raise ValueError(f"shape {self} is not static")
        return self.dims  # type: ignore[return-value]

    def __getitem__(self, index: int) -> Dim:
        if self.dims is None:
            return None
        return self.dims[index]

    def __str__(self) -> str:
        if self.dims is None:
            return "..."
        return "[" + ",".join("?" if d is None else str(d) for d in self.dims) + "]"


@dataclass(frozen=True)
class TensorType:
    element_type: ElementType
    shape: Shape

    def __str__(self) -> str:
        return f"{self.element_type.value}{self.shape}"
