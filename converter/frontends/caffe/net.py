"""Caffe NetParameter → IR graph: walk the layers in file order, call one handler per layer.

Handlers live in `frontends/caffe/layers/<family>.py`, one function per layer type, named like
the type (`Convolution`, `ReLU`) and called as `handler(ctx, *bottoms, **params)`: the fields
of the layer's parameter message (`convolution_param` for Convolution and Deconvolution, ...)
that the file sets are keyword arguments, Caffe's defaults sit in the signature. A field the
handler does not name is reported, not ignored (`engine`, which only picks an implementation,
is the exception). Enums arrive as their names ("MAX"), repeated fields as lists, a BlobShape
as a tuple of dims, other messages as themselves.

Blobs are values by name. A layer whose top is one of its bottoms (in place, as ReLU after a
convolution usually is) gives the blob a new value: later layers read the new one, the old
value keeps being what the layers before read. Graph inputs are the net's `input` fields and
its Input layers; outputs are the tops no later layer reads, in the order they were written.
Layers excluded from the TEST phase by include/exclude rules (and the net's state) are left
out, as Caffe leaves them out of a deploy net.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from converter.errors import ConverterError, InvalidModelError, NodeConversionError, UnsupportedOpsError
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType, Shape
from converter.ops.core import const, parameter

Handler = Callable[..., "Value | Sequence[Value] | None"]


class Unsupported(Exception):
    """A layer irforge has a handler for, but not for this use of it (a parameter value, a shape)."""


# The parameter message each layer type reads (V1 layers use the same fields by name).
PARAMS = {
    "ArgMax": "argmax_param",
    "BatchNorm": "batch_norm_param",
    "Bias": "bias_param",
    "Clip": "clip_param",
    "Concat": "concat_param",
    "Convolution": "convolution_param",
    "Crop": "crop_param",
    "Deconvolution": "convolution_param",
    "DetectionOutput": "detection_output_param",
    "Dropout": "dropout_param",
    "ELU": "elu_param",
    "Eltwise": "eltwise_param",
    "Exp": "exp_param",
    "Flatten": "flatten_param",
    "InnerProduct": "inner_product_param",
    "Input": "input_param",
    "Interp": "interp_param",
    "LRN": "lrn_param",
    "Log": "log_param",
    "MVN": "mvn_param",
    "Normalize": "norm_param",
    "PReLU": "prelu_param",
    "Permute": "permute_param",
    "Pooling": "pooling_param",
    "Power": "power_param",
    "PriorBox": "prior_box_param",
    "Proposal": "proposal_param",
    "ROIPooling": "roi_pooling_param",
    "ReLU": "relu_param",
    "Reshape": "reshape_param",
    "Scale": "scale_param",
    "ShuffleChannel": "shuffle_channel_param",
    "Sigmoid": "sigmoid_param",
    "Slice": "slice_param",
    "Softmax": "softmax_param",
    "TanH": "tanh_param",
    "Tile": "tile_param",
}

# V1LayerParameter.LayerType → the layer's type as current files spell it.
V1_TYPES = {
    "ABSVAL": "AbsVal", "ACCURACY": "Accuracy", "ARGMAX": "ArgMax", "BNLL": "BNLL", "CONCAT": "Concat",
    "CONTRASTIVE_LOSS": "ContrastiveLoss", "CONVOLUTION": "Convolution", "DATA": "Data",
    "DECONVOLUTION": "Deconvolution", "DROPOUT": "Dropout", "DUMMY_DATA": "DummyData",
    "EUCLIDEAN_LOSS": "EuclideanLoss", "ELTWISE": "Eltwise", "EXP": "Exp", "FLATTEN": "Flatten",
    "HDF5_DATA": "HDF5Data", "HDF5_OUTPUT": "HDF5Output", "HINGE_LOSS": "HingeLoss", "IM2COL": "Im2col",
    "IMAGE_DATA": "ImageData", "INFOGAIN_LOSS": "InfogainLoss", "INNER_PRODUCT": "InnerProduct",
    "LRN": "LRN", "MEMORY_DATA": "MemoryData", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "MVN": "MVN", "POOLING": "Pooling", "POWER": "Power", "RELU": "ReLU", "SIGMOID": "Sigmoid",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "SILENCE": "Silence", "SOFTMAX": "Softmax",
    "SOFTMAX_LOSS": "SoftmaxWithLoss", "SPLIT": "Split", "SLICE": "Slice", "TANH": "TanH",
    "WINDOW_DATA": "WindowData", "THRESHOLD": "Threshold",
}  # fmt: skip

IGNORED_FIELDS = {"engine"}


@dataclass
class Layer:
    """One layer of either generation (LayerParameter or V1LayerParameter), as the walk sees it."""

    name: str
    type: str
    bottom: list[str]
    top: list[str]
    params: Any  # the layer's parameter message, or None when the file sets none
    index: int


def layers_of(net: Any, source: str) -> list[Layer]:
    """The layers of a net in file order, V1 or current (not both), TEST-phase ones only."""
    if len(net.layer) and len(net.layers):
        raise InvalidModelError(f"{source}: the net has both 'layer' and the deprecated 'layers' fields")
    state = net.state
    found = []
    for index, message in enumerate(net.layer if len(net.layer) else net.layers):
        if not _included(message, state):
            continue
        if message.DESCRIPTOR.name == "V1LayerParameter":
            enum = message.DESCRIPTOR.fields_by_name["type"].enum_type
            kind = V1_TYPES.get(enum.values_by_number[message.type].name, enum.values_by_number[message.type].name)
        else:
            kind = message.type
        field = PARAMS.get(kind)
        params = getattr(message, field) if field and field in message.DESCRIPTOR.fields_by_name and message.HasField(field) else None
        name = message.name or f"{kind or 'layer'}_{index}"
        found.append(Layer(name, kind, list(message.bottom), list(message.top), params, index))
    return found


def _included(message: Any, state: Any) -> bool:
    """Caffe's Net::StateMeetsRule: included when any include rule (or no rule) is met and no exclude rule is."""
    if len(message.include):
        return any(_meets(rule, state) for rule in message.include)
    return not any(_meets(rule, state) for rule in message.exclude)


