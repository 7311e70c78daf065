"""All TensorFlow op handlers, by TF op type. Each family is listed by hand."""

from __future__ import annotations

from converter.frontends.tensorflow.graph import Handler
from converter.frontends.tensorflow.ops import (
    activation,
    calls,
    control,
    conv,
    core,
    elementwise,
    indexing,
    matmul,
    misc,
    normalization,
    pooling,
    reduction,
    resize,
    shape,
    vision,
)

FAMILIES = (core, calls, control, conv, normalization, matmul, activation, elementwise, pooling, reduction, shape, indexing, resize, misc, vision)


def _collect() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for family in FAMILIES:
        for op_type, handler in family.HANDLERS.items():
            if op_type in table:
                raise RuntimeError(f"TF op {op_type} has two handlers")
            table[op_type] = handler
    return table


HANDLERS: dict[str, Handler] = _collect()
