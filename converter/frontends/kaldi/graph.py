"""Kaldi nnet → IR graph: evaluate nnet3's nodes and descriptors (or nnet1's chain) over a window
of frames (frames.py), one handler per component type.

Handlers live in `frontends/kaldi/components/<family>.py`, one function per component type,
named like it (`AffineComponent`, nnet1's `AffineTransform`) and called as
`handler(ctx, x, *data, **fields)`: x is the component's input [frames, dim]; nnet1's untagged
arrays come positionally; the `<Tag>` fields come as snake_case keywords (`<LinearParams>` →
`linear_params`), their defaults in the signature. Fields that only training reads (learning
rates, natural-gradient settings, activation statistics: `TRAINING_FIELDS`) are dropped; any
other field a handler does not name is reported, not ignored. A handler that reads other frames
(TdnnComponent, Splice) calls `ctx.splice(x, offsets)`, which narrows the frames its output covers.

Before converting, every component type without a handler, every descriptor irforge cannot
express over a window (Failover, Switch, Round, ReplaceIndex of x, x offsets) and every
recurrence (a node reading itself through an earlier frame) is listed, and the model fails
once with all of them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from converter.errors import ConverterError, InvalidModelError, NodeConversionError, UnsupportedOpsError
from converter.frontends.kaldi import descriptors as desc
from converter.frontends.kaldi import frames as fr
from converter.frontends.kaldi import recurrence
from converter.frontends.kaldi.frames import Frames
from converter.frontends.kaldi.nnet1 import Nnet1Component
from converter.frontends.kaldi.nnet3 import ConfigNode, Nnet3
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType, Shape
from converter.ops import elementwise as ew
from converter.ops.core import const, parameter

Handler = Callable[..., Value]

TRAINING_FIELDS = frozenset(
    {
        # UpdatableComponent and natural-gradient settings
        "learning_rate_factor", "is_gradient", "max_change", "l2_regularize", "learning_rate", "rank_in",
        "rank_out", "rank_in_out", "rank", "update_period", "num_samples_history", "alpha", "alpha_in_out",
        "max_change_per_sample", "update_count", "active_scaling_count", "max_change_scale_stats",
        "use_natural_gradient", "orthonormal_constraint", "max_change_per_minibatch", "max_memory_mb",
        "num_minibatches_history",
        # NonlinearComponent statistics and self-repair
        "value_avg", "deriv_avg", "count", "oderiv_rms", "oderiv_count", "num_dims_self_repaired",
        "num_dims_processed", "self_repair_lower_threshold", "self_repair_upper_threshold", "self_repair_scale",
        # gradient clipping and backprop truncation bookkeeping
        "clipping_threshold", "norm_based_clipping", "self_repair_clipped_proportion_threshold",
        "self_repair_target", "num_elements_clipped", "num_elements_processed", "num_self_repaired",
        "num_backpropped", "zeroing_threshold", "zeroing_interval", "recurrence_interval", "num_elements_zeroed",
        "num_zeroing_boundaries",
        # LSTM statistics
        "self_repair_config", "self_repair_prob",
        # nnet1 training settings
        "learn_rate_coef", "bias_learn_rate_coef", "max_norm", "grad_clip", "diff_clip", "cell_clip",
        "alpha_learn_rate_coef", "beta_learn_rate_coef",
    }
)  # fmt: skip


class Unsupported(Exception):
    """A component or descriptor irforge cannot convert as given (raised by handlers)."""


class KaldiContext:
    """What a handler may look at: the component being converted and the frames it reads."""

    def __init__(self, source: str):
        self.source = source
        self.node_name = ""
        self.component_type = ""
        self.frames = Frames(const(np.zeros((1, 1), np.float32)), None, None)
        self.span: tuple[int, int] | None = None
        self.in_recurrence = False  # converting one frame of a recurrence: no other frames to read

    def splice(self, x: Value, offsets: Sequence[int]) -> Value:
        """x at frames t + o for each offset o, side by side: the output then covers only the frames all of them exist for."""
        if self.in_recurrence and list(offsets) != [0]:
            raise Unsupported("reads other frames inside a recurrence")
        spliced = fr.splice(Frames(x, *(self.span or (None, None))), [int(o) for o in offsets])
        self.span = None if spliced.constant else (spliced.begin, spliced.end)  # type: ignore[assignment]
        return spliced.value

    def frames_at(self, x: Value, offsets: Sequence[int], required: Sequence[int] | None = None) -> list[Value]:
        """x at frames t + o for each offset o, over the frames the `required` offsets (default: all)
        exist for; rows of the other offsets are zeros where their frame does not exist."""
        if self.in_recurrence and list(offsets) != [0]:
            raise Unsupported("reads other frames inside a recurrence")
        needed = set(offsets if required is None else required)
        if self.span is None:
            return [x] * len(offsets)
        parts = [Frames(x, *self.span, optional=o not in needed).shifted(int(o)) for o in offsets]
        span = fr.common_span(parts)
        self.span = span
        return [fr.fit(part, span) for part in parts]

    def floats(self, array: Any) -> Value:
        """A float32 constant."""
        return const(np.asarray(array, dtype=np.float32))


def call_handler(ctx: KaldiContext, handler: Handler, frames: Frames, data: Sequence[Any], fields: dict[str, Any]) -> Frames:
    """Run one handler on its input frames; the output covers the frames the handler leaves."""
    ctx.frames, ctx.span = frames, None if frames.constant else (frames.begin, frames.end)  # type: ignore[assignment]
    parameters = _signature(handler).parameters
    named = {n for n, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(k for k in fields if k not in named and k not in TRAINING_FIELDS)
    if unknown:
        raise Unsupported(f"unsupported field(s) {', '.join(unknown)}")
    positional = [p for p in parameters.values() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD][2:]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if not len(required) <= len(data) <= len(positional):
        raise Unsupported(f"expected {len(required)} to {len(positional)} matrices or vectors, got {len(data)}")
    value = handler(ctx, frames.value, *data, **{k: v for k, v in fields.items() if k in named})
    if ctx.span is None:
        return Frames(value, None, None)
    return Frames(value, ctx.span[0], ctx.span[1])


@functools.cache
def _signature(handler: Handler) -> inspect.Signature:
    return inspect.signature(handler)


def _converting(ctx: KaldiContext, name: str, type_name: str, run: Callable[[], Frames]) -> Frames:
    ctx.node_name, ctx.component_type = name, type_name
    try:
        result = run()
    except Unsupported as error:
        raise NodeConversionError(ctx.source, name, type_name, str(error)) from None
    except ConverterError:
        raise
    except (ValueError, TypeError, IndexError, KeyError) as error:
        raise NodeConversionError(ctx.source, name, type_name, f"{type(error).__name__}: {error}") from error
    if not result.value.producer.name:
        result.value.producer.name = name
    return result


# ---------------------------------------------------------------- nnet3


class Nnet3Graph:
    """An nnet3's config nodes: their descriptors parsed, their dependencies, the order to convert them."""

    def __init__(self, nnet: Nnet3, source: str):
        self.nnet, self.source = nnet, source
        self.nodes: dict[str, ConfigNode] = {}
        self.inputs: dict[str, desc.Descriptor] = {}  # a component or output node's input, parsed
        outputs = []
        for node in nnet.nodes:
            if node.name in self.nodes or (node.kind != "output-node" and any(n.name == node.name for n in outputs)):
                raise InvalidModelError(f"{source}: two nodes are named {node.name!r}")
            if node.kind == "output-node":
                outputs.append(node)
            self.nodes[node.name] = node
            if node.kind in ("component-node", "output-node"):
                self.inputs[node.name] = self._descriptor(node)
        self.outputs = outputs
        if not outputs:
            raise InvalidModelError(f"{source}: the nnet has no output-node")
        for node in nnet.nodes:
            self._check(node)

    def _descriptor(self, node: ConfigNode) -> desc.Descriptor:
        if "input" not in node.values:
            raise InvalidModelError(f"{self.source}: {node.kind} {node.name!r} has no input=")
        try:
            return desc.parse(node.values["input"])
        except desc.DescriptorError as error:
            raise InvalidModelError(f"{self.source}: {node.kind} {node.name!r}: descriptor {node.values['input']!r}: {error}") from None

    def _check(self, node: ConfigNode) -> None:
        where = f"{self.source}: {node.kind} {node.name!r}"
        for name in self.reads(node):
            target = self.nodes.get(name)
            if target is None or target.kind == "output-node":
                raise InvalidModelError(f"{where} reads {name!r}, which is no input, component or dim-range node")
        if node.kind == "component-node" and node.values.get("component") not in self.nnet.components:
            raise InvalidModelError(f"{where}: no component named {node.values.get('component')!r}")
        if node.kind in ("input-node", "dim-range-node"):
            keys = ("dim",) if node.kind == "input-node" else ("dim", "dim-offset")
            for key in keys:
                if not _is_int(node.values.get(key)):
                    raise InvalidModelError(f"{where}: {key}= is not an integer")

    def reads(self, node: ConfigNode) -> list[str]:
        if node.kind == "dim-range-node":
            return [node.values.get("input-node", "")]
        if node.name in self.inputs and node.kind != "input-node":
            return desc.node_names(self.inputs[node.name])
        return []

    def units(self) -> list[list[ConfigNode]]:
        """The nodes the outputs need, in groups each after what it reads: a node alone, or the
        nodes of a recurrence (a strongly connected component; Tarjan's algorithm, iterative)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        on_stack: set[str] = set()
        stack: list[str] = []
        units: list[list[ConfigNode]] = []
        for root in self.outputs:
            if root.name in index:
                continue
            work = [(root.name, iter(self.reads(root)))]
            index[root.name] = low[root.name] = len(index)
            stack.append(root.name)
            on_stack.add(root.name)
            while work:
                name, pending = work[-1]
                for child in pending:
                    if child not in index:
                        index[child] = low[child] = len(index)
                        stack.append(child)
                        on_stack.add(child)
                        work.append((child, iter(self.reads(self.nodes[child]))))
                        break
                    if child in on_stack:
                        low[name] = min(low[name], index[child])
                else:
                    work.pop()
                    if work:
                        low[work[-1][0]] = min(low[work[-1][0]], low[name])
                    if low[name] == index[name]:
                        members = []
                        while True:
                            member = stack.pop()
                            on_stack.discard(member)
                            members.append(self.nodes[member])
                            if member == name:
                                break
                        units.append(members[::-1])
        return units

    def is_recurrence(self, unit: list[ConfigNode]) -> bool:
        return len(unit) > 1 or unit[0].name in self.reads(unit[0])

    def static_dim(self, node: ConfigNode) -> int | None:
        """A node's output dims as its config or component says, without converting it (None: not stated)."""
        if node.kind in ("dim-range-node", "input-node"):
            return int(node.values["dim"])
        if node.kind != "component-node":
            return None
        fields = self.nnet.components[node.values["component"]].fields
        for key in ("linear_params", "params"):
            weights = fields.get(key)
            if isinstance(weights, np.ndarray) and weights.ndim == 2:
                return 2 * weights.shape[1] if self.component_type(node) == "LstmNonlinearityComponent" else weights.shape[0]
        for key in ("output_dim", "dim"):
            if isinstance(fields.get(key), int):
                return fields[key]
        return None

    def component_type(self, node: ConfigNode) -> str:
        return self.nnet.components[node.values["component"]].type if node.kind == "component-node" else node.kind

    def per_window_inputs(self, order: Iterable[ConfigNode]) -> set[str]:
        """Input nodes read only through ReplaceIndex(·, t, ·) (iVectors): one row per window."""
        framed: set[str] = set()
        seen: set[str] = set()

        def visit(d: desc.Descriptor, inside_replace: bool) -> None:
            if isinstance(d, desc.Node):
                seen.add(d.name)
                if not inside_replace:
                    framed.add(d.name)
                return
            replaces = isinstance(d, desc.ReplaceIndex) and d.variable == "t"
            for child in desc.children(d):
                visit(child, inside_replace or replaces)

        for node in order:
            if node.kind == "dim-range-node":
                framed.add(node.values.get("input-node", ""))
            elif node.name in self.inputs:
                visit(self.inputs[node.name], False)
        return {n for n in seen - framed if self.nodes[n].kind == "input-node"}


