"""The `.tflite` flatbuffer, read in place: a bounds-checked table reader and accessors for the
fields of TFLite's schema (tensorflow/compiler/mlir/lite/schema/schema.fbs) the frontend uses.

A flatbuffer table starts with a signed offset back to its vtable; the vtable lists, per field
in declaration order, the field's offset inside the table (0: absent, the default applies).
A union field takes two slots (its type, then the table). Vectors are a u32 length followed by
the elements; tables, strings and vectors are reached through u32 offsets relative to where the
offset is stored. Every read is checked against the file's size, so a truncated or garbage file
raises `FlatbufferError` (the frontend reports it as InvalidModelError), never a crash or a read
elsewhere.

The file is memory-mapped: numeric vectors and tensor buffers are numpy views on the map, never
copies. Large models (> 2 GB) keep their buffers after the flatbuffer (`Buffer.offset/size`,
relative to the file's start).
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FILE_IDENTIFIER = b"TFL3"


class FlatbufferError(Exception):
    """The bytes are not a well-formed TFLite flatbuffer (the reason says where)."""


# ---------------------------------------------------------------- enums (facts of the format)

TENSOR_TYPES = (
    "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64", "INT8",
    "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4", "BFLOAT16",
)  # fmt: skip

BUILTIN_OPERATORS = (
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
    "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
    "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN",
    "SUB", "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP", "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU",
    "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL",
    "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL",
    "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD",
    "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN",
    "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE",
    "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE",
    "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU", "REVERSE_SEQUENCE",
    "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
    "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
    "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D",
    "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE",
    "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU",
    "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
    "STABLEHLO_LOGISTIC", "STABLEHLO_ADD", "STABLEHLO_DIVIDE", "STABLEHLO_MULTIPLY", "STABLEHLO_MAXIMUM",
    "STABLEHLO_RESHAPE", "STABLEHLO_CLAMP", "STABLEHLO_CONCATENATE", "STABLEHLO_BROADCAST_IN_DIM",
    "STABLEHLO_CONVOLUTION", "STABLEHLO_SLICE", "STABLEHLO_CUSTOM_CALL", "STABLEHLO_REDUCE", "STABLEHLO_ABS",
    "STABLEHLO_AND", "STABLEHLO_COSINE", "STABLEHLO_EXPONENTIAL", "STABLEHLO_FLOOR", "STABLEHLO_LOG",
    "STABLEHLO_MINIMUM", "STABLEHLO_NEGATE", "STABLEHLO_OR", "STABLEHLO_POWER", "STABLEHLO_REMAINDER",
    "STABLEHLO_RSQRT", "STABLEHLO_SELECT", "STABLEHLO_SUBTRACT", "STABLEHLO_TANH", "STABLEHLO_SCATTER",
    "STABLEHLO_COMPARE", "STABLEHLO_CONVERT", "STABLEHLO_DYNAMIC_SLICE", "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD", "STABLEHLO_IOTA", "STABLEHLO_DOT_GENERAL", "STABLEHLO_REDUCE_WINDOW", "STABLEHLO_SORT",
    "STABLEHLO_WHILE", "STABLEHLO_GATHER", "STABLEHLO_TRANSPOSE", "DILATE", "STABLEHLO_RNG_BIT_GENERATOR",
    "REDUCE_WINDOW", "STABLEHLO_COMPOSITE", "COMPLEX",
)  # fmt: skip
CUSTOM = BUILTIN_OPERATORS.index("CUSTOM")

ENUMS: dict[str, tuple[str, ...]] = {
    "TensorType": TENSOR_TYPES,
    "Padding": ("SAME", "VALID"),
    "ActivationFunctionType": ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"),
    "FullyConnectedOptionsWeightsFormat": ("DEFAULT", "SHUFFLED4x16INT8"),
    "MirrorPadMode": ("REFLECT", "SYMMETRIC"),
    "DimensionType": ("DENSE", "SPARSE_CSR"),
}


def operator_name(code: int) -> str:
    return BUILTIN_OPERATORS[code] if 0 <= code < len(BUILTIN_OPERATORS) else f"BUILTIN_{code}"


def tensor_type_name(code: int) -> str:
    return TENSOR_TYPES[code] if 0 <= code < len(TENSOR_TYPES) else f"tensor type {code}"


# ---------------------------------------------------------------- the reader

_SCALARS = {
    "bool": ("<B", 1), "i8": ("<b", 1), "u8": ("<B", 1), "i16": ("<h", 2), "u16": ("<H", 2),
    "i32": ("<i", 4), "u32": ("<I", 4), "i64": ("<q", 8), "u64": ("<Q", 8), "f32": ("<f", 4),
}  # fmt: skip
_VECTOR_DTYPES = {
    "bool": np.dtype(np.bool_), "i8": np.dtype("<i1"), "u8": np.dtype("<u1"), "i16": np.dtype("<i2"),
    "u16": np.dtype("<u2"), "i32": np.dtype("<i4"), "u32": np.dtype("<u4"), "i64": np.dtype("<i8"),
    "f32": np.dtype("<f4"),
}  # fmt: skip


class Table:
    """One flatbuffer table: field `slot` is the field's index in schema declaration order."""

    __slots__ = ("buf", "pos", "fields")

    def __init__(self, buf: Any, pos: int):
        self.buf = buf
        self.pos = pos
        vtable = pos - _read(buf, "<i", pos, 4)
        vtable_size = _read(buf, "<H", vtable, 2)
        if vtable_size < 4 or vtable_size % 2:
            raise FlatbufferError(f"table at {pos}: vtable of {vtable_size} bytes")
        count = (vtable_size - 4) // 2
        _check(buf, vtable, vtable_size)
        self.fields: tuple[int, ...] = struct.unpack_from(f"<{count}H", buf, vtable + 4) if count else ()

    def _offset(self, slot: int) -> int:
        """Where field `slot` is stored, or 0 when the table does not have it."""
        return self.pos + self.fields[slot] if slot < len(self.fields) and self.fields[slot] else 0

    def has(self, slot: int) -> bool:
        return self._offset(slot) != 0

    def scalar(self, slot: int, kind: str, default: Any = 0) -> Any:
        where = self._offset(slot)
        if not where:
            return default
        fmt, size = _SCALARS[kind]
        value = _read(self.buf, fmt, where, size)
        return bool(value) if kind == "bool" else value

    def _target(self, slot: int) -> int:
        where = self._offset(slot)
        if not where:
            return 0
        return where + _read(self.buf, "<I", where, 4)

    def table(self, slot: int) -> Table | None:
        target = self._target(slot)
        return Table(self.buf, target) if target else None

    def _vector(self, slot: int, itemsize: int) -> tuple[int, int] | None:
        """(start of the elements, length) of a vector field, checked to fit the file."""
        target = self._target(slot)
        if not target:
            return None
        length = _read(self.buf, "<I", target, 4)
        _check(self.buf, target + 4, length * itemsize)
        return target + 4, length

    def array(self, slot: int, kind: str) -> np.ndarray | None:
        """A vector of scalars as a read-only numpy view on the file (None when absent)."""
        dtype = _VECTOR_DTYPES[kind]
        vector = self._vector(slot, dtype.itemsize)
        if vector is None:
            return None
        start, length = vector
        return np.frombuffer(self.buf, dtype=dtype, count=length, offset=start)

    def ints(self, slot: int, kind: str = "i32") -> tuple[int, ...] | None:
        array = self.array(slot, kind)
        return None if array is None else tuple(array.tolist())

    def byte_range(self, slot: int) -> tuple[int, int] | None:
        """(offset, size) of a [ubyte] vector within the file."""
        return self._vector(slot, 1)

    def string(self, slot: int) -> str | None:
        vector = self._vector(slot, 1)
        if vector is None:
            return None
        start, length = vector
        return bytes(self.buf[start : start + length]).decode("utf-8", errors="replace")

    def tables(self, slot: int) -> list[Table]:
        vector = self._vector(slot, 4)
        if vector is None:
            return []
        start, length = vector
        offsets = struct.unpack_from(f"<{length}I", self.buf, start) if length else ()
        return [Table(self.buf, start + 4 * i + offset) for i, offset in enumerate(offsets)]

    def union(self, type_slot: int) -> tuple[int, Table | None]:
        """A union field: its type code (0: none) and its table (the next slot)."""
        kind = self.scalar(type_slot, "u8")
        return kind, (self.table(type_slot + 1) if kind else None)


