"""Validation compiles every IR once more with OpenVINO's default CPU configuration (bf16 inference
where the CPU has it; the comparisons run in f32) and fails the variant, with one clear line, when
that compile fails. The failing IR here is the pattern irforge's TFLite frontend used to write for
an int8 input: `Convert → Subtract(zero point) → Multiply` before a convolution whose output is
quantized, which compiles in f32 and not by default ("No suitable implementations")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

pytest.importorskip("openvino")

from converter.config import load_config  # noqa: E402
from converter.ir.graph import Graph  # noqa: E402
from converter.ir.types import ElementType, Shape  # noqa: E402
from converter.ops import elementwise as ew  # noqa: E402
from converter.ops.activation import Clamp  # noqa: E402
from converter.ops.conv import Convolution  # noqa: E402
from converter.ops.core import Convert, const, parameter  # noqa: E402
from converter.ops.quantization import FakeQuantize  # noqa: E402
from converter.runtime.openvino_backend import default_inference_precision  # noqa: E402
from converter.serialize.writer import write_ir  # noqa: E402
from converter.validate.runners import IrRunner  # noqa: E402
from converter.validate.validation import ValidationOptions, Variant, default_config_problems, validate_model  # noqa: E402

RNG = np.random.default_rng(0)
W1 = RNG.integers(-127, 128, (8, 3, 3, 3)).astype(np.int8)
W2 = RNG.integers(-127, 128, (16, 8, 1, 1)).astype(np.int8)
SCALE, ZERO_POINT, STEP = 1 / 255, -128, 6 / 255

needs_bf16 = pytest.mark.skipif(
    default_inference_precision() != "bf16", reason="the CPU plugin's default is not bf16 here: that IR compiles"
)


def onnx_model() -> onnx.ModelProto:
    """int8 x → dequantized → conv 3×3 → clip [0, 6] → quantize/dequantize → conv 1×1: "y"."""
    inits = {
        "zp": np.float32(ZERO_POINT), "s": np.float32(SCALE), "lo": np.float32(0), "hi": np.float32(6),
        "w1": W1.astype(np.float32) * np.float32(0.01), "w2": W2.astype(np.float32) * np.float32(0.01),
        "qs": np.float32(STEP), "qz": np.uint8(0),
    }
    nodes = [
        helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
        helper.make_node("Sub", ["xf", "zp"], ["xs"]),
        helper.make_node("Mul", ["xs", "s"], ["xr"]),
        helper.make_node("Conv", ["xr", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["c1", "lo", "hi"], ["r1"]),
        helper.make_node("QuantizeLinear", ["r1", "qs", "qz"], ["q1"]),
        helper.make_node("DequantizeLinear", ["q1", "qs", "qz"], ["d1"]),
        helper.make_node("Conv", ["d1", "w2"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.INT8, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 16, 16])],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def failing_ir(path: Path) -> Path:
    """The same function as onnx_model() in the pattern the CPU plugin cannot compile by default."""
    x = parameter("x", ElementType.i8, Shape((1, 3, 16, 16)))
    real = ew.Multiply(ew.Subtract(Convert(x.outputs[0], destination_type=ElementType.f32), const(np.float32(ZERO_POINT))), const(np.float32(SCALE)))

    def weight(stored: np.ndarray) -> object:
        return ew.Multiply(Convert(const(stored), destination_type=ElementType.f32), const(np.full((stored.shape[0], 1, 1, 1), 0.01, np.float32)))

    y = Convolution(real, weight(W1), strides=[1, 1], pads_begin=[1, 1], pads_end=[1, 1], dilations=[1, 1])
    low, high = const(np.float32(0)), const(np.float32(255 * STEP))
    y = FakeQuantize(Clamp(y, min=0.0, max=6.0), low, high, low, high, levels=256)
    y = Convolution(y, weight(W2), strides=[1, 1], pads_begin=[0, 0], pads_end=[0, 0], dilations=[1, 1])
    y.names.append("y")
    xml, _ = write_ir(Graph([x], [y]), path)
    return xml


def feeds() -> dict[str, np.ndarray]:
    return {"x": RNG.integers(-128, 128, (1, 3, 16, 16)).astype(np.int8)}


@needs_bf16
def test_an_ir_that_compiles_only_in_f32_is_reported(tmp_path):
    xml = failing_ir(tmp_path / "m.xml")
    IrRunner(xml, "openvino").run(feeds())  # f32: compiles and runs
    (problem,) = default_config_problems(xml, None, feeds())
    assert problem.startswith("the IR does not compile with OpenVINO's default CPU configuration (inference precision bf16): ")
    assert "No suitable implementations" in problem and "Exception from" not in problem


def test_irforge_ir_of_that_model_compiles_by_default(tmp_path):
    from converter.api import convert_model, save_model

    xml, _ = save_model(convert_model(onnx_model()), tmp_path / "m.xml")
    assert default_config_problems(xml, None, feeds()) == []


@needs_bf16
def test_validation_fails_the_variant_with_one_clear_line(tmp_path):
    source = tmp_path / "m.onnx"
    onnx.save(onnx_model(), source)
    xml = failing_ir(tmp_path / "ir" / "FP32" / "m.xml")
    options = ValidationOptions(backends=("openvino",), latency_repeats=1)
    result = validate_model(source, [Variant("fp32", xml)], load_config(), options)
    (row,) = [r for r in result.rows if r["precision"] == "fp32"]
    assert row["status"] == "fail"
    (failure,) = [f for f in result.failures if "default CPU configuration" in f]
    assert failure.startswith("fp32/openvino: the IR does not compile with OpenVINO's default CPU configuration")
    assert failure in row["message"]
    unchecked = validate_model(source, [Variant("fp32", xml)], load_config(), ValidationOptions(backends=("openvino",), latency_repeats=1, default_config_check=False))
    assert not [f for f in unchecked.failures if "default CPU configuration" in f]
