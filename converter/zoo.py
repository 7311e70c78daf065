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
    bin_bytes: int = 0
    source_bytes: int = 0
    convert_seconds: float = 0.0
    max_abs_diff: dict[str, float] = field(default_factory=dict)

    def as_row(self) -> dict:
        return asdict(self)


def find_models(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix.lower() in MODEL_SUFFIXES and p.is_file())


def convert_and_validate(
    model_path: Path,
    output_dir: Path,
    backends: tuple[str, ...] = ("onnxruntime", "openvino"),
    rtol: float = 1e-4,
    atol: float = 1e-5,
    seed: int = 0,
) -> ModelReport:
    """Convert one model to OUTPUT_DIR/<stem>/<stem>.xml, reload it from disk, run it on each
    backend and compare with the source model in its own framework (onnxruntime for ONNX)."""
    from converter import convert_model, save_model
    from converter.frontends.onnx.loader import load_onnx
    from converter.validate import compare, random_inputs, run_ir, run_onnxruntime

    report = ModelReport(model=str(model_path), status="ok", source_bytes=model_path.stat().st_size)
    try:
        started = time.perf_counter()
        graph = convert_model(model_path)
        xml_path, bin_path = save_model(graph, output_dir / model_path.stem / f"{model_path.stem}.xml")
        report.convert_seconds = round(time.perf_counter() - started, 4)
        report.xml, report.bin_bytes = str(xml_path), bin_path.stat().st_size

        source = load_onnx(model_path)
        inputs = random_inputs(source, seed=seed)
        expected = run_onnxruntime(source, inputs)
        problems = []
        for backend in backends:
            if backend == "openvino" and not _openvino_available():
                continue
            result = compare(expected, run_ir(xml_path, inputs, backend), rtol, atol)
            report.max_abs_diff[backend] = max(result.max_abs, default=0.0)
            if not result.ok:
                problems.append(f"{backend}: {result.detail}")
        if problems:
            report.status, report.message = "mismatch", "; ".join(problems)
    except ConverterError as error:
        report.status, report.message = "rejected", str(error)
    except Exception as error:  # an irforge bug: record it with its trace, keep going
        report.status = "error"
        report.message = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=6)}"
    return report


def _openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True