def _check(buf: Any, start: int, size: int) -> None:
    if start < 0 or size < 0 or start + size > len(buf):
        raise FlatbufferError(f"{size} bytes at offset {start} are beyond the end of the file ({len(buf)} bytes)")


def _read(buf: Any, fmt: str, where: int, size: int) -> Any:
    _check(buf, where, size)
    return struct.unpack_from(fmt, buf, where)[0]


# ---------------------------------------------------------------- schema tables


@dataclass(frozen=True)
class OperatorCode:
    builtin_code: int  # max(deprecated_builtin_code, builtin_code): files keep either one
    custom_code: str | None
    version: int

    @property
    def name(self) -> str:
        """The builtin op's name, or a custom op's code."""
        if self.builtin_code == CUSTOM:
            return self.custom_code or "CUSTOM"
        return operator_name(self.builtin_code)

    @property
    def is_custom(self) -> bool:
        return self.builtin_code == CUSTOM


def _operator_code(table: Table) -> OperatorCode:
    deprecated = table.scalar(0, "i8")
    extended = table.scalar(3, "i32")
    return OperatorCode(max(deprecated, extended), table.string(1), table.scalar(2, "i32", 1))


@dataclass(frozen=True)
class Quantization:
    """f = scale * (q - zero_point), per tensor or along `quantized_dimension`."""

    scale: np.ndarray | None
    zero_point: np.ndarray | None
    quantized_dimension: int
    min: np.ndarray | None
    max: np.ndarray | None

    @property
    def is_affine(self) -> bool:
        return self.scale is not None and self.scale.size > 0


