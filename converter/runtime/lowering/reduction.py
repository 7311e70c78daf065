"""Lowerings for the reduction family."""

from __future__ import annotations

from converter.ops.spec import OpSpec
from converter.runtime.lowering.context import LoweringFn

LOWERINGS: dict[OpSpec, LoweringFn] = {}