def _meets(rule: Any, state: Any) -> bool:
    if rule.HasField("phase") and rule.phase != state.phase:
        return False
    if rule.HasField("min_level") and state.level < rule.min_level:
        return False
    if rule.HasField("max_level") and state.level > rule.max_level:
        return False
    stages = set(state.stage)
    return all(stage in stages for stage in rule.stage) and not any(stage in stages for stage in rule.not_stage)


class CaffeContext:
    """What a handler may look at: the layer being converted, its weights, and how to declare a graph input."""

    def __init__(self, source: str, handlers: dict[str, Handler], weights: dict[str, list[np.ndarray]] | None, random_weights: bool):
        self.source = source
        self.handlers = handlers
        self.weights_by_layer = weights if weights is not None else {}
        self.has_weights = weights is not None
        self.random_weights = random_weights
        self.rng = np.random.default_rng(0)
        self.generated: dict[str, list[np.ndarray]] = {}  # random blobs made, by layer name
        self.layer: Layer | None = None
        self.blobs: dict[str, Value] = {}
        self.parameters: list[Node] = []

    @property
    def name(self) -> str:
        return self.layer.name if self.layer is not None else ""

    def input(self, name: str, dims: Sequence[int]) -> Value:
        """A graph input (f32, Caffe's only blob type) named like its blob."""
        if any(d < 0 for d in dims):
            raise Unsupported(f"input {name!r} has a negative dim in {list(dims)}")
        node = parameter(name, ElementType.f32, Shape(tuple(int(d) for d in dims)))
        self.parameters.append(node)
        return node.outputs[0]

    def weights(self, *shapes: Sequence[int]) -> list[np.ndarray]:
        """The layer's blobs as f32 arrays of the given shapes (Caffe stores some with legacy
        4-D shapes: only their sizes must match), or random ones under --caffe-random-weights."""
        shapes = tuple(tuple(int(d) for d in shape) for shape in shapes)
        if self.name in self.weights_by_layer:
            blobs = self.weights_by_layer[self.name]
            if len(blobs) != len(shapes):
                raise Unsupported(f"{len(blobs)} blobs in the weights, the layer takes {len(shapes)}")
            arrays = []
            for index, (blob, shape) in enumerate(zip(blobs, shapes)):
                if blob.size != int(np.prod(shape)):
                    raise Unsupported(f"blob {index} holds {blob.size} values, the layer takes {list(shape)}")
                arrays.append(blob.reshape(shape))
            return arrays
        if not self.random_weights:
            where = "the .caffemodel" if self.has_weights else "no .caffemodel (give one, or --caffe-random-weights)"
            raise InvalidModelError(f"{self.source}: layer {self.name!r} ({self.layer.type if self.layer else ''}) has no weights in {where}")
        arrays = [self._random(shape) for shape in shapes]
        self.generated[self.name] = arrays
        return arrays

    def _random(self, shape: tuple[int, ...]) -> np.ndarray:
        # Filters scaled by their fan-in keep activations in range; vectors (biases, scales,
        # means, variances) are positive so that variances and scale factors are valid.
        if len(shape) >= 2:
            fan_in = max(int(np.prod(shape[1:])), 1)
            return (self.rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
        return self.rng.uniform(0.5, 1.5, shape).astype(np.float32)


# ---------------------------------------------------------------- the walk


def find_unsupported(layers: Iterable[Layer], handlers: dict[str, Handler]) -> dict[str, list[str]]:
    """Every layer type without a handler, with the names of its layers."""
    found: dict[str, list[str]] = {}
    for layer in layers:
        if layer.type not in handlers:
            found.setdefault(layer.type or "(no type)", []).append(layer.name)
    return found


def convert_net(
    net: Any,
    source: str,
    handlers: dict[str, Handler],
    weights: dict[str, list[np.ndarray]] | None,
    random_weights: bool = False,
    name: str = "model",
) -> tuple[Graph, dict[str, list[np.ndarray]]]:
    """The IR graph of a net, and the random blobs made for it (by layer name; empty unless
    `random_weights`). `weights` are the caffemodel's blobs by layer name (None: no caffemodel)."""
    layers = layers_of(net, source)
    unsupported = find_unsupported(layers, handlers)
    if unsupported:
        raise UnsupportedOpsError(source, unsupported)
    ctx = CaffeContext(source, handlers, weights, random_weights)
    written: list[str] = []  # blobs in the order they were last written
    unread: set[str] = set()
    for blob, dims in net_inputs(net, source):
        ctx.blobs[blob] = ctx.input(blob, dims)
    for layer in layers:
        ctx.layer = layer
        for blob in layer.bottom:
            if blob not in ctx.blobs:
                raise InvalidModelError(f"{source}: layer {layer.name!r} ({layer.type}) reads blob {blob!r}, which no layer before it writes")
            unread.discard(blob)
        produced = convert_layer(ctx, layer)
        for blob, value in zip(layer.top, produced):
            bind(ctx, blob, value)
            unread.add(blob)
            if blob in written:
                written.remove(blob)
            written.append(blob)
    ctx.layer = None
    outputs = [ctx.blobs[blob] for blob in written if blob in unread and ctx.blobs[blob].producer.op.type != "Parameter"]
    for blob in written:
        value = ctx.blobs[blob]
        if blob in unread and blob in value.names:  # an output is known by its blob's name first
            value.names.remove(blob)
            value.names.insert(0, blob)
    if not outputs:
        raise InvalidModelError(f"{source}: the net computes nothing (no layer writes a blob that no other reads)")
    return Graph(ctx.parameters, outputs, name), ctx.generated


def net_inputs(net: Any, source: str) -> list[tuple[str, list[int]]]:
    """The net-level inputs (`input` with `input_shape` or 4 `input_dim`s each); Input layers add theirs as handlers."""
    names = list(net.input)
    if len(net.input_shape):
        if len(net.input_shape) != len(names):
            raise InvalidModelError(f"{source}: {len(names)} inputs but {len(net.input_shape)} input_shape entries")
        return [(n, list(shape.dim)) for n, shape in zip(names, net.input_shape)]
    if len(net.input_dim):
        if len(net.input_dim) != 4 * len(names):
            raise InvalidModelError(f"{source}: {len(names)} inputs need {4 * len(names)} input_dim values, the net has {len(net.input_dim)}")
        dims = list(net.input_dim)
        return [(n, dims[4 * i : 4 * i + 4]) for i, n in enumerate(names)]
    if names:
        raise InvalidModelError(f"{source}: input {names[0]!r} has no shape (input_shape or input_dim)")
    return []


def bind(ctx: CaffeContext, blob: str, value: Value) -> None:
    """Make `value` the blob's current value; the blob's name moves to it (graph inputs keep theirs)."""
    old = ctx.blobs.get(blob)
    if not value.producer.name:
        value.producer.name = ctx.name
    if old is not None and old is not value and blob in old.names and old.producer.op.type != "Parameter":
        old.names.remove(blob)
    is_input = old is not None and old is not value and old.producer.op.type == "Parameter" and blob in old.names
    if not is_input and blob not in value.names and value.producer.op.type != "Parameter":
        value.names.append(blob)
    ctx.blobs[blob] = value


def convert_layer(ctx: CaffeContext, layer: Layer) -> list[Value]:
    handler = ctx.handlers[layer.type]
    try:
        inputs = [ctx.blobs[blob] for blob in layer.bottom]
        params = handler_params(handler, layer)
        check_inputs(handler, len(inputs))
        result = handler(ctx, *inputs, **params)
        produced = [] if result is None else [result] if isinstance(result, Value) else list(result)
        if len(produced) != len(layer.top):
            raise Unsupported(f"{len(produced)} results for {len(layer.top)} tops")
    except Unsupported as error:
        raise NodeConversionError(ctx.source, layer.name, layer.type, str(error)) from None
    except ConverterError:
        raise
    except (ValueError, TypeError, IndexError, KeyError) as error:
        raise NodeConversionError(ctx.source, layer.name, layer.type, f"{type(error).__name__}: {error}") from error
    return produced


# ---------------------------------------------------------------- parameters


@functools.cache
def _signature(handler: Handler) -> inspect.Signature:
    return inspect.signature(handler)


def handler_params(handler: Handler, layer: Layer) -> dict[str, Any]:
    """The fields the layer's parameter message sets, for the handler; reports those it does not take."""
    if layer.params is None:
        return {}
    named = {n for n, p in _signature(handler).parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    params: dict[str, Any] = {}
    unknown = []
    for field, value in layer.params.ListFields():
        if field.name in named:
            params[field.name] = field_value(field, value)
        elif field.name not in IGNORED_FIELDS:
            unknown.append(field.name)
    if unknown:
        raise Unsupported(f"unsupported parameter(s) {', '.join(sorted(unknown))}")
    return params


def field_value(field: Any, value: Any) -> Any:
    """A set field as a Python value: enum names, lists, BlobShape dims as a tuple."""
    repeated = field.is_repeated
    if field.enum_type is not None:
        names = field.enum_type.values_by_number
        return [names[v].name for v in value] if repeated else names[value].name
    if field.message_type is not None and field.message_type.name == "BlobShape":
        return [tuple(v.dim) for v in value] if repeated else tuple(value.dim)
    return list(value) if repeated else value


def check_inputs(handler: Handler, count: int) -> None:
    parameters = list(_signature(handler).parameters.values())[1:]
    positional = [p for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if count < len(required) or (not variadic and count > len(positional)):
        raise Unsupported(f"unexpected number of bottoms ({count})")


def handler_defaults(handler: Handler) -> dict[str, Any]:
    """The defaults a handler's signature gives its parameters (tests compare them with the schema's)."""
    return {
        n: p.default
        for n, p in _signature(handler).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
    }


def scalar(value: float, like: Value | None = None) -> Value:
    dtype = like.element_type.numpy if like is not None else np.float32
    return const(np.array(value, dtype=dtype))
