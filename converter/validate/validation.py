"""The validation task: reload every written IR, run it, compare it with the source model.

For one model and its IR variants (FP32, FP16, …) this runs the source model in its own
framework (the reference runner) and every variant on every IR backend, on the same inputs,
and returns one report row per model × precision × backend: metrics against the source (and
FP16 against FP32), sizes, op count, latency and a pass/fail verdict against the tolerances of
`configs/` (a manifest may override them).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from converter.config import PRECISIONS, PipelineConfig, Tolerance
from converter.errors import InvalidModelError, NoReferenceError
from converter.frontends.options import FrontendOptions
from converter.ir.graph import Graph
from converter.validate.data import load_dataset
from converter.validate.inputs import Feeds, error_gist, find_inputs
from converter.validate.manifest import Manifest
from converter.validate.metrics import OutputMetrics, accuracy, class_scores, measure
from converter.validate.runners import IR_BACKENDS, IrRunner, Runner, median_latency_ms, openvino_available


@dataclass(frozen=True)
class Variant:
    """One written IR: its precision and its .xml (the .bin beside it)."""

    precision: str
    xml: Path


def find_variants(ir_dir: str | os.PathLike[str], name: str | None = None) -> list[Variant]:
    """What `irforge convert` wrote: IR_DIR/FP32/NAME.xml, IR_DIR/FP16/NAME.xml (NAME optional when unique)."""
    ir_dir = Path(ir_dir)
    if not ir_dir.is_dir():
        raise InvalidModelError(f"{ir_dir}: no such IR directory (give the -o folder of irforge convert)")
    variants = []
    for precision in PRECISIONS:
        folder = ir_dir / precision.upper()
        candidates = sorted(folder.glob("*.xml")) if folder.is_dir() else []
        if name is not None:
            candidates = [path for path in candidates if path.stem == name]
        if len(candidates) > 1:
            raise InvalidModelError(
                f"{folder}: holds several IRs ({', '.join(p.name for p in candidates)}); name one with --name"
            )
        if candidates:
            variants.append(Variant(precision, candidates[0]))
    if not variants:
        wanted = f"{name}.xml" if name else "*.xml"
        raise InvalidModelError(f"{ir_dir}: no IR found ({' or '.join(f'{p.upper()}/{wanted}' for p in PRECISIONS)})")
    return variants


@dataclass
class ValidationOptions:
    data: Path | None = None
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    backends: tuple[str, ...] = IR_BACKENDS
    metric: str | None = None
    samples: int | None = None
    seed: int = 0
    latency_repeats: int = 5
    frontend: FrontendOptions | None = None  # as the model was converted; default: the manifest's
    # OpenVINO rows compare in f32; each IR is also compiled and run once in the CPU plugin's
    # default configuration (bf16 where the CPU has it), where other kernels are chosen.
    default_config_check: bool = True


@dataclass
class ModelInputs:
    """What every runner is fed: batches of inputs, and labels when the data has them."""

    batches: list[Feeds]
    samples: int
    labels: np.ndarray | None
    origin: str  # "data FILE", "shapes given", "searched: …"


def prepare_inputs(
    reference: Runner,
    source: str,
    options: ValidationOptions,
    manifest: Manifest,
    ranges: Mapping[str, tuple[int, int]] | None = None,
) -> ModelInputs:
    """Real data when given (CLI first, then the manifest), else shapes given or found by search."""
    data = options.data or manifest.data
    specs = reference.input_specs()
    if data is not None:
        limit = options.samples or manifest.samples
        dataset = load_dataset(data, specs, manifest.labels, manifest.batch_size, limit)
        return ModelInputs(dataset.batches, dataset.samples, dataset.labels, f"data {data}")
    shapes = {**manifest.inputs, **options.input_shapes}
    choice = find_inputs(specs, reference.run, source, shapes, ranges, reference.output_specs(), options.seed)
    origin = "; ".join(choice.notes) or "static shapes"
    return ModelInputs([choice.feeds], 1, None, origin)


@dataclass
class ModelValidation:
    rows: list[dict]
    outputs: list[dict]  # one row per model × precision × backend × output
    failures: list[str]
    inputs: str

    @property
    def ok(self) -> bool:
        return not self.failures


def validate_model(
    model: str | os.PathLike[str],
    variants: Sequence[Variant],
    settings: PipelineConfig,
    options: ValidationOptions | None = None,
    manifest: Manifest | None = None,
    display_name: str | None = None,
    convert_seconds: float | None = None,
) -> ModelValidation:
    """Validate every variant of `model` on every backend; raises ConverterError on bad input."""
    from converter.frontends import detect_format, source_bytes
    from converter.serialize.reader import read_ir
    from converter.validate.ranges import integer_ranges

    options = options or ValidationOptions()
    manifest = manifest or Manifest()
    model = Path(model)
    name = display_name or model.stem
    graphs = {variants[0].xml: read_ir(variants[0].xml)} if variants else {}  # each IR is read once
    reference, no_reference = _reference(model, options.frontend or manifest.frontend, variants, graphs)
    ranges = integer_ranges(graphs[variants[0].xml]) if variants else {}
    inputs = prepare_inputs(reference, str(model), options, manifest, ranges)
    output_names = [spec.name for spec in reference.output_specs()]
    expected = _run_batches(reference, inputs.batches)
    classifier = _classifier_output(output_names, expected, manifest.output, model)
    metric = options.metric or manifest.metric or ("accuracy" if inputs.labels is not None and classifier is not None else "max_rel")
    if metric in ("accuracy", "top1", "top5") and classifier is None:
        raise InvalidModelError(f"{model}: metric {metric!r} needs a classifier output ([N, classes]); none found")
    if metric == "accuracy" and inputs.labels is None:
        raise InvalidModelError(f"{model}: metric 'accuracy' needs labels in the data (an array named {manifest.labels!r})")

    framework = (options.frontend or manifest.frontend).framework
    base = {"model": name, "framework": detect_format(model, framework), "metric": metric, "samples": inputs.samples}
    source_accuracy = _accuracy(expected, classifier, inputs.labels)
    rows = [
        {
            **base,
            "precision": "source",
            "backend": reference.label,
            "status": "reference",
            **({"message": no_reference} if no_reference else {}),
            "accuracy": source_accuracy,
            "source_bytes": source_bytes(model, framework),
            "ops": getattr(reference, "node_count", None),
            "latency_ms": median_latency_ms(reference, inputs.batches[0], options.latency_repeats),
        }
    ]
    output_rows: list[dict] = []
    failures: list[str] = []
    fp32_outputs: dict[str, list[list[np.ndarray]]] = {}
    for variant in variants:
        for backend in options.backends:
            if backend == "openvino" and not openvino_available():
                continue
            label = f"{variant.precision}/{backend}"
            row = {**base, "precision": variant.precision, "backend": backend, **_sizes(variant), "convert_s": convert_seconds}
            try:
                if variant.xml not in graphs:
                    graphs[variant.xml] = read_ir(variant.xml)
                tolerance = _tolerance(settings, manifest, _judged_as(variant.precision, graphs[variant.xml]))
                runner = IrRunner(variant.xml, backend, graphs[variant.xml])
                actual = _aligned(_run_batches(runner, inputs.batches), output_names, runner.output_names)
            except Exception as error:  # the IR does not load or run on this backend: the variant fails
                message = f"{label}: the IR does not run: {type(error).__name__}: {error_gist(error)}"
                rows.append({**row, "status": "fail", "message": message})
                failures.append(message)
                continue
            per_output = [
                measure(output, [batch[i] for batch in expected], [batch[i] for batch in actual], tolerance.rtol, tolerance.atol, tolerance.per_tensor)
                for i, output in enumerate(output_names)
            ]
            row_accuracy = _accuracy(actual, classifier, inputs.labels)
            problems = verdict(per_output, metric, tolerance, row_accuracy, source_accuracy, classifier, output_names)
            if backend == "openvino" and options.default_config_check:
                problems += default_config_problems(variant.xml, graphs[variant.xml], inputs.batches[0])
            if variant.precision == "fp32":
                fp32_outputs[backend] = actual
            row.update(
                _aggregate(per_output, classifier),
                accuracy=row_accuracy,
                status="fail" if problems else "pass",
                message="; ".join(f"{label}: {p}" for p in problems),
                ops=_op_count(runner),
                latency_ms=median_latency_ms(runner, inputs.batches[0], options.latency_repeats),
            )
            if variant.precision != "fp32" and backend in fp32_outputs:
                row["max_rel_vs_fp32"] = _max_rel_between(fp32_outputs[backend], actual, output_names)
            rows.append(row)
            failures.extend(f"{label}: {p}" for p in problems)
            output_rows.extend(
                {"model": name, "precision": variant.precision, "backend": backend, **dataclasses.asdict(m)} for m in per_output
            )
    _add_size_ratios(rows)
    return ModelValidation(rows, output_rows, failures, "; ".join(filter(None, [inputs.origin, no_reference])))


def default_config_problems(xml: Path, graph: Graph | None, feeds: Feeds) -> list[str]:
    """Why the IR does not compile and run once with OpenVINO's default CPU configuration (empty
    when it does). Its outputs are not judged: bf16 arithmetic is not what the tolerances are for."""
    from converter.runtime.openvino_backend import default_inference_precision
    from converter.runtime.openvino_backend import error_gist as openvino_gist

    configuration = f"OpenVINO's default CPU configuration (inference precision {default_inference_precision()})"
    try:
        runner = IrRunner(xml, "openvino", graph, defaults=True)
    except Exception as error:  # reported as the variant's failure
        return [f"the IR does not compile with {configuration}: {type(error).__name__}: {openvino_gist(error)}"]
    try:
        runner.run(feeds)
    except Exception as error:
        return [f"the IR compiles but does not run with {configuration}: {type(error).__name__}: {openvino_gist(error)}"]
    return []


def _reference(model: Path, frontend: FrontendOptions | None, variants: Sequence[Variant], graphs: dict) -> tuple[Runner, str]:
    """The source model's runner; for a framework that cannot run here (NoReferenceError), the first
    IR variant on OpenVINO (else onnxruntime) stands in, and the message says so."""
    from converter.frontends import reference_runner

    try:
        return reference_runner(model, frontend), ""
    except NoReferenceError as error:
        if not variants:
            raise
        backend = "openvino" if openvino_available() else "onnxruntime"
        stand_in = IrRunner(variants[0].xml, backend, graphs[variants[0].xml])
        stand_in.label = f"{variants[0].precision}/{backend} (stand-in)"
        return stand_in, f"{str(error).split(': ', 1)[-1]}: the IRs are compared with {variants[0].precision.upper()} on {backend}"


def verdict(
    per_output: Sequence[OutputMetrics],
    metric: str,
    tolerance: Tolerance,
    variant_accuracy: float,
    source_accuracy: float,
    classifier: int | None,
    output_names: Sequence[str],
) -> list[str]:
    """Why a variant fails (empty when it passes): outputs that cannot be compared, then the chosen metric."""
    problems = [f"output {m.name!r}: {m.problem}" for m in per_output if m.problem]
    if metric == "max_rel":
        problems += [
            f"output {m.name!r}: max_rel {m.max_rel:.3g} (max_abs {m.max_abs:.3g}) beyond the tolerance "
            f"(rtol {tolerance.rtol:g}, atol {tolerance.atol:g}{', per tensor' if tolerance.per_tensor else ''})"
            for m in per_output
            if not m.problem and not m.within_tolerance
        ]
    elif metric == "cosine":
        problems += [
            f"output {m.name!r}: cosine {m.cosine:.6f} < {tolerance.cosine:g}"
            for m in per_output
            if not m.problem and not m.cosine >= tolerance.cosine
        ]
    elif metric in ("top1", "top5") and classifier is not None:
        m = per_output[classifier]
        value, bound = (m.top1_agreement, tolerance.top1) if metric == "top1" else (m.top5_agreement, tolerance.top5)
        if not value >= bound:
            problems.append(f"output {m.name!r}: {metric}_agreement {value:.4f} < {bound:g}")
    elif metric == "accuracy" and classifier is not None:
        if not variant_accuracy >= source_accuracy - tolerance.accuracy_drop - 1e-12:
            problems.append(
                f"output {output_names[classifier]!r}: accuracy {variant_accuracy:.4f} < source {source_accuracy:.4f} "
                f"− {tolerance.accuracy_drop:g}"
            )
    return problems


def _judged_as(precision: str, graph: Graph | None) -> str:
    """A float variant of an already quantized source (a QDQ ONNX model: its IR holds FakeQuantize) is
    judged by the int8 tolerances: OpenVINO runs it in int8, whose requantization lands a step away
    from onnxruntime's here and there (docs/quantization.md, "QDQ ONNX input")."""
    if precision in ("fp32", "fp16") and graph is not None and "FakeQuantize" in graph.op_histogram():
        return "int8"
    return precision


