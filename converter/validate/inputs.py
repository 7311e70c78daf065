"""Inputs that a real model accepts, for validation, `--verify` and `--fp16-guard`.

Where they come from, in order: real data (an `.npz`, see `data.py`); shapes the user gives
(`--input-shape NAME[1,3,640,640]` or a manifest); otherwise a search over the dynamic dims.
Every dynamic dim gets a *role* (batch, spatial, sequence, other) from its name and position;
dims that share a symbol or a role get the same size, and sizes are tried from typical values
(batch 1; spatial sizes that are multiples of 32; sequence lengths upwards) until the reference
runner runs and answers with finite outputs of the declared shapes. Integer inputs stay in the
range the model can index (see `ranges.py`); masks are all ones.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from converter.errors import ConverterError

Dim = int | str | None  # static size, a symbol shared by dims of equal size, or unknown
Feeds = dict[str, np.ndarray]


@dataclass(frozen=True)
class TensorSpec:
    """A model input or output as its framework declares it; `dims` is None when the rank is unknown."""

    name: str
    dtype: np.dtype
    dims: tuple[Dim, ...] | None

    @property
    def is_static(self) -> bool:
        return self.dims is not None and all(isinstance(d, int) for d in self.dims)

    def describe(self, shape: Sequence[int] | None = None) -> str:
        dims = shape if shape is not None else self.dims
        if dims is None:
            return f"{self.name}[?]"
        return f"{self.name}[{','.join('?' if d is None else str(d) for d in dims)}]"


class InputSearchError(ConverterError):
    """No input shapes were found that the model accepts; the user must give them."""


ROLE_SIZES: dict[str, tuple[int, ...]] = {
    "batch": (1, 2),
    # Multiples of 32 first: detector heads and FPN/UNet adds need them; 224 is the classic size.
    "spatial": (224, 256, 320, 384, 512, 640, 128, 64, 96, 160, 192, 416, 448, 480, 608, 768, 1024, 32),
    "sequence": (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8000, 16000),
    "other": (1, 3, 4, 8, 16, 32, 64, 128),
}
ROLE_WEIGHT = {"batch": 100, "spatial": 1, "sequence": 1, "other": 1}  # batch 2 only when all else failed
MAX_TRIES = 48

_BATCH_NAMES = re.compile(r"^(n|b|bs|batch|batch_?size|num_?batch(es)?|unk__\d+_0)$|batch", re.I)
_SPATIAL_NAMES = re.compile(r"^(h|w|height|width|img_?[hw]|image_?(height|width))$|height|width", re.I)
_SEQUENCE_NAMES = re.compile(r"seq|len|time|frame|sample|token|step|^t$|^l$|word|char|audio|wave", re.I)
_MASK_NAMES = re.compile(r"mask", re.I)


def dim_role(spec: TensorSpec, axis: int) -> str:
    """What a dynamic dim most likely is, from its symbol, its axis and the tensor's rank."""
    assert spec.dims is not None
    symbol = spec.dims[axis] if isinstance(spec.dims[axis], str) else ""
    if symbol:
        for role, pattern in (("batch", _BATCH_NAMES), ("spatial", _SPATIAL_NAMES), ("sequence", _SEQUENCE_NAMES)):
            if pattern.search(symbol):
                return role
    rank = len(spec.dims)
    if axis == 0 and rank >= 2:
        return "batch"
    if rank in (4, 5):
        channels_last = isinstance(spec.dims[-1], int) and spec.dims[-1] <= 4 and not (
            isinstance(spec.dims[1], int) and spec.dims[1] <= 4
        )
        spatial_axes = range(1, rank - 1) if channels_last else range(2, rank)
        return "spatial" if axis in spatial_axes else "other"
    return "sequence"


