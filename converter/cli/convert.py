"""`irforge convert` (one model to IR, per precision) and `irforge info` (what a model holds)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from converter.cli.app import EXIT_BAD_INPUT, check_output_dir, fail, internal_error, spare_full_collections, split_list, stdout
from converter.cli.frontend_options import (
    Batch,
    CaffeRandomWeights,
    Framework,
    InputLayout,
    Inputs,
    KerasTrace,
    Layout,
    MeanValues,
    Outputs,
    ReverseInputChannels,
    ScaleValues,
    Signature,
    SourceLayout,
    TargetLayout,
    frontend_options,
)


def convert(
    model: Annotated[Path, typer.Argument(help="The model: .onnx, a SavedModel folder, .pb/.pbtxt, .keras/.h5, or an IR .xml to re-optimize.")],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="IRs go to OUTDIR/FP32/NAME.xml, OUTDIR/FP16/NAME.xml, OUTDIR/INT8/NAME.xml.")] = Path("."),
    name: Annotated[Optional[str], typer.Option("--name", help="Base name of the IR files (default: the model's file name).")] = None,
    precision: Annotated[Optional[str], typer.Option("--precision", help="Comma-separated: fp32, fp16, int8 (default: the config's, fp32 and fp16; int8 needs --calibration).")] = None,
    passes: Annotated[Optional[str], typer.Option("--passes", help="Comma-separated pass list replacing the configured pipeline ('' for none).")] = None,
    disable_pass: Annotated[Optional[list[str]], typer.Option("--disable-pass", help="Skip this pass (repeatable).")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Check the graph after every pass, structurally and numerically.")] = False,
    config: Annotated[Optional[Path], typer.Option("--config", help="Pipeline config YAML (default: configs/default.yaml).")] = None,
    fp16_guard: Annotated[Optional[float], typer.Option("--fp16-guard", help="Keep in f32 the weights whose f16 rounding moves outputs by more than this (relative to the output's magnitude).")] = None,
    input_shape: Annotated[Optional[list[str]], typer.Option("--input-shape", help="NAME[d0,d1,...]: the shape --verify and --fp16-guard feed this input (repeatable; default: searched).")] = None,
    signature: Signature = None,
    inputs: Inputs = None,
    outputs: Outputs = None,
    input_layout: InputLayout = None,
    keras_trace: KerasTrace = False,
    framework: Framework = None,
    caffe_random_weights: CaffeRandomWeights = False,
    batch: Batch = None,
    mean_values: MeanValues = None,
    scale_values: ScaleValues = None,
    reverse_input_channels: ReverseInputChannels = False,
    layout: Layout = None,
    source_layout: SourceLayout = None,
    target_layout: TargetLayout = None,
    calibration: Annotated[Optional[Path], typer.Option("--calibration", help="INT8 calibration data: an .npz with one array per model input, samples first (default: the manifest's calibration:).")] = None,
    calibration_size: Annotated[Optional[int], typer.Option("--calibration-size", help="Calibrate on at most N samples (default 300).")] = None,
    calibration_method: Annotated[str, typer.Option("--calibration-method", help="Activation ranges: minmax, percentile or entropy.")] = "minmax",
    max_accuracy_drop: Annotated[Optional[float], typer.Option("--max-accuracy-drop", help="INT8: revert the costliest layers to float until the drop on --data is within D (0.01: one point).")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="Validation data for --max-accuracy-drop: an .npz as irforge validate --data takes.")] = None,
) -> None:
    """Convert MODEL to optimized OpenVINO IR, in FP32 and FP16 (and INT8 with calibration data)."""
    from converter import ConverterError
    from converter.api import load_model, optimize
    from converter.config import PRECISIONS, load_config
    from converter.passes import resolve
    from converter.passes.compress_fp16 import compress_fp16, compress_fp16_guarded
    from converter.serialize.writer import serialize_streaming, write_serialized

    base = name or model.stem
    try:
        check_output_dir(output_dir)
        settings = load_config(config)
        precisions = split_list(precision) if precision is not None else list(settings.precisions)
        if not precisions or set(precisions) - set(PRECISIONS):
            raise fail(f"--precision takes a comma-separated list of {', '.join(PRECISIONS)}", EXIT_BAD_INPUT)
        if "int8" not in precisions:  # int8 calibration makes and drops graphs in loops: left to the collector
            spare_full_collections()
        names = split_list(passes) if passes is not None else list(settings.passes)
        resolve(list(disable_pass or []))  # an unknown name is rejected, as in --passes
        names = [p for p in names if p not in set(disable_pass or [])]
        if "int8" not in precisions and (calibration is not None or max_accuracy_drop is not None):
            raise fail("--calibration and --max-accuracy-drop apply to int8: add it to --precision", EXIT_BAD_INPUT)
        if "int8" in precisions:
            _check_int8_options(model, calibration, calibration_size, calibration_method)
        options = frontend_options(
            model, signature, inputs, outputs, input_layout, keras_trace, framework, caffe_random_weights,
            batch, mean_values, scale_values, reverse_input_channels, layout, source_layout, target_layout,
        )
        graph = load_model(model, options)
        feeds = _check_inputs(model, graph, input_shape, options) if verify or fp16_guard is not None else None
        graph, report = optimize(graph, names, verify=verify, config=config, inputs=feeds)
        serialized = {}
        guard_report = quantize_report = None
        for variant in precisions:
            variant_graph = graph
            if variant == "fp16" and fp16_guard is not None:
                variant_graph, guard_report = compress_fp16_guarded(graph.copy(), feeds, rtol=fp16_guard)
            elif variant == "fp16":
                variant_graph = compress_fp16(graph.copy())
            elif variant == "int8":
                from converter.quantize.pipeline import quantize_model
                from converter.validate.manifest import find_manifest

                variant_graph, quantize_report = quantize_model(
                    graph, find_manifest(model), calibration, calibration_size, calibration_method, max_accuracy_drop, data
                )
            serialized[variant] = serialize_streaming(variant_graph)
    except ConverterError as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
    except KeyError as error:  # resolve(): an unknown pass name
        raise fail(str(error).strip('"'), EXIT_BAD_INPUT) from None
    except typer.Exit:
        raise
    except Exception as error:
        raise internal_error(f"converting {model}", error) from None

    _print_pass_report(report)
    if guard_report is not None:
        kept = ", ".join(f"{name} ({effect:.1e})" for name, effect in guard_report.kept_f32.items()) or "none"
        stdout.print(f"FP16 guard: kept in f32: {kept}; outputs move by {guard_report.final_max_relative:.1e} relative", highlight=False)
    if quantize_report is not None:
        stdout.print(quantize_report.summary(), highlight=False, soft_wrap=True)
    for variant, (xml, weights) in serialized.items():
        xml_path, bin_path = write_serialized(xml, weights, output_dir / variant.upper() / f"{base}.xml")
        typer.echo(f"{variant.upper()}: wrote {xml_path} ({weights.size:,} bytes of weights)")  # plain: no rich to import


def _check_int8_options(model: Path, calibration: Path | None, size: int | None, method: str) -> None:
    """Bad INT8 options fail before anything is converted."""
    from converter.errors import InvalidModelError
    from converter.quantize import METHODS
    from converter.quantize.pipeline import NEEDS_CALIBRATION
    from converter.validate.manifest import find_manifest

    if method not in METHODS:
        raise InvalidModelError(f"--calibration-method takes {', '.join(METHODS)}, got {method!r}")
    if size is not None and size <= 0:
        raise InvalidModelError(f"--calibration-size must be positive, got {size}")
    if calibration is None and find_manifest(model).calibration is None:
        raise InvalidModelError(NEEDS_CALIBRATION)


def _check_inputs(model: Path, graph, input_shape: list[str] | None, options):
    """The inputs --verify and --fp16-guard feed: what validation would feed the source model."""
    from converter.errors import NoReferenceError
    from converter.frontends import reference_runner
    from converter.validate.inputs import parse_input_shape
    from converter.validate.manifest import find_manifest
    from converter.validate.ranges import integer_ranges
    from converter.validate.runners import GraphRunner
    from converter.validate.validation import ValidationOptions, prepare_inputs

    shapes = dict(parse_input_shape(text) for text in input_shape or [])
    try:
        reference = reference_runner(model, options)
    except NoReferenceError:  # no framework to ask (Kaldi): the converted graph says what it accepts
        reference = GraphRunner(graph)
    inputs = prepare_inputs(reference, str(model), ValidationOptions(input_shapes=shapes), find_manifest(model), integer_ranges(graph))
    return inputs.batches[0]


def _print_pass_report(report) -> None:
    """One aligned line per pass: ops before → after, milliseconds, max |diff| under --verify,
    op types removed (-) and added (+). Plain text: a rich table of 26 wrapped rows took longer
    to lay out than converting a small model."""
    if not report.records:
        return
    width = max(len(r.name) for r in report.records)
    lines = [f"{'pass':<{width}}  {'ops':>11}  {'ms':>7}  {'max |diff|':>10}  removed / added"]
    for r in report.records:
        changes = " ".join([*(f"-{k}×{v}" for k, v in r.removed.items()), *(f"+{k}×{v}" for k, v in r.added.items())])
        diff = "" if r.max_abs_diff is None else f"{r.max_abs_diff:.1e}"
        lines.append(f"{r.name:<{width}}  {f'{r.ops_before} → {r.ops_after}':>11}  {1000 * r.seconds:>7.1f}  {diff:>10}  {changes}".rstrip())
    typer.echo("\n".join(lines))


def info(
    model: Annotated[Path, typer.Argument(help="The model: .onnx, a SavedModel folder, .pb/.pbtxt, .keras/.h5, or an IR .xml.")],
    signature: Signature = None,
    inputs: Inputs = None,
    outputs: Outputs = None,
    input_layout: InputLayout = None,
    keras_trace: KerasTrace = False,
    framework: Framework = None,
    caffe_random_weights: CaffeRandomWeights = False,
    batch: Batch = None,
    mean_values: MeanValues = None,
    scale_values: ScaleValues = None,
    reverse_input_channels: ReverseInputChannels = False,
    layout: Layout = None,
    source_layout: SourceLayout = None,
    target_layout: TargetLayout = None,
) -> None:
    """Show MODEL's inputs, outputs, op histogram and unsupported ops (after the preparation options, if any)."""
    from converter import ConverterError
    from converter.frontends import detect_format

    try:
        kind = detect_format(model, framework)
        options = frontend_options(
            model, signature, inputs, outputs, input_layout, keras_trace, framework, caffe_random_weights,
            batch, mean_values, scale_values, reverse_input_channels, layout, source_layout, target_layout,
        )
        if kind == "ir" and not options.prepares():
            _info_ir(model)
        elif kind == "onnx" and not options.prepares():
            _info_onnx(model)
        else:  # the graph the frontend and the preparation make of it
            _info_converted(model, kind, options)
    except ConverterError as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None


