"""How close an IR's outputs are to the source model's: per output, over every sample.

`compare` is the element-wise tolerance check (numpy.allclose semantics). `measure` adds the
figures a report shows: max abs, max relative (to the output's magnitude), cosine similarity
and, for classifier-like outputs, top-1 / top-5 agreement with the source.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import ml_dtypes
import numpy as np


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
        if is_float(e.dtype) or is_float(a.dtype):
            difference = _difference(e, a)
            magnitude = np.abs(np.nan_to_num(e.astype(np.float64), posinf=0, neginf=0))
            bound = atol + rtol * (magnitude.max(initial=0.0) if per_tensor else magnitude)
            ok = bool(np.all(difference <= bound))
            max_abs.append(float(difference.max(initial=0.0)))
            with np.errstate(divide="ignore", invalid="ignore"):
                relative = np.where(difference == 0, 0.0, difference / magnitude)
            max_rel.append(float(np.nan_to_num(relative, nan=np.inf, posinf=np.inf).max(initial=0.0)))
        else:
            ok = bool(np.array_equal(e, a))
            max_abs.append(0.0 if ok else float("inf"))
            max_rel.append(0.0 if ok else float("inf"))
        if not ok:
            problems.append(f"output {index}: max abs diff {max_abs[-1]:.3g}")
        if e.dtype != a.dtype and not (e.dtype.kind == a.dtype.kind == "b"):
            problems.append(f"output {index}: dtype {a.dtype}, expected {e.dtype}")
    return Comparison(max_abs, max_rel, not problems, "; ".join(problems))


def is_float(dtype: np.dtype) -> bool:
    return dtype.kind in "fc" or dtype == ml_dtypes.bfloat16 or dtype.name.startswith(("float8", "float4"))


def _difference(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """|expected − actual| in float64; equal NaNs and equal infinities differ by 0, any other NaN by inf."""
    e64, a64 = expected.astype(np.float64), actual.astype(np.float64)
    both_nan = np.isnan(e64) & np.isnan(a64)
    same_inf = np.isinf(e64) & (e64 == a64)
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.where(both_nan | same_inf, 0.0, np.abs(e64 - a64))
    return np.nan_to_num(difference, nan=np.inf, posinf=np.inf)


@dataclass(frozen=True)
class OutputMetrics:
    """One output of one variant, over all samples. `problem` says why it cannot be compared at all."""

    name: str
    max_abs: float
    max_rel: float  # max |diff| / max |source output|
    cosine: float
    top1_agreement: float = math.nan
    top5_agreement: float = math.nan
    within_tolerance: bool = True
    problem: str = ""


def measure(
    name: str,
    expected: Sequence[np.ndarray],
    actual: Sequence[np.ndarray],
    rtol: float,
    atol: float,
    per_tensor: bool = False,
) -> OutputMetrics:
    """Compare one output over a list of batches (the source's `expected`, the IR's `actual`)."""
    nan = math.nan
    for e, a in zip(expected, actual):
        e, a = np.asarray(e), np.asarray(a)
        if e.shape != a.shape:
            return OutputMetrics(name, math.inf, math.inf, nan, problem=f"shape {list(a.shape)}, expected {list(e.shape)}")
        if e.dtype != a.dtype and not (is_float(e.dtype) and is_float(a.dtype)) and not (e.dtype.kind == a.dtype.kind == "b"):
            return OutputMetrics(name, math.inf, math.inf, nan, problem=f"dtype {a.dtype}, expected {e.dtype}")
    # Float outputs of different widths (an f16 IR output against f32) are compared by value.
    pairs = [(np.asarray(e), np.asarray(a)) for e, a in zip(expected, actual)]
    check = compare(
        [e.astype(np.float64) if is_float(e.dtype) and e.dtype != a.dtype else e for e, a in pairs],
        [a.astype(np.float64) if is_float(a.dtype) and e.dtype != a.dtype else a for e, a in pairs],
        rtol,
        atol,
        per_tensor,
    )
    if not any(is_float(np.asarray(e).dtype) for e in expected):
        equal = check.ok
        return OutputMetrics(name, 0.0 if equal else math.inf, 0.0 if equal else math.inf, 1.0 if equal else 0.0, within_tolerance=equal)
    e_flat = np.concatenate([np.asarray(e, np.float64).reshape(-1) for e in expected]) if expected else np.zeros(0)
    a_flat = np.concatenate([np.asarray(a, np.float64).reshape(-1) for a in actual]) if actual else np.zeros(0)
    difference = _difference(e_flat, a_flat)
    max_abs = float(difference.max(initial=0.0))
    scale = float(np.abs(np.nan_to_num(e_flat, posinf=0, neginf=0)).max(initial=0.0))
    max_rel = max_abs / scale if scale else (0.0 if max_abs == 0 else math.inf)
    problem = ""
    if np.isfinite(e_flat).all() and not np.isfinite(a_flat).all():
        problem = "not finite where the source is"
    top1, top5 = top_k_agreement(expected, actual)
    return OutputMetrics(
        name, max_abs, max_rel, cosine_similarity(e_flat, a_flat), top1, top5, check.ok and not problem, problem
    )


def cosine_similarity(expected: np.ndarray, actual: np.ndarray) -> float:
    finite = np.isfinite(expected) & np.isfinite(actual)
    e, a = expected[finite], actual[finite]
    norms = float(np.linalg.norm(e) * np.linalg.norm(a))
    if norms == 0.0:
        return 1.0 if not np.any(e) and not np.any(a) else 0.0
    return float(np.clip(np.dot(e, a) / norms, -1.0, 1.0))


def class_scores(array: np.ndarray) -> np.ndarray | None:
    """[samples, classes] when `array` looks like a classifier's output ([N, C] or [N, C, 1, 1], C ≥ 2)."""
    array = np.asarray(array)
    if array.ndim > 2:
        trailing = array.shape[2:]
        if any(d != 1 for d in trailing):
            return None
        array = array.reshape(array.shape[:2])
    if array.ndim != 2 or array.shape[1] < 2 or not is_float(array.dtype):
        return None
    return array.astype(np.float64)


def top_k_agreement(expected: Sequence[np.ndarray], actual: Sequence[np.ndarray]) -> tuple[float, float]:
    """Share of samples whose source top-1 class is the IR's top-1, and is within the IR's top-5 (NaN if not a classifier)."""
    pairs = [(class_scores(e), class_scores(a)) for e, a in zip(expected, actual)]
    if not pairs or any(e is None or a is None for e, a in pairs):
        return math.nan, math.nan
    e = np.concatenate([p[0] for p in pairs])
    a = np.concatenate([p[1] for p in pairs])
    if not len(e):
        return math.nan, math.nan
    source_top1 = e.argmax(axis=1)
    top1 = float(np.mean(a.argmax(axis=1) == source_top1))
    if a.shape[1] <= 5:
        return top1, math.nan
    top5_classes = np.argsort(-a, axis=1, kind="stable")[:, :5]
    top5 = float(np.mean((top5_classes == source_top1[:, None]).any(axis=1)))
    return top1, top5


def accuracy(outputs: Sequence[np.ndarray], labels: np.ndarray) -> float:
    """Share of samples whose top-1 class is the label (NaN if the output is not classifier-like)."""
    scores = [class_scores(o) for o in outputs]
    if not scores or any(s is None for s in scores):
        return math.nan
    predictions = np.concatenate(scores).argmax(axis=1)
    labels = np.asarray(labels).reshape(-1)
    if len(predictions) != len(labels):
        return math.nan
    return float(np.mean(predictions == labels))
