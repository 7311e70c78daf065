"""OpenVINO's own converter + runtime on the ONNX backend node-test suite: which cases it passes.

    python bench/conformance_ovc.py              # all 1,884 cases; writes tests/conformance/openvino_passed.txt
    python bench/conformance_ovc.py --jobs 2     # worker processes (default 2)
    python bench/conformance_ovc.py --filter cast_INT4 # only matching cases; prints, writes nothing

Each case's model is converted by `openvino.convert_model` (the `ovc` converter), compiled for CPU
in f32 exactly as irforge's IR is (converter/runtime/openvino_backend.compile_ir's settings), run on
the case's inputs and compared with its expected outputs at the case's own rtol/atol, with the same
comparison as bench/conformance.py. The list of passed cases is what
tests/conformance/test_onnx_node_suite.py holds irforge to: every one of them must pass from
irforge's IR too.

Cases run in worker processes fed one case at a time over a pipe, so a converter crash or hang
(a per-case timeout) costs that case only: the worker is replaced and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")
ROOT = Path(__file__).resolve().parents[1]
PASSED_LIST = ROOT / "tests" / "conformance" / "openvino_passed.txt"
READY = "ready"


def run_case_with_ovc(case) -> tuple[str, str]:
    """(status, detail) for one case converted by OpenVINO's converter and run in OpenVINO."""
    import tempfile
    import warnings

    import onnx
    import openvino

    from converter.runtime.openvino_backend import run_compiled
    from converter.validate import compare
    from converter.validate.onnx_node_suite import _as_array

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "model.onnx"
        onnx.save(case.model, path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = openvino.convert_model(str(path))
        except Exception as error:
            return "rejected", _short(error)
    try:
        config = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": "1"}
        compiled = openvino.Core().compile_model(model, "CPU", config)
    except Exception as error:
        return "fail", f"compile: {_short(error)}"
    initializers = {t.name for t in case.model.graph.initializer}
    for inputs, expected in case.data_sets:
        inputs = [_as_array(x) for x in inputs]
        expected = [_as_array(x) for x in expected]
        if not all(hasattr(x, "dtype") for x in list(inputs) + list(expected)):
            return "unsupported", "sequence or optional inputs/outputs"
        # OpenVINO's converter drops inputs nothing reads (CastLike's `target_type`): feed by name.
        names = [i.name for i in case.model.graph.input if i.name not in initializers]
        kept = {name for port in compiled.inputs for name in port.get_names()}
        feeds = {name: value for name, value in zip(names, inputs) if name in kept}
        try:
            actual = run_compiled(compiled, feeds)
        except Exception as error:
            return "fail", f"run: {_short(error)}"
        result = compare(expected, actual, rtol=case.rtol, atol=case.atol)
        if not result.ok:
            return "fail", result.detail
    return "pass", ""


def _short(error: BaseException, limit: int = 300) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def worker() -> None:
    """Read case names on stdin, answer one JSON line per case on stdout."""
    sys.path.insert(0, str(ROOT))
    from converter.validate.onnx_node_suite import load_cases

    cases = {case.name: case for case in load_cases()}
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the converter's own prints go to stderr, not into the answers
    print(READY, file=out)
    for line in sys.stdin:
        name = line.strip()
        status, detail = run_case_with_ovc(cases[name])
        print(json.dumps({"name": name, "status": status, "detail": detail}), file=out)


class Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
        )
        self.case: str | None = None
        self.started = 0.0
        self.ready = False

    def send(self, name: str) -> None:
        self.case, self.started = name, time.monotonic()
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def run_all(names: list[str], jobs: int, timeout: float) -> dict[str, dict]:
    pending = list(reversed(names))
    results: dict[str, dict] = {}
    workers = [Worker() for _ in range(min(jobs, len(names)))]
    try:
        _feed(workers, pending, results, len(names), timeout)
    finally:  # no worker outlives the run, whatever ended it
        for w in workers:
            w.kill()
    return results


def _feed(workers: list[Worker], pending: list[str], results: dict[str, dict], total: int, timeout: float) -> None:
    while pending or any(w.case for w in workers):
        for w in workers:
            if w.ready and w.case is None and pending:
                w.send(pending.pop())
        streams = {w.process.stdout: w for w in workers}
        readable, _, _ = select.select(list(streams), [], [], 1.0)
        for stream in readable:
            w = streams[stream]
            line = stream.readline()
            if line.strip() == READY:
                w.ready = True
                continue
            if line:
                answer = json.loads(line)
                results[answer["name"]] = answer
                w.case = None
                continue
            _replace(workers, w, results, "crash", "the worker process died (converter or runtime crash)")
        for w in list(workers):
            if w.case and time.monotonic() - w.started > timeout:
                _replace(workers, w, results, "fail", f"timeout after {timeout:.0f} s")
        if len(results) % 100 == 0 and results:
            print(f"  {len(results)}/{total}", end="\r", flush=True)


def _replace(workers: list[Worker], dead: Worker, results: dict[str, dict], status: str, detail: str) -> None:
    if dead.case:
        results[dead.case] = {"name": dead.case, "status": status, "detail": detail}
    dead.kill()
    workers[workers.index(dead)] = Worker()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one case may take")
    parser.add_argument("--filter", default="", help="only cases whose name contains one of these comma-separated words")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return

    sys.path.insert(0, str(ROOT))
    from converter.validate.onnx_node_suite import load_cases

    names = [case.name for case in load_cases()]
    words = [w for w in args.filter.split(",") if w]
    if words:
        names = [n for n in names if any(w in n for w in words)]
    started = time.perf_counter()
    results = run_all(names, args.jobs, args.timeout)
    elapsed = time.perf_counter() - started
    passed = sorted(n for n, r in results.items() if r["status"] == "pass")
    print(f"OpenVINO's converter + runtime: {len(passed)}/{len(names)} passed "
          f"({100 * len(passed) / max(len(names), 1):.1f}%), {elapsed:.0f} s")
    if words:
        for name in names:
            r = results[name]
            print(f"  {r['status']:11} {name}: {r['detail']}")
        return
    header = [
        "# ONNX backend node-test cases that OpenVINO's own converter + runtime pass.",
        f"# Regenerated by `python bench/conformance_ovc.py` (openvino {_openvino_version()}, onnx {_onnx_version()}):",
        f"# {len(passed)} of {len(names)} cases. irforge's IR must pass every one of them.",
    ]
    PASSED_LIST.write_text("\n".join(header + passed) + "\n")
    print(f"wrote {PASSED_LIST.relative_to(ROOT)}")


def _openvino_version() -> str:
    import openvino

    return openvino.__version__.split("-")[0]


def _onnx_version() -> str:
    import onnx

    return onnx.__version__


if __name__ == "__main__":
    main()