def parse_input_shape(text: str) -> tuple[str, tuple[int, ...]]:
    """`images[1,3,640,640]` → ("images", (1, 3, 640, 640))."""
    match = re.fullmatch(r"\s*(.+?)\s*\[([^\[\]]*)\]\s*", text)
    if not match:
        raise ConverterError(f"--input-shape {text!r}: expected NAME[d0,d1,...], e.g. images[1,3,640,640]")
    name, dims = match.group(1), match.group(2)
    parts = [d.strip() for d in dims.split(",")] if dims.strip() else []
    if not all(part.isdigit() for part in parts):
        raise ConverterError(f"--input-shape {text!r}: dims must be non-negative integers, e.g. images[1,3,640,640]")
    shape = tuple(int(part) for part in parts)
    return name, shape


def check_shapes(specs: Sequence[TensorSpec], shapes: Mapping[str, Sequence[int]], source: str) -> None:
    """Given shapes must name inputs of the model and agree with its static dims."""
    by_name = {spec.name: spec for spec in specs}
    for name, shape in shapes.items():
        spec = by_name.get(name)
        if spec is None:
            known = ", ".join(spec.describe() for spec in specs)
            raise ConverterError(f"{source}: --input-shape {name}: the model has no input {name!r} (inputs: {known})")
        if spec.dims is None:
            continue
        if len(shape) != len(spec.dims):
            raise ConverterError(f"{source}: --input-shape {name}{list(shape)}: the input has rank {len(spec.dims)} ({spec.describe()})")
        for axis, (given, declared) in enumerate(zip(shape, spec.dims)):
            if isinstance(declared, int) and given != declared:
                raise ConverterError(
                    f"{source}: --input-shape {name}{list(shape)}: dim {axis} is fixed at {declared} by the model ({spec.describe()})"
                )


@dataclass
class InputChoice:
    """Inputs the reference runner accepted, and how they were found."""

    feeds: Feeds
    shapes: dict[str, tuple[int, ...]]
    distribution: str
    tries: int = 1
    notes: list[str] = field(default_factory=list)


def synthesize(
    specs: Sequence[TensorSpec],
    shapes: Mapping[str, Sequence[int]],
    ranges: Mapping[str, tuple[int, int]] | None = None,
    seed: int = 0,
    distribution: str = "normal",
) -> Feeds:
    """Seeded values of the given shapes. Floats: standard normal, or uniform in [0, 1) (for models
    that take logs or roots of their inputs); integers in `ranges[name]` = [low, high) (default
    [0, 10)); booleans random. Inputs whose name says what they hold get that (`known_value`)."""
    rng = np.random.default_rng(seed)
    feeds: Feeds = {}
    for spec in specs:
        shape = tuple(shapes[spec.name])
        dtype = np.dtype(spec.dtype)
        known = known_value(spec.name, shape, specs, shapes)
        if known is not None:
            feeds[spec.name] = np.broadcast_to(np.asarray(known), shape).astype(dtype)
        elif dtype.kind == "b":
            feeds[spec.name] = rng.integers(0, 2, shape).astype(bool)
        elif dtype.kind in "iu":
            low, high = (ranges or {}).get(spec.name, (0, 10))
            feeds[spec.name] = rng.integers(low, max(high, low + 1), shape).astype(dtype)
        elif distribution == "uniform":
            feeds[spec.name] = rng.random(shape).astype(dtype)
        else:
            feeds[spec.name] = rng.standard_normal(shape).astype(dtype)
    return feeds


_SAMPLE_RATE_NAMES = re.compile(r"^(sr|sample_?rate|sampling_?rate)$", re.I)
_IMAGE_SIZE_NAMES = re.compile(r"^(im_?shape|image_?shape|img_?shape|image_?size|orig_?(target_)?sizes?)$", re.I)
_SCALE_NAMES = re.compile(r"^(scale_?factors?|im_?scale)$", re.I)


