"""One fuzz worker: a long-lived child process that runs cases one after another.

The worker imports every reader once, then caps its own address space (RLIMIT_AS: what it maps
now plus `headroom` bytes), so a case that tries to allocate beyond the bound ends in a
MemoryError — a bug, since a ConverterError should have refused it first. Each case is a set of
files written into the worker's scratch folder and read with the real entry point (the
converter API, the manifest or pipeline-config reader); a conversion that succeeds is
serialized to IR and read back. The parent enforces the per-case deadline (it kills a worker
that overruns) and restarts a worker that died.
"""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """Files (relative path → bytes) and the entry to read (a file, or "." for the folder itself).
    `must_refuse`: the mutation made the model invalid for sure (a hostile structure), so a
    successful conversion is a bug too."""

    fmt: str
    files: dict[str, bytes]
    entry: str
    mutation: str
    must_refuse: bool = False
    symlinks: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    """`kind`: converted, refused, bug (another exception, or a refusal that is not one line, or
    an accepted hostile file), timeout or crash (the last two set by the parent)."""

    kind: str
    detail: str = ""


READERS = ("onnx", "ir", "savedmodel", "graphdef", "keras", "h5", "tflite", "caffe", "mxnet", "kaldi")


def warm_up() -> None:
    """Import everything a case may touch, so imports never count against a case's deadline or memory."""
    import h5py  # noqa: F401
    import onnx  # noqa: F401

    import converter.api  # noqa: F401
    import converter.config  # noqa: F401
    import converter.frontends.caffe  # noqa: F401
    import converter.frontends.caffe.net  # noqa: F401
    import converter.frontends.keras  # noqa: F401
    import converter.frontends.keras.model  # noqa: F401
    import converter.frontends.kaldi  # noqa: F401
    import converter.frontends.mxnet  # noqa: F401
    import converter.frontends.mxnet.model  # noqa: F401
    import converter.frontends.onnx  # noqa: F401
    import converter.frontends.onnx.converter  # noqa: F401
    import converter.frontends.tensorflow  # noqa: F401
    import converter.frontends.tensorflow.saved_model  # noqa: F401
    import converter.frontends.tflite  # noqa: F401
    import converter.frontends.tflite.model  # noqa: F401
    import converter.passes  # noqa: F401
    import converter.serialize.reader  # noqa: F401
    import converter.serialize.writer  # noqa: F401
    import converter.validate.manifest  # noqa: F401


def mapped_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def limit_memory(headroom: int) -> int:
    """Cap the address space at what is mapped now plus `headroom`; returns the cap."""
    cap = mapped_bytes() + headroom
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return cap


def run_case(case: Case, scratch: Path) -> Result:
    folder = scratch / "model"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    for name, data in case.files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for name, points_to in case.symlinks.items():
        (folder / name).symlink_to(points_to)
    entry = folder / case.entry if case.entry != "." else folder
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # garbage weights overflow while folding: warnings, not failures
            _read(case.fmt, entry)
    except Exception as error:  # noqa: BLE001 - the harness classifies every exception
        from converter.errors import ConverterError

        if isinstance(error, ConverterError):
            message = str(error)
            if "\n" in message or not message.strip():
                return Result("bug", f"ConverterError message is not one line: {message[:300]!r}")
            return Result("refused", message[:300])
        return Result("bug", "".join(traceback.format_exception(error))[-3000:])
    if case.must_refuse:
        return Result("bug", f"accepted a hostile file ({case.mutation})")
    return Result("converted")


def _read(fmt: str, entry: Path) -> None:
    if fmt == "manifest":
        from converter.validate.manifest import load_manifest

        load_manifest(entry)
        return
    if fmt == "config":
        from converter.config import load_config

        load_config(entry)
        return
    from converter.api import convert_model
    from converter.serialize.reader import parse_ir
    from converter.serialize.writer import serialize

    graph = convert_model(entry)
    xml, weights = serialize(graph)
    parse_ir(xml, weights, source="<irforge's own IR of the case>")


def main(connection, headroom: int, environment: dict[str, str]) -> None:
    """The worker loop: receive a Case, send back a Result; None stops it."""
    os.environ.update(environment)
    os.environ["IRFORGE_CACHE_DIR"] = ""  # no parsed-config cache: every mutated config would add a file
    warm_up()
    with tempfile.TemporaryDirectory(prefix="irforge-fuzz-") as scratch:
        connection.send(("ready", limit_memory(headroom)))
        while True:
            case = connection.recv()
            if case is None:
                return
            connection.send(run_case(case, Path(scratch)))
