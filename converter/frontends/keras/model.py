"""A Keras model config → IR graph: Sequential and Functional models (nested ones too), layer by layer.

A Functional config lists layers, each with its `inbound_nodes`: one entry per call of the
layer (a shared layer has several; `node_index` picks one). Keras 2 spells a call as a list of
`[layer, node_index, tensor_index, kwargs]`, Keras 3 as `{"args": [...], "kwargs": {...}}`
with `{"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, tensor]}}`
for each tensor. Calls are resolved depth first from the outputs, so only what the outputs
need is converted, in any config order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from converter.errors import ConverterError, InvalidModelError, NodeConversionError, UnsupportedOpsError
from converter.frontends.keras.context import Handler, Layer, Unsupported, check_dtype, dtype_policy, handler_config
from converter.frontends.keras.files import KerasFile, Weights
from converter.frontends.keras.layout import REWRITES, ChannelsFirstTwins
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType, Shape
from converter.ops.core import parameter

MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})
OPS_PREFIX = "ops."  # Keras 3 ops called on symbolic tensors (keras.ops.gelu(x)) are nodes too
INPUT_DTYPES = {
    "float32": ElementType.f32,
    "float16": ElementType.f16,
    "float64": ElementType.f64,
    "bfloat16": ElementType.bf16,
    "int64": ElementType.i64,
    "int32": ElementType.i32,
    "int16": ElementType.i16,
    "int8": ElementType.i8,
    "uint8": ElementType.u8,
    "bool": ElementType.boolean,
}
INERT_CALL_KWARGS = ("training",)  # inference ignores it; `mask=None` is dropped too


@dataclass(frozen=True)
class TensorRef:
    layer: str
    node: int
    tensor: int


def layer_name(layer: dict[str, Any]) -> str:
    config = layer.get("config")
    name = layer.get("name") or (config.get("name") if isinstance(config, dict) else None)
    if not name:
        raise InvalidModelError(f"a {layer.get('class_name', '?')} layer has no name")
    return str(name)


def model_layers(model: dict[str, Any]) -> list[dict[str, Any]]:
    config = model.get("config")
    layers = config if isinstance(config, list) else (config or {}).get("layers")  # Keras 2.0–2.2 Sequential: a list
    if not isinstance(layers, list) or not all(isinstance(layer, dict) and "class_name" in layer for layer in layers):
        raise InvalidModelError(f"model {model.get('class_name')!r} has no layer list (a subclassed model cannot be read without its code)")
    return layers


def is_model(layer: dict[str, Any]) -> bool:
    config = layer.get("config")
    return layer.get("class_name") in MODEL_CLASSES and (isinstance(config, list) or (isinstance(config, dict) and "layers" in config))


def handler_key(layer: dict[str, Any], handlers: dict[str, Handler]) -> str:
    """The handler table key: the class for Keras layers, `ops.<Class>` for Keras ops; custom classes keep their own name."""
    class_name = str(layer.get("class_name"))
    module = str(layer.get("module") or "keras")
    if module.startswith("keras.src.ops") or (layer.get("module") is None and _looks_like_op(layer, handlers)):
        return OPS_PREFIX + class_name
    builtin = module == "keras" or module.startswith("keras.") or module.startswith("tf_keras")
    registered = layer.get("registered_name")
    if ">" in class_name:  # legacy .h5 spells a registered custom class "package>Class"
        registered, class_name, builtin = class_name, class_name.split(">")[-1], False
    if builtin and registered in (None, class_name):
        return class_name
    custom = str(registered or f"{module}.{class_name}")
    return custom if class_name in handlers else class_name


def _looks_like_op(layer: dict[str, Any], handlers: dict[str, Handler]) -> bool:
    """Legacy .h5 configs drop `module`: an op's config has neither `trainable` nor `dtype`, a layer's has both."""
    config = layer.get("config")
    return (
        isinstance(config, dict)
        and "trainable" not in config
        and "dtype" not in config
        and OPS_PREFIX + str(layer.get("class_name")) in handlers
    )


def find_unsupported(model: dict[str, Any], handlers: dict[str, Handler], prefix: str = "") -> dict[str, list[str]]:
    """Every layer class without a handler (nested models and wrapped layers too), with its layer names."""
    found: dict[str, list[str]] = {}

    def visit(layer: dict[str, Any], path: str) -> None:
        if is_model(layer):
            for inner in model_layers(layer):
                visit(inner, f"{path}/{layer_name(inner)}")
            return
        if layer.get("class_name") == "InputLayer":
            return
        key = handler_key(layer, handlers)
        if key not in handlers:
            found.setdefault(key, []).append(path)
            return
        config = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        for wrapped in ("layer", "backward_layer"):
            inner = config.get(wrapped)
            if isinstance(inner, dict) and "class_name" in inner:
                visit(inner, f"{path}/{layer_name(inner)}")

    for layer in model_layers(model):
        visit(layer, prefix + layer_name(layer))
    return found


TRACE_HINT = "with TensorFlow installed, --keras-trace converts the model traced to a TensorFlow graph"


class KerasModelConverter:
    def __init__(self, file: KerasFile, handlers: dict[str, Handler]):
        self.file = file
        self.source = str(file.path)
        self.handlers = handlers
        self.twins = ChannelsFirstTwins()

    def convert(self) -> Graph:
        top = self.file.config
        if not isinstance(top, dict) or not is_model(top):
            kind = top.get("class_name") if isinstance(top, dict) else type(top).__name__
            raise InvalidModelError(f"{self.source}: the config describes {kind!r}, not a Sequential or Functional model with layers")
        unsupported = find_unsupported(top, self.handlers)
        if unsupported:
            raise UnsupportedOpsError(self.source, unsupported, TRACE_HINT)
        parameters: list[Node] = []
        outputs, names = self.model(top, None, self.file.weights, "", parameters)
        seen: set[str] = set()
        for value, name in zip(outputs, names):
            unique = name if name not in seen else f"{name}:{len(seen)}"
            seen.add(unique)
            if unique not in value.names:
                value.names.append(unique)
        return Graph(parameters, outputs, str(top.get("config", {}).get("name", "model")) if isinstance(top.get("config"), dict) else "model")

    # ------------------------------------------------------------ models

    def model(self, model: dict[str, Any], inputs: list[Value] | None, weights: Weights, prefix: str, parameters: list[Node]) -> tuple[list[Value], list[str]]:
        if model.get("class_name") == "Sequential":
            return self.sequential(model, inputs, weights, prefix, parameters)
        return self.functional(model, inputs, weights, prefix, parameters)

    def sequential(self, model: dict[str, Any], inputs: list[Value] | None, weights: Weights, prefix: str, parameters: list[Node]) -> tuple[list[Value], list[str]]:
        layers = model_layers(model)
        if not layers:
            raise InvalidModelError(f"{self.source}: Sequential model {prefix or 'model'} has no layers")
        if layers[0].get("class_name") == "InputLayer":
            input_layer, body = layers[0], layers[1:]
        else:
            input_layer, body = self._implicit_input(model, layers[0]), layers
        if inputs is None:
            node = self.input_parameter(input_layer)
            parameters.append(node)
            x = node.outputs[0]
        elif len(inputs) != 1:
            raise InvalidModelError(f"{self.source}: Sequential model {prefix.rstrip('/')} is called on {len(inputs)} inputs")
        else:
            x = inputs[0]
        name = layer_name(input_layer)
        for index, layer in enumerate(body):
            outputs = self.call(layer, [x], {}, weights, prefix, 0)
            if len(outputs) != 1:
                raise NodeConversionError(self.source, prefix + layer_name(layer), str(layer.get("class_name")), "a layer of a Sequential model must give one output")
            x, name = outputs[0], layer_name(layer)
        return [x], [name]

    def _implicit_input(self, model: dict[str, Any], first: dict[str, Any]) -> dict[str, Any]:
        """Keras 2 puts the input shape on the first layer (`batch_input_shape`); Keras 3 in build_config."""
        first_config = first.get("config") if isinstance(first.get("config"), dict) else {}
        config = model.get("config") if isinstance(model.get("config"), dict) else {}
        shape = (
            first_config.get("batch_input_shape")
            or first_config.get("batch_shape")
            or config.get("build_input_shape")
            or (model.get("build_config") or {}).get("input_shape")
        )
        if shape is None:
            raise InvalidModelError(f"{self.source}: the Sequential model does not say its input shape")
        dtype = dtype_policy(first_config.get("dtype")) or "float32"
        return {"class_name": "InputLayer", "config": {"name": f"{layer_name(first)}_input", "batch_shape": shape, "dtype": dtype}}

    def functional(self, model: dict[str, Any], inputs: list[Value] | None, weights: Weights, prefix: str, parameters: list[Node]) -> tuple[list[Value], list[str]]:
        config = model["config"]
        layers: dict[str, dict[str, Any]] = {}
        for layer in model_layers(model):
            name = layer_name(layer)
            if name in layers:
                raise InvalidModelError(f"{self.source}: two layers are named {name!r}")
            layers[name] = layer
        input_refs = self._refs(config.get("input_layers"), "input_layers")
        output_refs = self._refs(config.get("output_layers"), "output_layers")
        if inputs is not None and len(inputs) != len(input_refs):
            raise InvalidModelError(f"{self.source}: model {prefix.rstrip('/')} takes {len(input_refs)} inputs, called on {len(inputs)}")
        produced: dict[tuple[str, int], list[Value]] = {}
        for position, ref in enumerate(input_refs):
            if ref.layer not in layers:
                raise InvalidModelError(f"{self.source}: input layer {ref.layer!r} is not among the layers")
            if inputs is None:
                node = self.input_parameter(layers[ref.layer])
                parameters.append(node)
                produced[(ref.layer, ref.node)] = [node.outputs[0]]
            else:
                produced[(ref.layer, ref.node)] = [inputs[position]]
        outputs = [self._resolve(ref, layers, produced, weights, prefix) for ref in output_refs]
        return outputs, [ref.layer for ref in output_refs]

    def _refs(self, value: Any, what: str) -> list[TensorRef]:
        """`[name, node, tensor]` or a list of them (Keras 3 drops the outer list for one input)."""
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise InvalidModelError(f"{self.source}: the model config has no {what}")
        refs = []
        for item in value:
            if not (isinstance(item, list) and len(item) >= 3 and isinstance(item[0], str) and all(isinstance(i, int) and not isinstance(i, bool) for i in item[1:3])):
                raise InvalidModelError(f"{self.source}: {what} entry {item!r} is not [layer, node_index, tensor_index]")
            refs.append(TensorRef(item[0], int(item[1]), int(item[2])))
        return refs

    # ------------------------------------------------------------ calls

    def _resolve(self, ref: TensorRef, layers: dict[str, dict[str, Any]], produced: dict[tuple[str, int], list[Value]], weights: Weights, prefix: str) -> Value:
        """Convert what `ref` needs, depth first without recursion (deep models), and return its value."""
        opened: set[tuple[str, int]] = set()
        stack: list[tuple[tuple[str, int], bool]] = [((ref.layer, ref.node), False)]
        while stack:
            key, ready = stack.pop()
            if key in produced:
                continue
            layer = layers.get(key[0])
            if layer is None:
                raise InvalidModelError(f"{self.source}: layer {prefix}{key[0]} is used but not defined")
            args, kwargs = self._inbound_node(layer, key[1], prefix)
            if ready:
                produced[key] = self.call(layer, self._bind(args, produced), self._bind(kwargs, produced), weights, prefix, key[1])
                continue
            if key in opened:
                raise InvalidModelError(f"{self.source}: layer {prefix}{key[0]} depends on itself")
            opened.add(key)
            stack.append((key, True))
            stack.extend(((r.layer, r.node), False) for r in _refs_in((args, kwargs)) if (r.layer, r.node) not in produced)
        outputs = produced[(ref.layer, ref.node)]
        if not 0 <= ref.tensor < len(outputs):
            raise InvalidModelError(f"{self.source}: layer {prefix}{ref.layer} has no output {ref.tensor}")
        return outputs[ref.tensor]

    def _inbound_node(self, layer: dict[str, Any], index: int, prefix: str) -> tuple[list[Any], dict[str, Any]]:
        nodes = layer.get("inbound_nodes") or []
        position = index - self._first_call_index(layer)
        if not 0 <= position < len(nodes):
            raise InvalidModelError(f"{self.source}: layer {prefix}{layer_name(layer)} has no call #{index} (it has {len(nodes)})")
        node = nodes[position]
        if isinstance(node, dict):  # Keras 3
            return [_tensor_refs(a) for a in node.get("args", [])], {k: _tensor_refs(v) for k, v in (node.get("kwargs") or {}).items()}
        if isinstance(node, list) and node and all(isinstance(e, list) and len(e) >= 3 for e in node):  # Keras 2
            refs = [TensorRef(str(e[0]), int(e[1]), int(e[2])) for e in node]
            kwargs = node[0][3] if len(node[0]) > 3 and isinstance(node[0][3], dict) else {}
            return ([refs] if len(refs) > 1 else refs), {k: _keras2_kwarg(v) for k, v in kwargs.items()}
        raise InvalidModelError(f"{self.source}: layer {prefix}{layer_name(layer)} has an unreadable inbound node {node!r}")

    def _first_call_index(self, layer: dict[str, Any]) -> int:
        """Keras numbers a nested Functional model's calls from 1: its node 0 links its own inputs to outputs.

        tf.keras 2 Sequential models are Functional subclasses; Keras 3 ones are not.
        """
        if not is_model(layer):
            return 0
        if layer.get("class_name") == "Sequential":
            return 1 if self.file.keras_major < 3 else 0
        return 1

    def _bind(self, structure: Any, produced: dict[tuple[str, int], list[Value]]) -> Any:
        if isinstance(structure, TensorRef):
            outputs = produced[(structure.layer, structure.node)]
            if not 0 <= structure.tensor < len(outputs):
                raise InvalidModelError(f"{self.source}: layer {structure.layer} has no output {structure.tensor}")
            return outputs[structure.tensor]
        if isinstance(structure, list):
            return [self._bind(item, produced) for item in structure]
        if isinstance(structure, dict):
            return {k: self._bind(v, produced) for k, v in structure.items()}
        return structure

    def call(self, layer: dict[str, Any], args: list[Any], kwargs: dict[str, Any], weights: Weights, prefix: str, node_index: int) -> list[Value]:
        """One call of one layer on bound arguments → its output values."""
        name = layer_name(layer)
        qualified = prefix + name + (f":{node_index}" if node_index else "")
        if is_model(layer):
            inputs = _flat_values(args)
            outputs, _ = self.model(layer, inputs, weights.child(name), f"{prefix}{name}/", [])
            return outputs
        key = handler_key(layer, self.handlers)
        handler = self.handlers[key]
        class_name = str(layer.get("class_name"))
        config = dict(layer.get("config") or {})
        is_op = key.startswith(OPS_PREFIX)
        context = Layer(self.source, qualified, class_name, weights.child(name), self.file.keras_major, dict(kwargs),
                        self._inner_converter(weights), self.twins)
        try:
            if not is_op:
                check_dtype(config)
            positional = list(args) if is_op else _layer_inputs(args)
            result = self._call_channels_first(context, handler, key, positional, config)
            if result is None:
                result = handler(context, *positional, **handler_config(handler, config))
            _check_leftover_call_kwargs(context)
        except Unsupported as error:
            raise NodeConversionError(self.source, qualified, class_name, str(error)) from None
        except ConverterError:
            raise
        except (ValueError, TypeError, IndexError, KeyError, ArithmeticError) as error:  # ArithmeticError: a stride of 0
            raise NodeConversionError(self.source, qualified, class_name, f"{type(error).__name__}: {error}") from error
        outputs = list(result) if isinstance(result, (list, tuple)) else [result]
        for index, value in enumerate(outputs):
            if not value.producer.name and value.producer.op.type not in ("Parameter", "Const"):
                value.producer.name = qualified if len(outputs) == 1 else f"{qualified}:{index}"
        return outputs

    def _call_channels_first(self, context: Layer, handler: Handler, key: str, inputs: list[Any], config: dict[str, Any]) -> list[Value] | None:
        """Run a layout-indifferent layer on the NCHW twins of its inputs (see layout.py), or None."""
        rewrite = REWRITES.get(key)
        if rewrite is None or not inputs or not all(isinstance(x, Value) for x in inputs):
            return None
        ranks = {x.shape.rank for x in inputs}
        if len(ranks) != 1 or None in ranks or min(ranks) < 3 or all(self.twins.twin(x) is None for x in inputs):  # type: ignore[type-var]
            return None
        rewritten = rewrite(config, ranks.pop())  # type: ignore[arg-type]
        if rewritten is None:
            return None
        channels_first_config, keeps_layout = rewritten
        result = handler(context, *[self.twins.to_first(x) for x in inputs], **handler_config(handler, channels_first_config))
        outputs = list(result) if isinstance(result, (list, tuple)) else [result]
        return [self.twins.to_last(y) for y in outputs] if keeps_layout else outputs

    def _inner_converter(self, weights: Weights):
        def convert_inner(config: dict[str, Any], inputs: list[Value], inner_weights: Weights, qualified: str) -> list[Value]:
            wrapper_weights = Weights(weights.name, children={layer_name(config): inner_weights})
            prefix = qualified.rsplit("/", 1)[0] + "/" if "/" in qualified else ""
            return self.call(config, [inputs[0]] if len(inputs) == 1 else [inputs], {}, wrapper_weights, prefix, 0)

        return convert_inner

    def input_parameter(self, layer: dict[str, Any]) -> Node:
        name = layer_name(layer)
        config = layer.get("config") or {}
        if layer.get("class_name") != "InputLayer":
            raise InvalidModelError(f"{self.source}: model input {name!r} is a {layer.get('class_name')}, not an InputLayer")
        for flag in ("sparse", "ragged", "optional"):
            if config.get(flag):
                raise NodeConversionError(self.source, name, "InputLayer", f"{flag} inputs are not supported")
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        if shape is None and config.get("shape") is not None:
            shape = [None, *config["shape"]]
        if not isinstance(shape, list) or not shape:
            raise InvalidModelError(f"{self.source}: input {name!r} has no batch_shape")
        dtype = dtype_policy(config.get("dtype")) or "float32"
        if dtype not in INPUT_DTYPES:
            raise NodeConversionError(self.source, name, "InputLayer", f"input dtype {dtype!r} is not supported")
        if not all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0) for d in shape[1:]):
            raise InvalidModelError(f"{self.source}: input {name!r} has batch_shape {shape}: sizes are counts or null")
        dims = (None, *(None if d is None else int(d) for d in shape[1:]))  # the batch stays dynamic
        return parameter(name, INPUT_DTYPES[dtype], Shape(dims))


def _tensor_refs(item: Any) -> Any:
    """Keras 3 call arguments with `__keras_tensor__` entries replaced by TensorRefs."""
    if isinstance(item, dict):
        if item.get("class_name") == "__keras_tensor__":
            history = item.get("config", {}).get("keras_history")
            if not (isinstance(history, list) and len(history) == 3 and all(isinstance(i, int) and not isinstance(i, bool) for i in history[1:])):
                raise InvalidModelError(f"a tensor argument has no keras_history: {item!r}")
            return TensorRef(str(history[0]), int(history[1]), int(history[2]))
        return {k: _tensor_refs(v) for k, v in item.items()}
    if isinstance(item, list):
        return [_tensor_refs(v) for v in item]
    return item


def _keras2_kwarg(value: Any) -> Any:
    """Keras 2 writes tensor call arguments as `[layer, node_index, tensor_index]`."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and all(isinstance(v, int) for v in value[1:]):
        return TensorRef(value[0], value[1], value[2])
    return value


def _refs_in(structure: Any) -> Iterator[TensorRef]:
    if isinstance(structure, TensorRef):
        yield structure
    elif isinstance(structure, (list, tuple)):
        for item in structure:
            yield from _refs_in(item)
    elif isinstance(structure, dict):
        for item in structure.values():
            yield from _refs_in(item)


def _flat_values(args: list[Any]) -> list[Value]:
    values: list[Value] = []
    for item in args:
        if isinstance(item, Value):
            values.append(item)
        elif isinstance(item, list):
            values.extend(_flat_values(item))
    return values


def _layer_inputs(args: list[Any]) -> list[Value]:
    """A layer's positional tensors: `layer(x)`, `layer([a, b])` (merge layers) or `layer(q, v)`."""
    items = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    if not all(isinstance(item, Value) for item in items):
        raise Unsupported(f"non-tensor positional call arguments {[i for i in items if not isinstance(i, Value)]!r}")
    return list(items)


def _check_leftover_call_kwargs(layer: Layer) -> None:
    leftover = {k: v for k, v in layer.call_kwargs.items() if k not in INERT_CALL_KWARGS and not (k == "mask" and v is None)}
    if leftover:
        raise Unsupported(f"unsupported call argument(s) {sorted(leftover)}")
