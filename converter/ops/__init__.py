"""Op specs, one module per family. `ALL_OPS` maps (type, opset) to the spec.

Every family is listed here by hand: nothing registers itself.
"""

from __future__ import annotations

from converter.ops import (
    activation,
    attention,
    control,
    conv,
    core,
    detection,
    elementwise,
    indexing,
    matmul,
    misc,
    normalization,
    pooling,
    quantization,
    reduction,
    resize,
    rnn,
    shape,
    vision_signal,
)
from converter.ops.spec import OpSpec

FAMILIES = (
    core,
    elementwise,
    activation,
    conv,
    pooling,
    normalization,
    matmul,
    reduction,
    shape,
    indexing,
    resize,
    rnn,
    attention,
    control,
    misc,
    vision_signal,
    detection,
    quantization,
)


def _collect() -> dict[tuple[str, str], OpSpec]:
    table: dict[tuple[str, str], OpSpec] = {}
    for family in FAMILIES:
        for op in family.OPS:
            key = (op.type, op.version)
            if key in table:
                raise RuntimeError(f"op {key} is defined twice")
            table[key] = op
    return table


ALL_OPS: dict[tuple[str, str], OpSpec] = _collect()
