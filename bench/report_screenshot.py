"""Screenshot of the HTML validation report for the docs: docs/report.png.

    python bench/report_screenshot.py

Renders the sample report of tests/validate/test_report.py (three models, every status) and
photographs it with headless Chromium (Debian: `apt-get install chromium`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "validate")]

from converter.validate.report import to_frame, write_reports  # noqa: E402
from test_report import CHROMIUM, CHROMIUM_FLAGS, sample_rows  # noqa: E402


def screenshot(page: Path, png: Path, profile: Path, size: str = "1280,2000") -> None:
    command = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--hide-scrollbars",
               f"--screenshot={png}", f"--window-size={size}", page.resolve().as_uri()]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def main() -> None:
    png = ROOT / "docs" / "report.png"
    with tempfile.TemporaryDirectory() as temporary:
        paths = write_reports(to_frame(sample_rows()), Path(temporary) / "report")
        screenshot(paths["html"], png, Path(temporary) / "profile")
    print(png)


if __name__ == "__main__":
    main()
