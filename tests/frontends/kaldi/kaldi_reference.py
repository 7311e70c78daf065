"""Kaldi's semantics in numpy, frame by frame, for the tests: no Kaldi runs here, so the outputs
the IR must match are computed from the weights with the documented definitions.

The evaluation is Kaldi's own view of time, not the converter's window arithmetic: a node's
value at frame t is computed when everything it reads exists (input frames 0 … T-1; an iVector
at t = 0 only), Offset(x, k) reads x at t + k, IfDefined gives zeros where its argument does not
exist, ReplaceIndex(x, t, v) reads x at v. The outputs are every frame that can be computed.

Components hold their weights, write their fields as Kaldi writes them (kaldi_writer), and
compute one frame from the input frames at their time offsets (in float64).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kaldi_writer import Compressed, Ints, Pairs, Writer

# ================================================================ descriptors


class Descriptor:
    def text(self) -> str:
        raise NotImplementedError

    def value(self, net: Nnet3Model, t: int) -> np.ndarray | None:
        raise NotImplementedError

    def dim(self, net: Nnet3Model) -> int:
        raise NotImplementedError


def as_descriptor(d: Descriptor | str) -> Descriptor:
    return Ref(d) if isinstance(d, str) else d


@dataclass
class Ref(Descriptor):
    name: str

    def text(self) -> str:
        return self.name

    def value(self, net, t):
        return net.node_value(self.name, t)

    def dim(self, net):
        return net.node_dim(self.name)


def required_first(parts: list[Descriptor], net: Nnet3Model, t: int) -> list[np.ndarray] | None:
    """The parts' values, None if a required one is missing; the IfDefined parts are evaluated last,
    so a recurrence stops where its other inputs end."""
    values: dict[int, np.ndarray] = {}
    for i in sorted(range(len(parts)), key=lambda i: isinstance(parts[i], IfDefined)):
        value = parts[i].value(net, t)
        if value is None:
            return None
        values[i] = value
    return [values[i] for i in range(len(parts))]


class Append(Descriptor):
    def __init__(self, *parts: Descriptor | str):
        self.parts = [as_descriptor(p) for p in parts]

    def text(self):
        return "Append(" + ", ".join(p.text() for p in self.parts) + ")"

    def value(self, net, t):
        values = required_first(self.parts, net, t)
        return None if values is None else np.concatenate(values)

    def dim(self, net):
        return sum(p.dim(net) for p in self.parts)


class Sum(Descriptor):
    def __init__(self, *parts: Descriptor | str):
        self.parts = [as_descriptor(p) for p in parts]

    def text(self):
        return "Sum(" + ", ".join(p.text() for p in self.parts) + ")"

    def value(self, net, t):
        values = required_first(self.parts, net, t)
        return None if values is None else np.sum(values, axis=0)

    def dim(self, net):
        return self.parts[0].dim(net)


class Offset(Descriptor):
    def __init__(self, inner: Descriptor | str, offset: int):
        self.inner, self.offset = as_descriptor(inner), offset

    def text(self):
        return f"Offset({self.inner.text()}, {self.offset})"

    def value(self, net, t):
        return self.inner.value(net, t + self.offset)

    def dim(self, net):
        return self.inner.dim(net)


class Scale(Descriptor):
    def __init__(self, alpha: float, inner: Descriptor | str):
        self.alpha, self.inner = alpha, as_descriptor(inner)

    def text(self):
        return f"Scale({self.alpha}, {self.inner.text()})"

    def value(self, net, t):
        v = self.inner.value(net, t)
        return None if v is None else self.alpha * v

    def dim(self, net):
        return self.inner.dim(net)


class Const(Descriptor):
    def __init__(self, value: float, dim: int):
        self.constant, self.size = value, dim

    def text(self):
        return f"Const({self.constant}, {self.size})"

    def value(self, net, t):
        return np.full(self.size, self.constant)

    def dim(self, net):
        return self.size


class IfDefined(Descriptor):
    def __init__(self, inner: Descriptor | str):
        self.inner = as_descriptor(inner)

    def text(self):
        return f"IfDefined({self.inner.text()})"

    def value(self, net, t):
        v = self.inner.value(net, t)
        return np.zeros(self.inner.dim(net)) if v is None else v

    def dim(self, net):
        return self.inner.dim(net)


class ReplaceIndex(Descriptor):
    def __init__(self, inner: Descriptor | str, value: int):
        self.inner, self.index = as_descriptor(inner), value

    def text(self):
        return f"ReplaceIndex({self.inner.text()}, t, {self.index})"

    def value(self, net, t):
        return self.inner.value(net, self.index)

    def dim(self, net):
        return self.inner.dim(net)


class Round(Descriptor):
    def __init__(self, inner: Descriptor | str, modulus: int):
        self.inner, self.modulus = as_descriptor(inner), modulus

    def text(self):
        return f"Round({self.inner.text()}, {self.modulus})"

    def value(self, net, t):
        return self.inner.value(net, t - t % self.modulus)

    def dim(self, net):
        return self.inner.dim(net)


class Raw(Descriptor):
    """A descriptor given as text only (for unsupported ones: never evaluated)."""

    def __init__(self, text: str, dim: int = 0):
        self.source, self.size = text, dim

    def text(self):
        return self.source

    def dim(self, net):
        return self.size


# ================================================================ nnet3 components


def nonlinear_fields(dim: int) -> list[tuple[str, Any]]:
    """What a NonlinearComponent writes besides its dim: activation statistics and self-repair settings."""
    return [
        ("Dim", dim), ("ValueAvg", np.zeros(dim)), ("DerivAvg", np.zeros(dim)), ("Count", 0.0),
        ("NumDimsSelfRepaired", 0.0), ("NumDimsProcessed", 0.0),
    ]  # fmt: skip


def updatable(*fields: tuple[str, Any]) -> list[tuple[str, Any]]:
    """WriteUpdatableCommon's fields (max change, learning rate) before the component's own."""
    return [("MaxChange", 0.75), ("LearningRate", 0.001), *fields]


class Component:
    type = ""
    offsets: tuple[int, ...] = (0,)

    def fields(self) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def forward(self, rows: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def output_dim(self, input_dim: int) -> int:
        return len(self.forward([np.zeros(input_dim)] * len(self.offsets)))

    def static_dim(self) -> int | None:
        """The output dims when the weights or fields say them (a recurrence needs them first)."""
        for name in ("w",):
            if hasattr(self, name):
                return int(getattr(self, name).shape[0])
        return getattr(self, "dim", None)


def f64(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


class Affine(Component):
    def __init__(self, weights, bias, kind: str = "AffineComponent"):
        self.w, self.b, self.type = np.asarray(weights, np.float32), np.asarray(bias, np.float32), kind

    def fields(self):
        if self.type == "FixedAffineComponent":
            return [("LinearParams", self.w), ("BiasParams", self.b)]
        if self.type == "NaturalGradientAffineComponent":
            return updatable(
                ("LinearParams", self.w), ("BiasParams", self.b), ("RankIn", 20), ("RankOut", 80),
                ("UpdatePeriod", 4), ("NumSamplesHistory", 2000.0), ("Alpha", 4.0),
            )  # fmt: skip
        return updatable(("LinearParams", self.w), ("BiasParams", self.b), ("OrthonormalConstraint", 0.0))

    def forward(self, rows):
        return f64(self.w) @ rows[0] + f64(self.b)


class Linear(Component):
    type = "LinearComponent"

    def __init__(self, weights):
        self.w = np.asarray(weights, np.float32)

    def fields(self):
        return updatable(
            ("Params", self.w), ("OrthonormalConstraint", -1.0), ("UseNaturalGradient", True), ("RankInOut", (20, 20)),
            ("Alpha", 4.0), ("NumSamplesHistory", 2000.0), ("UpdatePeriod", 4),
        )  # fmt: skip

    def forward(self, rows):
        return f64(self.w) @ rows[0]


class Tdnn(Component):
    type = "TdnnComponent"

    def __init__(self, offsets: Sequence[int], weights, bias):
        self.offsets = tuple(offsets)
        self.w, self.b = np.asarray(weights, np.float32), np.asarray(bias, np.float32)

    def fields(self):
        return updatable(
            ("TimeOffsets", Ints(self.offsets)), ("LinearParams", self.w), ("BiasParams", self.b),
            ("OrthonormalConstraint", 0.0), ("UseNaturalGradient", True), ("NumSamplesHistory", 2000.0),
            ("AlphaInOut", (4.0, 4.0)), ("RankInOut", (20, 20)),
        )  # fmt: skip

    def forward(self, rows):
        y = f64(self.w) @ np.concatenate(rows)
        return y + f64(self.b) if self.b.size else y


class TimeHeightConvolution(Component):
    """Time × height convolution: offsets (dt, dh), zero padding in height, and in time at offsets not required."""

    type = "TimeHeightConvolutionComponent"

    def __init__(self, filters_in: int, filters_out: int, height_in: int, height_out: int, subsample: int, offsets, required, weights, bias):
        self.filters_in, self.filters_out, self.height_in, self.height_out, self.subsample = filters_in, filters_out, height_in, height_out, subsample
        self.pairs = [tuple(p) for p in offsets]
        self.offsets = tuple(sorted({dt for dt, _ in self.pairs}))
        self.required = tuple(required)
        self.w, self.b = np.asarray(weights, np.float32), np.asarray(bias, np.float32)

    def fields(self):
        return updatable(
            ("Model", None), ("ConvolutionModel", None), ("NumFiltersIn", self.filters_in), ("NumFiltersOut", self.filters_out),
            ("HeightIn", self.height_in), ("HeightOut", self.height_out), ("HeightSubsampleOut", self.subsample),
            ("Offsets", Pairs(self.pairs)), ("RequiredTimeOffsets", Ints(self.required)), ("/ConvolutionModel", None),
            ("LinearParams", self.w), ("BiasParams", self.b), ("MaxMemoryMb", 200.0), ("UseNaturalGradient", True),
            ("NumMinibatchesHistory", 4.0), ("AlphaInOut", (4.0, 4.0)), ("RankInOut", (20, 80)),
        )  # fmt: skip

    def static_dim(self):
        return self.height_out * self.filters_out

    def forward(self, rows):
        images = {dt: row.reshape(self.height_in, self.filters_in) for dt, row in zip(self.offsets, rows)}
        out = np.zeros((self.height_out, self.filters_out))
        for h in range(self.height_out):
            patch = []
            for dt, dh in self.pairs:
                source = h * self.subsample + dh
                patch.append(images[dt][source] if 0 <= source < self.height_in else np.zeros(self.filters_in))
            out[h] = f64(self.w) @ np.concatenate(patch) + f64(self.b)
        return out.reshape(-1)


class Nonlinear(Component):
    FUNCTIONS = {
        "SigmoidComponent": sigmoid,
        "TanhComponent": np.tanh,
        "RectifiedLinearComponent": lambda x: np.maximum(x, 0.0),
        "SoftmaxComponent": lambda x: np.maximum(softmax(x), 1e-20),
        "LogSoftmaxComponent": lambda x: x - x.max() - np.log(np.exp(x - x.max()).sum()),
    }

    def __init__(self, kind: str, dim: int):
        self.type, self.dim = kind, dim

    def fields(self):
        return nonlinear_fields(self.dim)

    def forward(self, rows):
        return self.FUNCTIONS[self.type](rows[0])


class BatchNorm(Component):
    type = "BatchNormComponent"

    def __init__(self, mean, var, block_dim: int | None = None, dim: int | None = None, epsilon: float = 1e-3, target_rms: float = 1.0):
        self.mean, self.var = np.asarray(mean, np.float32), np.asarray(var, np.float32)
        self.block_dim = block_dim or len(self.mean)
        self.dim = dim or self.block_dim
        self.epsilon, self.target_rms = epsilon, target_rms

    def fields(self):
        return [
            ("Dim", self.dim), ("BlockDim", self.block_dim), ("Epsilon", self.epsilon), ("TargetRms", self.target_rms),
            ("TestMode", False), ("Count", 1000.0), ("StatsMean", self.mean), ("StatsVar", self.var),
        ]  # fmt: skip

    def forward(self, rows):
        x = rows[0].reshape(-1, self.block_dim)
        y = (x - f64(self.mean)) * self.target_rms / np.sqrt(f64(self.var) + self.epsilon)
        return y.reshape(-1)


class Normalize(Component):
    type = "NormalizeComponent"

    def __init__(self, dim: int, block_dim: int | None = None, target_rms: float = 1.0, add_log_stddev: bool = False):
        self.dim, self.block_dim, self.target_rms, self.add_log_stddev = dim, block_dim or dim, target_rms, add_log_stddev

    def fields(self):
        fields = [("InputDim", self.dim)]
        if self.block_dim != self.dim:
            fields.append(("BlockDim", self.block_dim))
        return fields + [("TargetRms", self.target_rms), ("AddLogStddev", self.add_log_stddev)]

    def forward(self, rows):
        out = []
        for block in rows[0].reshape(-1, self.block_dim):
            mean_square = max(np.sum(block**2) / (self.block_dim * self.target_rms**2), 2.0**-66)
            scaled = block / np.sqrt(mean_square)
            out.append(np.append(scaled, np.log(np.sqrt(mean_square) * self.target_rms)) if self.add_log_stddev else scaled)
        return np.concatenate(out)


class Simple(Component):
    """A component given by its type, fields and per-frame function."""

    def __init__(self, kind: str, fields: list[tuple[str, Any]], function):
        self.type, self._fields, self.function = kind, fields, function

    def fields(self):
        return self._fields

    def forward(self, rows):
        return self.function(rows[0])


def noop(dim: int) -> Simple:
    return Simple("NoOpComponent", [("Dim", dim), ("BackpropScale", 1.0)], lambda x: x)


def dropout(dim: int, proportion: float) -> Simple:
    fields = [("Dim", dim), ("DropoutProportion", proportion), ("DropoutPerFrame", False), ("TestMode", False)]
    return Simple("DropoutComponent", fields, lambda x: x * (1.0 - proportion))


def general_dropout(dim: int) -> Simple:
    fields = [("Dim", dim), ("BlockDim", dim), ("TimePeriod", 0), ("DropoutProportion", 0.5), ("TestMode", None)]
    return Simple("GeneralDropoutComponent", fields, lambda x: x)


def clip_gradient(dim: int) -> Simple:
    fields = [
        ("Dim", dim), ("ClippingThreshold", 15.0), ("NormBasedClipping", True), ("SelfRepairClippedProportionThreshold", 0.01),
        ("SelfRepairTarget", 0.0), ("SelfRepairScale", 1.0), ("NumElementsClipped", 0.0), ("NumElementsProcessed", 0.0),
        ("NumSelfRepaired", 0.0), ("NumBackpropped", 0.0),
    ]  # fmt: skip
    return Simple("ClipGradientComponent", fields, lambda x: x)


def backprop_truncation(dim: int, scale: float) -> Simple:
    fields = [
        ("Dim", dim), ("Scale", scale), ("ClippingThreshold", 30.0), ("ZeroingThreshold", 15.0), ("ZeroingInterval", 20),
        ("RecurrenceInterval", 3), ("NumElementsClipped", 0.0), ("NumElementsZeroed", 0.0), ("NumElementsProcessed", 0.0),
        ("NumZeroingBoundaries", 0.0),
    ]  # fmt: skip
    return Simple("BackpropTruncationComponent", fields, lambda x: x * scale)


def fixed_scale(scales) -> Simple:
    s = np.asarray(scales, np.float32)
    return Simple("FixedScaleComponent", [("Scales", s)], lambda x: x * f64(s))


def fixed_bias(bias) -> Simple:
    b = np.asarray(bias, np.float32)
    return Simple("FixedBiasComponent", [("Bias", b)], lambda x: x + f64(b))


def per_element_scale(scales) -> Simple:
    s = np.asarray(scales, np.float32)
    return Simple("PerElementScaleComponent", updatable(("Params", s)), lambda x: x * f64(s))


def per_element_offset(offsets, dim: int) -> Simple:
    o = np.asarray(offsets, np.float32)
    fields = updatable(("Offsets", o), ("Dim", dim), ("UseNaturalGradient", True))
    return Simple("PerElementOffsetComponent", fields, lambda x: x + np.tile(f64(o), dim // len(o)))


def scale_and_offset(scales, offsets, dim: int) -> Simple:
    s, o = np.asarray(scales, np.float32), np.asarray(offsets, np.float32)
    nonzero = np.where(np.abs(s) >= 1e-4, s, np.where(s >= 0, 1e-4, -1e-4))
    fields = updatable(("Dim", dim), ("Scales", s), ("Offsets", o), ("UseNaturalGradient", True), ("Rank", 16))
    return Simple("ScaleAndOffsetComponent", fields, lambda x: x * np.tile(f64(nonzero), dim // len(s)) + np.tile(f64(o), dim // len(o)))


def elementwise_product(input_dim: int, output_dim: int) -> Simple:
    fields = [("InputDim", input_dim), ("OutputDim", output_dim)]
    return Simple("ElementwiseProductComponent", fields, lambda x: np.prod(x.reshape(-1, output_dim), axis=0))


def sum_group(sizes: Sequence[int]) -> Simple:
    bounds = np.cumsum([0, *sizes])
    return Simple("SumGroupComponent", [("Sizes", Ints(sizes))], lambda x: np.array([x[a:b].sum() for a, b in zip(bounds, bounds[1:])]))


def pnorm(input_dim: int, output_dim: int) -> Simple:
    fields = [("InputDim", input_dim), ("OutputDim", output_dim)]
    return Simple("PnormComponent", fields, lambda x: np.sqrt((x.reshape(output_dim, -1) ** 2).sum(axis=1)))


def permute(column_map: Sequence[int]) -> Simple:
    return Simple("PermuteComponent", [("ColumnMap", Ints(column_map))], lambda x: x[list(column_map)])


def maxpooling(dims: Sequence[int], sizes: Sequence[int], steps: Sequence[int]) -> Simple:
    names = ("X", "Y", "Z")
    fields = [(f"Input{n}Dim", d) for n, d in zip(names, dims)]
    fields += [(f"Pool{n}Size", s) for n, s in zip(names, sizes)] + [(f"Pool{n}Step", s) for n, s in zip(names, steps)]

    def function(x):
        volume = x.reshape(dims)
        pools = [1 + (d - s) // st for d, s, st in zip(dims, sizes, steps)]
        out = np.empty(pools)
        for i in range(pools[0]):
            for j in range(pools[1]):
                for k in range(pools[2]):
                    a, b, c = i * steps[0], j * steps[1], k * steps[2]
                    out[i, j, k] = volume[a : a + sizes[0], b : b + sizes[1], c : c + sizes[2]].max()
        return out.reshape(-1)

    return Simple("MaxpoolingComponent", fields, function)


def lstm_nonlinearity(params) -> Simple:
    p = np.asarray(params, np.float32)
    cell = p.shape[1]
    fields = updatable(
        ("Params", p), ("ValueAvg", np.zeros((5, cell))), ("DerivAvg", np.zeros((5, cell))),
        ("SelfRepairConfig", np.zeros(10)), ("SelfRepairProb", np.zeros(5)), ("Count", 0.0),
    )  # fmt: skip

    def function(x):
        i, f, c, o, c_prev = (x[k * cell : (k + 1) * cell] for k in range(5))
        w_ic, w_fc, w_oc = f64(p)
        i_t, f_t = sigmoid(i + w_ic * c_prev), sigmoid(f + w_fc * c_prev)
        c_t = f_t * c_prev + i_t * np.tanh(c)
        o_t = sigmoid(o + w_oc * c_t)
        return np.concatenate([c_t, o_t * np.tanh(c_t)])

    return Simple("LstmNonlinearityComponent", fields, function)


def statistics_extraction(dim: int, include_variance: bool = True) -> Simple:
    fields = [("InputDim", dim), ("InputPeriod", 1), ("OutputPeriod", 1), ("IncludeVarinance", include_variance)]
    return Simple("StatisticsExtractionComponent", fields, lambda x: np.concatenate([[1.0], x, x**2] if include_variance else [[1.0], x]))


class StatisticsPooling(Component):
    """Sums of the statistics of the frames t − left … t + right that exist (none required)."""

    type = "StatisticsPoolingComponent"

    def __init__(self, input_dim: int, left: int, right: int, log_counts: int = 0, stddevs: bool = True, floor: float = 1e-10):
        self.input_dim, self.left, self.right, self.log_counts, self.stddevs, self.floor = input_dim, left, right, log_counts, stddevs, floor
        self.offsets = tuple(range(-left, right + 1))
        self.required = ()

    def fields(self):
        return [
            ("InputDim", self.input_dim), ("InputPeriod", 1), ("LeftContext", self.left), ("RightContext", self.right),
            ("NumLogCountFeatures", self.log_counts), ("OutputStddevs", self.stddevs), ("VarianceFloor", self.floor),
        ]  # fmt: skip

    def static_dim(self):
        return self.log_counts + self.input_dim - 1

    def forward(self, rows):
        total = np.sum(rows, axis=0)  # frames that do not exist are zeros: they count 0
        if total[0] == 0:
            return np.full(self.static_dim(), np.nan)  # no frame in the window: not computable
        count, averages = total[0], total[1:] / total[0]
        parts = [np.full(self.log_counts, np.log(count))]
        if self.stddevs:
            mean, squares = np.split(averages, 2)
            parts += [mean, np.sqrt(np.maximum(squares - mean**2, self.floor))]
        else:
            parts.append(averages)
        return np.concatenate(parts)


def compressed_affine(weights_token: str, min_value: float, value_range: float, data, headers, bias, decompressed) -> Affine:
    """An AffineComponent whose weights are stored compressed; `decompressed` is what they mean."""
    component = Affine(decompressed, bias, "FixedAffineComponent")
    component.fields = lambda: [("LinearParams", Compressed(weights_token, min_value, value_range, data, headers)), ("BiasParams", component.b)]  # type: ignore[method-assign]
    return component


class Unknown(Component):
    """A component type irforge has no handler for."""

    def __init__(self, kind: str, dim: int):
        self.type, self.dim = kind, dim

    def fields(self):
        return [("Dim", dim_field := self.dim), ("Indexes", Ints(range(dim_field))), ("Params", np.ones((2, 3)))]

    def forward(self, rows):
        raise AssertionError("never evaluated")


# ================================================================ nnet3 models


@dataclass
class Nnet3Model:
    """Config nodes and components; `reference` computes its outputs frame by frame."""

    inputs: dict[str, int]
    per_window: set[str] = field(default_factory=set)  # inputs given once per window (iVectors): defined at t = 0
    nodes: list[tuple] = field(default_factory=list)
    components: dict[str, Component] = field(default_factory=dict)

    def component(self, name: str, component: Component, descriptor: Descriptor | str) -> str:
        self.components[name] = component
        self.nodes.append(("component-node", name, name, as_descriptor(descriptor)))
        return name

    def dim_range(self, name: str, source: str, offset: int, dim: int) -> str:
        self.nodes.append(("dim-range-node", name, source, offset, dim))
        return name

    def output(self, name: str, descriptor: Descriptor | str) -> str:
        self.nodes.append(("output-node", name, as_descriptor(descriptor)))
        return name

    def config_lines(self) -> list[str]:
        lines = [f"input-node name={name} dim={dim}" for name, dim in self.inputs.items()]
        for node in self.nodes:
            if node[0] == "component-node":
                lines.append(f"component-node name={node[1]} component={node[2]} input={node[3].text()}")
            elif node[0] == "dim-range-node":
                lines.append(f"dim-range-node name={node[1]} input-node={node[2]} dim-offset={node[3]} dim={node[4]}")
            else:
                lines.append(f"output-node name={node[1]} input={node[2].text()} objective=linear")
        return lines

    def component_fields(self) -> list[tuple[str, str, list]]:
        return [(name, c.type, c.fields()) for name, c in self.components.items()]

    # -------------------------------------------------------- evaluation

    def node_dim(self, name: str) -> int:
        if name in self.inputs:
            return self.inputs[name]
        node = self._node(name)
        if node[0] == "dim-range-node":
            return node[4]
        component = self.components[node[2]]
        known = component.static_dim()
        return known if known is not None else component.output_dim(node[3].dim(self))

    def _node(self, name: str) -> tuple:
        return next(n for n in self.nodes if n[1] == name and n[0] != "output-node")

    def node_value(self, name: str, t: int) -> np.ndarray | None:
        key = (name, t)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = value = self._compute(name, t)
        return value

    def _compute(self, name: str, t: int) -> np.ndarray | None:
        if name in self.inputs:
            feed = self._feeds[name]
            if name in self.per_window:
                return f64(feed[0]) if t == 0 else None
            return f64(feed[t]) if 0 <= t < len(feed) else None
        node = self._node(name)
        if node[0] == "dim-range-node":
            v = self.node_value(node[2], t)
            return None if v is None else v[node[3] : node[3] + node[4]]
        component = self.components[node[2]]
        required = getattr(component, "required", component.offsets)
        rows = [node[3].value(self, t + o) for o in component.offsets]
        if any(r is None for r, o in zip(rows, component.offsets) if o in required):
            return None
        dim = node[3].dim(self)
        return component.forward([np.zeros(dim) if r is None else r for r in rows])

    def reference(self, feeds: dict[str, np.ndarray], search: int = 64) -> dict[str, tuple[int, np.ndarray]]:
        """Each output's first computable frame and its frames (float64)."""
        self._feeds, self._memo = feeds, {}
        frames = max(len(v) for k, v in feeds.items() if k not in self.per_window)
        results = {}
        for node in self.nodes:
            if node[0] != "output-node":
                continue
            computed = [(t, node[2].value(self, t)) for t in range(-search, frames + search)]
            computed = [(t, v) for t, v in computed if v is not None]
            times = [t for t, _ in computed]
            assert times == list(range(times[0], times[-1] + 1)), f"{node[1]}: frames {times} are not contiguous"
            results[node[1]] = (times[0], np.stack([v for _, v in computed]))
        return results


