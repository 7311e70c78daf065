"""Written IR gets an ordinary file's permissions (0o666 & ~umask); a failed write leaves nothing."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pytest

from converter import convert_model, save_model
from converter import files
from converter.files import atomic_write, atomic_write_bytes, atomic_write_text, current_umask
from converter.serialize.weights import WeightsWriter
from models import tiny_add_relu


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


MODES = [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)]
MODE_IDS = ["umask022", "umask027", "umask077"]


@pytest.mark.parametrize(("mask", "expected"), MODES, ids=MODE_IDS)
def test_save_model_follows_the_umask(tmp_path: Path, mask: int, expected: int) -> None:
    graph = convert_model(tiny_add_relu())
    with umask(mask):
        xml, weights = save_model(graph, tmp_path / "model.xml")
    assert (oct(mode(xml)), oct(mode(weights))) == (oct(expected), oct(expected))


def _fail_halfway(self: WeightsWriter, handle: BinaryIO) -> None:
    handle.write(b"partial")
    raise OSError("disk full")


def test_failed_save_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = convert_model(tiny_add_relu())
    monkeypatch.setattr(WeightsWriter, "write_to", _fail_halfway)
    with pytest.raises(OSError, match="disk full"):
        save_model(graph, tmp_path / "out" / "model.xml")
    assert list((tmp_path / "out").iterdir()) == []


def test_failed_save_keeps_the_previous_ir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xml, weights = save_model(convert_model(tiny_add_relu()), tmp_path / "model.xml")
    before = {path: path.read_bytes() for path in (xml, weights)}
    monkeypatch.setattr(WeightsWriter, "write_to", _fail_halfway)
    with pytest.raises(OSError, match="disk full"):
        save_model(convert_model(tiny_add_relu()), xml)
    assert {path: path.read_bytes() for path in tmp_path.iterdir()} == before


@pytest.mark.parametrize(("mask", "expected"), MODES, ids=MODE_IDS)
def test_atomic_writes_follow_the_umask(tmp_path: Path, mask: int, expected: int) -> None:
    with umask(mask):
        written = [atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01"), atomic_write_text(tmp_path / "b.txt", "é")]
    assert [oct(mode(path)) for path in written] == [oct(expected)] * 2
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_bytes() == "é".encode()


def test_atomic_write_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.write_bytes(b"old")
    assert atomic_write_bytes(target, b"new") == target
    assert target.read_bytes() == b"new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data"]


def test_atomic_write_failure_removes_the_temporary(tmp_path: Path) -> None:
    seen: list[str] = []

    def write(handle: BinaryIO) -> None:
        handle.write(b"partial")
        seen.extend(path.name for path in tmp_path.iterdir())
        raise KeyboardInterrupt  # not only Exception: an interrupted write cleans up too

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "model.bin", write)
    assert len(seen) == 1 and seen[0].startswith(".model.bin.") and seen[0].endswith(".tmp"), seen
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002], ids=oct)
def test_current_umask_reads_without_changing(mask: int) -> None:
    with umask(mask):
        assert current_umask() == mask
        assert current_umask() == mask  # reading did not change it


def test_current_umask_without_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_open = builtins.open

    def no_proc(file: object, *args: object, **kwargs: object) -> object:
        if str(file).startswith("/proc/"):
            raise FileNotFoundError(file)
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", no_proc)
    with umask(0o027):
        assert current_umask() == 0o027
        assert current_umask() == 0o027


def test_replacing_swaps_and_leaves_no_old_copy(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    target.write_bytes(b"old" * 1000)
    reader = target.open("rb")  # a reader that opened the old file keeps reading the old bytes
    old_inode = target.stat().st_ino
    with umask(0o022):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_ino != old_inode
    assert oct(mode(target)) == oct(0o644)
    assert reader.read() == b"old" * 1000
    reader.close()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.bin"]


@pytest.mark.skipif(sys.platform != "linux", reason="the swap is Linux's renameat2")
def test_replacing_uses_the_exchange_on_linux(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    exchange = files._exchange

    def recording(first: str, second: str) -> bool:
        calls.append((Path(first).name, Path(second).name))
        return exchange(first, second)

    monkeypatch.setattr(files, "_exchange", recording)
    target = tmp_path / "model.xml"
    atomic_write_bytes(target, b"first")  # nothing to replace: a plain rename
    atomic_write_bytes(target, b"second")
    assert [second for _, second in calls] == ["model.xml"]
    assert target.read_bytes() == b"second"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.xml"]


def test_replacing_falls_back_to_a_rename_where_no_swap_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_exchange", lambda first, second: False)
    target = tmp_path / "model.xml"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.xml"]


def test_replacing_a_symlink_replaces_the_link_as_os_replace_does(tmp_path: Path) -> None:
    real = tmp_path / "real.bin"
    real.write_bytes(b"kept")
    link = tmp_path / "model.bin"
    link.symlink_to(real)
    atomic_write_bytes(link, b"new")
    assert not link.is_symlink() and link.read_bytes() == b"new"
    assert real.read_bytes() == b"kept"
