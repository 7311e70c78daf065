"""The TensorFlow protobuf messages the frontend reads, built here without TensorFlow.

`SCHEMA` is written in .proto syntax and copies TensorFlow's own files
(tensorflow/core/framework/*.proto, tensorflow/core/protobuf/*.proto), keeping only the
fields irforge reads: field numbers are facts of the file format and must match upstream
exactly (tests compare them with TensorFlow's descriptors). Fields left out are kept by
protobuf as unknown fields when parsing binary files and skipped when parsing text
(`parse_text`), so these partial schemas read real files.

The messages live in a private package (`irforge.tf`) and a private descriptor pool, so they
never clash with TensorFlow's `tensorflow.*` messages in a process that loads both.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.message import Message

PACKAGE = "irforge.tf"

SCHEMA = """
// tensorflow/core/framework/types.proto
enum DataType {
  DT_INVALID = 0; DT_FLOAT = 1; DT_DOUBLE = 2; DT_INT32 = 3; DT_UINT8 = 4; DT_INT16 = 5;
  DT_INT8 = 6; DT_STRING = 7; DT_COMPLEX64 = 8; DT_INT64 = 9; DT_BOOL = 10; DT_QINT8 = 11;
  DT_QUINT8 = 12; DT_QINT32 = 13; DT_BFLOAT16 = 14; DT_QINT16 = 15; DT_QUINT16 = 16;
  DT_UINT16 = 17; DT_COMPLEX128 = 18; DT_HALF = 19; DT_RESOURCE = 20; DT_VARIANT = 21;
  DT_UINT32 = 22; DT_UINT64 = 23; DT_FLOAT8_E5M2 = 24; DT_FLOAT8_E4M3FN = 25;
  DT_FLOAT8_E4M3FNUZ = 26; DT_FLOAT8_E4M3B11FNUZ = 27; DT_FLOAT8_E5M2FNUZ = 28; DT_INT4 = 29;
  DT_UINT4 = 30; DT_INT2 = 31; DT_UINT2 = 32; DT_FLOAT4_E2M1FN = 33;
  DT_FLOAT_REF = 101; DT_DOUBLE_REF = 102; DT_INT32_REF = 103; DT_UINT8_REF = 104;
  DT_INT16_REF = 105; DT_INT8_REF = 106; DT_STRING_REF = 107; DT_COMPLEX64_REF = 108;
  DT_INT64_REF = 109; DT_BOOL_REF = 110; DT_QINT8_REF = 111; DT_QUINT8_REF = 112;
  DT_QINT32_REF = 113; DT_BFLOAT16_REF = 114; DT_QINT16_REF = 115; DT_QUINT16_REF = 116;
  DT_UINT16_REF = 117; DT_COMPLEX128_REF = 118; DT_HALF_REF = 119; DT_RESOURCE_REF = 120;
  DT_VARIANT_REF = 121; DT_UINT32_REF = 122; DT_UINT64_REF = 123; DT_FLOAT8_E5M2_REF = 124;
  DT_FLOAT8_E4M3FN_REF = 125; DT_FLOAT8_E4M3FNUZ_REF = 126; DT_FLOAT8_E4M3B11FNUZ_REF = 127;
  DT_FLOAT8_E5M2FNUZ_REF = 128; DT_INT4_REF = 129; DT_UINT4_REF = 130; DT_INT2_REF = 131;
  DT_UINT2_REF = 132; DT_FLOAT4_E2M1FN_REF = 133;
}

// tensorflow/core/framework/tensor_shape.proto
message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

// tensorflow/core/framework/tensor.proto
message TensorProto {
  DataType dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated int32 half_val = 13;
  repeated float float_val = 5;
  repeated double double_val = 6;
  repeated int32 int_val = 7;
  repeated bytes string_val = 8;
  repeated float scomplex_val = 9;
  repeated int64 int64_val = 10;
  repeated bool bool_val = 11;
  repeated double dcomplex_val = 12;
  repeated uint32 uint32_val = 16;
  repeated uint64 uint64_val = 17;
}

// tensorflow/core/framework/attr_value.proto
message AttrValue {
  message ListValue {
    repeated bytes s = 2;
    repeated int64 i = 3;
    repeated float f = 4;
    repeated bool b = 5;
    repeated DataType type = 6;
    repeated TensorShapeProto shape = 7;
    repeated TensorProto tensor = 8;
    repeated NameAttrList func = 9;
  }
  oneof value {
    bytes s = 2;
    int64 i = 3;
    float f = 4;
    bool b = 5;
    DataType type = 6;
    TensorShapeProto shape = 7;
    TensorProto tensor = 8;
    ListValue list = 1;
    NameAttrList func = 10;
    string placeholder = 9;
  }
}

message NameAttrList {
  string name = 1;
  map<string, AttrValue> attr = 2;
}

