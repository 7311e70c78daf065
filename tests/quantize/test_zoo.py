"""The zoo quantizes the models whose manifest names calibration data, and validates their INT8 IR."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from converter.config import load_config
from converter.zoo import cache_key, convert_variants, model_files, validate_variants
from digits_training import digits_split
from sized_models import digits_cnn


def zoo(tmp_path: Path, calibrated: bool) -> Path:
    folder = tmp_path / "zoo"
    folder.mkdir()
    model, heldout = digits_cnn()
    onnx.save(model, folder / "digits.onnx")
    np.savez(folder / "heldout.npz", **heldout)
    manifest = "data: heldout.npz\n"
    if calibrated:
        np.savez(folder / "calibration.npz", image=digits_split()[0][:200])
        manifest += "calibration: calibration.npz\n"
    (folder / "digits.yaml").write_text(manifest)
    return folder / "digits.onnx"


def test_a_manifest_with_calibration_data_gets_int8_rows(tmp_path: Path) -> None:
    model = zoo(tmp_path, calibrated=True)
    assert model.parent / "calibration.npz" in model_files(model)  # its bytes are in the cache key
    settings = load_config()
    variants = convert_variants(model, tmp_path / "out", "digits", settings, ["fp32", "fp16"])
    assert [v.precision for v in variants] == ["fp32", "fp16", "int8"]
    result = validate_variants(model, "digits", variants, settings, ("onnxruntime", "openvino"), 0.0)
    int8 = [row for row in result.rows if row["precision"] == "int8"]
    assert len(int8) == 2 and all(row["status"] == "pass" for row in int8), result.failures
    assert all(row["bin_bytes"] <= 0.3 * result.rows[1]["bin_bytes"] for row in int8)


def test_without_calibration_data_no_int8_even_when_asked(tmp_path: Path) -> None:
    model = zoo(tmp_path, calibrated=False)
    variants = convert_variants(model, tmp_path / "out", "digits", load_config(), ["fp32", "int8"])
    assert [v.precision for v in variants] == ["fp32"]


def test_the_calibration_data_is_part_of_the_cache_key(tmp_path: Path) -> None:
    model = zoo(tmp_path, calibrated=True)
    before = cache_key(model, "", {})
    np.savez(model.parent / "calibration.npz", image=digits_split()[0][:100])
    assert cache_key(model, "", {}) != before