def _info_converted(model: Path, kind: str, options) -> None:
    """Other formats: what the frontend makes of the model (the IR graph before the passes)."""
    from converter.api import load_model
    from converter.errors import UnsupportedOpsError

    try:
        graph = load_model(model, options)
    except UnsupportedOpsError as error:
        _print_info(model, [], {op: len(nodes) for op, nodes in error.unsupported.items()}, set(error.unsupported), f"{kind}; only the unsupported ops are listed")
        return
    rows = [("input", v.name, v.element_type.value, str(v.shape)) for v in graph.inputs]
    rows += [("output", v.name, v.element_type.value, str(v.shape)) for v in graph.outputs]
    _print_info(model, rows, graph.op_histogram(), set(), f"{kind}, as IR ops before the passes")


def _info_onnx(model: Path) -> None:
    from converter.frontends.onnx import proto
    from converter.frontends.onnx.converter import default_opset, find_unsupported
    from converter.frontends.onnx.loader import load_onnx
    from converter.frontends.onnx.ops import HANDLERS

    onnx_model = load_onnx(model)
    graph = onnx_model.graph
    initializers = {t.name for t in graph.initializer}
    rows = []
    for kind, infos in (("input", [i for i in graph.input if i.name not in initializers]), ("output", graph.output)):
        for value_info in infos:
            tensor_type = value_info.type.tensor_type
            type_name = proto.data_type_name(tensor_type.elem_type).lower()
            if tensor_type.HasField("shape"):
                dims = [str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?") for d in tensor_type.shape.dim]
                shape = "[" + ", ".join(dims) + "]"
            else:
                shape = "?"
            rows.append((kind, value_info.name, type_name, shape))
    histogram: dict[str, int] = {}
    for node in graph.node:
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        histogram[key] = histogram.get(key, 0) + 1
    unsupported = find_unsupported(graph, HANDLERS, default_opset(onnx_model))
    _print_info(model, rows, histogram, set(unsupported), f"opset {default_opset(onnx_model)}")


def _info_ir(model: Path) -> None:
    from converter import read_model

    graph = read_model(model)
    rows = [("input", v.name, v.element_type.value, str(v.shape)) for v in graph.inputs]
    rows += [("output", v.name, v.element_type.value, str(v.shape)) for v in graph.outputs]
    _print_info(model, rows, graph.op_histogram(), set(), "OpenVINO IR")


def _print_info(model: Path, rows: list[tuple[str, str, str, str]], histogram: dict[str, int], unsupported: set[str], kind: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{model.name}: inputs and outputs")
    for column in ("kind", "name", "type", "shape"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))  # "[batch, 3]" is not rich markup
    stdout.print(table)
    ops_table = Table(title=f"{sum(histogram.values())} nodes, {kind}")
    ops_table.add_column("op")
    ops_table.add_column("count", justify="right")
    ops_table.add_column("supported")
    for op, count in sorted(histogram.items(), key=lambda item: (-item[1], item[0])):
        ops_table.add_row(op, str(count), "no" if op in unsupported else "yes")
    stdout.print(ops_table)
    if unsupported:
        stdout.print(f"unsupported ops: {', '.join(sorted(unsupported))}", highlight=False)


