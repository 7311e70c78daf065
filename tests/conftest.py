"""Shared test fixtures: the end-to-end ONNX → IR → runtimes check."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest

os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")
# The parsed-config cache (converter/config.py) of this session's processes, not the user's ~/.cache.
os.environ.setdefault("IRFORGE_CACHE_DIR", tempfile.mkdtemp(prefix="irforge-test-cache-"))
sys.path.insert(0, str(Path(__file__).parent))  # shared test models: `from models import ...`

from converter import convert_model, save_model  # noqa: E402
from converter.validate import compare, random_inputs, run_ir, run_onnxruntime  # noqa: E402


def check_onnx_model(
    model: onnx.ModelProto,
    tmp_path: Path,
    inputs: Sequence[np.ndarray] | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    backends: Sequence[str] = ("openvino", "onnxruntime"),
) -> Path:
    """Convert, write, reload and run the IR on each backend; compare with onnxruntime on the source."""
    if inputs is None:
        inputs = random_inputs(model)
    expected = run_onnxruntime(model, inputs)
    xml_path = tmp_path / "model.xml"
    save_model(convert_model(model), xml_path)
    for backend in backends:
        actual = run_ir(xml_path, inputs, backend)
        result = compare(expected, actual, rtol, atol)
        assert result.ok, f"{backend}: {result.detail}"
    return xml_path


@pytest.fixture
def check_onnx(tmp_path: Path):
    """`check_onnx(model, inputs=None, rtol=1e-4, atol=1e-5)` → path of the IR written."""

    def check(model: onnx.ModelProto, inputs=None, **kwargs):
        return check_onnx_model(model, tmp_path, inputs, **kwargs)

    return check


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory):
    """A real temporary Prefect API for flow tests and `irforge zoo` subprocesses (one per session:
    it takes ~20 s to start). Subprocesses reach it through PREFECT_API_URL (see `prefect_env`)."""
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


@pytest.fixture
def prefect_env(prefect_api: str) -> dict[str, str]:
    """The environment for an `irforge zoo` subprocess that reports to the session's Prefect API."""
    return {**os.environ, "PREFECT_API_URL": prefect_api}
