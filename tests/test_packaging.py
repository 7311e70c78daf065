"""The wheel works on its own: built, installed into a fresh virtualenv, run outside the checkout.

`pip install .` copies only the declared packages and their package data, so anything found
relative to the source tree (as `configs/default.yaml` once was) breaks only in a real install,
never in the editable checkout the rest of the suite runs in. The whole module stays within
BUDGET_SECONDS: every subprocess gets what is left of it as its timeout.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import onnx
import pytest

from models import tiny_add_relu

REPO = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 60.0
# Not copied into the build tree: VCS data, build leftovers, caches, local run output.
_TOP_LEVEL_SKIPPED = {".git", "build", "dist", "out", ".hypothesis", ".benchmarks"}


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    site_packages: Path
    workdir: Path  # an unrelated working directory: neither the repo nor the venv
    deadline: float

    def run(self, *command: str | Path) -> subprocess.CompletedProcess[str]:
        return _run([*command], cwd=self.workdir, deadline=self.deadline)


def _run(command: list[str | Path], cwd: Path, deadline: float) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        pytest.fail(f"over the {BUDGET_SECONDS:.0f} s budget before running {command}")
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, env=environment, capture_output=True, text=True, timeout=remaining
    )


def _check(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def _ignore_for_build(directory: str, names: list[str]) -> set[str]:
    top_level = Path(directory) == REPO
    return {
        name
        for name in names
        if name == "__pycache__" or name.endswith(".egg-info") or (top_level and name in _TOP_LEVEL_SKIPPED)
    }


def _machine_site_dirs() -> list[str]:
    """The site-packages of the interpreter running the tests (onnx, numpy, ... live there)."""
    directories = list(site.getsitepackages())
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        directories.append(site.getusersitepackages())
    return directories


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    deadline = time.monotonic() + BUDGET_SECONDS
    root = tmp_path_factory.mktemp("packaging")

    # Build from a copy: an in-tree build writes build/ into the checkout, and a stale build/lib
    # would put modules deleted from the source back into the wheel.
    source = root / "source"
    shutil.copytree(REPO, source, ignore=_ignore_for_build)
    # With build isolation, as `pip install .` does: the machine's own setuptools may be too old
    # for [build-system] or lack bdist_wheel, and isolation also proves [build-system] is enough.
    _check(_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", root, source], root, deadline))
    (wheel,) = root.glob("irforge-*.whl")

    # Not --system-site-packages: that would run the machine's .pth files, among them the
    # editable install's finder, which supplies any package the wheel lacks straight from the
    # checkout and so hides exactly the bug under test. A plain path line in a .pth is only
    # appended to sys.path, after the venv's own site-packages, and its .pth files are not run.
    venv = root / "venv"
    _check(_run([sys.executable, "-m", "venv", "--without-pip", venv], root, deadline))
    python = venv / "bin" / "python"
    purelib = _check(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], root, deadline))
    site_packages = Path(purelib.stdout.strip())
    (site_packages / "_machine_site_packages.pth").write_text("".join(f"{path}\n" for path in _machine_site_dirs()))
    _check(
        _run(
            [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--ignore-installed", wheel],
            root,
            deadline,
        )
    )
    workdir = root / "elsewhere"
    workdir.mkdir()
    return Installed(wheel, venv, site_packages, workdir, deadline)


def test_wheel_contains_the_default_config(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        names = set(archive.namelist())
    assert {"configs/__init__.py", "configs/default.yaml"} <= names


def test_venv_imports_the_wheels_copy(installed: Installed) -> None:
    probe = (
        "import json, sys, converter, configs\n"
        "from converter.config import DEFAULT_CONFIG\n"
        "print(json.dumps({'converter': converter.__file__, 'configs': configs.__file__,\n"
        "    'default_config': str(DEFAULT_CONFIG), 'meta_path': [repr(f) for f in sys.meta_path]}))\n"
    )
    found = json.loads(_check(installed.run(installed.venv / "bin" / "python", "-c", probe)).stdout)
    site_packages = installed.site_packages.resolve()
    for key in ("converter", "configs", "default_config"):
        assert Path(found[key]).resolve().is_relative_to(site_packages), f"{key}: {found[key]}"
    assert not any("editable" in finder.lower() for finder in found["meta_path"]), found["meta_path"]


def test_convert_outside_the_checkout(installed: Installed) -> None:
    onnx.save(tiny_add_relu(), installed.workdir / "model.onnx")
    _check(installed.run(installed.venv / "bin" / "irforge", "convert", "model.onnx", "-o", "out"))
    fp32 = installed.workdir / "out" / "FP32"
    xml_files = list(fp32.glob("*.xml"))
    assert xml_files, f"no IR in {fp32}"
    for xml in xml_files:
        assert xml.with_suffix(".bin").is_file()
