"""What the user may tell a frontend about the model: which SavedModel signature, which GraphDef
nodes are inputs and outputs, the layout the application feeds, whether to trace a Keras file.

The same options reach the reference runner in validation, so both run the same function of the
model. Given on the command line (`irforge convert/validate/info`) or in a model's manifest
(`frontend:` in NAME.yaml), as in:

    frontend: {signature: classify, outputs: [logits], input_layout: nchw}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from converter.errors import InvalidModelError

INPUT_LAYOUTS = ("nchw",)


@dataclass(frozen=True)
class FrontendOptions:
    signature: str | None = None
    """SavedModel: the signature to convert (default `serving_default`)."""
    inputs: tuple[str, ...] = ()
    """Frozen GraphDef: the nodes fed by the application, in order (default: its Placeholders)."""
    outputs: tuple[str, ...] = ()
    """Frozen GraphDef: the tensors the IR returns, `node` or `node:index` (default: nodes nobody reads)."""
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

    def __post_init__(self) -> None:
        if self.input_layout is not None and self.input_layout.lower() not in INPUT_LAYOUTS:
            raise InvalidModelError(f"input layout {self.input_layout!r}: only {', '.join(INPUT_LAYOUTS)} is supported")
        if self.input_layout is not None:
            object.__setattr__(self, "input_layout", self.input_layout.lower())

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
        }.get(kind, set()) | {"--framework"}
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
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidModelError(f"{source}: frontend.{key} is a list of node names")
            values[key] = tuple(value)
        elif key == "epoch":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidModelError(f"{source}: frontend.epoch is a checkpoint number (0, 1, ...)")
            values[key] = value
        elif key in ("keras_trace", "caffe_random_weights"):
            if not isinstance(value, bool):
                raise InvalidModelError(f"{source}: frontend.{key} is true or false")
            values[key] = value
        else:
            if not isinstance(value, str):
                raise InvalidModelError(f"{source}: frontend.{key} is a string")
            values[key] = value
    return FrontendOptions(**values)