def _tolerance(settings: PipelineConfig, manifest: Manifest, precision: str) -> Tolerance:
    return dataclasses.replace(settings.tolerance(precision), **manifest.tolerances.get(precision, {}))


def _run_batches(runner: Runner, batches: Sequence[Feeds]) -> list[list[np.ndarray]]:
    return [[np.asarray(x) for x in runner.run(batch)] for batch in batches]


def _aligned(batches: list[list[np.ndarray]], names: Sequence[str], runner_names: Sequence[set[str]]) -> list[list[np.ndarray]]:
    from converter.validate.runners import align_outputs

    if len(runner_names) != len(names):
        raise InvalidModelError(f"the IR has {len(runner_names)} outputs, the source model {len(names)}")
    order = align_outputs(names, runner_names)
    return [[batch[i] for i in order] for batch in batches]


def _classifier_output(names: Sequence[str], expected: list[list[np.ndarray]], wanted: str | None, model: Path) -> int | None:
    if wanted is not None:
        if wanted not in names:
            raise InvalidModelError(f"{model}: the manifest names output {wanted!r}; the model's outputs are {', '.join(names)}")
        return names.index(wanted)
    return next((i for i in range(len(names)) if all(class_scores(batch[i]) is not None for batch in expected)), None)


def _accuracy(batches: list[list[np.ndarray]], classifier: int | None, labels: np.ndarray | None) -> float:
    if classifier is None or labels is None:
        return math.nan
    return accuracy([batch[classifier] for batch in batches], labels)


