"""Bad input: one clear line, exit code 2, nothing half-written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from cli_support import assert_clean_failure, irforge
from models import tiny_add_relu, with_unknown_ops


def test_convert_writes_ir(tmp_path: Path) -> None:
    source = tmp_path / "tiny.onnx"
    onnx.save(tiny_add_relu(), source)
    result = irforge("convert", str(source), "-o", str(tmp_path / "out"), "--name", "net")
    assert result.returncode == 0, result.stderr
    for variant in ("FP32", "FP16"):
        assert (tmp_path / "out" / variant / "net.xml").exists() and (tmp_path / "out" / variant / "net.bin").exists()


def test_truncated_onnx(tmp_path: Path) -> None:
    data = tiny_add_relu().SerializeToString()
    source = tmp_path / "truncated.onnx"
    source.write_bytes(data[: len(data) // 2])
    result = irforge("convert", str(source), "-o", str(tmp_path / "out"))
    assert_clean_failure(result, str(source))
    assert not (tmp_path / "out").exists()


def test_garbage_onnx(tmp_path: Path) -> None:
    source = tmp_path / "garbage.onnx"
    source.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    result = irforge("convert", str(source), "-o", str(tmp_path / "out"))
    assert_clean_failure(result, str(source))
    assert not (tmp_path / "out").exists()


def test_unknown_ops_are_all_listed(tmp_path: Path) -> None:
    source = tmp_path / "unknown.onnx"
    onnx.save(with_unknown_ops(), source)
    result = irforge("convert", str(source), "-o", str(tmp_path / "out"))
    assert_clean_failure(result, "FrobnicateA", "frob1", "frob2", "com.example.Twiddle", "twiddle")
    assert not (tmp_path / "out").exists()


@pytest.fixture
def written_ir(tmp_path: Path) -> Path:
    source = tmp_path / "tiny.onnx"
    onnx.save(tiny_add_relu(), source)
    assert irforge("convert", str(source), "-o", str(tmp_path / "ir")).returncode == 0
    return tmp_path / "ir" / "FP32" / "tiny.xml"


def test_ir_with_short_bin(written_ir: Path, tmp_path: Path) -> None:
    bin_path = written_ir.with_suffix(".bin")
    bin_path.write_bytes(bin_path.read_bytes()[:-4])
    result = irforge("convert", str(written_ir), "-o", str(tmp_path / "again"))
    assert_clean_failure(result, "tiny.bin", "too short")
    assert not (tmp_path / "again").exists()
    assert_clean_failure(irforge("info", str(written_ir)), "too short")


def test_malformed_xml(written_ir: Path, tmp_path: Path) -> None:
    text = written_ir.read_text()
    written_ir.write_text(text[: len(text) // 2])
    result = irforge("convert", str(written_ir), "-o", str(tmp_path / "again"))
    assert_clean_failure(result, "tiny.xml", "malformed XML")
    assert not (tmp_path / "again").exists()


def test_missing_file(tmp_path: Path) -> None:
    assert_clean_failure(irforge("convert", str(tmp_path / "nope.onnx")), "no such file")


def test_failed_conversion_keeps_previous_output(tmp_path: Path) -> None:
    """A failure must not clobber an IR that an earlier run wrote under the same name."""
    source = tmp_path / "m.onnx"
    onnx.save(tiny_add_relu(), source)
    assert irforge("convert", str(source), "-o", str(tmp_path / "out")).returncode == 0
    before = (tmp_path / "out" / "FP32" / "m.xml").read_bytes()
    onnx.save(with_unknown_ops(), source)
    assert irforge("convert", str(source), "-o", str(tmp_path / "out")).returncode == 2
    assert (tmp_path / "out" / "FP32" / "m.xml").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "out" / "FP32").iterdir()) == ["m.bin", "m.xml"]


def test_help_does_not_import_heavy_frameworks() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from converter.cli import app\n"
        "for args in (['--help'], ['server', '--help'], ['serve', '--help'], ['zoo', '--help']):\n"
        "    result = CliRunner().invoke(app, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "heavy = [m for m in ('tensorflow', 'openvino', 'torch', 'prefect', 'pandas') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_info_shows_dynamic_dims(tmp_path: Path) -> None:
    source = tmp_path / "tiny.onnx"
    onnx.save(tiny_add_relu(batch="batch"), source)
    result = irforge("info", str(source))
    assert result.returncode == 0, result.stderr
    assert "[batch, 3, 4, 4]" in result.stdout
