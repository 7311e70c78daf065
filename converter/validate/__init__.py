"""Validation: run the source model in its own framework and the IR, compare outputs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import ml_dtypes
import numpy as np
import onnx

from converter.frontends.onnx.converter import ELEMENT_TYPES


@dataclass(frozen=True)
class Comparison:
    """How far `actual` is from `expected`, output by output."""

    max_abs: list[float]
    max_rel: list[float]
    ok: bool
    detail: str = ""


def compare(
    expected: Sequence[np.ndarray], actual: Sequence[np.ndarray], rtol: float, atol: float, per_tensor: bool = False
) -> Comparison:
    """numpy.allclose semantics per output, NaNs equal, shapes and dtypes must agree.

    With `per_tensor`, rtol is relative to each output's largest magnitude rather than to
    each element (the fair yardstick for FP16 weights, whose rounding error scales with
    the tensor, not with elements that happen to be near zero).
    """
    if len(expected) != len(actual):
        return Comparison([], [], False, f"{len(actual)} outputs, expected {len(expected)}")
    max_abs, max_rel, problems = [], [], []
    for index, (e, a) in enumerate(zip(expected, actual)):
        e, a = np.asarray(e), np.asarray(a)
        if e.shape != a.shape:
            problems.append(f"output {index}: shape {a.shape}, expected {e.shape}")
            max_abs.append(float("inf"))
            max_rel.append(float("inf"))
            continue
        if _is_float(e.dtype) or _is_float(a.dtype):
            e64, a64 = e.astype(np.float64), a.astype(np.float64)
            both_nan = np.isnan(e64) & np.isnan(a64)
            same_inf = np.isinf(e64) & (e64 == a64)
            with np.errstate(invalid="ignore", over="ignore"):
                difference = np.where(both_nan | same_inf, 0.0, np.abs(e64 - a64))
            difference = np.nan_to_num(difference, nan=np.inf)
            magnitude = np.abs(np.nan_to_num(e64, posinf=0, neginf=0))
            bound = atol + rtol * (magnitude.max(initial=0.0) if per_tensor else magnitude)
            ok = bool(np.all(difference <= bound))
            max_abs.append(float(difference.max(initial=0.0)))
            with np.errstate(divide="ignore", invalid="ignore"):
                relative = np.where(difference == 0, 0.0, difference / np.abs(e64))
            max_rel.append(float(np.nan_to_num(relative, nan=np.inf).max(initial=0.0)))
        else:
            ok = bool(np.array_equal(e, a))
            max_abs.append(0.0 if ok else float("inf"))
            max_rel.append(0.0 if ok else float("inf"))
        if not ok:
            problems.append(f"output {index}: max abs diff {max_abs[-1]:.3g}")
        if e.dtype != a.dtype and not (e.dtype.kind == a.dtype.kind == "b"):
            problems.append(f"output {index}: dtype {a.dtype}, expected {e.dtype}")
    return Comparison(max_abs, max_rel, not problems, "; ".join(problems))


def _is_float(dtype: np.dtype) -> bool:
    return dtype.kind in "fc" or dtype == ml_dtypes.bfloat16 or dtype.name.startswith("float8")


def random_inputs(model: onnx.ModelProto, seed: int = 0, dynamic_dim: int = 2) -> list[np.ndarray]:
    """Seeded inputs for the model's graph inputs; dynamic dims become `dynamic_dim`."""
    rng = np.random.default_rng(seed)
    initializers = {t.name for t in model.graph.initializer}
    arrays = []
    for value_info in model.graph.input:
        if value_info.name in initializers:
            continue
        tensor_type = value_info.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else dynamic_dim for d in tensor_type.shape.dim]
        dtype = ELEMENT_TYPES[tensor_type.elem_type].numpy
        if np.dtype(dtype).kind == "f":
            arrays.append(rng.standard_normal(dims).astype(dtype))
        elif np.dtype(dtype).kind == "b":
            arrays.append(rng.integers(0, 2, dims).astype(bool))
        else:
            arrays.append(rng.integers(0, 10, dims).astype(dtype))
    return arrays


def run_onnxruntime(model: onnx.ModelProto | str | os.PathLike[str], inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The source model's own answer, from onnxruntime."""
    import onnxruntime

    if isinstance(model, onnx.ModelProto):
        payload = model.SerializeToString()
        graph_inputs = model.graph
    else:
        payload = os.fspath(model)
        graph_inputs = onnx.load(payload, load_external_data=False).graph
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(payload, options, providers=["CPUExecutionProvider"])
    initializers = {t.name for t in graph_inputs.initializer}
    names = [i.name for i in graph_inputs.input if i.name not in initializers]
    return list(session.run(None, dict(zip(names, inputs))))


def run_ir(xml_path: str | os.PathLike[str], inputs: Sequence[np.ndarray], backend: str) -> list[np.ndarray]:
    """Reload an IR from disk and run it on `backend` (openvino or onnxruntime)."""
    if backend == "openvino":
        from converter.runtime.openvino_backend import compile_ir, run_compiled

        return run_compiled(compile_ir(Path(xml_path)), list(inputs))
    from converter.runtime import execute
    from converter.serialize.reader import read_ir

    return execute(read_ir(xml_path), list(inputs), backend=backend)
