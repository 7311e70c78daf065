"""All TFLite op handlers, by builtin op name (custom ops by their custom code). Each family is listed by hand."""

from __future__ import annotations

from converter.frontends.tflite.model import Handler
from converter.frontends.tflite.ops import (
    activation,
    control,
    conv,
    custom,
    elementwise,
    indexing,
    logical,
    math,
    matmul,
    misc,
    normalization,
    pooling,
    quantization,
    reduction,
    resize,
    rnn,
    shape,
)

FAMILIES = (
    conv, matmul, activation, elementwise, math, logical, pooling, reduction, normalization, shape, indexing, resize,
    quantization, misc, rnn, control, custom,
)  # fmt: skip


def _collect() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for family in FAMILIES:
        for op_type, handler in family.HANDLERS.items():
            if op_type in table:
                raise RuntimeError(f"TFLite op {op_type} has two handlers")
            table[op_type] = handler
    return table


HANDLERS: dict[str, Handler] = _collect()
GRID_PRESERVING: frozenset[str] = frozenset().union(*(family.GRID_PRESERVING for family in FAMILIES))
