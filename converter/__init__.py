"""irforge: convert trained models to OpenVINO IR v11.

The API functions load on first use (PEP 562), so `irforge --help` and other light entry points
import neither numpy nor the graph core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from converter.errors import ConverterError, InvalidModelError, NodeConversionError, UnsupportedOpsError

if TYPE_CHECKING:
    from converter.api import convert_model, export_onnx, read_model, save_model

__version__ = "0.1.0"

_API = ("convert_model", "export_onnx", "read_model", "save_model")

__all__ = [
    "ConverterError",
    "InvalidModelError",
    "NodeConversionError",
    "UnsupportedOpsError",
    "convert_model",
    "export_onnx",
    "read_model",
    "save_model",
]


def __getattr__(name: str) -> Any:
    if name in _API:
        from converter import api

        return getattr(api, name)
    raise AttributeError(f"module 'converter' has no attribute {name!r}")