// tensorflow/core/framework/node_def.proto
message NodeDef {
  string name = 1;
  string op = 2;
  repeated string input = 3;
  string device = 4;
  map<string, AttrValue> attr = 5;
}

// tensorflow/core/framework/versions.proto
message VersionDef {
  int32 producer = 1;
  int32 min_consumer = 2;
  repeated int32 bad_consumers = 3;
}

// tensorflow/core/framework/op_def.proto
message OpDef {
  message ArgDef {
    string name = 1;
    string description = 2;
    DataType type = 3;
    string type_attr = 4;
    string number_attr = 5;
    string type_list_attr = 6;
    bool is_ref = 16;
  }
  string name = 1;
  repeated ArgDef input_arg = 2;
  repeated ArgDef output_arg = 3;
  repeated string control_output = 20;
  bool is_stateful = 17;
}

message OpList {
  repeated OpDef op = 1;
}

// tensorflow/core/framework/function.proto
message FunctionDefLibrary {
  repeated FunctionDef function = 1;
}

message FunctionDef {
  message ArgAttrs {
    map<string, AttrValue> attr = 1;
  }
  OpDef signature = 1;
  map<string, AttrValue> attr = 5;
  map<uint32, ArgAttrs> arg_attr = 7;
  repeated NodeDef node_def = 3;
  map<string, string> ret = 4;
  map<string, string> control_ret = 6;
}

// tensorflow/core/framework/graph.proto
message GraphDef {
  repeated NodeDef node = 1;
  VersionDef versions = 4;
  int32 version = 3;
  FunctionDefLibrary library = 2;
}

// tensorflow/core/protobuf/saver.proto
message SaverDef {
  enum CheckpointFormatVersion {
    LEGACY = 0;
    V1 = 1;
    V2 = 2;
  }
  string filename_tensor_name = 1;
  string save_tensor_name = 2;
  string restore_op_name = 3;
  CheckpointFormatVersion version = 7;
}

// tensorflow/core/protobuf/meta_graph.proto
message MetaGraphDef {
  message MetaInfoDef {
    string meta_graph_version = 1;
    OpList stripped_op_list = 2;
    repeated string tags = 4;
    string tensorflow_version = 5;
    string tensorflow_git_version = 6;
    bool stripped_default_attrs = 7;
  }
  MetaInfoDef meta_info_def = 1;
  GraphDef graph_def = 2;
  SaverDef saver_def = 3;
  map<string, SignatureDef> signature_def = 5;
  SavedObjectGraph object_graph_def = 7;
}

message TensorInfo {
  oneof encoding {
    string name = 1;
  }
  DataType dtype = 2;
  TensorShapeProto tensor_shape = 3;
}

message SignatureDef {
  map<string, TensorInfo> inputs = 1;
  map<string, TensorInfo> outputs = 2;
  string method_name = 3;
}

// tensorflow/core/protobuf/saved_model.proto
message SavedModel {
  int64 saved_model_schema_version = 1;
  repeated MetaGraphDef meta_graphs = 2;
}

// tensorflow/core/protobuf/trackable_object_graph.proto
message TrackableObjectGraph {
  message TrackableObject {
    message ObjectReference {
      int32 node_id = 1;
      string local_name = 2;
    }
    message SerializedTensor {
      string name = 1;
      string full_name = 2;
      string checkpoint_key = 3;
    }
    message SlotVariableReference {
      int32 original_variable_node_id = 1;
      string slot_name = 2;
      int32 slot_variable_node_id = 3;
    }
    repeated ObjectReference children = 1;
    repeated SerializedTensor attributes = 2;
    repeated SlotVariableReference slot_variables = 3;
  }
  repeated TrackableObject nodes = 1;
}

// tensorflow/core/protobuf/saved_object_graph.proto
message SavedObjectGraph {
  repeated SavedObject nodes = 1;
  map<string, SavedConcreteFunction> concrete_functions = 2;
}

message SavedObject {
  repeated TrackableObjectGraph.TrackableObject.ObjectReference children = 1;
  oneof kind {
    SavedUserObject user_object = 4;
    SavedAsset asset = 5;
    SavedFunction function = 6;
    SavedVariable variable = 7;
    SavedBareConcreteFunction bare_concrete_function = 8;
    SavedConstant constant = 9;
    SavedResource resource = 10;
    CapturedTensor captured_tensor = 12;
  }
}

message SavedUserObject {
  string identifier = 1;
}

message SavedAsset {
  int32 asset_file_def_index = 1;
}

message SavedFunction {
  repeated string concrete_functions = 1;
}

message CapturedTensor {
  string name = 1;
  string concrete_function = 2;
}

message SavedConcreteFunction {
  repeated int32 bound_inputs = 2;
}

