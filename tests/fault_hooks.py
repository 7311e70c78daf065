"""Child-process hooks for the zoo tests (`IRFORGE_CHILD_HOOK=fault_hooks:misbehave`): a model whose
file name says so misbehaves in its child process as a broken native kernel would. Nothing here
runs unless a test sets that variable.

- `crash`: the conversion aborts (SIGABRT);  `segfault`: the conversion gets SIGSEGV;
- `hang`: the validation sleeps for an hour;  `stall`: the conversion does;
- `balloon`: the conversion allocates (and touches) 64 MiB blocks without end (bounded at 3 GiB
  here, then it sleeps, so a broken memory limit shows as a timeout, not a machine out of memory);
- `slow`: the conversion takes 2 s longer (a run is then surely busy when a test kills it);
- `diskfull`: every write of an IR fails with ENOSPC after half its bytes (only for machines
  where a test cannot mount a small file system).
"""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path


def misbehave(job: str, model, *args) -> None:
    name = Path(model).name
    converting = job.endswith("convert_job")
    if "crash" in name and converting:
        os.abort()
    if "segfault" in name and converting:
        os.kill(os.getpid(), signal.SIGSEGV)
    if "hang" in name and job.endswith("validate_job"):
        time.sleep(3600)
    if "stall" in name and converting:
        time.sleep(3600)
    if "balloon" in name and converting:
        _allocate_without_bound()
    if "slow" in name and converting:
        time.sleep(2)
    if "diskfull" in name and converting:
        _fail_writes_with_enospc()


def _allocate_without_bound() -> None:
    import numpy as np

    blocks = []
    while len(blocks) < 48:
        blocks.append(np.ones(8 << 20))  # 64 MiB, every page written
    time.sleep(3600)


def _fail_writes_with_enospc() -> None:
    """Make this child's atomic writes fail as on a full disk: half the bytes land, then ENOSPC."""
    import converter.files as files
    import converter.serialize.writer as writer

    original = files.atomic_write

    def full_disk_write(path, write):
        def half_then_enospc(handle) -> None:
            class Full:
                def write(self, data) -> int:
                    raw = bytes(data)
                    handle.write(raw[: len(raw) // 2])
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

            write(Full())

        return original(path, half_then_enospc)

    files.atomic_write = writer.atomic_write = full_disk_write
