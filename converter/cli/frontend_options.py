"""The frontend options `convert`, `validate` and `info` share (converter/frontends/options.py),
as typer parameters; the model's manifest (`frontend:` in NAME.yaml) supplies what is not given."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from converter.cli.app import split_list

Signature = Annotated[Optional[str], typer.Option("--signature", help="SavedModel: the signature to convert (default: serving_default).")]
Inputs = Annotated[Optional[str], typer.Option("--input", help="Frozen .pb: comma-separated Placeholder nodes the application feeds, in order.")]
Outputs = Annotated[Optional[str], typer.Option("--output", help="Frozen .pb: comma-separated output tensors (node or node:index).")]
InputLayout = Annotated[Optional[str], typer.Option("--input-layout", help="nchw: feed 4-D/5-D inputs of a TF/Keras/TFLite model channels-first (no input Transpose).")]
KerasTrace = Annotated[bool, typer.Option("--keras-trace", help="Keras: load with Keras (needs TensorFlow), trace to a TF graph, convert that (for Lambda and custom layers).")]
Framework = Annotated[Optional[str], typer.Option("--framework", help="Read the model with this frontend, whatever its file is called (onnx, tensorflow, keras, tflite, caffe, ...).")]
CaffeRandomWeights = Annotated[bool, typer.Option("--caffe-random-weights", help="Caffe: convert a .prototxt without its .caffemodel, with random weights (for tests).")]


def frontend_options(
    model: Path,
    signature: str | None,
    inputs: str | None,
    outputs: str | None,
    input_layout: str | None,
    keras_trace: bool,
    framework: str | None = None,
    caffe_random_weights: bool = False,
):
    """The options given on the command line, else the manifest's."""
    from converter.frontends.options import FrontendOptions
    from converter.validate.manifest import find_manifest

    given = FrontendOptions(
        signature=signature,
        inputs=tuple(split_list(inputs)) if inputs else (),
        outputs=tuple(split_list(outputs)) if outputs else (),
        input_layout=input_layout,
        keras_trace=keras_trace,
        framework=framework,
        caffe_random_weights=caffe_random_weights,
    )
    if given.given():
        return given
    return find_manifest(model).frontend
