"""TODO family: control."""

from __future__ import annotations

from converter.ops.spec import OpSpec

OPS: tuple[OpSpec, ...] = ()