def known_value(name: str, shape: tuple[int, ...], specs: Sequence[TensorSpec], shapes: Mapping[str, Sequence[int]]):
    """What an input holds when its name says so, as exporters name them: attention masks are
    all ones, a sample rate is 16 kHz, an image-size input holds the image input's height and
    width, a scale factor is 1. None for anything else."""
    if _MASK_NAMES.search(name):
        return 1
    if _SAMPLE_RATE_NAMES.match(name):
        return 16000
    if _SCALE_NAMES.match(name):
        return 1
    if _IMAGE_SIZE_NAMES.match(name) and shape and shape[-1] == 2:
        image = next((tuple(shapes[s.name]) for s in specs if s.name != name and len(shapes[s.name]) == 4), None)
        if image is not None:
            channels_last = image[-1] <= 4 < image[1]
            return np.array(image[1:3] if channels_last else image[2:4])
    return None


RunFn = Callable[[Feeds], Sequence[np.ndarray]]


def find_inputs(
    specs: Sequence[TensorSpec],
    run: RunFn,
    source: str,
    shapes: Mapping[str, Sequence[int]] | None = None,
    ranges: Mapping[str, tuple[int, int]] | None = None,
    output_specs: Sequence[TensorSpec] | None = None,
    seed: int = 0,
    budget_seconds: float = 120.0,
) -> InputChoice:
    """Inputs `run` (the reference runner) accepts. `shapes` fixes some inputs' shapes; the other
    dynamic dims are searched. Raises InputSearchError, naming what was tried, when none works."""
    shapes = {name: tuple(shape) for name, shape in (shapes or {}).items()}
    check_shapes(specs, shapes, source)
    unknown_rank = [spec.name for spec in specs if spec.dims is None and spec.name not in shapes]
    if unknown_rank:
        raise InputSearchError(
            f"{source}: the rank of input(s) {', '.join(unknown_rank)} is unknown; give the shape with --input-shape NAME[d0,d1,...]"
        )
    fixed = _symbols_fixed_by(specs, shapes)
    keys = _dynamic_dims(specs, shapes, fixed)
    roles = sorted({role for role in keys.values()})
    started = time.monotonic()
    failures: list[str] = []
    not_finite = ""
    tries = 0
    for sizes in _size_combinations(roles):
        if tries >= MAX_TRIES or (tries and time.monotonic() - started > budget_seconds):
            break
        tries += 1
        chosen = _shapes_for(specs, shapes, fixed, keys, dict(zip(roles, sizes)))
        for distribution in ("normal", "uniform"):
            feeds = synthesize(specs, chosen, ranges, seed, distribution)
            try:
                outputs = list(run(feeds))
            except Exception as error:  # the model rejects these sizes: try the next ones
                failures.append(f"{_describe_feeds(specs, chosen)}: {error_gist(error)}")
                break
            problem = _output_problem(outputs, output_specs, specs, chosen)
            if problem is None:
                notes = [f"dynamic dims chosen: {_describe_feeds(specs, chosen)}"] if keys else []
                return InputChoice(feeds, chosen, distribution, tries, notes)
            if "not finite" not in problem:
                failures.append(f"{_describe_feeds(specs, chosen)}: {problem}")
                break
            not_finite = f"{_describe_feeds(specs, chosen)}: {problem}"
        if not_finite:  # the model runs but answers NaN/inf: other sizes will not help, real data may
            break
    if not_finite:
        raise InputSearchError(
            f"{source}: the model's outputs are not finite on random inputs ({not_finite}); "
            "give real inputs with --data FILE.npz"
        )
    seen = failures[0]
    more = f" and {len(failures) - 1} more" if len(failures) > 1 else ""
    raise InputSearchError(
        f"{source}: found no input sizes the model accepts (tried {seen}{more}); "
        "give them with --input-shape NAME[d0,d1,...]"
    )


def _symbols_fixed_by(specs: Sequence[TensorSpec], shapes: Mapping[str, tuple[int, ...]]) -> dict[str, int]:
    fixed: dict[str, int] = {}
    for spec in specs:
        if spec.name in shapes and spec.dims is not None:
            for declared, given in zip(spec.dims, shapes[spec.name]):
                if isinstance(declared, str):
                    fixed.setdefault(declared, given)
    return fixed


