"""Walk an HDF5 file's metadata in a forked child before the real read.

libhdf5 can loop forever, or segfault, reading the metadata of some byte-damaged files (legacy
Keras `.h5` has no checksum to catch the damage first; found by fuzzing: about 2–3 in 1,000 byte
mutations). C code cannot be interrupted in-process, so a child opens the file with h5py and
walks what the Keras reader will read — every object reachable by hard links, each one's
attributes, each dataset's shape, dtype, offset and storage, never its data — and the parent waits with a
deadline. A child that overruns it, or dies by a signal, is a refusal; a Python exception in the
child is left to the parent's own read, which reports it as it always has.

Linux only (os.fork; the child never returns to Python's normal exit, it calls os._exit).
`IRFORGE_H5_PROBE_SECONDS` sets the base deadline (default 10 s; 0 turns the probe off); the
deadline grows by one second per 20 MB of file.
"""

from __future__ import annotations

import faulthandler
import os
import select
import signal
import sys
import time
from typing import Any

import h5py
import numpy as np
from h5py import h5a, h5d, h5o

from converter.errors import InvalidModelError

PROBE_SECONDS_ENV = "IRFORGE_H5_PROBE_SECONDS"
DEFAULT_PROBE_SECONDS = 10.0
BYTES_PER_EXTRA_SECOND = 20_000_000
PYTHON_ERROR_EXIT = 3
"""The child's exit status when h5py raised: the parent then reads the file itself and reports that error."""


def probe_seconds(size: int) -> float:
    """The deadline for a file of `size` bytes (0: no probe)."""
    raw = os.environ.get(PROBE_SECONDS_ENV, "")
    try:
        base = float(raw) if raw.strip() else DEFAULT_PROBE_SECONDS
    except ValueError:
        raise InvalidModelError(f"{PROBE_SECONDS_ENV}={raw!r} is not a number of seconds") from None
    return 0.0 if base <= 0 else base + size / BYTES_PER_EXTRA_SECOND


def probe_h5_metadata(where: str, source: Any, size: int) -> int | None:
    """Refuse `source` (a path or a seekable file object) if libhdf5 hangs or crashes walking its metadata.

    `where` names the file in the message; `size` (bytes) scales the deadline. Returns the child's
    exit status (0: walked cleanly, PYTHON_ERROR_EXIT: h5py raised), None when the probe is off.
    """
    seconds = probe_seconds(size)
    if seconds == 0 or sys.platform != "linux" or not hasattr(os, "fork"):
        return None
    # h5py serializes every call on one lock: holding it across fork means no other thread of
    # this process is inside libhdf5 at that moment, so the child cannot inherit a held lock.
    with h5py._objects.phil:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child (coverage does not follow os._exit)
            status = 0
            faulthandler.disable()  # a crash here is the finding, reported by the parent: no stack dump on stderr
            try:
                _walk_file(source)
            except BaseException:  # noqa: BLE001 - any Python-level failure is reported by the parent's own read
                status = PYTHON_ERROR_EXIT
            os._exit(status)
    status = _wait(pid, seconds)
    if status is None:
        raise InvalidModelError(f"{where}: libhdf5 did not finish reading the file's metadata in {seconds:.3g} s (a damaged HDF5 file)")
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        raise InvalidModelError(f"{where}: libhdf5 crashed reading the file's metadata (signal {name}): a damaged HDF5 file")
    return os.WEXITSTATUS(status)


def _wait(pid: int, seconds: float) -> int | None:
    """The child's wait status, or None after killing it when it overran `seconds`."""
    deadline = time.monotonic() + seconds
    pidfd = _pidfd(pid)
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return None
            if pidfd is not None:
                select.select([pidfd], [], [], left)  # readable when the child exits
            else:
                time.sleep(min(0.005, left))
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # Python < 3.9 or Linux < 5.3: poll instead
        return None


def _walk_file(source: Any) -> None:
    """Every object reachable by hard links (H5Ovisit: each once, soft and external links not
    followed), its attributes' values, and each dataset's shape, dtype, offset and storage list.
    The low-level API: about half the cost of h5py's high-level objects."""
    with h5py.File(source, "r") as h5:
        file_id = h5.id
        _read_attributes(h5o.open(file_id, b"/"))

        def visit(name: bytes) -> None:
            object_id = h5o.open(file_id, name)
            _read_attributes(object_id)
            if isinstance(object_id, h5d.DatasetID):
                _ = (object_id.shape, object_id.dtype, object_id.get_offset(), object_id.get_create_plist().get_external_count())

        h5o.visit(file_id, visit)


def _read_attributes(object_id: Any) -> None:
    for index in range(h5a.get_num_attrs(object_id)):
        attribute = h5a.open(object_id, index=index)
        attribute.read(np.empty(attribute.shape, dtype=attribute.dtype))
