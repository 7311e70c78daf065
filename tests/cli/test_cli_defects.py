"""Defects a new user hit (issue 6), each pinned by a test that failed before its fix."""

from __future__ import annotations

from pathlib import Path

import onnx

from cli_support import assert_clean_failure, irforge
from models import tiny_add_relu


def _model(path: Path, model: onnx.ModelProto | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model or tiny_add_relu(), path)
    return path


def test_convert_output_dir_that_is_a_file(tmp_path: Path) -> None:
    source = _model(tmp_path / "m.onnx")
    existing = tmp_path / "taken"
    existing.write_text("not a folder")
    assert_clean_failure(irforge("convert", source, "-o", existing), str(existing), "must be a directory")
    assert existing.read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "taken"]


def test_zoo_output_dir_that_is_a_file(tmp_path: Path) -> None:
    _model(tmp_path / "zoo" / "m.onnx")
    existing = tmp_path / "taken"
    existing.write_text("not a folder")
    assert_clean_failure(irforge("zoo", tmp_path / "zoo", "-o", existing), str(existing), "must be a directory")
    assert existing.read_text() == "not a folder"


def test_zoo_keeps_the_relative_folder_of_each_model(tmp_path: Path, prefect_env: dict[str, str]) -> None:
    _model(tmp_path / "zoo" / "a" / "net.onnx")
    _model(tmp_path / "zoo" / "b" / "net.onnx", tiny_add_relu(batch=1))
    result = irforge("zoo", tmp_path / "zoo", "-o", tmp_path / "out", env=prefect_env)
    assert result.returncode == 0, result.stdout + result.stderr
    first = (tmp_path / "out" / "a" / "net" / "FP32" / "net.xml").read_text()
    second = (tmp_path / "out" / "b" / "net" / "FP32" / "net.xml").read_text()
    assert first != second  # two IRs, neither overwritten by the other
    report = (tmp_path / "out" / "reports" / "latest" / "report.csv").read_text()
    assert "a/net," in report and "b/net," in report


def test_directory_named_like_a_model(tmp_path: Path) -> None:
    folder = tmp_path / "x.onnx"
    folder.mkdir()
    assert_clean_failure(irforge("convert", folder, "-o", tmp_path / "out"), str(folder), "is a directory")
    assert_clean_failure(irforge("info", folder), "is a directory")
    assert not (tmp_path / "out").exists()


def test_zoo_on_a_missing_directory(tmp_path: Path) -> None:
    assert_clean_failure(irforge("zoo", tmp_path / "nowhere", "-o", tmp_path / "out"), "no such directory")


def test_zoo_on_a_file(tmp_path: Path) -> None:
    source = _model(tmp_path / "m.onnx")
    assert_clean_failure(irforge("zoo", source, "-o", tmp_path / "out"), "is a file", "irforge convert")


def test_zoo_on_a_folder_without_models(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_clean_failure(irforge("zoo", tmp_path / "empty", "-o", tmp_path / "out"), "no models found", ".onnx")


def test_unknown_disabled_pass_is_rejected(tmp_path: Path) -> None:
    source = _model(tmp_path / "m.onnx")
    assert_clean_failure(
        irforge("convert", source, "-o", tmp_path / "out", "--disable-pass", "fold_constans"), "unknown pass", "fold_constans"
    )
    assert not (tmp_path / "out").exists()
    passes = irforge("convert", source, "-o", tmp_path / "out", "--passes", "fold_constans")
    assert_clean_failure(passes, "unknown pass", "fold_constans")


def test_boolean_flags_read_as_flags() -> None:
    for command in ("convert", "validate", "zoo"):
        help_text = irforge(command, "--help").stdout
        assert "<bool>" not in help_text and "BOOLEAN" not in help_text, help_text
    verify_line = next(line for line in irforge("convert", "--help").stdout.splitlines() if "--verify" in line)
    assert verify_line.split()[0] == "--verify" and verify_line.split()[1] == "Check", verify_line
