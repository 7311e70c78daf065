"""A pool of long-lived fuzz workers (fuzz_worker.main), forked once from a forkserver.

Cases are cheap because a worker reads many of them; a worker that overruns a case's deadline
is killed, one that dies (a crash, an abort, the kernel's OOM killer) is reported and both are
replaced by a fresh worker.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path

from fuzz_worker import Case, Result

HERE = Path(__file__).parent
GIB = 1 << 30


class Worker:
    def __init__(self, context, headroom: int, environment: dict[str, str]):
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=_worker_entry, args=(child_end, headroom, environment), daemon=True)
        self.process.start()
        child_end.close()
        kind, self.memory_cap = self.connection.recv()
        assert kind == "ready"
        self.case: tuple[int, Case] | None = None
        self.started = 0.0

    def give(self, index: int, case: Case) -> None:
        self.case = (index, case)
        self.started = time.monotonic()
        self.connection.send(case)

    def stop(self, kill: bool = False) -> None:
        if self.process.is_alive():
            if kill:
                os.kill(self.process.pid, signal.SIGKILL)
            else:
                try:
                    self.connection.send(None)
                except OSError:
                    pass
        self.process.join(timeout=10)
        if self.process.is_alive():
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.join()
        self.connection.close()


def _worker_entry(connection: Connection, headroom: int, environment: dict[str, str]) -> None:
    import sys

    sys.path[:0] = [str(HERE)]
    import fuzz_worker

    fuzz_worker.main(connection, headroom, environment)


class Pool:
    """`run(cases)` yields (index, case, result) as workers finish, in any order."""

    def __init__(self, size: int = 2, deadline: float = 20.0, headroom: int = 2 * GIB, environment: dict[str, str] | None = None):
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["numpy", "onnx", "h5py", "yaml", "converter.api"])
        self.size = size
        self.deadline = deadline
        self.headroom = headroom
        self.environment = environment or {}
        self.restarts = 0
        self.workers = [self._new() for _ in range(size)]

    def _new(self) -> Worker:
        return Worker(self.context, self.headroom, self.environment)

    def run(self, cases: Iterable[Case]) -> Iterator[tuple[int, Case, Result]]:
        pending = iter(enumerate(cases))
        exhausted = False
        while True:
            for slot, worker in enumerate(self.workers):
                if worker.case is None and not exhausted:
                    item = next(pending, None)
                    if item is None:
                        exhausted = True
                    else:
                        worker.give(*item)
            busy = [w for w in self.workers if w.case is not None]
            if not busy:
                return
            now = time.monotonic()
            soonest = min(w.started + self.deadline for w in busy)
            ready = wait([w.connection for w in busy] + [w.process.sentinel for w in busy], timeout=max(0.0, soonest - now))
            for slot, worker in enumerate(self.workers):
                if worker.case is None:
                    continue
                index, case = worker.case
                if worker.connection in ready:
                    try:
                        result = worker.connection.recv()
                    except (EOFError, OSError):
                        result = self._replace(slot, "crash", f"worker died: {_death(worker.process)}")
                    else:
                        worker.case = None
                        if result.kind == "bug" and "MemoryError" in result.detail:
                            self._replace(slot, None, "")  # a worker that ran out of memory may be left in a bad state
                    yield index, case, result
                elif worker.process.sentinel in ready:
                    yield index, case, self._replace(slot, "crash", f"worker died: {_death(worker.process)}")
                elif time.monotonic() - worker.started > self.deadline:
                    yield index, case, self._replace(slot, "timeout", f"no answer after {self.deadline:g} s (killed)")

    def _replace(self, slot: int, kind: str | None, detail: str) -> Result:
        old = self.workers[slot]
        old.stop(kill=True)
        self.restarts += 1
        self.workers[slot] = self._new()
        return Result(kind or "bug", detail)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _death(process: multiprocessing.Process) -> str:
    process.join(timeout=5)
    code = process.exitcode
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
