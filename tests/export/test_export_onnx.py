"""`irforge export-onnx` round-trips every model of the test suite's model set (tests/models.py,
tests/sized_models.py, the example zoo; export_model_set.py lists them): each is converted by irforge,
written as FP32 and FP16 IR, read back, exported; onnx.checker (full_check) passes, and
onnxruntime on the exported model matches OpenVINO on the IR (rtol 1e-4)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import models
from converter import UnsupportedOpsError, convert_model, export_onnx, read_model, save_model
from converter.errors import InvalidModelError
from converter.export.onnx_model import export_onnx as lower_to_onnx_model
from converter.ir.graph import Graph
from converter.ir.types import ElementType, Shape
from converter.ops.core import parameter
from converter.ops.elementwise import Add
from converter.ops.spec import OpSpec, same_as_input
from converter.runtime.lowering.context import ONNX_OPSET
from converter.validate import compare, run_ir
from converter.validate.runners import find_graph_inputs
from export_model_set import ALL_NAMES, source_of


def _session(model: onnx.ModelProto) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def converted() -> dict[str, Graph]:
    """Each model converted once, for both precisions."""
    return {}


@pytest.mark.parametrize("precision", ["FP32", "FP16"])
@pytest.mark.parametrize("name", ALL_NAMES)
def test_export_round_trips(name: str, precision: str, converted: dict[str, Graph], tmp_path: Path) -> None:
    if name not in converted:
        converted[name] = convert_model(source_of(name))
    xml, _ = save_model(converted[name], tmp_path / precision / "model.xml", compress_to_fp16=precision == "FP16")
    onnx_path = export_onnx(xml, tmp_path / "model.onnx")
    model = onnx.load(onnx_path)
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", ONNX_OPSET)]

    ir = read_model(xml)
    assert [i.name for i in model.graph.input] == [v.names[0] for v in ir.inputs]
    feeds = find_graph_inputs(ir)
    inputs = [feeds[v.names[0]] for v in ir.inputs]
    expected = run_ir(xml, inputs, "openvino")
    actual = _session(model).run(None, dict(zip([i.name for i in model.graph.input], inputs)))
    verdict = compare(expected, actual, rtol=1e-4, atol=1e-5)
    assert verdict.ok, verdict.detail
    if precision == "FP16" and any("decompression" in n.rt_info for n in ir.nodes()):
        assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)


def test_dynamic_dims_become_symbolic_and_fp16_folds_on_request(tmp_path: Path) -> None:
    xml, _ = save_model(convert_model(models.cnn(batch="N")), tmp_path / "m.xml", compress_to_fp16=True)
    kept = lower_to_onnx_model(read_model(xml))
    dims = kept.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and not dims[0].HasField("dim_value") and [d.dim_value for d in dims[1:]] == [3, 16, 16]
    bert = lower_to_onnx_model(convert_model(models.bert(layers=1)))
    batch, sequence = (d.dim_param for d in bert.graph.input[0].type.tensor_type.shape.dim)
    assert [d.dim_param or d.dim_value for d in bert.graph.output[0].type.tensor_type.shape.dim] == [batch, sequence, 64]
    kept_types = Counter(t.data_type for t in kept.graph.initializer)
    folded = lower_to_onnx_model(read_model(xml), fold_decompression=True)
    folded_types = Counter(t.data_type for t in folded.graph.initializer)
    assert kept_types[onnx.TensorProto.FLOAT16] > 0 and folded_types[onnx.TensorProto.FLOAT16] == 0
    casts = lambda m: sum(n.op_type == "Cast" for n in m.graph.node)  # noqa: E731
    assert casts(kept) - casts(folded) == kept_types[onnx.TensorProto.FLOAT16]
    x = np.random.default_rng(0).random((3, 3, 16, 16), dtype=np.float32)
    name = kept.graph.input[0].name
    a, b = _session(kept).run(None, {name: x})[0], _session(folded).run(None, {name: x})[0]
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_unsupported_ops_are_reported_at_once() -> None:
    fancy = OpSpec("FancyOp", "opset99", (), same_as_input())
    other = OpSpec("OtherOp", "opset99", (), same_as_input())
    x = parameter("x", ElementType.f32, Shape.of(2))
    graph = Graph([x], [Add(fancy(x.outputs[0], name="f1"), other(fancy(x.outputs[0], name="f2"), name="o1"))])
    with pytest.raises(UnsupportedOpsError) as error:
        lower_to_onnx_model(graph, "m.xml")
    assert set(error.value.unsupported) == {"FancyOp-opset99", "OtherOp-opset99"}
    assert sorted(error.value.unsupported["FancyOp-opset99"]) == ["f1", "f2"]


def test_unknown_rank_at_the_interface_is_a_clear_error() -> None:
    x = parameter("x", ElementType.f32, Shape.dynamic_rank())
    with pytest.raises(InvalidModelError, match="rank of x is unknown"):
        lower_to_onnx_model(Graph([x], [x.outputs[0]]), "m.xml")


def test_cli_writes_a_checked_model_and_exits_2_on_bad_input(tmp_path: Path) -> None:
    xml, _ = save_model(convert_model(models.tiny_add_relu()), tmp_path / "ir" / "m.xml")
    command = [sys.executable, "-m", "converter.cli", "export-onnx"]
    done = subprocess.run([*command, str(xml), "-o", str(tmp_path / "m.onnx")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    onnx.checker.check_model(onnx.load(tmp_path / "m.onnx"), full_check=True)
    broken = tmp_path / "broken.xml"
    broken.write_text("<net")
    failed = subprocess.run([*command, str(broken), "-o", str(tmp_path / "b.onnx")], capture_output=True, text=True)
    assert failed.returncode == 2 and "error:" in failed.stderr and not (tmp_path / "b.onnx").exists()


def test_silero_ir_with_its_sample_rate_if_exports(tmp_path: Path) -> None:
    """The real silero-vad model (an If chosen by `sr`, static ranks after fold_if) as IR, then ONNX."""
    import importlib.util

    spec = importlib.util.find_spec("silero_vad")
    if spec is None or spec.origin is None:
        pytest.skip("silero-vad is not installed (tests/model-packages.txt)")
    source = Path(spec.origin).parent / "data" / "silero_vad.onnx"
    xml, _ = save_model(convert_model(source), tmp_path / "ir" / "silero.xml")
    model = onnx.load(export_onnx(xml, tmp_path / "silero.onnx"))
    assert sum(n.op_type == "If" for n in model.graph.node) == 1
    exported, original = _session(model), ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for sample_rate, samples in ((16000, 576), (8000, 288)):
        feeds = {
            "input": (0.3 * rng.standard_normal((1, samples))).astype(np.float32),
            "state": (0.3 * rng.standard_normal((2, 1, 128))).astype(np.float32),
            "sr": np.array(sample_rate, np.int64),
        }
        for a, e in zip(exported.run(None, feeds), original.run(None, feeds)):
            np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)
