"""The Caffe protobuf messages the frontend reads, built here without Caffe.

`SCHEMA` is written in proto2 syntax and copies BVLC Caffe's src/caffe/proto/caffe.proto,
keeping only the fields irforge reads: field numbers and defaults are facts of the file format
and must match upstream. Layers of well-known forks are added under the numbers their forks
gave them (SSD's Permute, PriorBox, DetectionOutput, Normalize from weiliu89/caffe; ROIPooling
from Fast R-CNN; ShuffleChannel from ShuffleNet's); two forks reuse numbers BVLC took later
(DeepLab's and PSPNet's interp_param = 143 is BVLC's input_param), so Interp and Proposal
sit on numbers of their own here: only text files name them, and text names fields by name.

Two schemas come out of it. `NetParameter` reads a .prototxt (text format, unknown fields
skipped: training-only settings such as `param { lr_mult }` or fillers are not read).
`NetWeights` reads a .caffemodel: a NetParameter too, but only each layer's name, type and
blobs, so whatever else a fork stored there (in numbers of its own) is skipped unread.
"""

from __future__ import annotations

import re
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.message import Message

PACKAGE = "irforge.caffe"

SCHEMA = """
enum Phase { TRAIN = 0; TEST = 1; }

message BlobShape {
  repeated int64 dim = 1 [packed = true];
}

// NVIDIA Caffe's half-precision storage (read by OpenCV too).
enum Type { DOUBLE = 0; FLOAT = 1; FLOAT16 = 2; INT = 3; UINT = 4; }

message BlobProto {
  optional BlobShape shape = 7;
  repeated float data = 5 [packed = true];
  repeated double double_data = 8 [packed = true];
  optional Type raw_data_type = 10;
  optional bytes raw_data = 12;
  optional int32 num = 1 [default = 0];
  optional int32 channels = 2 [default = 0];
  optional int32 height = 3 [default = 0];
  optional int32 width = 4 [default = 0];
}

message NetState {
  optional Phase phase = 1 [default = TEST];
  optional int32 level = 2 [default = 0];
  repeated string stage = 3;
}

message NetStateRule {
  optional Phase phase = 1;
  optional int32 min_level = 2;
  optional int32 max_level = 3;
  repeated string stage = 4;
  repeated string not_stage = 5;
}

message NetParameter {
  optional string name = 1;
  repeated string input = 3;
  repeated BlobShape input_shape = 8;
  repeated int32 input_dim = 4;
  optional NetState state = 6;
  repeated LayerParameter layer = 100;
  repeated V1LayerParameter layers = 2;
}

message LayerParameter {
  optional string name = 1;
  optional string type = 2;
  repeated string bottom = 3;
  repeated string top = 4;
  optional Phase phase = 10;
  repeated BlobProto blobs = 7;
  repeated NetStateRule include = 8;
  repeated NetStateRule exclude = 9;

  optional ArgMaxParameter argmax_param = 103;
  optional BatchNormParameter batch_norm_param = 139;
  optional BiasParameter bias_param = 141;
  optional ClipParameter clip_param = 148;
  optional ConcatParameter concat_param = 104;
  optional ConvolutionParameter convolution_param = 106;
  optional CropParameter crop_param = 144;
  optional DropoutParameter dropout_param = 108;
  optional EltwiseParameter eltwise_param = 110;
  optional ELUParameter elu_param = 140;
  optional ExpParameter exp_param = 111;
  optional FlattenParameter flatten_param = 135;
  optional InnerProductParameter inner_product_param = 117;
  optional InputParameter input_param = 143;
  optional LogParameter log_param = 134;
  optional LRNParameter lrn_param = 118;
  optional MVNParameter mvn_param = 120;
  optional PoolingParameter pooling_param = 121;
  optional PowerParameter power_param = 122;
  optional PReLUParameter prelu_param = 131;
  optional ReLUParameter relu_param = 123;
  optional ReshapeParameter reshape_param = 133;
  optional ScaleParameter scale_param = 142;
  optional SigmoidParameter sigmoid_param = 124;
  optional SoftmaxParameter softmax_param = 125;
  optional SliceParameter slice_param = 126;
  optional TanHParameter tanh_param = 127;
  optional TileParameter tile_param = 138;

  // weiliu89/caffe (SSD)
  optional PermuteParameter permute_param = 202;
  optional PriorBoxParameter prior_box_param = 203;
  optional DetectionOutputParameter detection_output_param = 204;
  optional NormalizeParameter norm_param = 206;
  // ShuffleNet's caffe
  optional ShuffleChannelParameter shuffle_channel_param = 164;
  // Fast R-CNN's caffe
  optional ROIPoolingParameter roi_pooling_param = 8266711;
  // text-only here (see the module's doc)
  optional InterpParameter interp_param = 2143;
  optional ProposalParameter proposal_param = 2201;
}

message V1LayerParameter {
  enum LayerType {
    NONE = 0; ABSVAL = 35; ACCURACY = 1; ARGMAX = 30; BNLL = 2; CONCAT = 3; CONTRASTIVE_LOSS = 37;
    CONVOLUTION = 4; DATA = 5; DECONVOLUTION = 39; DROPOUT = 6; DUMMY_DATA = 32; EUCLIDEAN_LOSS = 7;
    ELTWISE = 25; EXP = 38; FLATTEN = 8; HDF5_DATA = 9; HDF5_OUTPUT = 10; HINGE_LOSS = 28;
    IM2COL = 11; IMAGE_DATA = 12; INFOGAIN_LOSS = 13; INNER_PRODUCT = 14; LRN = 15;
    MEMORY_DATA = 29; MULTINOMIAL_LOGISTIC_LOSS = 16; MVN = 34; POOLING = 17; POWER = 26;
    RELU = 18; SIGMOID = 19; SIGMOID_CROSS_ENTROPY_LOSS = 27; SILENCE = 36; SOFTMAX = 20;
    SOFTMAX_LOSS = 21; SPLIT = 22; SLICE = 33; TANH = 23; WINDOW_DATA = 24; THRESHOLD = 31;
  }
  repeated string bottom = 2;
  repeated string top = 3;
  optional string name = 4;
  repeated NetStateRule include = 32;
  repeated NetStateRule exclude = 33;
  optional LayerType type = 5;
  repeated BlobProto blobs = 6;

  optional ArgMaxParameter argmax_param = 23;
  optional ConcatParameter concat_param = 9;
  optional ConvolutionParameter convolution_param = 10;
  optional DropoutParameter dropout_param = 12;
  optional EltwiseParameter eltwise_param = 24;
  optional ExpParameter exp_param = 41;
  optional InnerProductParameter inner_product_param = 17;
  optional LRNParameter lrn_param = 18;
  optional MVNParameter mvn_param = 34;
  optional PoolingParameter pooling_param = 19;
  optional PowerParameter power_param = 21;
  optional ReLUParameter relu_param = 30;
  optional SigmoidParameter sigmoid_param = 38;
  optional SoftmaxParameter softmax_param = 39;
  optional SliceParameter slice_param = 31;
  optional TanHParameter tanh_param = 37;
}

enum Engine { DEFAULT = 0; CAFFE = 1; CUDNN = 2; }

message InputParameter {
  repeated BlobShape shape = 1;
}

message ConvolutionParameter {
  optional uint32 num_output = 1;
  optional bool bias_term = 2 [default = true];
  repeated uint32 pad = 3;
  repeated uint32 kernel_size = 4;
  repeated uint32 stride = 6;
  repeated uint32 dilation = 18;
  optional uint32 pad_h = 9 [default = 0];
  optional uint32 pad_w = 10 [default = 0];
  optional uint32 kernel_h = 11;
  optional uint32 kernel_w = 12;
  optional uint32 stride_h = 13;
  optional uint32 stride_w = 14;
  optional uint32 group = 5 [default = 1];
  optional Engine engine = 15 [default = DEFAULT];
  optional int32 axis = 16 [default = 1];
  optional bool force_nd_im2col = 17 [default = false];
}

message InnerProductParameter {
  optional uint32 num_output = 1;
  optional bool bias_term = 2 [default = true];
  optional int32 axis = 5 [default = 1];
  optional bool transpose = 6 [default = false];
}

message PoolingParameter {
  enum PoolMethod { MAX = 0; AVE = 1; STOCHASTIC = 2; }
  enum RoundMode { CEIL = 0; FLOOR = 1; }
  optional PoolMethod pool = 1 [default = MAX];
  optional uint32 pad = 4 [default = 0];
  optional uint32 pad_h = 9 [default = 0];
  optional uint32 pad_w = 10 [default = 0];
  optional uint32 kernel_size = 2;
  optional uint32 kernel_h = 5;
  optional uint32 kernel_w = 6;
  optional uint32 stride = 3 [default = 1];
  optional uint32 stride_h = 7;
  optional uint32 stride_w = 8;
  optional Engine engine = 11 [default = DEFAULT];
  optional bool global_pooling = 12 [default = false];
  optional RoundMode round_mode = 13 [default = CEIL];
}

message ReLUParameter {
  optional float negative_slope = 1 [default = 0];
  optional Engine engine = 2 [default = DEFAULT];
}

message PReLUParameter {
  optional bool channel_shared = 2 [default = false];
}

message ELUParameter {
  optional float alpha = 1 [default = 1];
}

message SigmoidParameter {
  optional Engine engine = 1 [default = DEFAULT];
}

message TanHParameter {
  optional Engine engine = 1 [default = DEFAULT];
}

message ClipParameter {
  optional float min = 1;
  optional float max = 2;
}

message PowerParameter {
  optional float power = 1 [default = 1.0];
  optional float scale = 2 [default = 1.0];
  optional float shift = 3 [default = 0.0];
}

message ExpParameter {
  optional float base = 1 [default = -1.0];
  optional float scale = 2 [default = 1.0];
  optional float shift = 3 [default = 0.0];
}

message LogParameter {
  optional float base = 1 [default = -1.0];
  optional float scale = 2 [default = 1.0];
  optional float shift = 3 [default = 0.0];
}

message SoftmaxParameter {
  optional Engine engine = 1 [default = DEFAULT];
  optional int32 axis = 2 [default = 1];
}

message BatchNormParameter {
  optional bool use_global_stats = 1;
  optional float moving_average_fraction = 2 [default = .999];
  optional float eps = 3 [default = 1e-5];
}

message ScaleParameter {
  optional int32 axis = 1 [default = 1];
  optional int32 num_axes = 2 [default = 1];
  optional bool bias_term = 4 [default = false];
}

message BiasParameter {
  optional int32 axis = 1 [default = 1];
  optional int32 num_axes = 2 [default = 1];
}

message EltwiseParameter {
  enum EltwiseOp { PROD = 0; SUM = 1; MAX = 2; }
  optional EltwiseOp operation = 1 [default = SUM];
  repeated float coeff = 2;
  optional bool stable_prod_grad = 3 [default = true];
}

message ConcatParameter {
  optional int32 axis = 2 [default = 1];
  optional uint32 concat_dim = 1 [default = 1];
}

message SliceParameter {
  optional int32 axis = 3 [default = 1];
  repeated uint32 slice_point = 2;
  optional uint32 slice_dim = 1 [default = 1];
}

message CropParameter {
  optional int32 axis = 1 [default = 2];
  repeated uint32 offset = 2;
}

message FlattenParameter {
  optional int32 axis = 1 [default = 1];
  optional int32 end_axis = 2 [default = -1];
}

message ReshapeParameter {
  optional BlobShape shape = 1;
  optional int32 axis = 2 [default = 0];
  optional int32 num_axes = 3 [default = -1];
}

message DropoutParameter {
  optional float dropout_ratio = 1 [default = 0.5];
}

message LRNParameter {
  enum NormRegion { ACROSS_CHANNELS = 0; WITHIN_CHANNEL = 1; }
  optional uint32 local_size = 1 [default = 5];
  optional float alpha = 2 [default = 1.];
  optional float beta = 3 [default = 0.75];
  optional NormRegion norm_region = 4 [default = ACROSS_CHANNELS];
  optional float k = 5 [default = 1.];
  optional Engine engine = 6 [default = DEFAULT];
}

message MVNParameter {
  optional bool normalize_variance = 1 [default = true];
  optional bool across_channels = 2 [default = false];
  optional float eps = 3 [default = 1e-9];
}

message TileParameter {
  optional int32 axis = 1 [default = 1];
  optional int32 tiles = 2;
}

message ArgMaxParameter {
  optional bool out_max_val = 1 [default = false];
  optional uint32 top_k = 2 [default = 1];
  optional int32 axis = 3;
}

message PermuteParameter {
  repeated uint32 order = 1;
}

message NormalizeParameter {
  optional bool across_spatial = 1 [default = true];
  optional bool channel_shared = 3 [default = true];
  optional float eps = 4 [default = 1e-10];
}

message PriorBoxParameter {
  enum CodeType { CORNER = 1; CENTER_SIZE = 2; CORNER_SIZE = 3; }
  repeated float min_size = 1;
  repeated float max_size = 2;
  repeated float aspect_ratio = 3;
  optional bool flip = 4 [default = true];
  optional bool clip = 5 [default = false];
  repeated float variance = 6;
  optional uint32 img_size = 7;
  optional uint32 img_h = 8;
  optional uint32 img_w = 9;
  optional float step = 10;
  optional float step_h = 11;
  optional float step_w = 12;
  optional float offset = 13 [default = 0.5];
}

message NonMaximumSuppressionParameter {
  optional float nms_threshold = 1 [default = 0.3];
  optional int32 top_k = 2;
  optional float eta = 3 [default = 1.0];
}

message DetectionOutputParameter {
  optional uint32 num_classes = 1;
  optional bool share_location = 2 [default = true];
  optional int32 background_label_id = 3 [default = 0];
  optional NonMaximumSuppressionParameter nms_param = 4;
  optional PriorBoxParameter.CodeType code_type = 6 [default = CORNER];
  optional bool variance_encoded_in_target = 8 [default = false];
  optional int32 keep_top_k = 7 [default = -1];
  optional float confidence_threshold = 9;
}

message ShuffleChannelParameter {
  optional uint32 group = 1 [default = 1];
}

message ROIPoolingParameter {
  optional uint32 pooled_h = 1 [default = 0];
  optional uint32 pooled_w = 2 [default = 0];
  optional float spatial_scale = 3 [default = 1];
}

message InterpParameter {
  optional int32 height = 1 [default = 0];
  optional int32 width = 2 [default = 0];
  optional int32 zoom_factor = 3 [default = 1];
  optional int32 shrink_factor = 4 [default = 1];
  optional int32 pad_beg = 5 [default = 0];
  optional int32 pad_end = 6 [default = 0];
}

message ProposalParameter {
  optional uint32 feat_stride = 1 [default = 16];
  optional uint32 base_size = 2 [default = 16];
  optional uint32 min_size = 3 [default = 16];
  repeated float ratio = 4;
  repeated float scale = 5;
  optional uint32 pre_nms_topn = 6 [default = 6000];
  optional uint32 post_nms_topn = 7 [default = 300];
  optional float nms_thresh = 8 [default = 0.7];
}

// A .caffemodel read for its weights only.
message LayerWeights {
  optional string name = 1;
  optional string type = 2;
  repeated BlobProto blobs = 7;
}

message V1LayerWeights {
  optional string name = 4;
  optional int32 type = 5;
  repeated BlobProto blobs = 6;
}

message NetWeights {
  optional string name = 1;
  repeated LayerWeights layer = 100;
  repeated V1LayerWeights layers = 2;
}
"""