def _aggregate(per_output: Sequence[OutputMetrics], classifier: int | None) -> dict:
    """The variant's row: the worst output by max_rel, cosine at its lowest, top-k of the classifier output."""
    worst = max(per_output, key=lambda m: (bool(m.problem), m.max_rel if not math.isnan(m.max_rel) else math.inf))
    chosen = per_output[classifier] if classifier is not None else None
    return {
        "max_abs": max(m.max_abs for m in per_output),
        "max_rel": worst.max_rel,
        "cosine": min((m.cosine for m in per_output if not math.isnan(m.cosine)), default=math.nan),
        "top1_agreement": chosen.top1_agreement if chosen else math.nan,
        "top5_agreement": chosen.top5_agreement if chosen else math.nan,
        "worst_output": worst.name,
    }


def _max_rel_between(reference: list[list[np.ndarray]], actual: list[list[np.ndarray]], names: Sequence[str]) -> float:
    values = [
        measure(name, [batch[i] for batch in reference], [batch[i] for batch in actual], 0.0, 0.0).max_rel
        for i, name in enumerate(names)
    ]
    return max(values, default=math.nan)


def _sizes(variant: Variant) -> dict:
    weights = variant.xml.with_suffix(".bin")
    return {"xml_bytes": variant.xml.stat().st_size, "bin_bytes": weights.stat().st_size if weights.is_file() else 0}


def _add_size_ratios(rows: list[dict]) -> None:
    fp32 = next((r["xml_bytes"] + r["bin_bytes"] for r in rows if r["precision"] == "fp32" and "xml_bytes" in r), None)
    for row in rows:
        if "xml_bytes" in row and fp32:
            row["size_ratio"] = (row["xml_bytes"] + row["bin_bytes"]) / fp32


def _op_count(runner: IrRunner) -> int:
    from converter.passes.manager import op_count

    return op_count(runner.graph)
