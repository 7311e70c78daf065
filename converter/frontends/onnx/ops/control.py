"""ONNX handlers for the control family."""

from __future__ import annotations

from converter.frontends.onnx.converter import Handler

HANDLERS: dict[str, Handler] = {}
