"""Atomic file writes: a temporary file beside the target, then a rename.

Readers see the old file or the complete new one, never half of it; a failed write leaves the
target as it was and no temporary file. The result gets the permissions of a file opened the
ordinary way, 0o666 & ~umask, not mkstemp's private 0o600.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

ORDINARY_FILE_MODE = 0o666


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # No /proc (or Linux < 4.7): os.umask can only be read by setting it, briefly, for the
    # whole process; files another thread creates in between get the umask 0o077, never looser.
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def ordinary_file_mode() -> int:
    """The mode `open(path, "w")` would give a new file: 0o666 less the umask."""
    return ORDINARY_FILE_MODE & ~current_umask()


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> Path:
    """Write `path` by calling `write` on a binary handle to a temporary file, then renaming it.

    The temporary file is `.NAME.*.tmp` in the same directory (a rename within one file system
    is atomic); on any exception it is removed and the exception re-raised.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
        os.chmod(temporary, ordinary_file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically (see atomic_write)."""

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return atomic_write(path, write)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically, encoded (see atomic_write)."""
    return atomic_write_bytes(path, text.encode(encoding))