# ---------------------------------------------------------------- a reader for the subset of proto2 syntax above

FieldProto = descriptor_pb2.FieldDescriptorProto

SCALAR_TYPES = {
    "double": FieldProto.TYPE_DOUBLE,
    "float": FieldProto.TYPE_FLOAT,
    "int64": FieldProto.TYPE_INT64,
    "uint64": FieldProto.TYPE_UINT64,
    "int32": FieldProto.TYPE_INT32,
    "uint32": FieldProto.TYPE_UINT32,
    "bool": FieldProto.TYPE_BOOL,
    "string": FieldProto.TYPE_STRING,
    "bytes": FieldProto.TYPE_BYTES,
}
LABELS = {"optional": FieldProto.LABEL_OPTIONAL, "repeated": FieldProto.LABEL_REPEATED, "required": FieldProto.LABEL_REQUIRED}

TOKEN = re.compile(r"\s+|//[^\n]*|([A-Za-z_][\w.]*|-?[\d.]+(?:e-?\d+)?|[{}=;\[\],])")


class SchemaError(Exception):
    """The schema text above is malformed: a bug in this module, not in a model file."""


class _SchemaReader:
    def __init__(self, text: str):
        self.tokens = [m.group(1) for m in TOKEN.finditer(text) if m.group(1)]
        self.position = 0
        self.names: dict[str, bool] = {}  # full name → is a message (else an enum)
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
        proto = descriptor_pb2.FileDescriptorProto(name="irforge/caffe.proto", package=PACKAGE, syntax="proto2")
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

    def enum(self, proto: descriptor_pb2.EnumDescriptorProto, scope: list[str]) -> None:
        proto.name = self.next()
        self.names[".".join([PACKAGE, *scope, proto.name])] = False
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
        self.names[".".join([PACKAGE, *inner])] = True
        self.next("{")
        while self.peek() != "}":
            token = self.next()
            if token == "message":
                self.message(proto.nested_type.add(), inner)
            elif token == "enum":
                self.enum(proto.enum_type.add(), inner)
            elif token in LABELS:
                self.field(proto, inner, LABELS[token])
            else:
                raise SchemaError(f"unexpected {token!r} in message {proto.name}")
        self.next("}")

    def field(self, message: descriptor_pb2.DescriptorProto, scope: list[str], label: int) -> None:
        type_name = self.next()
        name = self.next()
        self.next("=")
        field_proto = message.field.add(name=name, number=int(self.next()), label=label)
        if self.peek() == "[":
            self.next()
            while True:
                option = self.next()
                self.next("=")
                value = self.next()
                if option == "default":
                    field_proto.default_value = value
                elif option == "packed":
                    field_proto.options.packed = value == "true"
                else:
                    raise SchemaError(f"unknown field option {option!r}")
                if self.next() == "]":
                    break
        self.next(";")
        if type_name in SCALAR_TYPES:
            field_proto.type = SCALAR_TYPES[type_name]
        else:
            self.references.append((field_proto, scope, type_name))  # resolved once every name is known

    def resolve(self, field_proto: FieldProto, scope: list[str], type_name: str) -> None:
        """Protobuf's scoping: look the name up from the innermost enclosing message outwards."""
        for depth in range(len(scope), -1, -1):
            candidate = ".".join([PACKAGE, *scope[:depth], type_name])
            if candidate in self.names:
                field_proto.type_name = "." + candidate
                field_proto.type = FieldProto.TYPE_MESSAGE if self.names[candidate] else FieldProto.TYPE_ENUM
                return
        raise SchemaError(f"unknown type {type_name!r} in {'.'.join(scope)}")


def _build() -> tuple[descriptor_pb2.FileDescriptorProto, descriptor_pool.DescriptorPool]:
    file_proto = _SchemaReader(SCHEMA).file()
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    return file_proto, pool


FILE_PROTO, POOL = _build()


def message_class(name: str) -> type[Message]:
    """A message class by its name inside the schema, e.g. "PoolingParameter"."""
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(f"{PACKAGE}.{name}"))


NetParameter: Any = message_class("NetParameter")
LayerParameter: Any = message_class("LayerParameter")
V1LayerParameter: Any = message_class("V1LayerParameter")
BlobProto: Any = message_class("BlobProto")
BlobShape: Any = message_class("BlobShape")
NetWeights: Any = message_class("NetWeights")


def parse_text(text: str, message: Message) -> Message:
    """Parse protobuf text format into `message`, skipping fields the schema leaves out."""
    return text_format.Parse(text, message, allow_unknown_field=True, descriptor_pool=POOL)
