"""The fuzz campaign: every reader format, N cases each, on a pool of workers.

    python tests/fuzz/fuzz_campaign.py --cases 10000 --seed 1 --workers 2 --out /tmp/fuzz-findings

prints per format the cases and their outcomes (converted, refused, bug, timeout, crash) and
writes each finding (its files and what happened) under --out, to be replayed with --replay DIR.
The CI test (test_fuzz_readers.py) runs the same code with IRFORGE_FUZZ_CASES cases per format.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fuzz_pool import GIB, Pool  # noqa: E402
from fuzz_seeds import FORMATS  # noqa: E402
from fuzz_worker import Case, Result  # noqa: E402

FUZZ_ENVIRONMENT = {"IRFORGE_MAX_TENSOR_BYTES": str(256 << 20), "IRFORGE_H5_PROBE_SECONDS": "3"}
"""The workers' tensor limit: far below their memory cap, so a size the readers fail to bound
shows as a MemoryError (a bug) rather than passing because the machine happens to have the RAM.
The HDF5 metadata probe's deadline (converter/frontends/keras/h5_probe.py) well inside a case's,
so a file that hangs libhdf5 is refused by irforge, not timed out by the pool."""
OUTCOMES = ("converted", "refused", "bug", "timeout", "crash")


@dataclass
class Summary:
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    findings: list[tuple[Case, Result]] = field(default_factory=list)
    seconds: float = 0.0
    restarts: int = 0

    def add(self, case: Case, result: Result) -> None:
        self.counts[case.fmt][result.kind] += 1
        if result.kind in ("bug", "timeout", "crash"):
            self.findings.append((case, result))

    def table(self) -> str:
        lines = [f"{'format':<12}" + "".join(f"{k:>11}" for k in ("cases", *OUTCOMES))]
        for fmt in sorted(self.counts):
            counts = self.counts[fmt]
            lines.append(f"{fmt:<12}{sum(counts.values()):>11}" + "".join(f"{counts[k]:>11}" for k in OUTCOMES))
        total = Counter()
        for counts in self.counts.values():
            total.update(counts)
        lines.append(f"{'all':<12}{sum(total.values()):>11}" + "".join(f"{total[k]:>11}" for k in OUTCOMES))
        lines.append(f"{self.seconds:.1f} s wall, {self.restarts} worker restarts")
        return "\n".join(lines)


def interleaved(formats, count: int, seed: int):
    """Cases of all formats, alternating, so a slow format does not leave one worker idle at the end."""
    from fuzz_mutations import cases

    generators = [cases(fmt, count, seed) for fmt in formats]
    while generators:
        for generator in list(generators):
            case = next(generator, None)
            if case is None:
                generators.remove(generator)
            else:
                yield case


def run(formats=FORMATS, count: int = 1000, seed: int = 0, workers: int = 2, deadline: float = 30.0, headroom: int = 2 * GIB, progress=None) -> Summary:
    summary = Summary()
    started = time.monotonic()
    with Pool(workers, deadline, headroom, FUZZ_ENVIRONMENT) as pool:
        for done, (_, case, result) in enumerate(pool.run(interleaved(formats, count, seed)), 1):
            summary.add(case, result)
            if progress is not None and done % progress == 0:
                print(f"{done} cases, {time.monotonic() - started:.0f} s, {len(summary.findings)} findings", flush=True)
        summary.restarts = pool.restarts - len([1 for _, r in summary.findings if r.kind in ("timeout", "crash")])
    summary.seconds = time.monotonic() - started
    return summary


def save_finding(folder: Path, number: int, case: Case, result: Result) -> Path:
    target = folder / f"{number:05d}-{case.fmt}-{result.kind}"
    for name, data in case.files.items():
        (target / "files" / name).parent.mkdir(parents=True, exist_ok=True)
        (target / "files" / name).write_bytes(data)
    (target / "finding.json").write_text(
        json.dumps({"format": case.fmt, "entry": case.entry, "mutation": case.mutation, "must_refuse": case.must_refuse, "kind": result.kind, "detail": result.detail}, indent=1)
    )
    return target


def replay(folder: Path) -> Result:
    """Run one saved finding again, in a fresh worker."""
    finding = json.loads((folder / "finding.json").read_text())
    files = {str(p.relative_to(folder / "files")): p.read_bytes() for p in (folder / "files").rglob("*") if p.is_file()}
    case = Case(finding["format"], files, finding["entry"], finding["mutation"], finding["must_refuse"])
    with Pool(1, 60.0, 2 * GIB, FUZZ_ENVIRONMENT) as pool:
        return next(iter(pool.run([case])))[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000, help="cases per format")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds per case")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    parser.add_argument("--json", type=Path, help="write the counts here")
    parser.add_argument("--replay", type=Path, help="run one saved finding again")
    args = parser.parse_args()
    if args.replay:
        result = replay(args.replay)
        print(result.kind, result.detail)
        return
    summary = run(args.formats.split(","), args.cases, args.seed, args.workers, args.deadline, progress=1000)
    print(summary.table())
    for number, (case, result) in enumerate(summary.findings):
        path = save_finding(args.out, number, case, result)
        print(f"{path}: {case.mutation}: {result.detail.strip().splitlines()[-1] if result.detail.strip() else result.kind}")
    if args.json:
        args.json.write_text(json.dumps({fmt: dict(c) for fmt, c in summary.counts.items()} | {"seconds": summary.seconds}, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")
    main()
