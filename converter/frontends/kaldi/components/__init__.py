"""All Kaldi component handlers, by component type: nnet3's and nnet1's. Each family is listed by hand."""

from __future__ import annotations

from converter.frontends.kaldi.components import (
    activation,
    affine,
    context,
    conv,
    elementwise,
    identity,
    lstm,
    normalization,
    pooling,
    statistics,
)
from converter.frontends.kaldi.graph import Handler

NNET3_FAMILIES = (affine, activation, identity, normalization, elementwise, pooling, lstm, conv, statistics)
NNET1_FAMILIES = (affine, activation, identity, normalization, elementwise, pooling, context, conv)


def _collect(tables: list[dict[str, Handler]], kind: str) -> dict[str, Handler]:
    collected: dict[str, Handler] = {}
    for table in tables:
        for type_name, handler in table.items():
            if type_name in collected:
                raise RuntimeError(f"{kind} component {type_name} has two handlers")
            collected[type_name] = handler
    return collected


NNET3_HANDLERS: dict[str, Handler] = _collect([family.NNET3 for family in NNET3_FAMILIES], "nnet3")
NNET1_HANDLERS: dict[str, Handler] = _collect([family.NNET1 for family in NNET1_FAMILIES], "nnet1")