def _quantization(table: Table | None) -> Quantization | None:
    if table is None:
        return None
    details, _ = table.union(4)
    if details:
        raise FlatbufferError("custom quantization details are not supported")
    return Quantization(table.array(2, "f32"), table.array(3, "i64"), table.scalar(6, "i32"), table.array(0, "f32"), table.array(1, "f32"))


INDEX_VECTOR_KINDS = {1: "i32", 2: "u16", 3: "u8"}  # SparseIndexVector: Int32Vector, Uint16Vector, Uint8Vector


@dataclass(frozen=True)
class DimensionMetadata:
    format: str  # DENSE or SPARSE_CSR
    dense_size: int
    array_segments: np.ndarray | None
    array_indices: np.ndarray | None


def _index_vector(table: Table, type_slot: int) -> np.ndarray | None:
    kind, vector = table.union(type_slot)
    if vector is None:
        return None
    if kind not in INDEX_VECTOR_KINDS:
        raise FlatbufferError(f"sparse index vector of unknown type {kind}")
    values = vector.array(0, INDEX_VECTOR_KINDS[kind])
    return values if values is not None else np.zeros(0, dtype=np.int32)


def _dimension(table: Table) -> DimensionMetadata:
    kind = table.scalar(0, "i8")
    if kind not in (0, 1):
        raise FlatbufferError(f"sparse dimension of unknown format {kind}")
    return DimensionMetadata(ENUMS["DimensionType"][kind], table.scalar(1, "i32"), _index_vector(table, 2), _index_vector(table, 4))


@dataclass(frozen=True)
class Sparsity:
    traversal_order: tuple[int, ...]
    block_map: tuple[int, ...]
    dim_metadata: tuple[DimensionMetadata, ...]


def _sparsity(table: Table | None) -> Sparsity | None:
    if table is None:
        return None
    return Sparsity(table.ints(0) or (), table.ints(1) or (), tuple(_dimension(t) for t in table.tables(2)))


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    type: int
    shape: tuple[int, ...]
    shape_signature: tuple[int, ...] | None  # -1 where the dimension is dynamic
    buffer: int
    quantization: Quantization | None
    is_variable: bool
    sparsity: Sparsity | None

    @property
    def type_name(self) -> str:
        return tensor_type_name(self.type)

    @property
    def is_quantized(self) -> bool:
        return self.quantization is not None and self.quantization.is_affine


