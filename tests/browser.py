"""A page in real headless Chromium (Debian's package): its DOM after load and every console message."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",  # console messages go to stderr as INFO:CONSOLE lines
]
CONSOLE_LINE = re.compile(r":CONSOLE[(:]\d*[)\]]? ?(.*)")


def load_in_chromium(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """The DOM after load and every console message (log, error, uncaught exception) of the page."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `apt-get install -y chromium` (CI installs it)"
    command = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}",
               "--dump-dom", page.resolve().as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    messages = [match.group(1) for match in map(CONSOLE_LINE.search, result.stderr.splitlines()) if match]
    return result.stdout, messages
