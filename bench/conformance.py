"""ONNX backend node-test conformance: pass rate per backend and per op.

    python bench/conformance.py                  # all cases, writes docs/conformance.md
    python bench/conformance.py --filter conv    # cases whose name contains "conv"; prints only

The full run also writes tests/conformance/known_failures.json, which the test
module uses: every case not listed there must pass.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converter.validate.onnx_node_suite import CaseResult, load_cases, run_case  # noqa: E402

OPENVINO_PASSED_LIST = ROOT / "tests" / "conformance" / "openvino_passed.txt"  # bench/conformance_ovc.py


def openvino_passed() -> set[str]:
    """The cases OpenVINO's own converter + runtime pass (as last measured by bench/conformance_ovc.py)."""
    lines = OPENVINO_PASSED_LIST.read_text().splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--filter", default="", help="only cases whose name contains one of these comma-separated words")
    parser.add_argument("--show", default="fail,error,rejected", help="statuses to list per case when filtering")
    args = parser.parse_args()

    cases = load_cases()
    words = [w for w in args.filter.split(",") if w]
    if words:
        cases = [c for c in cases if any(w in c.name for w in words)]
    started = time.perf_counter()
    results: list[CaseResult] = []
    for case in cases:
        results.extend(run_case(case))
    elapsed = time.perf_counter() - started

    counts = Counter((r.backend, r.status) for r in results)
    total = len(cases)
    for backend in ("openvino", "onnxruntime"):
        passed = counts[(backend, "pass")]
        print(f"{backend}: {passed}/{total} passed ({100 * passed / max(total, 1):.1f}%)")
    print(f"{elapsed:.0f} s")
    if words:
        show = set(args.show.split(","))
        for r in results:
            if r.status in show:
                print(f"  {r.backend:12} {r.status:11} {r.name}: {r.detail}")
        return
    write_report(results, total, elapsed)


# Why cases fail, by the reason irforge or the runtime gives. The report groups every failing
# case under the first pattern its reason matches; a case that matches none is listed as
# unexplained (which a change should never leave behind).
REASONS: list[tuple[str, str]] = [
    (r"sequence or optional|only tensor inputs|Sequence|Optional",
     "ONNX sequence and optional types: OpenVINO IR has no sequence or optional values."),
    (r"element type (FLOAT8E4M3FNUZ|FLOAT8E5M2FNUZ|FLOAT8E8M0|INT2|UINT2|STRING)",
     "Element types OpenVINO IR lacks: float8 FNUZ variants and E8M0, int2/uint2 (IR has u2 but no i2), string."),
    (r"^unsupported: .*(Quantize|QLinear|Integer)|\(QuantizeLinear\)",
     "Quantized ops: INT8 support (FakeQuantize / i8 weights) is a later issue."),
    (r"^unsupported: .*(String|Regex|TfIdf|LabelEncoder|ImageDecoder|ai\.onnx\.ml|Tokenizer)",
     "Text, image-decoding and classical-ML ops: no OpenVINO op computes them."),
    (r"^unsupported: .*ai\.onnx\.preview",
     "Training and preview-domain ops (optimizers, FlexAttention): not inference ops."),
    (r"^unsupported: .*Random|RandomUniformLike|RandomNormal|Bernoulli|Multinomial",
     "Random-number ops: their outputs cannot be compared with fixed expected values; not mapped."),
    (r"^unsupported: .*(BitCast|Det|MelWeightMatrix)",
     "Ops with no OpenVINO counterpart that irforge does not decompose yet."),
    (r"^unsupported:",
     "Ops irforge has no handler for yet."),
    (r"test_(dft|stft)",
     "DFT/STFT cases demand atol 1e-7, below float32 FFT rounding (1e-5 to 3e-4); onnxruntime on the "
     "source model fails them too."),
    (r"non-constant axes|reduce over all axes|output rank only known",
     "Reductions/Squeeze whose axes are a runtime input that may be empty or change the output rank: "
     "OpenVINO needs the output rank at load time."),
    (r"training_mode|Dropout",
     "Dropout in training mode (random masks) cannot be compared; inference Dropout is supported."),
    (r"test_dynamicquantizelinear",
     "OpenVINO's CPU Divide in f32 is not correctly rounded (-2.5 / 0.019607844 gives -127.5, not "
     "-127.49999), so a quantization scale computed at run time can land one step off; the same IR "
     "passes in onnxruntime, and constant scales are exact."),
    (r"test_resize_downsample_scales_(linear|cubic)_align_corners",
     "ONNX's reference divides by the unrounded output length (scale × input); onnxruntime and OpenVINO "
     "use the rounded length, and irforge follows them."),
    (r"Resize|Interpolate|antialias|tf_crop_and_resize|keep_aspect_ratio|exclude_outside|half_pixel_symmetric",
     "Resize modes OpenVINO's Interpolate-11 cannot express with these inputs (rejected with the reason)."),
    (r"bfloat16|bf16|BFLOAT16|Numpy_type 256",
     "bfloat16: OpenVINO's CPU plugin rounds bf16 intermediate results differently from ONNX's reference "
     "(one bf16 step)."),
    (r"float64|f64|DOUBLE",
     "float64: OpenVINO's CPU plugin computes f64 in f32 (±inf becomes ±FLT_MAX, precision drops)."),
    (r"^rejected:",
     "Refused by the handler with the stated reason: an attribute value or input form that no OpenVINO "
     "op expresses exactly (see the reason per case below)."),
]