def _tensor(index: int, table: Table) -> Tensor:
    shape = table.ints(0) or ()
    return Tensor(
        index=index,
        name=table.string(3) or f"tensor_{index}",
        type=table.scalar(1, "i8"),
        shape=shape,
        shape_signature=table.ints(7),
        buffer=table.scalar(2, "u32"),
        quantization=_quantization(table.table(4)),
        is_variable=table.scalar(5, "bool", False),
        sparsity=_sparsity(table.table(6)),
    )


@dataclass(frozen=True)
class Operator:
    index: int
    opcode_index: int
    inputs: tuple[int, ...]  # -1: an optional input left out
    outputs: tuple[int, ...]
    options_type: int  # the BuiltinOptions union's type code (0: none)
    options: Table | None
    custom_options: tuple[int, int] | None  # (offset, size) in the file


def _operator(index: int, table: Table) -> Operator:
    options_type, options = table.union(3)
    custom = table.byte_range(5)
    large_offset, large_size = table.scalar(9, "u64"), table.scalar(10, "u64")
    if large_offset > 1:
        _check(table.buf, large_offset, large_size)
        custom = (large_offset, large_size)
    return Operator(index, table.scalar(0, "u32"), table.ints(1) or (), table.ints(2) or (), options_type, options, custom)


