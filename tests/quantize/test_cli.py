"""`irforge convert --precision …,int8` and `irforge validate` with INT8 rows; bad calibration data is exit 2 with nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest

from cli_support import assert_clean_failure, irforge
from digits_training import digits_split
from sized_models import digits_cnn


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    onnx_model, heldout = digits_cnn()
    onnx.save(onnx_model, folder / "digits.onnx")
    np.savez(folder / "heldout.npz", **heldout)
    np.savez(folder / "calibration.npz", image=digits_split()[0][:200])
    return folder / "digits.onnx"


def test_convert_writes_int8_and_validate_reports_it(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "ir"
    result = irforge("convert", model, "-o", out, "--precision", "fp32,fp16,int8", "--calibration", model.parent / "calibration.npz")
    assert result.returncode == 0, result.stderr
    assert "INT8: 3 of 3 layers quantized" in result.stdout
    assert (out / "INT8" / "digits.xml").is_file() and (out / "INT8" / "digits.bin").is_file()
    result = irforge("validate", model, out, "--data", model.parent / "heldout.npz")
    assert result.returncode == 0, result.stdout + result.stderr
    report = pd.read_csv(out / "report.csv")
    assert list(report["precision"].unique()) == ["source", "fp32", "fp16", "int8"]
    int8 = report[report["precision"] == "int8"]
    assert set(int8["backend"]) == {"onnxruntime", "openvino"} and (int8["status"] == "pass").all()
    assert int8["size_ratio"].notna().all() and int8["latency_ms"].notna().all()


def test_max_accuracy_drop_with_validation_data(model: Path, tmp_path: Path) -> None:
    result = irforge(
        "convert", model, "-o", tmp_path, "--precision", "int8", "--calibration", model.parent / "calibration.npz",
        "--calibration-method", "entropy", "--max-accuracy-drop", "0", "--data", model.parent / "heldout.npz",
    )
    assert result.returncode == 0, result.stderr
    assert "accuracy: FP32" in result.stdout and (tmp_path / "INT8" / "digits.xml").is_file()


@pytest.mark.parametrize(
    ("arrays", "fragment"),
    [
        (None, "no such calibration file"),
        ({"image": np.zeros((0, 1, 8, 8), np.float32)}, "holds no samples"),
        ({"image": np.zeros((4, 1, 9, 8), np.float32)}, "does not fit input image"),
        ({"image": np.zeros((4, 1, 8, 8), np.int32)}, "is int32"),
        ({"pixels": np.zeros((4, 1, 8, 8), np.float32)}, "unknown: pixels"),
    ],
    ids=["missing", "empty", "shape", "dtype", "names"],
)
def test_bad_calibration_data_is_exit_2_and_nothing_written(model: Path, tmp_path: Path, arrays, fragment: str) -> None:
    calibration = tmp_path / "calibration.npz"
    if arrays is not None:
        np.savez(calibration, **arrays)
    out = tmp_path / "ir"
    assert_clean_failure(irforge("convert", model, "-o", out, "--precision", "fp32,fp16,int8", "--calibration", calibration), fragment)
    assert not out.exists()


def test_int8_without_calibration_and_bad_options(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "ir"
    assert_clean_failure(irforge("convert", model, "-o", out, "--precision", "int8"), "int8 needs calibration data")
    calibration = model.parent / "calibration.npz"
    assert_clean_failure(irforge("convert", model, "-o", out, "--calibration", calibration), "add it to --precision")
    assert_clean_failure(irforge("convert", model, "-o", out, "--precision", "int8", "--calibration", calibration, "--calibration-method", "mse"), "minmax, percentile, entropy")
    assert_clean_failure(irforge("convert", model, "-o", out, "--precision", "int8", "--calibration", calibration, "--max-accuracy-drop", "0.01"), "needs validation data")
    assert not out.exists()


def test_the_manifest_names_the_calibration_data(model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "zoo"
    folder.mkdir()
    (folder / "digits.onnx").write_bytes(model.read_bytes())
    (folder / "calibration.npz").write_bytes((model.parent / "calibration.npz").read_bytes())
    (folder / "digits.yaml").write_text("calibration: calibration.npz\n")
    result = irforge("convert", folder / "digits.onnx", "-o", tmp_path / "ir", "--precision", "int8")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ir" / "INT8" / "digits.xml").is_file()
