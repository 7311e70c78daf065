"""ONNX handlers for the matmul family."""

from __future__ import annotations

from converter.frontends.onnx.converter import Handler

HANDLERS: dict[str, Handler] = {}
