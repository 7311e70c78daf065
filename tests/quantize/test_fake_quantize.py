"""FakeQuantize with the limits the quantizer writes: OpenVINO's CPU plugin against numpy."""

from __future__ import annotations

import numpy as np
import pytest

from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.core import const, parameter
from converter.ops.quantization import FakeQuantize, fake_quantize
from converter.quantize.placement import LEVELS, fake_quantize_limits
from converter.runtime import execute


@pytest.mark.parametrize("observed", [(0.0, 6.0), (-3.0, 2.5), (-0.17, 9.0)], ids=["unsigned", "symmetric", "asymmetric"])
def test_openvino_quantizes_onto_the_same_grid_as_numpy(observed: tuple[float, float]) -> None:
    low, high = fake_quantize_limits(*observed)
    x = parameter("x", ElementType.f32, Shape((4, 1000)))
    lo, hi = const(np.array(low, np.float32)), const(np.array(high, np.float32))
    graph = Graph([x], [FakeQuantize(x.outputs[0], lo, hi, lo, hi, levels=LEVELS)])
    feed = np.random.default_rng(0).uniform(observed[0] - 1, observed[1] + 1, (4, 1000)).astype(np.float32)
    expected = fake_quantize(feed, np.float32(low), np.float32(high), np.float32(low), np.float32(high), LEVELS)
    step = (high - low) / (LEVELS - 1)
    for backend in ("onnxruntime", "openvino"):
        actual = execute(graph, [feed], backend)[0]
        off_grid = np.abs((actual - low) / step - np.round((actual - low) / step))
        assert off_grid.max() < 1e-3, backend  # every output is a grid point
        differs = np.abs(actual - expected) > step / 2
        assert differs.mean() < 1e-3, backend  # at most a rounding tie apart
        assert actual.min() >= low - 1e-6 and actual.max() <= high + 1e-6
    if observed[0] < 0 < observed[1]:
        zero = execute(graph, [np.zeros((4, 1000), np.float32)], "openvino")[0]
        assert np.abs(zero).max() < 1e-4 * step  # zero is on the grid (up to the f32 rounding of the limits)
