"""All ONNX op handlers, by ONNX op type. Each family is listed by hand."""

from __future__ import annotations

from converter.frontends.onnx.converter import Handler
from converter.frontends.onnx.ops import (
    activation,
    control,
    conv,
    elementwise,
    indexing,
    matmul,
    microsoft,
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

FAMILIES = (elementwise, activation, conv, pooling, normalization, matmul, reduction, shape, indexing, resize, rnn, control, misc, vision_signal, quantization, microsoft)


def _collect() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for family in FAMILIES:
        for op_type, handler in family.HANDLERS.items():
            if op_type in table:
                raise RuntimeError(f"ONNX op {op_type} has two handlers")
            table[op_type] = handler
    for op_type, handler in microsoft.MICROSOFT_HANDLERS.items():
        table[f"com.microsoft.{op_type}"] = handler  # the key converter.handler_key gives
    return table


HANDLERS: dict[str, Handler] = _collect()
