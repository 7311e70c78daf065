"""Run one model's work in a child process, with a timeout, forked from a warm process.

A segfault, an abort, a hang or a memory blow-up inside a native framework must fail that model
only and give its memory back. Each job therefore runs in its own child process; a hard timeout
kills it. Children are forked by multiprocessing's *forkserver*: one server process per worker,
started once, that has already imported the library (`PRELOAD`), so a child starts in
milliseconds instead of paying every import again (onnx alone takes about 0.6 s here). The
server imports no runtime that starts threads of its own (onnxruntime, OpenVINO: cheap to import
in the child), so forking it is safe.

A child may be given a memory limit: its address space is capped with RLIMIT_AS (no cgroups
needed), so a model that allocates without bound gets a MemoryError (or, in native code that
cannot report one, dies) at the limit instead of driving the machine into the OOM killer; either
way its error names the limit.

A job is a module-level function given as "module:function"; its return value must be picklable.
For tests, `IRFORGE_CHILD_HOOK=module:function` names a function the child calls first with the
job's name and arguments (to make a child crash, hang or allocate without bound on purpose);
nothing is called unless that variable is set.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import resource
import signal
import time
from dataclasses import dataclass
from typing import Any

PRELOAD = ["converter.zoo", "converter.api", "converter.validate.validation", "converter.frontends.onnx", "onnx"]
HOOK = "IRFORGE_CHILD_HOOK"

_context: multiprocessing.context.BaseContext | None = None


def _forkserver():
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _context = context
    return _context


@dataclass(frozen=True)
class Outcome:
    """How a child ended: `ok` with its value, `failed` (it raised), `crashed` (killed by a signal
    or a non-zero exit) or `timeout` (killed after `seconds`)."""

    kind: str
    value: Any = None
    detail: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def run_isolated(job: str, args: tuple, timeout: float, memory_limit: int | None = None) -> Outcome:
    """Run `job(*args)` in a fresh child; wait at most `timeout` seconds for its answer. With
    `memory_limit` (bytes), the child's address space is capped at that size."""
    context = _forkserver()
    receiver, sender = context.Pipe(duplex=False)
    hook = os.environ.get(HOOK, "")  # read here: the forkserver's environment is from its own start
    child = context.Process(target=_child_main, args=(sender, job, args, hook, memory_limit), daemon=True)
    started = time.monotonic()
    child.start()
    sender.close()  # the child holds the only writing end: EOF on our side means it died
    try:
        if not receiver.poll(timeout):
            _kill(child)
            return Outcome("timeout", detail=f"timed out after {timeout:g} s (killed)", seconds=time.monotonic() - started)
        try:
            kind, value = receiver.recv()
        except EOFError:
            child.join()
            return Outcome("crashed", detail=_death(child.exitcode, memory_limit), seconds=time.monotonic() - started)
        child.join(timeout=30)
        if child.is_alive():
            _kill(child)
        return Outcome(kind, value if kind == "ok" else None, "" if kind == "ok" else value, time.monotonic() - started)
    finally:
        receiver.close()


def _child_main(sender, job: str, args: tuple, hook: str, memory_limit: int | None = None) -> None:
    _die_with_parent()
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    try:
        if hook:
            _resolve(hook)(job, *args)
        value = _resolve(job)(*args)
        message = ("ok", value)
    except MemoryError as error:  # raised at the limit
        error.__traceback__ = None  # frees the frames, and with them what the job had allocated
        message = ("failed", out_of_memory(memory_limit, error))
    except BaseException as error:  # report it to the parent, which turns it into the model's error row
        message = ("failed", f"{type(error).__name__}: {error}")
    sender.send(message)
    sender.close()


def _die_with_parent() -> None:
    """Linux: SIGKILL this child when the forkserver (its parent) ends, as it does when the run is
    killed, so no orphan goes on writing into the output folder."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the parent's timeout still bounds the child


def _resolve(name: str):
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def _kill(child) -> None:
    child.kill()
    child.join()


def out_of_memory(memory_limit: int | None, error: BaseException) -> str:
    detail = f" ({error})" if str(error) else ""
    if memory_limit:
        return f"out of memory: over the per-model memory limit of {human_size(memory_limit)} (--memory-limit){detail}"
    return f"out of memory: MemoryError{detail}"


def _death(exitcode: int | None, memory_limit: int | None = None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if memory_limit and name in ("SIGABRT", "SIGSEGV", "SIGBUS", "SIGKILL"):
            # native code that cannot allocate usually aborts (std::bad_alloc) or dereferences NULL
            hint = f" (out of memory? its memory was limited to {human_size(memory_limit)}: --memory-limit)"
        else:
            hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"crashed: the process was killed by {name}{hint}"
    return f"crashed: the process exited with code {exitcode} before answering"


def human_size(nbytes: int) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= size:
            return f"{nbytes / size:.3g} {unit}"
    return f"{nbytes} bytes"


def parse_size(text: str) -> int:
    """Bytes from "2G", "512M", "1.5GiB", "4096" (K, M, G, T are powers of 1024); ValueError otherwise."""
    cleaned = text.strip().upper().removesuffix("IB").removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(cleaned[-1:], 1)
    number = cleaned[:-1] if scale > 1 else cleaned
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"{text!r} is not a size (bytes, or a number with K, M, G or T)") from None
    if value < 0 or value != value:
        raise ValueError(f"{text!r} is not a size (bytes, or a number with K, M, G or T)")
    return int(value * scale)


def default_memory_limit() -> int:
    """Half of the machine's memory: room for two models at once (one per core here)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