message SavedBareConcreteFunction {
  string concrete_function_name = 1;
  repeated string argument_keywords = 2;
  int64 allowed_positional_arguments = 3;
}

message SavedConstant {
  string operation = 1;
}

message SavedVariable {
  DataType dtype = 1;
  TensorShapeProto shape = 2;
  bool trainable = 3;
  string name = 6;
  string device = 7;
}

message SavedResource {
  string device = 1;
}

// tensorflow/core/framework/tensor_slice.proto
message TensorSliceProto {
  message Extent {
    int64 start = 1;
    oneof has_length {
      int64 length = 2;
    }
  }
  repeated Extent extent = 1;
}

// tensorflow/core/protobuf/tensor_bundle.proto
message BundleHeaderProto {
  enum Endianness {
    LITTLE = 0;
    BIG = 1;
  }
  int32 num_shards = 1;
  Endianness endianness = 2;
  VersionDef version = 3;
}

message BundleEntryProto {
  DataType dtype = 1;
  TensorShapeProto shape = 2;
  int32 shard_id = 3;
  int64 offset = 4;
  int64 size = 5;
  fixed32 crc32c = 6;
  repeated TensorSliceProto slices = 7;
}
"""

# ---------------------------------------------------------------- a reader for the subset of .proto syntax above

FieldProto = descriptor_pb2.FieldDescriptorProto

SCALAR_TYPES = {
    "double": FieldProto.TYPE_DOUBLE,
    "float": FieldProto.TYPE_FLOAT,
    "int64": FieldProto.TYPE_INT64,
    "uint64": FieldProto.TYPE_UINT64,
    "int32": FieldProto.TYPE_INT32,
    "uint32": FieldProto.TYPE_UINT32,
    "fixed32": FieldProto.TYPE_FIXED32,
    "bool": FieldProto.TYPE_BOOL,
    "string": FieldProto.TYPE_STRING,
    "bytes": FieldProto.TYPE_BYTES,
}

TOKEN = re.compile(r"\s+|//[^\n]*|([A-Za-z_][\w.]*|-?\d+|[{}=;<>,])")


class SchemaError(Exception):
    """The schema text above is malformed: a bug in this module, not in a model file."""


class _SchemaReader:
    def __init__(self, text: str):
        self.tokens = [m.group(1) for m in TOKEN.finditer(text) if m.group(1)]
        self.position = 0
        self.enums: set[str] = set()
        self.messages: set[str] = set()
        self.references: list[tuple[FieldProto, list[str], str]] = []

    def next(self, expected: str | None = None) -> str:
        token = self.tokens[self.position]
        self.position += 1
        if expected is not None and token != expected:
            raise SchemaError(f"expected {expected!r}, found {token!r} (token {self.position})")
        return token

    def peek(self) -> str:
        return self.tokens[self.position]

    def file(self) -> descriptor_pb2.FileDescriptorProto:
        proto = descriptor_pb2.FileDescriptorProto(name="irforge/tensorflow.proto", package=PACKAGE, syntax="proto3")
        while self.position < len(self.tokens):
            kind = self.next()
            if kind == "message":
                self.message(proto.message_type.add(), [])
            elif kind == "enum":
                self.enum(proto.enum_type.add(), [])
            else:
                raise SchemaError(f"unexpected {kind!r} at the top level")
        for field_proto, scope, name in self.references:
            self.resolve(field_proto, scope, name)
        return proto

    # Messages are filled in place (`add()`), never appended: appending copies, and the
    # type references resolved at the end point into the messages being built.
    def enum(self, proto: descriptor_pb2.EnumDescriptorProto, scope: list[str]) -> None:
        proto.name = self.next()
        self.enums.add(".".join([PACKAGE, *scope, proto.name]))
        self.next("{")
        while self.peek() != "}":
            name = self.next()
            self.next("=")
            proto.value.add(name=name, number=int(self.next()))
            self.next(";")
        self.next("}")

    def message(self, proto: descriptor_pb2.DescriptorProto, scope: list[str]) -> None:
        proto.name = self.next()
        inner = [*scope, proto.name]
        self.messages.add(".".join([PACKAGE, *inner]))
        self.next("{")
        while self.peek() != "}":
            token = self.peek()
            if token == "message":
                self.next()
                self.message(proto.nested_type.add(), inner)
            elif token == "enum":
                self.next()
                self.enum(proto.enum_type.add(), inner)
            elif token == "oneof":
                self.next()
                proto.oneof_decl.add(name=self.next())
                self.next("{")
                while self.peek() != "}":
                    self.field(proto, inner, oneof_index=len(proto.oneof_decl) - 1)
                self.next("}")
            else:
                self.field(proto, inner)
        self.next("}")

    def field(self, message: descriptor_pb2.DescriptorProto, scope: list[str], oneof_index: int | None = None) -> None:
        label = FieldProto.LABEL_OPTIONAL
        if self.peek() == "repeated":
            self.next()
            label = FieldProto.LABEL_REPEATED
        type_name = self.next()
        if type_name == "map":
            self.map_field(message, scope)
            return
        name = self.next()
        self.next("=")
        field_proto = message.field.add(name=name, number=int(self.next()), label=label)
        self.next(";")
        if oneof_index is not None:
            field_proto.oneof_index = oneof_index
        self.set_type(field_proto, scope, type_name)

    def map_field(self, message: descriptor_pb2.DescriptorProto, scope: list[str]) -> None:
        """`map<K, V> name = N;` is a repeated field of a nested `NameEntry {K key = 1; V value = 2;}`."""
        self.next("<")
        key_type = self.next()
        self.next(",")
        value_type = self.next()
        self.next(">")
        name = self.next()
        self.next("=")
        number = int(self.next())
        self.next(";")
        entry = message.nested_type.add(name="".join(part.title() for part in name.split("_")) + "Entry")
        entry.options.map_entry = True
        entry_scope = [*scope, entry.name]
        self.messages.add(".".join([PACKAGE, *entry_scope]))
        self.set_type(entry.field.add(name="key", number=1, label=FieldProto.LABEL_OPTIONAL), entry_scope, key_type)
        self.set_type(entry.field.add(name="value", number=2, label=FieldProto.LABEL_OPTIONAL), entry_scope, value_type)
        message.field.add(
            name=name,
            number=number,
            label=FieldProto.LABEL_REPEATED,
            type=FieldProto.TYPE_MESSAGE,
            type_name=".".join(["", PACKAGE, *entry_scope]),
        )

    def set_type(self, field_proto: FieldProto, scope: list[str], type_name: str) -> None:
        if type_name in SCALAR_TYPES:
            field_proto.type = SCALAR_TYPES[type_name]
        else:
            self.references.append((field_proto, scope, type_name))  # resolved once every name is known

    def resolve(self, field_proto: FieldProto, scope: list[str], type_name: str) -> None:
        """Protobuf's scoping: look the name up from the innermost enclosing message outwards."""
        for depth in range(len(scope), -1, -1):
            candidate = ".".join([PACKAGE, *scope[:depth], type_name])
            if candidate in self.messages or candidate in self.enums:
                field_proto.type_name = "." + candidate
                field_proto.type = FieldProto.TYPE_MESSAGE if candidate in self.messages else FieldProto.TYPE_ENUM
                return
        raise SchemaError(f"unknown type {type_name!r} in {'.'.join(scope)}")


