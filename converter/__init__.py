"""irforge: convert trained models to OpenVINO IR v11."""

from converter.api import convert_model, read_model, save_model
from converter.errors import ConverterError, InvalidModelError, NodeConversionError, UnsupportedOpsError

__version__ = "0.1.0"

__all__ = [
    "ConverterError",
    "InvalidModelError",
    "NodeConversionError",
    "UnsupportedOpsError",
    "convert_model",
    "read_model",
    "save_model",
]