def explain(case_name: str, detail: str) -> str:
    import re

    text = f"{case_name} {detail}"
    for pattern, explanation in REASONS:
        if re.search(pattern, detail) or re.search(pattern, text):
            return explanation
    return "unexplained"


def write_report(results: list[CaseResult], total: int, elapsed: float) -> None:
    by_backend = {b: {r.name: r for r in results if r.backend == b} for b in ("openvino", "onnxruntime")}
    passed = {b: sum(r.status == "pass" for r in rs.values()) for b, rs in by_backend.items()}
    per_op: dict[str, Counter] = defaultdict(Counter)
    for r in by_backend["openvino"].values():
        per_op[r.op][r.status] += 1
        per_op[r.op]["cases"] += 1

    lines = [
        "# ONNX backend node-test conformance",
        "",
        "Generated by `python bench/conformance.py` (do not edit by hand; it also rewrites",
        "`tests/conformance/known_failures.json`). Each case of",
        "`onnx.backend.test.loader.load_model_tests(kind=\"node\")` is converted by irforge,",
        "written as IR v11, read back from disk and executed; outputs are compared with the",
        "case's expected outputs at the case's own rtol/atol.",
        "",
        "`tests/conformance/test_onnx_node_suite.py` runs every case on both backends (part of CI):",
        "each case not in known_failures.json must pass, each case in openvino_passed.txt must pass in",
        "OpenVINO whatever known_failures.json says, and the expected OpenVINO failures must stay at",
        "or below 14% (an 86% floor). To refresh after a change: `python bench/conformance.py`; after",
        "an OpenVINO or onnx upgrade also `python bench/conformance_ovc.py` (OpenVINO's converter on",
        "every case, ~5 min with 2 workers).",
        "",
        f"| backend | passed | of | rate |",
        "|---|---|---|---|",
    ]
    for backend in ("openvino", "onnxruntime"):
        lines.append(f"| irforge IR in {backend} | {passed[backend]} | {total} | {100 * passed[backend] / total:.1f}% |")
    reference = openvino_passed()
    lines.append(f"| OpenVINO's own converter + runtime (reference) | {len(reference)} | {total} | {100 * len(reference) / total:.1f}% |")
    irforge_passed = {name for name, r in by_backend["openvino"].items() if r.status == "pass"}
    beaten = sorted(reference - irforge_passed)
    lines += [
        "",
        "The reference row comes from `python bench/conformance_ovc.py` (OpenVINO's `convert_model` on",
        "each case, compiled and compared the same way), which writes the passed cases to",
        "`tests/conformance/openvino_passed.txt`; the test module holds irforge's IR to every one of them.",
        f"Of those {len(reference)} cases irforge's IR passes {len(reference & irforge_passed)} in OpenVINO"
        + (f"; it fails {len(beaten)}: {', '.join(beaten)}." if beaten else " (all of them)."),
        f"irforge's IR passes {len(irforge_passed - reference)} cases that OpenVINO's converter does not.",
        "",
        f"Run time: {elapsed:.0f} s on this machine.",
        "",
        "Statuses: `pass`; `fail` (converted, wrong or failing at run time); `unsupported`",
        "(an op irforge has no handler for); `rejected` (a handler refused an attribute or",
        "input it cannot express, with a reason); `error` (a bug in irforge).",
        "",
        "## Per op (OpenVINO runtime)",
        "",
        "| op | cases | pass | fail | unsupported | rejected | error |",
        "|---|---|---|---|---|---|---|",
    ]
    for op in sorted(per_op):
        c = per_op[op]
        lines.append(f"| {op} | {c['cases']} | {c['pass']} | {c['fail']} | {c['unsupported']} | {c['rejected']} | {c['error']} |")
    failing = [r for r in by_backend["openvino"].values() if r.status != "pass"]
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for r in failing:
        groups[explain(r.name, f"{r.status}: {r.detail}")].append(r)
    lines += ["", "## Why cases fail (OpenVINO runtime)", "", "| cases | why |", "|---|---|"]
    for why, members in sorted(groups.items(), key=lambda item: (item[0] == "unexplained", -len(item[1]))):
        lines.append(f"| {len(members)} | {why} |")
    lines += ["", "## Every case that does not pass in OpenVINO, with the reason", ""]
    lines += ["| case | status | reason |", "|---|---|---|"]
    known: dict[str, str] = {}
    for name in sorted(by_backend["openvino"]):
        r = by_backend["openvino"][name]
        if r.status != "pass":
            reason = r.detail.replace("|", "\\|")
            lines.append(f"| {name} | {r.status} | {reason} |")
        for backend in ("openvino", "onnxruntime"):
            rb = by_backend[backend][name]
            if rb.status != "pass":
                known[f"{backend}:{name}"] = f"{rb.status}: {rb.detail}"
    (ROOT / "docs" / "conformance.md").write_text("\n".join(lines) + "\n")
    target = ROOT / "tests" / "conformance" / "known_failures.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    print(f"wrote docs/conformance.md and {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