# ================================================================ nnet1


class Nnet1Component:
    marker = ""
    offsets: tuple[int, ...] = (0,)

    def __init__(self, input_dim: int, output_dim: int):
        self.input_dim, self.output_dim = input_dim, output_dim

    def write_data(self, w: Writer) -> None:
        pass

    def forward(self, rows: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError


class AffineTransform(Nnet1Component):
    marker = "AffineTransform"

    def __init__(self, weights, bias):
        self.w, self.b = np.asarray(weights, np.float32), np.asarray(bias, np.float32)
        super().__init__(self.w.shape[1], self.w.shape[0])

    def write_data(self, w):
        w.fields([("LearnRateCoef", 1.0), ("BiasLearnRateCoef", 1.0), ("MaxNorm", 0.0)]).newline()
        w.matrix(self.w).vector(self.b)

    def forward(self, rows):
        return f64(self.w) @ rows[0] + f64(self.b)


class LinearTransform(Nnet1Component):
    marker = "LinearTransform"

    def __init__(self, weights):
        self.w = np.asarray(weights, np.float32)
        super().__init__(self.w.shape[1], self.w.shape[0])

    def write_data(self, w):
        w.fields([("LearnRateCoef", 1.0)]).newline().matrix(self.w)

    def forward(self, rows):
        return f64(self.w) @ rows[0]


class Activation(Nnet1Component):
    FUNCTIONS = {"Sigmoid": sigmoid, "Tanh": np.tanh, "Softmax": softmax, "HiddenSoftmax": softmax}

    def __init__(self, marker: str, dim: int):
        self.marker = marker
        super().__init__(dim, dim)

    def forward(self, rows):
        return self.FUNCTIONS[self.marker](rows[0])


class Splice(Nnet1Component):
    marker = "Splice"

    def __init__(self, offsets: Sequence[int], dim: int):
        self.offsets = tuple(offsets)
        super().__init__(dim, dim * len(offsets))

    def write_data(self, w):
        w.int_vector(self.offsets)

    def forward(self, rows):
        return np.concatenate(rows)


class Shift(Nnet1Component):
    """AddShift (add) or Rescale (multiply) by a vector."""

    def __init__(self, marker: str, values):
        self.marker, self.v = marker, np.asarray(values, np.float32)
        super().__init__(len(self.v), len(self.v))

    def write_data(self, w):
        w.fields([("LearnRateCoef", 0.0)]).vector(self.v)

    def forward(self, rows):
        return rows[0] + f64(self.v) if self.marker == "AddShift" else rows[0] * f64(self.v)


class Dropout(Nnet1Component):
    marker = "Dropout"

    def __init__(self, dim: int):
        super().__init__(dim, dim)

    def write_data(self, w):
        w.fields([("DropoutRate", 0.2)])

    def forward(self, rows):
        return rows[0]


class MaxPooling(Nnet1Component):
    marker = "MaxPoolingComponent"

    def __init__(self, input_dim: int, size: int, step: int, stride: int):
        self.size, self.step, self.stride = size, step, stride
        pools = 1 + (input_dim // stride - size) // step
        super().__init__(input_dim, pools * stride)

    def write_data(self, w):
        w.fields([("PoolSize", self.size), ("PoolStep", self.step), ("PoolStride", self.stride)])

    def forward(self, rows):
        patches = rows[0].reshape(-1, self.stride)
        pools = 1 + (len(patches) - self.size) // self.step
        return np.concatenate([patches[q * self.step : q * self.step + self.size].max(axis=0) for q in range(pools)])


class Convolutional(Nnet1Component):
    marker = "ConvolutionalComponent"

    def __init__(self, input_dim: int, patch_dim: int, step: int, stride: int, filters, bias):
        self.patch_dim, self.step, self.stride = patch_dim, step, stride
        self.filters, self.bias = np.asarray(filters, np.float32), np.asarray(bias, np.float32)
        self.patches = 1 + (stride - patch_dim) // step
        super().__init__(input_dim, self.patches * len(self.bias))

    def write_data(self, w):
        w.fields([("PatchDim", self.patch_dim), ("PatchStep", self.step), ("PatchStride", self.stride)]).newline()
        w.fields([("LearnRateCoef", 1.0), ("BiasLearnRateCoef", 1.0), ("MaxNorm", 0.0)]).newline()
        w.fields([("Filters", self.filters), ("Bias", self.bias)])

    def forward(self, rows):
        x, splices = rows[0], self.input_dim // self.stride
        out = []
        for p in range(self.patches):
            patch = np.concatenate([x[s * self.stride + p * self.step : s * self.stride + p * self.step + self.patch_dim] for s in range(splices)])
            out.append(f64(self.filters) @ patch + f64(self.bias))
        return np.concatenate(out)


class Simple1(Nnet1Component):
    """An nnet1 component given by its marker, data writer and per-frame function."""

    def __init__(self, marker: str, input_dim: int, output_dim: int, write, function):
        self.marker, self._write, self.function = marker, write, function
        super().__init__(input_dim, output_dim)

    def write_data(self, w):
        self._write(w)

    def forward(self, rows):
        return self.function(rows[0])


def block_softmax(sizes: Sequence[int]) -> Simple1:
    bounds = np.cumsum([0, *sizes])
    return Simple1("BlockSoftmax", bounds[-1], bounds[-1], lambda w: w.int_vector(sizes), lambda x: np.concatenate([softmax(x[a:b]) for a, b in zip(bounds, bounds[1:])]))


def copy(indices: Sequence[int], input_dim: int) -> Simple1:
    """nnet1's Copy: 1-based indexes in the file."""
    return Simple1("Copy", input_dim, len(indices), lambda w: w.int_vector([i + 1 for i in indices]), lambda x: x[list(indices)])


def length_norm(dim: int) -> Simple1:
    return Simple1("LengthNormComponent", dim, dim, lambda w: None, lambda x: x / np.sqrt(np.sum(x**2)))


def parametric_relu(alpha, beta) -> Simple1:
    a, b = np.asarray(alpha, np.float32), np.asarray(beta, np.float32)

    def write(w):
        w.fields([("AlphaLearnRateCoef", 1.0), ("BetaLearnRateCoef", 1.0)]).vector(a).vector(b)

    return Simple1("ParametricRelu", len(a), len(a), write, lambda x: x * np.where(x >= 0, f64(a), f64(b)))


def average_pooling(input_dim: int, size: int, step: int, stride: int) -> Simple1:
    pools = 1 + (input_dim // stride - size) // step

    def function(x):
        patches = x.reshape(-1, stride)
        return np.concatenate([patches[q * step : q * step + size].mean(axis=0) for q in range(pools)])

    return Simple1("AveragePoolingComponent", input_dim, pools * stride, lambda w: w.fields([("PoolSize", size), ("PoolStep", step), ("PoolStride", stride)]), function)


class Parallel(Nnet1Component):
    marker = "ParallelComponent"

    def __init__(self, nested: Sequence[Sequence[Nnet1Component]]):
        self.nested = [list(chain) for chain in nested]
        super().__init__(sum(c[0].input_dim for c in self.nested), sum(c[-1].output_dim for c in self.nested))

    def write_data(self, w):
        from kaldi_writer import write_nnet1_component

        w.token("<NestedNnetCount>").int(len(self.nested)).newline()
        for i, chain in enumerate(self.nested, 1):
            w.token("<NestedNnet>").int(i).newline().token("<Nnet>").newline()
            for component in chain:
                write_nnet1_component(w, component)
            w.token("</Nnet>").newline()
        w.token("</ParallelComponent>").newline()


class Nnet1Model:
    """A chain of nnet1 components; `reference` computes the frames with full context."""

    def __init__(self, components: Sequence[Nnet1Component]):
        self.components = list(components)

    def reference(self, features: np.ndarray, search: int = 64) -> tuple[int, np.ndarray]:
        memo: dict = {}
        frames = len(features)
        values = [(t, chain_value(self.components, len(self.components), t, lambda t: f64(features[t]) if 0 <= t < frames else None, memo)) for t in range(-search, frames + search)]
        values = [(t, v) for t, v in values if v is not None]
        return values[0][0], np.stack([v for _, v in values])


def chain_value(chain: list[Nnet1Component], k: int, t: int, source, memo: dict) -> np.ndarray | None:
    """The output of the chain's first k components at frame t (source: the chain's input frames)."""
    key = (id(chain), k, t)
    if key in memo:
        return memo[key]
    if k == 0:
        value = source(t)
    else:
        component = chain[k - 1]
        if isinstance(component, Parallel):
            below = lambda s: chain_value(chain, k - 1, s, source, memo)  # noqa: E731
            parts, offset = [], 0
            for nested in component.nested:
                width = nested[0].input_dim
                columns = lambda s, a=offset, b=offset + width: None if below(s) is None else below(s)[a:b]  # noqa: E731
                parts.append(chain_value(nested, len(nested), t, columns, memo))
                offset += width
            value = None if any(p is None for p in parts) else np.concatenate(parts)
        else:
            rows = [chain_value(chain, k - 1, t + o, source, memo) for o in component.offsets]
            value = None if any(r is None for r in rows) else component.forward(rows)
    memo[key] = value
    return value


def splice_clamped(features: np.ndarray, offsets: Sequence[int]) -> np.ndarray:
    """nnet1's cu::Splice over a whole utterance: offsets beyond the edges repeat the first or last frame."""
    frames = len(features)
    return np.concatenate([features[np.clip(np.arange(frames) + o, 0, frames - 1)] for o in offsets], axis=1)


def decompress_reference(token: str, min_value: float, value_range: float, data: np.ndarray, headers: np.ndarray | None) -> np.ndarray:
    """compressed-matrix.cc's CopyToMat, element by element in Python floats rounded as Kaldi rounds."""
    f32 = np.float32
    if token in ("CM2", "CM3"):
        increment = f32(float(f32(value_range)) * (1.0 / (65535.0 if token == "CM2" else 255.0)))
        return (f32(min_value) + data.astype(np.float32) * increment).astype(np.float32)
    cols, rows = data.shape
    out = np.empty((rows, cols), np.float32)
    for i in range(cols):
        p0, p25, p75, p100 = (f32(min_value) + f32(value_range) * f32(1.52590218966964e-05) * f32(q) for q in headers[i])
        for j in range(rows):
            b = int(data[i, j])
            if b <= 64:
                v = float(p0) + float(f32((p25 - p0) * f32(b))) * (1 / 64.0)
            elif b <= 192:
                v = float(p25) + float(f32((p75 - p25) * f32(b - 64))) * (1 / 128.0)
            else:
                v = float(p75) + float(f32((p100 - p75) * f32(b - 192))) * (1 / 63.0)
            out[j, i] = f32(v)
    return out
