"""`--mean-values`, `--scale-values`, `--reverse-input-channels`, `--layout` / `--source-layout` /
`--target-layout`: the application's raw input turned into what the model expects, by ops
embedded after the Parameter, in the legacy Model Optimizer's order:

    Parameter (target layout) → Transpose (to the model's layout) → channels reversed → − mean → ÷ scale

Mean and scale are given in the model's channel order (after the reversal). fold.py then lets the
first convolution absorb what it can exactly. `InputPlan.feed` does the same in numpy, which is how
validation feeds the source model the prepared input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from converter.errors import ConverterError
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import Shape
from converter.ops.core import const, parameter
from converter.ops.elementwise import Divide, Subtract
from converter.ops.indexing import Gather
from converter.ops.shape import Transpose
from converter.prepare.names import close_names

Dims = tuple[int | None, ...]


@dataclass(frozen=True)
class InputPlan:
    """The preprocessing of one input; `channel_axis` in the model's (source) layout."""

    name: str
    dims: Dims  # the model's input, source layout
    source_layout: str | None = None
    target_layout: str | None = None
    channel_axis: int | None = None
    reverse: bool = False
    mean: tuple[float, ...] | None = None
    scale: tuple[float, ...] | None = None

    @property
    def transposes(self) -> bool:
        return self.target_layout is not None and self.source_layout is not None and self.target_layout != self.source_layout

    def to_source(self) -> tuple[int, ...]:
        """Transpose order from the fed (target) layout to the model's."""
        assert self.source_layout is not None and self.target_layout is not None
        return tuple(self.target_layout.index(letter) for letter in self.source_layout)

    def fed_dims(self) -> Dims:
        if not self.transposes:
            return self.dims
        assert self.source_layout is not None and self.target_layout is not None
        return tuple(self.dims[self.source_layout.index(letter)] for letter in self.target_layout)

    def channels(self) -> np.ndarray | None:
        """The reversal as Gather indices over the channel axis."""
        if not self.reverse:
            return None
        assert self.channel_axis is not None
        count = self.dims[self.channel_axis]
        assert count is not None
        return np.arange(count - 1, -1, -1, dtype=np.int64)

    def broadcast(self, values: tuple[float, ...]) -> tuple[int, ...]:
        """The shape that lays `values` along the channel axis of the source layout."""
        if len(values) == 1 or self.channel_axis is None:
            return (len(values),) if len(values) > 1 else ()
        return tuple(len(values) if i == self.channel_axis else 1 for i in range(len(self.dims)))

    def feed(self, array: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """What the source model gets for the raw `array` the IR is fed (numpy twin of `embed`)."""
        x = np.asarray(array)
        if self.transposes:
            x = x.transpose(self.to_source())
        x = x.astype(dtype)
        if self.reverse:
            x = np.take(x, self.channels(), axis=self.channel_axis)
        if self.mean is not None:
            x = x - np.asarray(self.mean, dtype).reshape(self.broadcast(self.mean))
        if self.scale is not None:
            x = x / np.asarray(self.scale, dtype).reshape(self.broadcast(self.scale))
        return np.ascontiguousarray(x.astype(dtype))


LAYOUT_RT_INFO = "layout"


def declared_layout(node: Node) -> str | None:
    """The layout a Parameter's rt_info records (`[N,C,H,W]` → nchw)."""
    text = node.rt_info.get(LAYOUT_RT_INFO, {}).get("layout")
    if not text:
        return None
    return "".join(part.strip().lower() for part in text.strip("[]").split(","))


def rt_info_layout(letters: str) -> str:
    return "[" + ",".join(letter.upper() for letter in letters) + "]"


def plan_inputs(
    inputs: list[tuple[str, Dims | None, str | None]],
    preparation,
    source: str,
) -> dict[str, InputPlan]:
    """One plan per input that is preprocessed. `inputs`: (name, dims in the model's layout, its
    declared layout) for every input of the prepared graph."""
    names = [name for name, _, _ in inputs]
    layouts = _per_input({r.name: r for r in preparation.layouts}, names, "--layout", source)
    means = _per_input(preparation.mean_values, names, "--mean-values", source)
    scales = _per_input(preparation.scale_values, names, "--scale-values", source)
    plans: dict[str, InputPlan] = {}
    reversed_any = False
    for name, dims, declared in inputs:
        layout = layouts.get(name)
        mean, scale = means.get(name), scales.get(name)
        source_layout = (layout.source if layout is not None else None) or declared
        target_layout = layout.target if layout is not None else None
        if layout is None and mean is None and scale is None and not preparation.reverse_input_channels:
            continue
        if dims is None:
            raise ConverterError(f"{source}: input {name!r} has an unknown rank; give its shape with --input {name}[...]")
        for letters in (source_layout, target_layout):
            if letters is not None and len(letters) != len(dims):
                raise ConverterError(f"{source}: layout {letters} of input {name!r}: {len(letters)} dims, the input has {len(dims)} {_dims(dims)}")
        if target_layout is not None and source_layout is None:
            raise ConverterError(f"{source}: --target-layout {name}({target_layout}): give the model's layout too, e.g. --layout {name}(nchw->{target_layout})")
        if target_layout is not None and source_layout is not None and target_layout != source_layout:
            if sorted(target_layout) != sorted(source_layout) or "?" in target_layout:
                raise ConverterError(f"{source}: input {name!r}: layout {source_layout} cannot be transposed to {target_layout}")
        vectors = [len(v) for v in (mean, scale) if v is not None and len(v) > 1]
        if len(set(vectors)) > 1:
            raise ConverterError(f"{source}: input {name!r}: {vectors[0]} mean values but {vectors[1]} scale values")
        reverse = preparation.reverse_input_channels
        wanted = vectors[0] if vectors else (3 if reverse else None)
        axis = _channel_axis(name, dims, source_layout, wanted, source)
        if reverse and (axis is None or dims[axis] != 3):
            reverse = False  # as the legacy MO: only inputs with 3 channels are reversed
        if axis is not None and vectors and dims[axis] is not None and dims[axis] != vectors[0]:
            raise ConverterError(f"{source}: input {name!r} {_dims(dims)} has {dims[axis]} channels (axis {axis}), {vectors[0]} values given")
        if layout is None and mean is None and scale is None and not reverse:
            continue
        reversed_any |= reverse
        plans[name] = InputPlan(name, dims, source_layout, target_layout, axis, reverse, mean, scale)
    if preparation.reverse_input_channels and not reversed_any:
        described = ", ".join(f"{n} {_dims(d)}" for n, d, _ in inputs)
        raise ConverterError(f"{source}: --reverse-input-channels: no input has 3 channels ({described}); give its layout with --layout NAME(nhwc)")
    return plans


def _per_input(given, names: list[str], option: str, source: str) -> dict:
    if not given:
        return {}
    if None in given:
        if len(names) != 1:
            raise ConverterError(f"{source}: {option} without an input name, but the model has {len(names)} inputs ({', '.join(names)}): name one, e.g. {names[0] if names else 'x'}[...]")
        return {names[0]: given[None]}
    unknown = [name for name in given if name not in names]
    if unknown:
        raise ConverterError(f"{source}: {option} {unknown[0]!r}: the model has no input of that name (inputs: {', '.join(names)}){close_names(unknown[0], names)}")
    return dict(given)


def _channel_axis(name: str, dims: Dims, layout: str | None, count: int | None, source: str) -> int | None:
    """Where the channels are: the layout's C, else the dim whose size matches the values (NCHW first)."""
    if layout is not None:
        if "c" not in layout:
            if count is None:
                return None
            raise ConverterError(f"{source}: input {name!r}: layout {layout} has no channel dim (c)")
        return layout.index("c")
    if count is None:
        return None
    rank = len(dims)
    if rank == 0:
        raise ConverterError(f"{source}: input {name!r} is a scalar: it has no channels")
    if rank <= 2:
        return rank - 1
    for axis in (1, rank - 1):
        if dims[axis] == count:
            return axis
    raise ConverterError(f"{source}: input {name!r} {_dims(dims)}: no dim of {count} channels at axis 1 or {rank - 1}; give its layout, e.g. --layout {name}(nchw)")


def _dims(dims: Dims | None) -> str:
    return "[?]" if dims is None else "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


@dataclass
class Embedded:
    """What `embed` built: the value the model used to read (now the prepared one), and the raw
    value the preprocessing starts from (source layout, the model's type)."""

    raw: Value
    prepared: Value


def embed(graph: Graph, node: Node, plan: InputPlan, source: str) -> tuple[Node, Embedded | None]:
    """The plan's ops after Parameter `node`; returns the (possibly new) Parameter."""
    value = node.outputs[0]
    dtype = value.element_type.numpy
    embedded = None
    if plan.reverse or plan.mean is not None or plan.scale is not None:
        if not value.element_type.is_float:
            raise ConverterError(f"{source}: input {plan.name!r} is {value.element_type.value}: mean, scale and channel reversal need a float input")
        x: Value = value
        if plan.reverse:
            x = Gather(x, const(plan.channels()), const(np.array(plan.channel_axis, np.int64)), name=f"{plan.name}/reverse_channels")
        if plan.mean is not None:
            x = Subtract(x, const(np.asarray(plan.mean, dtype).reshape(plan.broadcast(plan.mean))), name=f"{plan.name}/mean")
        if plan.scale is not None:
            x = Divide(x, const(np.asarray(plan.scale, dtype).reshape(plan.broadcast(plan.scale))), name=f"{plan.name}/scale")
        _reroute(graph, value, x)
        embedded = Embedded(value, x)
    letters = plan.target_layout if plan.transposes else plan.source_layout
    if plan.transposes:
        new = parameter(node.name, value.element_type, Shape(plan.fed_dims()))
        back = Transpose(new.outputs[0], const(np.array(plan.to_source(), np.int64)), name=f"{plan.name}/to_{plan.source_layout}")
        names = list(value.names)
        graph.replace_values({value: back})
        back.names.clear()
        new.outputs[0].names[:] = names
        new.rt_info = dict(node.rt_info)
        graph.parameters[graph.parameters.index(node)] = new
        if embedded is not None:
            embedded.raw = back
        node = new
    if letters is not None:
        node.rt_info = {**node.rt_info, LAYOUT_RT_INFO: {"version": "0", "layout": rt_info_layout(letters)}}
    return node, embedded


def _reroute(graph: Graph, old: Value, new: Value) -> None:
    """Every reader of `old` but the chain's own first op reads `new` (the model's outputs too)."""
    chain_start = new
    while chain_start.producer.inputs and chain_start.producer.inputs[0] is not old:
        chain_start = chain_start.producer.inputs[0]
    first = chain_start.producer
    for node in graph.nodes():
        if node is first:
            continue
        if any(v is old for v in node.inputs):
            node.inputs = [new if v is old else v for v in node.inputs]
    graph.outputs = [new if v is old else v for v in graph.outputs]
    graph.forget()