def _dynamic_dims(
    specs: Sequence[TensorSpec], shapes: Mapping[str, tuple[int, ...]], fixed: Mapping[str, int]
) -> dict[tuple[str, int], str]:
    """(input, axis) → role for every dim the search must choose."""
    keys: dict[tuple[str, int], str] = {}
    for spec in specs:
        if spec.name in shapes or spec.dims is None:
            continue
        for axis, dim in enumerate(spec.dims):
            if not isinstance(dim, int) and not (isinstance(dim, str) and dim in fixed):
                keys[(spec.name, axis)] = dim_role(spec, axis)
    return keys


def _size_combinations(roles: Sequence[str]):
    """One size per role, the likeliest combinations first."""
    ranked = sorted(
        itertools.product(*(range(len(ROLE_SIZES[role])) for role in roles)),
        key=lambda indices: (sum(ROLE_WEIGHT[role] * i for role, i in zip(roles, indices)), indices),
    )
    for indices in ranked:
        yield tuple(ROLE_SIZES[role][i] for role, i in zip(roles, indices))


def _shapes_for(
    specs: Sequence[TensorSpec],
    shapes: Mapping[str, tuple[int, ...]],
    fixed: Mapping[str, int],
    keys: Mapping[tuple[str, int], str],
    role_size: Mapping[str, int],
) -> dict[str, tuple[int, ...]]:
    chosen: dict[str, tuple[int, ...]] = dict(shapes)
    symbol_size: dict[str, int] = dict(fixed)
    for spec in specs:
        if spec.name in chosen:
            continue
        dims = []
        for axis, dim in enumerate(spec.dims or ()):
            if isinstance(dim, int):
                dims.append(dim)
            elif isinstance(dim, str):
                dims.append(symbol_size.setdefault(dim, role_size[keys[(spec.name, axis)]] if (spec.name, axis) in keys else fixed[dim]))
            else:
                dims.append(role_size[keys[(spec.name, axis)]])
        chosen[spec.name] = tuple(dims)
    return chosen


def _output_problem(
    outputs: Sequence[np.ndarray],
    output_specs: Sequence[TensorSpec] | None,
    input_specs: Sequence[TensorSpec],
    chosen: Mapping[str, tuple[int, ...]],
) -> str | None:
    """None when the outputs are finite and of the declared shapes (symbols shared with inputs included)."""
    symbol_size = {
        dim: size
        for spec in input_specs
        for dim, size in zip(spec.dims or (), chosen[spec.name])
        if isinstance(dim, str)
    }
    for index, output in enumerate(outputs):
        array = np.asarray(output)
        spec = output_specs[index] if output_specs is not None and index < len(output_specs) else None
        name = spec.name if spec else f"output {index}"
        if spec is not None and spec.dims is not None:
            if len(spec.dims) != array.ndim:
                return f"{name} has rank {array.ndim}, declared {spec.describe()}"
            for declared, actual in zip(spec.dims, array.shape):
                expected = declared if isinstance(declared, int) else symbol_size.get(declared) if isinstance(declared, str) else None
                if expected is not None and expected != actual:
                    return f"{name} has shape {list(array.shape)}, declared {spec.describe()}"
        if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
            return f"{name} is not finite"
    return None


def _describe_feeds(specs: Sequence[TensorSpec], shapes: Mapping[str, Sequence[int]]) -> str:
    return " ".join(spec.describe(shapes[spec.name]) for spec in specs)


_ORT_NODE = re.compile(r"while running (\w+) node")
_ORT_SOURCE = re.compile(r"^\S+\.(?:h|cc|cpp):\d+ \S+?\(.*?\) ")


def error_gist(error: BaseException, limit: int = 240) -> str:
    """The gist of a runtime's error: for onnxruntime, the failing op and its status message."""
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    if "Status Message:" in line:
        node = _ORT_NODE.search(line)
        message = _ORT_SOURCE.sub("", line.split("Status Message:", 1)[1].strip())
        line = f"{node.group(1)}: {message}" if node else message
    return line if len(line) <= limit else line[: limit - 3] + "..."
