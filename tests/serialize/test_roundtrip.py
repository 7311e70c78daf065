"""write → read → write is byte-identical; converting twice gives identical bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from converter import convert_model, read_model, save_model
from converter.errors import InvalidModelError
from converter.serialize.reader import parse_ir
from converter.serialize.writer import serialize
from models import tiny_add_relu


def test_write_read_write_identical(tmp_path: Path) -> None:
    first = tmp_path / "a" / "m.xml"
    save_model(convert_model(tiny_add_relu()), first)
    second = tmp_path / "b" / "m.xml"
    save_model(read_model(first), second)
    assert first.read_bytes() == second.read_bytes()
    assert first.with_suffix(".bin").read_bytes() == second.with_suffix(".bin").read_bytes()


def test_conversion_is_deterministic() -> None:
    assert serialize(convert_model(tiny_add_relu())) == serialize(convert_model(tiny_add_relu()))


def test_identical_blobs_stored_once() -> None:
    from converter.ir.graph import Graph
    from converter.ir.types import ElementType, Shape
    from converter.ops.core import const, parameter
    from converter.ops.elementwise import Add

    x = parameter("x", ElementType.f32, Shape.of(4))
    weights = np.arange(4, dtype=np.float32)
    y = Add(Add(x.outputs[0], const(weights.copy())), const(weights.copy()))
    _, blob = serialize(Graph([x], [y]))
    assert len(blob) == weights.nbytes


def test_names_survive_round_trip() -> None:
    xml, blob = serialize(convert_model(tiny_add_relu()))
    graph = parse_ir(xml, blob)
    assert [v.names for v in graph.inputs] == [["x"]]
    assert "y" in graph.outputs[0].names
    assert graph.inputs[0].shape.dims == (None, 3, 4, 4)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda xml: xml.replace(b'version="11"', b'version="12"', 1), "IR version"),
        (lambda xml: xml.replace(b'type="ReLU"', b'type="NoSuchOp"', 1), "NoSuchOp"),
        (lambda xml: xml.replace(b"<edges>", b"<edgez>", 1), "malformed"),
    ],
)
def test_reader_rejects_bad_xml(mutate, message: str) -> None:
    xml, blob = serialize(convert_model(tiny_add_relu()))
    with pytest.raises(InvalidModelError, match=message):
        parse_ir(mutate(xml), blob)


def test_bytes_do_not_depend_on_the_process(tmp_path: Path) -> None:
    """Two processes with different hash seeds write byte-identical FP32 and FP16 IR."""
    import os
    import subprocess
    import sys

    import onnx

    import models

    source = tmp_path / "bert.onnx"
    onnx.save(models.bert(layers=2), source)
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}"
        env = dict(os.environ, PYTHONHASHSEED=seed)
        subprocess.run([sys.executable, "-m", "converter.cli", "convert", str(source), "-o", str(out)], check=True, env=env, capture_output=True, timeout=300)
        outputs.append([(out / variant / f"bert.{ext}").read_bytes() for variant in ("FP32", "FP16") for ext in ("xml", "bin")])
    assert outputs[0] == outputs[1]
