"""All Keras layer handlers, by layer class (Keras ops by `ops.<Class>`). Each family is listed by hand."""

from __future__ import annotations

from converter.frontends.keras.context import Handler
from converter.frontends.keras.layers import (
    activation,
    attention,
    conv,
    core,
    merging,
    normalization,
    ops,
    pooling,
    reshaping,
    rnn,
    wrappers,
)

FAMILIES = (core, activation, conv, pooling, normalization, merging, reshaping, rnn, attention, wrappers, ops)


def _collect() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for family in FAMILIES:
        for class_name, handler in family.LAYERS.items():
            if class_name in table:
                raise RuntimeError(f"Keras layer {class_name} has two handlers")
            table[class_name] = handler
    return table


LAYERS: dict[str, Handler] = _collect()
