"""Atomic file writes: a temporary file beside the target, then a rename.

Readers see the old file or the complete new one, never half of it; a failed write leaves the
target as it was and no temporary file. The result gets the permissions of a file opened the
ordinary way, 0o666 & ~umask, not mkstemp's private 0o600.

An existing target is swapped with the new file (Linux renameat2 RENAME_EXCHANGE) and the old one
then unlinked, rather than renamed over: ext4 (auto_da_alloc) writes back a file's data before
a rename that replaces another file, which took 70-210 ms per 100 MB here against 28 ms for the
swap (the nightly zoo and repeated conversions write over the previous IR every time).
"""

from __future__ import annotations

import errno
import functools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

ORDINARY_FILE_MODE = 0o666
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


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
        move_into_place(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def move_into_place(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """os.replace(source, target), by an atomic swap and an unlink when `target` exists (see the
    module doc). Where the swap is not available (not Linux, old kernel, a file system without
    it) or `target` does not exist, a plain rename."""
    if os.path.lexists(target) and _exchange(source, target):
        os.unlink(source)  # now the old content
        return
    os.replace(source, target)


def _exchange(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> bool:
    """Swap two paths atomically; False when this system or file system cannot, or `second` has
    gone (the caller then renames)."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOENT):
        return False
    raise OSError(code, os.strerror(code), os.fspath(second))


@functools.cache
def _renameat2() -> Any:
    """libc's renameat2, loaded on the first swap (ctypes costs 3 ms to import); None off Linux or
    without it (glibc < 2.28, a musl lacking it)."""
    if sys.platform != "linux":
        return None
    import ctypes

    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically (see atomic_write)."""

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return atomic_write(path, write)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically, encoded (see atomic_write)."""
    return atomic_write_bytes(path, text.encode(encoding))