def _build() -> tuple[descriptor_pb2.FileDescriptorProto, descriptor_pool.DescriptorPool]:
    file_proto = _SchemaReader(SCHEMA).file()
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    return file_proto, pool


FILE_PROTO, POOL = _build()


def message_class(name: str) -> type[Message]:
    """A message class by its name inside the schema, e.g. "AttrValue.ListValue"."""
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(f"{PACKAGE}.{name}"))


DataType = enum.IntEnum(  # type: ignore[misc]
    "DataType", {value.name: value.number for value in POOL.FindEnumTypeByName(f"{PACKAGE}.DataType").values}
)

TensorShapeProto: Any = message_class("TensorShapeProto")
TensorProto: Any = message_class("TensorProto")
AttrValue: Any = message_class("AttrValue")
ListValue: Any = message_class("AttrValue.ListValue")
NameAttrList: Any = message_class("NameAttrList")
NodeDef: Any = message_class("NodeDef")
VersionDef: Any = message_class("VersionDef")
OpDef: Any = message_class("OpDef")
ArgDef: Any = message_class("OpDef.ArgDef")
OpList: Any = message_class("OpList")
FunctionDefLibrary: Any = message_class("FunctionDefLibrary")
FunctionDef: Any = message_class("FunctionDef")
GraphDef: Any = message_class("GraphDef")
SaverDef: Any = message_class("SaverDef")
MetaGraphDef: Any = message_class("MetaGraphDef")
TensorInfo: Any = message_class("TensorInfo")
SignatureDef: Any = message_class("SignatureDef")
SavedModel: Any = message_class("SavedModel")
TrackableObjectGraph: Any = message_class("TrackableObjectGraph")
SavedObjectGraph: Any = message_class("SavedObjectGraph")
SavedObject: Any = message_class("SavedObject")
SavedConcreteFunction: Any = message_class("SavedConcreteFunction")
SavedVariable: Any = message_class("SavedVariable")
BundleHeaderProto: Any = message_class("BundleHeaderProto")
BundleEntryProto: Any = message_class("BundleEntryProto")


def parse_text(text: str, message: Message) -> Message:
    """Parse protobuf text format into `message`, skipping fields the schema leaves out."""
    return text_format.Parse(text, message, allow_unknown_field=True, descriptor_pool=POOL)