def find_unsupported_nnet3(graph: Nnet3Graph, units: list[list[ConfigNode]], handlers: dict[str, Handler]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for unit in units:
        if graph.is_recurrence(unit):
            for problem in recurrence.problems(unit, graph.inputs, graph.component_type):
                found.setdefault("recurrence", []).append(problem)
    for node in (node for unit in units for node in unit):
        if node.kind == "component-node":
            component = graph.nnet.components[node.values["component"]]
            if component.type not in handlers:
                found.setdefault(component.type, []).append(node.name)
        if node.name in graph.inputs:
            for d in desc.walk(graph.inputs[node.name]):
                kind = _unsupported_descriptor(d)
                if kind is not None and node.name not in found.get(kind, []):
                    found.setdefault(kind, []).append(node.name)
    return found


def _unsupported_descriptor(d: desc.Descriptor) -> str | None:
    if isinstance(d, desc.Unsupported):
        return f"descriptor {d.kind}"
    if isinstance(d, desc.Round) and d.modulus != 1:
        return "descriptor Round"
    if isinstance(d, desc.ReplaceIndex) and d.variable == "x":
        return "descriptor ReplaceIndex(x)"
    if isinstance(d, desc.Offset) and d.x != 0:
        return "descriptor Offset with an x offset"
    return None


def convert_nnet3(nnet: Nnet3, source: str, handlers: dict[str, Handler], name: str = "model") -> Graph:
    graph = Nnet3Graph(nnet, source)
    units = graph.units()
    order = [node for unit in units for node in unit]
    unsupported = find_unsupported_nnet3(graph, units, handlers)
    if unsupported:
        raise UnsupportedOpsError(source, unsupported)
    per_window = graph.per_window_inputs(order)
    ctx = KaldiContext(source)
    values: dict[str, Frames] = {}
    parameters: list[Node] = []
    for unit in units:
        if graph.is_recurrence(unit):
            values.update(_recurrence(ctx, graph, unit, values, handlers))
            continue
        (node,) = unit
        if node.kind == "input-node":
            rows = 1 if node.name in per_window else None
            parameters.append(parameter(node.name, ElementType.f32, Shape((rows, int(node.values["dim"])))))
            value = parameters[-1].outputs[0]
            values[node.name] = Frames(value, None, None) if rows == 1 else Frames(value)
        elif node.kind == "dim-range-node":
            values[node.name] = _dim_range(ctx, node, values[node.values["input-node"]])
        elif node.kind == "component-node":
            values[node.name] = _component_node(ctx, graph, node, values, handlers)
    outputs = []
    for node in graph.outputs:
        ctx.node_name = node.name
        result = _converting(ctx, node.name, "output-node", lambda: evaluate(ctx, graph.inputs[node.name], values))
        value = result.value
        value.names.append(node.name)
        outputs.append(value)
    return Graph(parameters, outputs, name)


def _recurrence(
    ctx: KaldiContext, graph: Nnet3Graph, unit: list[ConfigNode], values: dict[str, Frames], handlers: dict[str, Handler]
) -> dict[str, Frames]:
    """A recurrence's nodes, computed frame after frame by one Loop (recurrence.py)."""
    names = {node.name for node in unit}
    outside = [node for node in graph.nodes.values() if node.name not in names and node.kind != "input-node"]
    needed = {name for node in outside for name in graph.reads(node) if name in names}
    loop_name = unit[0].name

    def run_component(node: ConfigNode, frames: Frames) -> Frames:
        component = graph.nnet.components[node.values["component"]]
        ctx.in_recurrence = True
        try:
            return _converting(ctx, node.name, component.type, lambda: call_handler(ctx, handlers[component.type], frames, (), component.fields))
        finally:
            ctx.in_recurrence = False

    def run() -> Frames:
        produced = recurrence.convert(
            unit, graph.inputs, values, needed, graph.component_type, run_component, graph.static_dim,
            lambda d: evaluate(ctx, d, values), loop_name,
        )  # fmt: skip
        results.update(produced)
        return next(iter(produced.values()))

    results: dict[str, Frames] = {}
    _converting(ctx, loop_name, "recurrence", run)
    return results


def _dim_range(ctx: KaldiContext, node: ConfigNode, source: Frames) -> Frames:
    offset, dim = int(node.values["dim-offset"]), int(node.values["dim"])
    if offset < 0 or dim <= 0 or offset + dim > source.dim:
        raise InvalidModelError(f"{ctx.source}: dim-range-node {node.name!r}: dims {offset} … {offset + dim - 1} of a {source.dim}-dim node")

    def run() -> Frames:
        return Frames(fr.columns(source.value, offset, dim), source.begin, source.end)

    return _converting(ctx, node.name, "dim-range-node", run)


def _component_node(ctx: KaldiContext, graph: Nnet3Graph, node: ConfigNode, values: dict[str, Frames], handlers: dict[str, Handler]) -> Frames:
    component = graph.nnet.components[node.values["component"]]

    def run() -> Frames:
        frames = evaluate(ctx, graph.inputs[node.name], values)
        frames = Frames(frames.value, frames.begin, frames.end)  # what IfDefined left undefined is zeros from here on
        return call_handler(ctx, handlers[component.type], frames, (), component.fields)

    return _converting(ctx, node.name, component.type, run)


def evaluate(ctx: KaldiContext, d: desc.Descriptor, values: dict[str, Frames]) -> Frames:
    """A descriptor's value over the window."""
    if isinstance(d, desc.Node):
        return values[d.name]
    if isinstance(d, desc.Append):
        return fr.append([evaluate(ctx, p, values) for p in d.parts])
    if isinstance(d, desc.Sum):
        parts = [evaluate(ctx, p, values) for p in d.parts]
        if len({p.dim for p in parts}) != 1:
            raise Unsupported(f"Sum of parts of dims {[p.dim for p in parts]}")
        return fr.add(parts)
    if isinstance(d, desc.Offset):
        return evaluate(ctx, d.inner, values).shifted(d.t)
    if isinstance(d, desc.Scale):
        inner = evaluate(ctx, d.inner, values)
        scaled = ew.Multiply(inner.value, const(np.array(d.alpha, dtype=np.float32)))
        return Frames(scaled, inner.begin, inner.end, inner.optional)
    if isinstance(d, desc.Const):
        return Frames(const(np.full((1, d.dim), d.value, dtype=np.float32)), None, None)
    if isinstance(d, desc.Round):  # modulus 1 (others are reported before converting)
        return evaluate(ctx, d.inner, values)
    if isinstance(d, desc.IfDefined):
        inner = evaluate(ctx, d.inner, values)
        return inner if inner.constant else Frames(inner.value, inner.begin, inner.end, True)
    if isinstance(d, desc.ReplaceIndex):
        inner = evaluate(ctx, d.inner, values)
        if inner.constant:
            return inner
        assert inner.begin is not None
        row = d.value - inner.begin
        if row < 0:
            raise Unsupported(f"ReplaceIndex(…, t, {d.value}) reads frame {d.value}, before the first frame its input covers ({inner.begin})")
        return Frames(fr.rows_between(inner.value, row, row + 1), None, None)
    raise Unsupported(f"descriptor {type(d).__name__}")


# ---------------------------------------------------------------- nnet1


def find_unsupported_nnet1(components: Sequence[Nnet1Component], handlers: dict[str, Handler], prefix: str = "") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for component in components:
        name = prefix + component_name(component)
        if component.type == "ParallelComponent":
            for i, nested in enumerate(component.nested, 1):
                for op, names in find_unsupported_nnet1(nested, handlers, f"{name}/{i}/").items():
                    found.setdefault(op, []).extend(names)
        elif component.type not in handlers:
            found.setdefault(component.type, []).append(name)
    return found


def component_name(component: Nnet1Component) -> str:
    return f"{component.type}_{component.index}"


def convert_nnet1(components: Sequence[Nnet1Component], source: str, handlers: dict[str, Handler], name: str = "model") -> Graph:
    if not components:
        raise InvalidModelError(f"{source}: the nnet has no components")
    unsupported = find_unsupported_nnet1(components, handlers)
    if unsupported:
        raise UnsupportedOpsError(source, unsupported)
    ctx = KaldiContext(source)
    node = parameter("input", ElementType.f32, Shape((None, components[0].input_dim)))
    result = _chain(ctx, components, Frames(node.outputs[0]), handlers, "")
    output = result.value
    output.names.append("output")
    return Graph([node], [output], name)


def _chain(ctx: KaldiContext, components: Sequence[Nnet1Component], frames: Frames, handlers: dict[str, Handler], prefix: str) -> Frames:
    for component in components:
        name = prefix + component_name(component)
        if frames.dim != component.input_dim:
            raise InvalidModelError(f"{ctx.source}: {name} takes {component.input_dim} dims, the layer before gives {frames.dim}")
        if component.type == "ParallelComponent":
            frames = _parallel(ctx, component, frames, handlers, name)
        else:
            frames = _converting(ctx, name, component.type, functools.partial(call_handler, ctx, handlers[component.type], frames, component.data, component.fields))
        if frames.dim != component.output_dim:
            raise InvalidModelError(f"{ctx.source}: {name} declares {component.output_dim} output dims, computes {frames.dim}")
    return frames


def _parallel(ctx: KaldiContext, component: Nnet1Component, frames: Frames, handlers: dict[str, Handler], name: str) -> Frames:
    """ParallelComponent: each nested nnet on its own columns of the input, their outputs side by side."""
    outputs, offset = [], 0
    for i, nested in enumerate(component.nested, 1):
        if not nested:
            raise InvalidModelError(f"{ctx.source}: {name}: nested nnet {i} is empty")
        width = nested[0].input_dim
        if offset + width > frames.dim:
            raise InvalidModelError(f"{ctx.source}: {name}: the nested nnets take more than its {frames.dim} input dims")
        part = Frames(fr.columns(frames.value, offset, width), frames.begin, frames.end)
        outputs.append(_chain(ctx, nested, part, handlers, f"{name}/{i}/"))
        offset += width
    if offset != frames.dim:
        raise InvalidModelError(f"{ctx.source}: {name}: the nested nnets take {offset} of its {frames.dim} input dims")
    return fr.append(outputs)


def _is_int(text: str | None) -> bool:
    try:
        int(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True
