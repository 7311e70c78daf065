"""What the user may tell a frontend about the model: which SavedModel signature, which GraphDef
nodes are inputs and outputs, the layout the application feeds, whether to trace a Keras file.

The same options reach the reference runner in validation, so both run the same function of the
model. Given on the command line (`irforge convert/validate/info`) or in a model's manifest
(`frontend:` in NAME.yaml), as in:

    frontend: {signature: classify, outputs: [logits], input_layout: nchw}

The model-preparation options (`inputs`, `outputs`, `batch`, `mean_values`, `scale_values`,
`reverse_input_channels`, `layout`, `source_layout`, `target_layout`; docs/preparation.md) are graph
surgery on the converted graph, for every format; their text is parsed by converter/prepare/grammar.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from converter.errors import InvalidModelError

INPUT_LAYOUTS = ("nchw",)
# Graph surgery on the converted graph (converter/prepare/): they apply to every format.
PREPARATION_OPTIONS = {
    "--input", "--output", "--batch", "--mean-values", "--scale-values", "--reverse-input-channels",
    "--layout", "--source-layout", "--target-layout",
}


@dataclass(frozen=True)
class FrontendOptions:
    signature: str | None = None
    """SavedModel: the signature to convert (default `serving_default`)."""
    inputs: tuple[str, ...] = ()
    """`--input` entries, in order: NAME[shape]{type}->VALUE (converter/prepare/grammar.py). A frozen
    GraphDef takes the Placeholders named as its inputs (default: its Placeholders); for every format
    the surgery sets shapes and types, freezes, and cuts at internal tensors."""
    outputs: tuple[str, ...] = ()
    """The tensors the IR returns, `node` or `node:index` (default: the model's outputs)."""
    input_layout: str | None = None
    """`nchw`: the application feeds 4-D/5-D image inputs channels-first, not as the TF model's NHWC."""
    keras_trace: bool = False
    """Keras: load the file with Keras (TensorFlow installed), trace it to a TF graph, convert that."""
    framework: str | None = None
    """The frontend to read the model with (a key of frontends.FRAMEWORKS), whatever the file is called."""
    prototxt: str | None = None
    """Caffe: the net (.prototxt) of a .caffemodel, relative to it (default: found beside it)."""
    caffe_random_weights: bool = False
    """Caffe: convert a .prototxt without weights, with random ones (for tests)."""
    epoch: int | None = None
    """MXNet: the checkpoint epoch whose NAME-NNNN.params to read (default: the highest beside the symbol)."""
    batch: int | None = None
    """Every input's batch dim (the layout's N, else dim 0) set to this."""
    mean_values: str | None = None
    """NAME[v0,v1,...] (or [..] / one number for the single input), subtracted per channel, in the model's channel order."""
    scale_values: str | None = None
    """NAME[v0,v1,...] (or [..] / one number), divided by per channel after the mean."""
    reverse_input_channels: bool = False
    """Inputs with 3 channels take them reversed (RGB ↔ BGR), before the mean and scale."""
    layout: str | None = None
    """NAME(nhwc) the model's layout of an input, or NAME(nhwc->nchw) with the layout the application feeds."""
    source_layout: str | None = None
    """NAME(nhwc): the model's layout of an input."""
    target_layout: str | None = None
    """NAME(nchw): the layout the application feeds (a Transpose to the model's is embedded)."""

    def __post_init__(self) -> None:
        if self.input_layout is not None and self.input_layout.lower() not in INPUT_LAYOUTS:
            raise InvalidModelError(f"input layout {self.input_layout!r}: only {', '.join(INPUT_LAYOUTS)} is supported")
        if self.input_layout is not None:
            object.__setattr__(self, "input_layout", self.input_layout.lower())
        if self.batch is not None and (isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch <= 0):
            raise InvalidModelError(f"--batch {self.batch!r}: a positive number")
        if self.prepares():
            from converter.prepare.request import preparation_of

            preparation_of(self)  # bad option text fails here, before any model is read
            if self.input_layout is not None and (self.mean_values or self.scale_values or self.reverse_input_channels or self.layout or self.target_layout):
                raise InvalidModelError("--input-layout nchw with preprocessing options: use --layout NAME(nhwc->nchw) instead")

    def prepares(self) -> bool:
        """Whether any model-preparation option is set."""
        return bool(
            self.inputs or self.outputs or self.batch is not None or self.mean_values or self.scale_values
            or self.reverse_input_channels or self.layout or self.source_layout or self.target_layout
        )

    def input_names(self) -> tuple[str, ...]:
        """The tensor names of the `--input` entries, in order."""
        from converter.prepare.grammar import parse_input

        return tuple(parse_input(entry).name for entry in self.inputs)

    def given(self) -> list[str]:
        """The names of the options set, as the command line spells them."""
        return [f"--{f.name.replace('_', '-')}" for f in fields(self) if getattr(self, f.name) not in (None, (), False)]

    def check_applies(self, kind: str, source: str) -> None:
        """Reject options the model's format has no use for, instead of ignoring them."""
        allowed = {
            "savedmodel": {"--signature", "--input-layout"},
            "tensorflow": {"--input", "--output", "--input-layout"},
            "keras": {"--keras-trace", "--input-layout"},
            "tflite": {"--input-layout"},
            "caffe": {"--prototxt", "--caffe-random-weights"},
            "mxnet": {"--epoch"},
        }.get(kind, set()) | {"--framework"} | PREPARATION_OPTIONS
        spelled = {"--inputs": "--input", "--outputs": "--output"}
        wrong = [spelled.get(name, name) for name in self.given() if spelled.get(name, name) not in allowed]
        if wrong:
            raise InvalidModelError(f"{source}: {', '.join(wrong)} does not apply to a {kind} model")


def options_from_mapping(data: Any, source: str) -> FrontendOptions:
    """A manifest's `frontend:` mapping as options; unknown keys and wrong types are errors."""
    known = {f.name for f in fields(FrontendOptions)}
    if not isinstance(data, Mapping) or set(data) - known:
        raise InvalidModelError(f"{source}: frontend takes a mapping of {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("inputs", "outputs"):
            from converter.prepare.grammar import split_entries

            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidModelError(f"{source}: frontend.{key} is a list of tensor names (NAME[shape]{{type}}->VALUE for inputs)")
            values[key] = split_entries(value)
        elif key in ("mean_values", "scale_values"):
            values[key] = _channel_values_text(value, f"{source}: frontend.{key}")
        elif key == "batch":
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise InvalidModelError(f"{source}: frontend.batch is a positive number")
            values[key] = value
        elif key == "epoch":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidModelError(f"{source}: frontend.epoch is a checkpoint number (0, 1, ...)")
            values[key] = value
        elif key in ("keras_trace", "caffe_random_weights", "reverse_input_channels"):
            if not isinstance(value, bool):
                raise InvalidModelError(f"{source}: frontend.{key} is true or false")
            values[key] = value
        else:
            if not isinstance(value, str):
                raise InvalidModelError(f"{source}: frontend.{key} is a string")
            values[key] = value
    return FrontendOptions(**values)


def _channel_values_text(value: Any, where: str) -> str:
    """A manifest's mean/scale values as the option's text: "name[1,2,3]", a number, a list of
    numbers (the single input), or a mapping of input name to a number or a list."""

    def numbers(item: Any) -> str:
        items = item if isinstance(item, list) else [item]
        if not items or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            raise InvalidModelError(f"{where}: numbers, a list of numbers, or a mapping of input name to them")
        return "[" + ",".join(repr(float(v)) for v in items) + "]"

    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ",".join(f"{name}{numbers(item)}" for name, item in value.items())
    return numbers(value)