@dataclass(frozen=True)
class SubGraph:
    name: str
    tensors: tuple[Tensor, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    operators: tuple[Operator, ...]


def _subgraph(table: Table) -> SubGraph:
    return SubGraph(
        name=table.string(4) or "",
        tensors=tuple(_tensor(i, t) for i, t in enumerate(table.tables(0))),
        inputs=table.ints(1) or (),
        outputs=table.ints(2) or (),
        operators=tuple(_operator(i, t) for i, t in enumerate(table.tables(3))),
    )


@dataclass(frozen=True)
class Buffer:
    """Where a buffer's bytes are in the file: inside the flatbuffer (`data`) or after it
    (`offset`/`size`, used when offset > 1)."""

    start: int
    size: int


def _buffer(table: Table) -> Buffer:
    offset, size = table.scalar(1, "u64"), table.scalar(2, "u64")
    if offset > 1:
        _check(table.buf, offset, size)
        return Buffer(offset, size)
    data = table.byte_range(0)
    return Buffer(*data) if data is not None else Buffer(0, 0)


@dataclass(frozen=True)
class TensorMap:
    name: str
    tensor_index: int


@dataclass(frozen=True)
class SignatureDef:
    key: str
    subgraph_index: int
    inputs: tuple[TensorMap, ...]
    outputs: tuple[TensorMap, ...]


def _tensor_maps(tables: list[Table]) -> tuple[TensorMap, ...]:
    return tuple(TensorMap(t.string(0) or "", t.scalar(1, "u32")) for t in tables)


def _signature(table: Table) -> SignatureDef:
    return SignatureDef(table.string(2) or "", table.scalar(4, "u32"), _tensor_maps(table.tables(0)), _tensor_maps(table.tables(1)))


@dataclass(frozen=True)
class Metadata:
    name: str
    buffer: int


@dataclass(frozen=True)
class Model:
    buf: Any  # the memory-mapped file (or bytes)
    version: int
    description: str
    operator_codes: tuple[OperatorCode, ...]
    subgraphs: tuple[SubGraph, ...]
    buffers: tuple[Buffer, ...]
    metadata: tuple[Metadata, ...]
    signature_defs: tuple[SignatureDef, ...]

    def buffer_bytes(self, index: int) -> memoryview:
        buffer = self.buffers[index]
        return memoryview(self.buf)[buffer.start : buffer.start + buffer.size]

    def buffer_array(self, index: int, dtype: np.dtype, count: int) -> np.ndarray:
        """`count` elements of buffer `index` as a read-only view on the file."""
        buffer = self.buffers[index]
        if buffer.size != count * dtype.itemsize:
            raise FlatbufferError(f"buffer {index} has {buffer.size} bytes, not the {count * dtype.itemsize} of {count} {dtype}")
        return np.frombuffer(self.buf, dtype=dtype, count=count, offset=buffer.start)

    def custom_options(self, operator: Operator) -> bytes:
        if operator.custom_options is None:
            return b""
        start, size = operator.custom_options
        return bytes(self.buf[start : start + size])


def parse_model(buf: Any) -> Model:
    """The Model table of a `.tflite` flatbuffer held in `buf` (bytes, mmap)."""
    if len(buf) < 8:
        raise FlatbufferError(f"{len(buf)} bytes: too short for a flatbuffer")
    if bytes(buf[4:8]) != FILE_IDENTIFIER:
        raise FlatbufferError(f"no {FILE_IDENTIFIER.decode()} file identifier (found {bytes(buf[4:8])!r})")
    root = Table(buf, _read(buf, "<I", 0, 4))
    subgraphs = tuple(_subgraph(t) for t in root.tables(2))
    if not subgraphs:
        raise FlatbufferError("the model has no subgraph")
    buffers = tuple(_buffer(t) for t in root.tables(4))
    for index, subgraph in enumerate(subgraphs):
        for tensor in subgraph.tensors:
            if not 0 <= tensor.buffer < max(len(buffers), 1):  # as TFLite's InterpreterBuilder checks
                raise FlatbufferError(f"tensor {tensor.name!r} of subgraph {index} names buffer {tensor.buffer}, of {len(buffers)}")
    return Model(
        buf=buf,
        version=root.scalar(0, "u32"),
        description=root.string(3) or "",
        operator_codes=tuple(_operator_code(t) for t in root.tables(1)),
        subgraphs=subgraphs,
        buffers=buffers,
        metadata=tuple(Metadata(t.string(0) or "", t.scalar(1, "u32")) for t in root.tables(6)),
        signature_defs=tuple(_signature(t) for t in root.tables(7)),
    )


def map_file(path: str | os.PathLike[str]) -> Any:
    """The file's bytes, memory-mapped read-only (an empty file gives empty bytes)."""
    with open(Path(path), "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size == 0:
            return b""
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


# ---------------------------------------------------------------- builtin options


@dataclass(frozen=True)
class OptionsTable:
    """A BuiltinOptions table: its fields in slot order as (name, kind, default); kind is a
    scalar kind, `[i32]` for a vector, or an enum name from ENUMS; name None for a deprecated slot."""

    name: str
    fields: tuple[tuple[str | None, str, Any], ...]


ACTIVATION = ("fused_activation_function", "ActivationFunctionType", "NONE")
PADDING = ("padding", "Padding", "SAME")
QUANTIZED_BIAS = ("quantized_bias_type", "TensorType", "FLOAT32")

# Keyed by the BuiltinOptions union's type code (its position in the union, from 1). The tables
# of the ops the frontend converts; an op whose table is missing here is refused with its name.
BUILTIN_OPTIONS: dict[int, OptionsTable] = {
    1: OptionsTable("Conv2DOptions", (PADDING, ("stride_w", "i32", 0), ("stride_h", "i32", 0), ACTIVATION,
                                      ("dilation_w_factor", "i32", 1), ("dilation_h_factor", "i32", 1), QUANTIZED_BIAS)),
    2: OptionsTable("DepthwiseConv2DOptions", (PADDING, ("stride_w", "i32", 0), ("stride_h", "i32", 0),
                                               ("depth_multiplier", "i32", 0), ACTIVATION,
                                               ("dilation_w_factor", "i32", 1), ("dilation_h_factor", "i32", 1))),
    5: OptionsTable("Pool2DOptions", (PADDING, ("stride_w", "i32", 0), ("stride_h", "i32", 0),
                                      ("filter_width", "i32", 0), ("filter_height", "i32", 0), ACTIVATION)),
    8: OptionsTable("FullyConnectedOptions", (ACTIVATION, ("weights_format", "FullyConnectedOptionsWeightsFormat", "DEFAULT"),
                                              ("keep_num_dims", "bool", False), ("asymmetric_quantize_inputs", "bool", False),
                                              QUANTIZED_BIAS)),
    9: OptionsTable("SoftmaxOptions", (("beta", "f32", 0.0),)),
    10: OptionsTable("ConcatenationOptions", (("axis", "i32", 0), ACTIVATION)),
    11: OptionsTable("AddOptions", (ACTIVATION, ("pot_scale_int16", "bool", True))),
    12: OptionsTable("L2NormOptions", (ACTIVATION,)),
    13: OptionsTable("LocalResponseNormalizationOptions", (("radius", "i32", 0), ("bias", "f32", 0.0), ("alpha", "f32", 0.0), ("beta", "f32", 0.0))),
    15: OptionsTable("ResizeBilinearOptions", ((None, "i32", 0), (None, "i32", 0),
                                               ("align_corners", "bool", False), ("half_pixel_centers", "bool", False))),
    17: OptionsTable("ReshapeOptions", (("new_shape", "[i32]", None),)),
    19: OptionsTable("SpaceToDepthOptions", (("block_size", "i32", 0),)),
    21: OptionsTable("MulOptions", (ACTIVATION,)),
    22: OptionsTable("PadOptions", ()),
    23: OptionsTable("GatherOptions", (("axis", "i32", 0), ("batch_dims", "i32", 0))),
    24: OptionsTable("BatchToSpaceNDOptions", ()),
    25: OptionsTable("SpaceToBatchNDOptions", ()),
    26: OptionsTable("TransposeOptions", ()),
    27: OptionsTable("ReducerOptions", (("keep_dims", "bool", False),)),
    28: OptionsTable("SubOptions", (ACTIVATION, ("pot_scale_int16", "bool", True))),
    29: OptionsTable("DivOptions", (ACTIVATION,)),
    30: OptionsTable("SqueezeOptions", (("squeeze_dims", "[i32]", None),)),
    31: OptionsTable("SequenceRNNOptions", (("time_major", "bool", False), ACTIVATION, ("asymmetric_quantize_inputs", "bool", False))),
    32: OptionsTable("StridedSliceOptions", (("begin_mask", "i32", 0), ("end_mask", "i32", 0), ("ellipsis_mask", "i32", 0),
                                             ("new_axis_mask", "i32", 0), ("shrink_axis_mask", "i32", 0), ("offset", "bool", False))),
    33: OptionsTable("ExpOptions", ()),
    34: OptionsTable("TopKV2Options", ()),
    35: OptionsTable("SplitOptions", (("num_splits", "i32", 0),)),
    36: OptionsTable("LogSoftmaxOptions", ()),
    37: OptionsTable("CastOptions", (("in_data_type", "TensorType", "FLOAT32"), ("out_data_type", "TensorType", "FLOAT32"))),
    38: OptionsTable("DequantizeOptions", ()),
    39: OptionsTable("MaximumMinimumOptions", ()),
    40: OptionsTable("ArgMaxOptions", (("output_type", "TensorType", "FLOAT32"),)),
    41: OptionsTable("LessOptions", ()),
    42: OptionsTable("NegOptions", ()),
    43: OptionsTable("PadV2Options", ()),
    44: OptionsTable("GreaterOptions", ()),
    45: OptionsTable("GreaterEqualOptions", ()),
    46: OptionsTable("LessEqualOptions", ()),
    47: OptionsTable("SelectOptions", ()),
    48: OptionsTable("SliceOptions", ()),
    49: OptionsTable("TransposeConvOptions", (PADDING, ("stride_w", "i32", 0), ("stride_h", "i32", 0), ACTIVATION, QUANTIZED_BIAS)),
    51: OptionsTable("TileOptions", ()),
    52: OptionsTable("ExpandDimsOptions", ()),
    53: OptionsTable("EqualOptions", ()),
    54: OptionsTable("NotEqualOptions", ()),
    55: OptionsTable("ShapeOptions", (("out_type", "TensorType", "FLOAT32"),)),
    56: OptionsTable("PowOptions", ()),
    57: OptionsTable("ArgMinOptions", (("output_type", "TensorType", "FLOAT32"),)),
    59: OptionsTable("PackOptions", (("values_count", "i32", 0), ("axis", "i32", 0))),
    60: OptionsTable("LogicalOrOptions", ()),
    62: OptionsTable("LogicalAndOptions", ()),
    63: OptionsTable("LogicalNotOptions", ()),
    64: OptionsTable("UnpackOptions", (("num", "i32", 0), ("axis", "i32", 0))),
    65: OptionsTable("FloorDivOptions", ()),
    66: OptionsTable("SquareOptions", ()),
    67: OptionsTable("ZerosLikeOptions", ()),
    68: OptionsTable("FillOptions", ()),
    69: OptionsTable("BidirectionalSequenceLSTMOptions", (ACTIVATION, ("cell_clip", "f32", 0.0), ("proj_clip", "f32", 0.0), ("merge_outputs", "bool", False),
                                                          ("time_major", "bool", True), ("asymmetric_quantize_inputs", "bool", False))),
    70: OptionsTable("BidirectionalSequenceRNNOptions", (("time_major", "bool", False), ACTIVATION, ("merge_outputs", "bool", False),
                                                         ("asymmetric_quantize_inputs", "bool", False))),
    71: OptionsTable("UnidirectionalSequenceLSTMOptions", (ACTIVATION, ("cell_clip", "f32", 0.0), ("proj_clip", "f32", 0.0), ("time_major", "bool", False),
                                                           ("asymmetric_quantize_inputs", "bool", False), ("diagonal_recurrent_tensors", "bool", False))),
    72: OptionsTable("FloorModOptions", ()),
    73: OptionsTable("RangeOptions", ()),
    74: OptionsTable("ResizeNearestNeighborOptions", (("align_corners", "bool", False), ("half_pixel_centers", "bool", False))),
    75: OptionsTable("LeakyReluOptions", (("alpha", "f32", 0.0),)),
    76: OptionsTable("SquaredDifferenceOptions", ()),
    77: OptionsTable("MirrorPadOptions", (("mode", "MirrorPadMode", "REFLECT"),)),
    78: OptionsTable("AbsOptions", ()),
    79: OptionsTable("SplitVOptions", (("num_splits", "i32", 0),)),
    81: OptionsTable("ReverseV2Options", ()),
    83: OptionsTable("GatherNdOptions", ()),
    84: OptionsTable("CosOptions", ()),
    85: OptionsTable("WhereOptions", ()),
    89: OptionsTable("QuantizeOptions", ()),
    91: OptionsTable("HardSwishOptions", ()),
    92: OptionsTable("IfOptions", (("then_subgraph_index", "i32", 0), ("else_subgraph_index", "i32", 0))),
    93: OptionsTable("WhileOptions", (("cond_subgraph_index", "i32", 0), ("body_subgraph_index", "i32", 0))),
    94: OptionsTable("DepthToSpaceOptions", (("block_size", "i32", 0),)),
    98: OptionsTable("SelectV2Options", ()),
    99: OptionsTable("DensifyOptions", ()),
    101: OptionsTable("BatchMatMulOptions", (("adj_x", "bool", False), ("adj_y", "bool", False), ("asymmetric_quantize_inputs", "bool", False))),
    102: OptionsTable("CumsumOptions", (("exclusive", "bool", False), ("reverse", "bool", False))),
    104: OptionsTable("BroadcastToOptions", ()),
    106: OptionsTable("Conv3DOptions", (PADDING, ("stride_d", "i32", 0), ("stride_w", "i32", 0), ("stride_h", "i32", 0), ACTIVATION,
                                     ("dilation_d_factor", "i32", 1), ("dilation_w_factor", "i32", 1), ("dilation_h_factor", "i32", 1))),
    116: OptionsTable("GeluOptions", (("approximate", "bool", False),)),
    123: OptionsTable("SignOptions", ()),
}  # fmt: skip


def decode_options(options_type: int, table: Table | None) -> dict[str, Any]:
    """The fields of a builtin options table by name (defaults where the file leaves them out),
    enums by their names. Raises KeyError for a table this module does not describe."""
    if not options_type:
        return {}
    spec = BUILTIN_OPTIONS[options_type]
    values: dict[str, Any] = {}
    for slot, (name, kind, default) in enumerate(spec.fields):
        if name is None:
            continue
        if table is None or not table.has(slot):
            values[name] = default
        elif kind == "[i32]":
            values[name] = table.ints(slot)
        elif kind in ENUMS:
            names = ENUMS[kind]
            code = table.scalar(slot, "i8")
            if not 0 <= code < len(names):
                raise FlatbufferError(f"{spec.name}.{name}: {code} is not a {kind}")
            values[name] = names[code]
        else:
            values[name] = table.scalar(slot, kind, default)
    return values


def option_defaults(options_type: int) -> dict[str, Any]:
    return {name: default for name, _, default in BUILTIN_OPTIONS[options_type].fields if name is not None}


def options_name(options_type: int) -> str:
    spec = BUILTIN_OPTIONS.get(options_type)
    return spec.name if spec is not None else f"builtin options table {options_type}"
