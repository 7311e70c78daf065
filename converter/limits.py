"""How much a model file may make irforge allocate.

Every reader checks a tensor's size before it allocates or memory-maps it: against the bytes the
file actually holds (a tensor cannot claim more than that unless its format stores it as a fill
or a broadcast), and against a limit, `IRFORGE_MAX_TENSOR_BYTES` (bytes, or with a K/M/G/T
suffix; default 16 GiB), so a file that claims a tensor of 10^12 elements is refused with a
message saying how much it asked for, before anything is allocated. Constant folding uses the
same limit (see passes/fold_constants.py).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

from converter.errors import InvalidModelError

LIMIT_VARIABLE = "IRFORGE_MAX_TENSOR_BYTES"
DEFAULT_MAX_TENSOR_BYTES = 16 << 30
_SUFFIXES = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def max_tensor_bytes() -> int:
    """The largest tensor a model may ask for, in bytes (`IRFORGE_MAX_TENSOR_BYTES`)."""
    text = os.environ.get(LIMIT_VARIABLE, "").strip().upper().removesuffix("IB").removesuffix("B")
    if not text:
        return DEFAULT_MAX_TENSOR_BYTES
    scale = _SUFFIXES.get(text[-1], 1)
    try:
        value = float(text[:-1] if scale > 1 else text) * scale
    except ValueError:
        raise InvalidModelError(f"{LIMIT_VARIABLE}={os.environ[LIMIT_VARIABLE]!r}: not a size (bytes, or a number with K, M, G or T)") from None
    return int(value)


def human(nbytes: int) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= size:
            return f"{nbytes / size:.3g} {unit}"
    return f"{nbytes} bytes"


def element_count(source: str, what: str, dims: Iterable[int]) -> int:
    """The number of elements of `dims` (exact: no int64 overflow); negative dims are refused."""
    dims = [int(d) for d in dims]
    if dims and min(dims) < 0:
        raise InvalidModelError(f"{source}: {what} has a negative dimension (shape {dims})")
    return math.prod(dims)


def check_tensor_bytes(source: str, what: str, dims: Iterable[int], itemsize: int, available: int | None = None) -> int:
    """The byte size of a tensor of `dims`, once checked: no negative dim, within the limit and,
    when `available` is given (what the file holds for it), within the file."""
    dims = [int(d) for d in dims]
    nbytes = element_count(source, what, dims) * itemsize
    if nbytes > max_tensor_bytes():  # the message is formatted only when it is needed
        check_bytes(source, f"{what} (shape {dims})", nbytes)
    if available is not None and nbytes > available:
        raise InvalidModelError(f"{source}: {what} (shape {dims}) needs {nbytes} bytes, but the file holds {available} for it")
    return nbytes


def check_bytes(source: str, what: str, nbytes: int) -> None:
    problem = over_limit(what, nbytes)
    if problem is not None:
        raise InvalidModelError(f"{source}: {problem}")


def over_limit(what: str, nbytes: int) -> str | None:
    """The refusal, for readers whose errors name the file higher up; None within the limit."""
    limit = max_tensor_bytes()
    if nbytes <= limit:
        return None
    return f"{what} asks for {human(nbytes)} ({nbytes} bytes), more than the limit of {human(limit)} ({LIMIT_VARIABLE})"
