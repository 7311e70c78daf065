"""The frontend options `convert`, `validate` and `info` share (converter/frontends/options.py),
as typer parameters; the model's manifest (`frontend:` in NAME.yaml) supplies what is not given."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


Signature = Annotated[Optional[str], typer.Option("--signature", help="SavedModel: the signature to convert (default: serving_default).")]
Inputs = Annotated[Optional[list[str]], typer.Option("--input", help="NAME[1,3,224,224]{f32} (shape, '?' dynamic; type), NAME->VALUE (frozen), or an internal TENSOR (cut before it); comma-separated or repeated. A .pb's Placeholders, in order.")]
Outputs = Annotated[Optional[list[str]], typer.Option("--output", help="Comma-separated tensors the IR returns (node or node:index); cuts after them.")]
Batch = Annotated[Optional[int], typer.Option("--batch", help="Every input's batch dim (the layout's N, else dim 0).")]
MeanValues = Annotated[Optional[str], typer.Option("--mean-values", help="NAME[123.68,116.78,103.94] (or [..] / one number for the single input): subtracted per channel, model channel order.")]
ScaleValues = Annotated[Optional[str], typer.Option("--scale-values", help="NAME[58.4,57.1,57.4] (or one value): divided by per channel, after the mean.")]
ReverseInputChannels = Annotated[bool, typer.Option("--reverse-input-channels", help="Inputs with 3 channels take them reversed (RGB <-> BGR), before mean and scale.")]
Layout = Annotated[Optional[str], typer.Option("--layout", help="NAME(nhwc) the model's layout of an input, NAME(nhwc->nchw) with the layout the application feeds.")]
SourceLayout = Annotated[Optional[str], typer.Option("--source-layout", help="NAME(nhwc): the model's layout of an input.")]
TargetLayout = Annotated[Optional[str], typer.Option("--target-layout", help="NAME(nchw): the layout the application feeds (a Transpose is embedded).")]
InputLayout = Annotated[Optional[str], typer.Option("--input-layout", help="nchw: feed 4-D/5-D inputs of a TF/Keras/TFLite model channels-first (no input Transpose).")]
KerasTrace = Annotated[bool, typer.Option("--keras-trace", help="Keras: load with Keras (needs TensorFlow), trace to a TF graph, convert that (for Lambda and custom layers).")]
Framework = Annotated[Optional[str], typer.Option("--framework", help="Read the model with this frontend, whatever its file is called (onnx, tensorflow, keras, tflite, caffe, ...).")]
CaffeRandomWeights = Annotated[bool, typer.Option("--caffe-random-weights", help="Caffe: convert a .prototxt without its .caffemodel, with random weights (for tests).")]


def frontend_options(
    model: Path,
    signature: str | None,
    inputs: list[str] | str | None,
    outputs: list[str] | str | None,
    input_layout: str | None,
    keras_trace: bool,
    framework: str | None = None,
    caffe_random_weights: bool = False,
    batch: int | None = None,
    mean_values: str | None = None,
    scale_values: str | None = None,
    reverse_input_channels: bool = False,
    layout: str | None = None,
    source_layout: str | None = None,
    target_layout: str | None = None,
):
    """The options given on the command line, else the manifest's."""
    from converter.frontends.options import FrontendOptions
    from converter.prepare.grammar import split_entries
    from converter.validate.manifest import find_manifest

    given = FrontendOptions(
        signature=signature,
        inputs=split_entries(inputs),
        outputs=split_entries(outputs),
        input_layout=input_layout,
        keras_trace=keras_trace,
        framework=framework,
        caffe_random_weights=caffe_random_weights,
        batch=batch,
        mean_values=mean_values,
        scale_values=scale_values,
        reverse_input_channels=reverse_input_channels,
        layout=layout,
        source_layout=source_layout,
        target_layout=target_layout,
    )
    if given.given():
        return given
    return find_manifest(model).frontend
