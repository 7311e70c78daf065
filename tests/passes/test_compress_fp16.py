from pathlib import Path

import numpy as np
import openvino

from converter import save_model
from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.core import const, parameter
from converter.ops.elementwise import Add, Multiply
from converter.passes.check import check_graph
from converter.passes.compress_fp16 import F16_MAX, compress_fp16, compress_fp16_guarded
from converter.passes.manager import random_graph_inputs
from converter.runtime import execute
from converter.serialize.reader import parse_ir
from converter.serialize.writer import serialize


def _graph(*weights: np.ndarray) -> Graph:
    x = parameter("x", ElementType.f32, Shape.of(2, 4))
    value = x.outputs[0]
    for index, weight in enumerate(weights):
        value = Add(value, const(weight, name=f"w{index}"))
    return Graph([x], [value])


def test_weights_become_f16_with_a_decompression_convert() -> None:
    weight = np.linspace(-3, 3, 4, dtype=np.float32)
    graph = compress_fp16(_graph(weight))
    check_graph(graph)
    convert = graph.outputs[0].producer.inputs[1].producer
    assert convert.op.type == "Convert" and convert.rt_info == {"decompression": {"version": "0"}}
    assert convert.inputs[0].const.dtype == np.float16
    assert convert.outputs[0].element_type is ElementType.f32


def test_out_of_range_values_are_clamped_and_mostly_out_of_range_weights_stay_f32() -> None:
    clamped = np.array([1e6, -1e6, 1.0, 2.0], dtype=np.float32)  # 50% out of range: compressed, clamped
    kept = np.array([1e6, -1e6, 1e7, 2.0], dtype=np.float32)  # 75% out of range: stays f32
    graph = compress_fp16(_graph(clamped, kept))
    stored = {node.name: node.attrs["value"] for node in graph.nodes() if node.op.type == "Const"}
    assert stored["w0_compressed"].tolist() == [F16_MAX, -F16_MAX, 1.0, 2.0]
    assert stored["w1"].dtype == np.float32


def test_scalars_stay_f32() -> None:
    graph = compress_fp16(_graph(np.array([1e-12], dtype=np.float32)))
    assert "Convert" not in graph.op_histogram()


def test_compressed_ir_loads_in_openvino_and_round_trips(tmp_path: Path) -> None:
    graph = _graph(np.linspace(-1, 1, 4, dtype=np.float32))
    xml_path, _ = save_model(graph, tmp_path / "m.xml", compress_to_fp16=True)
    compiled = openvino.Core().compile_model(str(xml_path), "CPU")
    x = np.ones((2, 4), np.float32)
    assert np.allclose(compiled([x])[0], x + np.linspace(-1, 1, 4), atol=1e-3)
    xml, weights = xml_path.read_bytes(), xml_path.with_suffix(".bin").read_bytes()
    assert serialize(parse_ir(xml, weights)) == (xml, weights)


def test_guard_keeps_only_the_weight_whose_compression_hurts() -> None:
    x = parameter("x", ElementType.f32, Shape.of(2, 4))
    # (x + 3001.3) - 3000 cancels: f16 stores 3001.3 as 3002 (spacing 2 there), which shows in the
    # output; 3000 is exact in f16 and `small` rounds harmlessly.
    big = np.full(4, 3001.3, np.float32)
    value = Add(Add(x.outputs[0], const(big, name="big")), const(np.full(4, -3000.0, np.float32), name="minus_big"))
    value = Multiply(value, const(np.linspace(0.5, 1.5, 4, dtype=np.float32), name="small"))
    graph = Graph([x], [value])
    inputs = random_graph_inputs(graph)
    compressed, report = compress_fp16_guarded(graph.copy(), inputs, rtol=1e-3)
    (kept,) = report.kept_f32
    assert "input 1" in kept and "Add" in kept
    assert report.final_max_relative <= 1e-3
    assert np.allclose(execute(compressed, inputs)[0], execute(graph, inputs)[0], rtol=1e-3, atol=1e-3)


def test_cli_fp16_guard_reports_what_it_kept(tmp_path: Path) -> None:
    import onnx
    from typer.testing import CliRunner

    import models
    from converter.cli import app

    source = tmp_path / "mobilenet.onnx"
    onnx.save(models.mobilenet_v3(), source)
    result = CliRunner().invoke(app, ["convert", str(source), "-o", str(tmp_path / "out"), "--fp16-guard", "1e-3"])
    assert result.exit_code == 0, result.output
    assert "FP16 guard: kept in f32:" in result.output
    guarded = (tmp_path / "out" / "FP16" / "mobilenet.bin").stat().st_size
    full = (tmp_path / "out" / "FP32" / "mobilenet.bin").stat().st_size
    assert guarded < 0.6 * full
