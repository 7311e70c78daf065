"""Kaldi's compressed matrices (`src/matrix/compressed-matrix.cc`), decompressed as Kaldi does.

All three formats share a global header: min_value and range (floats), rows and cols.

- `CM` (one byte per element, per-column headers): each column stores four uint16 percentiles
  p0, p25, p75, p100 on the global grid (value = min + range · q / 65535, in float), then its
  bytes; byte b maps piecewise-linearly: [0, 64] onto [p0, p25], [64, 192] onto [p25, p75],
  [192, 255] onto [p75, p100]. The data is stored column by column.
- `CM2`: uint16 per element, row-major, value = min + q · (range / 65535).
- `CM3`: uint8 per element, row-major, value = min + q · (range / 255).

The arithmetic follows Kaldi's float/double mix so the values come out bit-identical.
"""

from __future__ import annotations

import numpy as np

# Kaldi's constant for 1/65535, as a float literal.
INV_65535_F = np.float32(1.52590218966964e-05)


def uint16_to_float(min_value: np.float32, value_range: np.float32, q: np.ndarray) -> np.ndarray:
    """The percentile grid: min + range · (1/65535) · q, evaluated in float left to right."""
    return min_value + (value_range * INV_65535_F) * q.astype(np.float32)


def char_to_float(p0: np.ndarray, p25: np.ndarray, p75: np.ndarray, p100: np.ndarray, byte: np.ndarray) -> np.ndarray:
    """Bytes → values within their column's percentiles (float products, then double scaling)."""
    b = byte.astype(np.float32)
    low = p0.astype(np.float64) + ((p25 - p0) * b).astype(np.float64) * (1 / 64.0)
    middle = p25.astype(np.float64) + ((p75 - p25) * (b - np.float32(64))).astype(np.float64) * (1 / 128.0)
    high = p75.astype(np.float64) + ((p100 - p75) * (b - np.float32(192))).astype(np.float64) * (1 / 63.0)
    return np.where(byte <= 64, low, np.where(byte <= 192, middle, high)).astype(np.float32)


def decompress(
    token: str, min_value: float, value_range: float, data: np.ndarray, column_headers: np.ndarray | None = None
) -> np.ndarray:
    """The float32 matrix [rows, cols] a compressed matrix holds.

    `data` is [cols, rows] bytes for `CM` (with `column_headers` [cols, 4] uint16), else
    [rows, cols] (uint16 for `CM2`, uint8 for `CM3`)."""
    low, span = np.float32(min_value), np.float32(value_range)
    if token == "CM":
        assert column_headers is not None
        percentiles = uint16_to_float(low, span, column_headers)  # [cols, 4]
        p0, p25, p75, p100 = (percentiles[:, i : i + 1] for i in range(4))
        return np.ascontiguousarray(char_to_float(p0, p25, p75, p100, data).T)
    levels = 65535.0 if token == "CM2" else 255.0
    increment = np.float32(float(span) * (1.0 / levels))  # Kaldi keeps it in a float
    return low + data.astype(np.float32) * increment
