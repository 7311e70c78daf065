"""The test tree's helper modules are imported by bare name (pytest's rootdir-relative import mode puts
each test folder on sys.path), so two helpers with one file name shadow each other depending on which
folder pytest collects first. This failed CI once (kaldi's and mxnet's reference_numpy.py)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).parent
SHARED_NAMES = {"__init__.py", "conftest.py"}


def test_helper_modules_have_unique_names() -> None:
    folders_by_name: dict[str, list[str]] = defaultdict(list)
    for module in TESTS.rglob("*.py"):
        if module.name not in SHARED_NAMES:
            folders_by_name[module.name].append(str(module.parent.relative_to(TESTS)))
    clashes = {name: folders for name, folders in folders_by_name.items() if len(folders) > 1}
    assert not clashes, f"helper modules sharing a file name: {clashes}"
