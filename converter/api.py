"""The public API, named as OpenVINO users know it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

from converter.frontends.options import FrontendOptions
from converter.ir.graph import Graph
from converter.passes.manager import PipelineReport

if TYPE_CHECKING:  # onnx is imported only for ONNX models: a TF or Keras conversion never loads it
    import onnx


def load_model(model: str | os.PathLike[str] | onnx.ModelProto, options: FrontendOptions | None = None) -> Graph:
    """Frontend only: the model as an IR graph, before any optimization pass.

    `options` (see converter/frontends/options.py) pick a SavedModel signature, GraphDef inputs
    and outputs, the layout the application feeds, or Keras tracing; an option the model's
    format has no use for is an error."""
    options = options or FrontendOptions()
    if not isinstance(model, (str, os.PathLike)):  # an in-memory onnx.ModelProto
        from converter.frontends import onnx as onnx_frontend

        options.check_applies("onnx", "<ONNX model>")
        return _prepared(onnx_frontend.convert(model), options, "<ONNX model>")
    from converter.frontends import detect_format

    path = Path(model)
    kind = detect_format(path, options.framework)
    options.check_applies(kind, os.fspath(path))
    graph = _frontend_graph(path, kind, options)
    if options.input_layout == "nchw":
        from converter.prepare.layout import feed_channels_first

        graph = feed_channels_first(graph, os.fspath(path))
    return _prepared(graph, options, os.fspath(path))


def _prepared(graph: Graph, options: FrontendOptions, source: str) -> Graph:
    """The model-preparation options (--input, --output, --batch, mean/scale, layouts) applied
    as graph surgery, before the passes (converter/prepare/, docs/preparation.md)."""
    if not options.prepares():
        return graph
    from converter.prepare.apply import prepare_graph
    from converter.prepare.request import preparation_of

    return prepare_graph(graph, preparation_of(options), source)


def _frontend_graph(path: Path, kind: str, options: FrontendOptions) -> Graph:
    if kind == "onnx":
        from converter.frontends import onnx as onnx_frontend

        return onnx_frontend.convert(path)
    if kind == "tensorflow":
        from converter.frontends.tensorflow import convert_graphdef

        return convert_graphdef(path, list(options.input_names()) or None, list(options.outputs) or None)
    if kind == "keras":
        if options.keras_trace:
            from converter.frontends.keras.trace import convert_keras_traced

            return convert_keras_traced(path)
        from converter.frontends.keras import convert_keras

        return convert_keras(path)
    if kind == "tflite":
        from converter.frontends.tflite import convert_tflite

        return convert_tflite(path)
    if kind == "mxnet":
        from converter.frontends.mxnet import convert_mxnet

        return convert_mxnet(path, options.epoch)
    if kind == "caffe":
        from converter.frontends.caffe import convert_caffe

        return convert_caffe(path, options.prototxt, options.caffe_random_weights)
    if kind == "kaldi":
        from converter.frontends.kaldi import convert_kaldi

        return convert_kaldi(path)
    if kind == "savedmodel":
        from converter.frontends.tensorflow import convert_saved_model

        return convert_saved_model(path, options.signature)
    return read_model(path)


def optimize(
    graph: Graph,
    passes: Sequence[str] | None = None,
    verify: bool = False,
    config: str | os.PathLike[str] | None = None,
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray] | None = None,
) -> tuple[Graph, PipelineReport]:
    """Run the pass pipeline (the config's, unless `passes` names one) and report per pass.

    With `verify`, every pass is checked structurally and numerically against the
    unoptimized graph on `inputs` (by default, inputs the graph accepts, found by search);
    the first pass that breaks it raises PassVerificationError.
    """
    from converter.config import load_config
    from converter.passes import resolve
    from converter.passes.manager import run_pipeline

    settings = load_config(config)
    names = list(passes) if passes is not None else list(settings.passes)
    tolerance = settings.tolerance("verify")
    return run_pipeline(
        graph,
        resolve(names),
        verify=verify,
        rtol=tolerance.rtol,
        atol=tolerance.atol,
        per_tensor=tolerance.per_tensor,
        inputs=inputs,
    )


def convert_model(
    model: str | os.PathLike[str] | onnx.ModelProto,
    passes: Sequence[str] | None = None,
    verify: bool = False,
    options: FrontendOptions | None = None,
) -> Graph:
    """Convert a model (a path or an in-memory onnx.ModelProto) to an optimized in-memory IR graph.

    `passes` overrides the configured pipeline (`[]` for none); `options` are the frontend's (see
    `load_model`). An OpenVINO IR `.xml` path is read and optimized too.
    """
    graph, _ = optimize(load_model(model, options), passes, verify)
    return graph


def save_model(graph: Graph, output_model: str | os.PathLike[str], compress_to_fp16: bool = False) -> tuple[Path, Path]:
    """Write model.xml + model.bin (atomically). Returns both paths.

    With `compress_to_fp16`, f32 weights are stored as f16 (see passes/compress_fp16.py).
    """
    from converter.serialize.writer import write_ir

    if compress_to_fp16:
        from converter.passes.compress_fp16 import compress_fp16

        graph = compress_fp16(graph.copy())
    return write_ir(graph, output_model)


def read_model(xml_path: str | os.PathLike[str], bin_path: str | os.PathLike[str] | None = None) -> Graph:
    """Read an IR (model.xml + model.bin) back into a graph."""
    from converter.serialize.reader import read_ir

    return read_ir(xml_path, bin_path)


def export_onnx(
    model: str | os.PathLike[str] | Graph,
    output_path: str | os.PathLike[str],
    fold_fp16: bool = False,
    check: bool = True,
) -> Path:
    """Write an IR (an .xml path or an in-memory graph) as a standard ONNX model (opset 21).

    f16-compressed weights stay f16 initializers + Cast unless `fold_fp16`; `check` runs
    onnx.checker with full_check first. See docs/export-onnx.md.
    """
    from converter.export.onnx_model import export_onnx as lower, save_onnx

    graph = model if isinstance(model, Graph) else read_model(model)
    source = "<graph>" if isinstance(model, Graph) else str(model)
    return save_onnx(lower(graph, source, fold_decompression=fold_fp16), output_path, check=check)
