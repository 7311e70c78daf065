"""Convert and validate one model, or every model of a directory (the zoo job).

One model's failure is recorded in its report and never stops the others.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from converter.errors import ConverterError

MODEL_SUFFIXES = (".onnx",)


@dataclass
class ModelReport:
    model: str
    status: str  # "ok", "mismatch", "rejected" (bad input / unsupported), "error" (irforge bug)
    message: str = ""
    xml: str = ""
    bin_bytes: dict[str, int] = field(default_factory=dict)  # per precision
    source_bytes: int = 0
    convert_seconds: float = 0.0
    max_abs_diff: dict[str, float] = field(default_factory=dict)  # per "precision/backend"
    max_scaled_diff: dict[str, float] = field(default_factory=dict)  # max |diff| / max |expected|

    def as_row(self) -> dict:
        return asdict(self)


def find_models(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix.lower() in MODEL_SUFFIXES and p.is_file())


def convert_and_validate(
    model_path: Path,
    output_dir: Path,
    backends: tuple[str, ...] = ("onnxruntime", "openvino"),
    seed: int = 0,
) -> ModelReport:
    """Convert one model to OUTPUT_DIR/<stem>/<PRECISION>/<stem>.xml for each configured precision,
    reload each IR from disk, run it on each backend and compare with the source model run in
    its own framework (onnxruntime for ONNX), at the configured tolerance of that precision."""
    from converter import convert_model, save_model
    from converter.config import load_config
    from converter.frontends.onnx.loader import load_onnx
    from converter.validate import compare, random_inputs, run_ir, run_onnxruntime

    report = ModelReport(model=str(model_path), status="ok", source_bytes=model_path.stat().st_size)
    try:
        settings = load_config()
        started = time.perf_counter()
        graph = convert_model(model_path)
        written = {}
        for precision in settings.precisions:
            target = output_dir / model_path.stem / precision.upper() / f"{model_path.stem}.xml"
            xml_path, bin_path = save_model(graph, target, compress_to_fp16=precision == "fp16")
            written[precision] = xml_path
            report.bin_bytes[precision] = bin_path.stat().st_size
        report.convert_seconds = round(time.perf_counter() - started, 4)
        report.xml = str(next(iter(written.values())))

        source = load_onnx(model_path)
        inputs = random_inputs(source, seed=seed)
        expected = run_onnxruntime(model_path, inputs)
        problems = []
        for precision, xml_path in written.items():
            tolerance = settings.tolerance(precision)
            for backend in backends:
                if backend == "openvino" and not _openvino_available():
                    continue
                actual = run_ir(xml_path, inputs, backend)
                result = compare(expected, actual, tolerance.rtol, tolerance.atol, tolerance.per_tensor)
                key = f"{precision}/{backend}"
                report.max_abs_diff[key] = max(result.max_abs, default=0.0)
                report.max_scaled_diff[key] = _scaled_difference(expected, actual)
                if not result.ok:
                    problems.append(f"{precision}/{backend}: {result.detail}")
        if problems:
            report.status, report.message = "mismatch", "; ".join(problems)
    except ConverterError as error:
        report.status, report.message = "rejected", str(error)
    except Exception as error:  # an irforge bug: record it with its trace, keep going
        report.status = "error"
        report.message = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=6)}"
    return report


def _scaled_difference(expected: list, actual: list) -> float:
    import numpy as np

    worst = 0.0
    for e, a in zip(expected, actual):
        if e.dtype.kind == "f" and e.size and a.shape == e.shape:
            scale = float(np.max(np.abs(e))) or 1.0
            worst = max(worst, float(np.max(np.abs(e.astype(np.float64) - a))) / scale)
    return worst


def _openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True
