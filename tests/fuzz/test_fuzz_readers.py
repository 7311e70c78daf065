"""The CI fuzz run: IRFORGE_FUZZ_CASES cases (default 1,000) for every reader format, in a pool of
two workers each capped at its mapped memory + 2 GiB, IRFORGE_MAX_TENSOR_BYTES = 256 MiB.
Every case must end in a one-line ConverterError or a conversion whose IR reads back; never
another exception, a dead worker, or a case past its deadline. See docs/reliability.md."""

from __future__ import annotations

import os

from fuzz_campaign import run
from fuzz_seeds import FORMATS

CASES = int(os.environ.get("IRFORGE_FUZZ_CASES", "1000"))
SEED = int(os.environ.get("IRFORGE_FUZZ_SEED", "0"))
DEADLINE = float(os.environ.get("IRFORGE_FUZZ_DEADLINE", "10"))
SELECTED = tuple(f for f in os.environ.get("IRFORGE_FUZZ_FORMATS", ",".join(FORMATS)).split(",") if f)
"""IRFORGE_FUZZ_FORMATS=h5,keras runs only those formats (comma-separated names from fuzz_seeds.FORMATS)."""


def test_every_reader_ends_in_a_clear_error_or_a_conversion() -> None:
    unknown = sorted(set(SELECTED) - set(FORMATS))
    assert not unknown, f"IRFORGE_FUZZ_FORMATS names unknown formats {unknown}; known: {FORMATS}"
    summary = run(SELECTED, CASES, SEED, workers=2, deadline=DEADLINE)
    print("\n" + summary.table())
    for fmt in SELECTED:
        assert sum(summary.counts[fmt].values()) == CASES, fmt
        assert summary.counts[fmt]["refused"] > 0, f"{fmt}: no mutation was refused — the harness reads nothing?"
    unexpected = [
        f"{case.fmt}: {case.mutation}: {result.kind}: {result.detail.strip().splitlines()[-1] if result.detail.strip() else ''}"
        for case, result in summary.findings
    ]
    assert not unexpected, "\n".join(unexpected)
