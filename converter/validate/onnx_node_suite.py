"""Run the ONNX backend node-test suite through convert → write → read → execute."""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converter.errors import ConverterError, UnsupportedOpsError
from converter.validate import compare

STATUSES = ("pass", "fail", "unsupported", "rejected", "error")


@dataclass(frozen=True)
class CaseResult:
    name: str
    op: str
    backend: str
    status: str  # one of STATUSES
    detail: str = ""


def load_cases() -> list:
    from onnx.backend.test.loader import load_model_tests

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_model_tests(kind="node")


def op_of_case(case) -> str:
    """The op a case is about: its node's op type, `+ _expanded` for function expansions."""
    ops = [node.op_type for node in case.model.graph.node]
    if case.name.endswith("_expanded") or "_expanded_" in case.name:
        base = case.name.removeprefix("test_").split("_expanded")[0]
        return f"{base} (expanded)"
    return ops[0] if len(ops) == 1 else ",".join(sorted(set(ops)))


def run_case(case, backends: tuple[str, ...] = ("openvino", "onnxruntime")) -> list[CaseResult]:
    from converter import convert_model, save_model

    op = op_of_case(case)
    try:
        graph = convert_model(case.model)
    except UnsupportedOpsError as error:
        return [CaseResult(case.name, op, b, "unsupported", ", ".join(error.unsupported)) for b in backends]
    except ConverterError as error:
        return [CaseResult(case.name, op, b, "rejected", _short(error)) for b in backends]
    except Exception as error:  # a bug in irforge: report it, keep going
        return [CaseResult(case.name, op, b, "error", f"convert: {type(error).__name__}: {_short(error)}") for b in backends]

    results = []
    with tempfile.TemporaryDirectory() as directory:
        xml_path = Path(directory) / "model.xml"
        try:
            save_model(graph, xml_path)
        except Exception as error:
            return [CaseResult(case.name, op, b, "error", f"save: {type(error).__name__}: {_short(error)}") for b in backends]
        for backend in backends:
            results.append(_run_backend(case, op, backend, xml_path))
    return results


def _run_backend(case, op: str, backend: str, xml_path: Path) -> CaseResult:
    from converter.validate import run_ir

    for inputs, expected in case.data_sets:
        inputs = [_as_array(x) for x in inputs]
        expected = [_as_array(x) for x in expected]
        if not all(isinstance(x, np.ndarray) for x in list(inputs) + list(expected)):
            return CaseResult(case.name, op, backend, "unsupported", "sequence or optional inputs/outputs")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                actual = run_ir(xml_path, inputs, backend)
        except Exception as error:
            return CaseResult(case.name, op, backend, "fail", f"{type(error).__name__}: {_short(error)}")
        result = compare(expected, actual, rtol=case.rtol, atol=case.atol)
        if not result.ok:
            return CaseResult(case.name, op, backend, "fail", result.detail)
    return CaseResult(case.name, op, backend, "pass")


def _as_array(data):
    """Test data comes as arrays, numpy scalars (0-d tensors) or TensorProtos."""
    import onnx
    from onnx import numpy_helper

    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, onnx.TensorProto):
        return numpy_helper.to_array(data)
    return data


def _short(error: BaseException, limit: int = 300) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
