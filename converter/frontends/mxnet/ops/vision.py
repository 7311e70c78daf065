"""MXNet SSD ops: _contrib_MultiBoxPrior and _contrib_MultiBoxDetection (to come)."""

from __future__ import annotations

from converter.frontends.mxnet.model import Handler

HANDLERS: dict[str, Handler] = {}
