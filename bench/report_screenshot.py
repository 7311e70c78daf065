"""Screenshot of the HTML validation report for the docs: docs/report.png.

    python bench/report_screenshot.py            # the bundled example zoo, as `irforge zoo` reports it
    python bench/report_screenshot.py --sample   # the test suite's sample report (every status)

Photographs the page with headless Chromium (Debian: `apt-get install chromium`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "validate")]

from browser import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from test_report import sample_rows  # noqa: E402


def screenshot(page: Path, png: Path, profile: Path, size: str = "1280,2000") -> None:
    command = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--hide-scrollbars",
               f"--screenshot={png}", f"--window-size={size}", page.resolve().as_uri()]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def zoo_report(directory: Path) -> Path:
    """The example zoo's report; its broken model on purpose makes `irforge zoo` exit 3."""
    run = subprocess.run([sys.executable, "-m", "converter.cli", "zoo", "examples/zoo", "-o", str(directory)], cwd=ROOT)
    if run.returncode not in (0, 3):
        raise SystemExit(f"irforge zoo exited {run.returncode}")
    latest = directory / "reports" / "latest" / "report.html"
    return latest if latest.is_file() else directory / "report.html"


def sample_report(directory: Path) -> Path:
    from converter.validate.report import to_frame, write_reports

    return write_reports(to_frame(sample_rows()), directory)["html"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", action="store_true", help="render the test suite's sample report instead of the example zoo")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "report.png")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        page = sample_report(work / "report") if arguments.sample else zoo_report(work / "report")
        screenshot(page, arguments.output, work / "profile")
    print(arguments.output)


if __name__ == "__main__":
    main()
