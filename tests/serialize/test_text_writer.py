"""The top-level graph is written straight to text; its bytes must be exactly those of the
ElementTree writer (`serialize_tree`), control-flow layers, FP16 rt_info and odd names included."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))

import models  # noqa: E402
from converter import convert_model  # noqa: E402
from converter.api import load_model  # noqa: E402
from converter.ir.graph import Graph  # noqa: E402
from converter.ir.types import ElementType, Shape  # noqa: E402
from converter.ops.activation import Relu  # noqa: E402
from converter.ops.core import const, parameter  # noqa: E402
from converter.ops.elementwise import Add  # noqa: E402
from converter.passes.compress_fp16 import compress_fp16  # noqa: E402
from converter.serialize.writer import serialize_streaming, serialize_tree  # noqa: E402
from test_control import if_model  # noqa: E402


def _same(graph: Graph) -> None:
    text, text_weights = serialize_streaming(graph)
    tree, tree_weights = serialize_tree(graph)
    assert text == tree
    assert text_weights.getvalue() == tree_weights.getvalue()


@pytest.mark.parametrize("build", [models.cnn, models.transformer, models.recurrent, models.mobilenet_v3, if_model])
def test_text_equals_tree(build) -> None:
    source = build()
    for graph in (load_model(source), convert_model(source)):
        _same(graph)
        _same(compress_fp16(graph.copy()))


def test_names_that_need_escaping_and_scalars() -> None:
    x = parameter('in "x" <&>\t', ElementType.f32, Shape.of())
    y = Relu(Add(x.outputs[0], const(np.float32(1.0), name="c&d")))
    y.names.append("out,<1>")
    graph = Graph([x], [y, x.outputs[0]], name='n"a&me')
    _same(graph)
