"""All Caffe layer handlers, by layer type. Each family is listed by hand."""

from __future__ import annotations

from converter.frontends.caffe.layers import activation, arithmetic, conv, core, detection, normalization, pooling, resize, shape
from converter.frontends.caffe.net import Handler

FAMILIES = (core, conv, pooling, activation, arithmetic, normalization, shape, resize, detection)


def _collect() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for family in FAMILIES:
        for layer_type, handler in family.HANDLERS.items():
            if layer_type in table:
                raise RuntimeError(f"Caffe layer {layer_type} has two handlers")
            table[layer_type] = handler
    return table


HANDLERS: dict[str, Handler] = _collect()
