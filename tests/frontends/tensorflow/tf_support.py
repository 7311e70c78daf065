"""Build frozen TF graphs in the test session, convert them with irforge, run the IR in OpenVINO.

TensorFlow is the reference: the frozen function's own outputs are what the IR must match.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")

import tensorflow as tf  # noqa: E402
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2  # noqa: E402

from converter.api import optimize, save_model  # noqa: E402
from converter.frontends.tensorflow import convert_graphdef  # noqa: E402
from converter.ir.graph import Graph  # noqa: E402
from converter.validate.runners import IrRunner  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5


def input_name(index: int) -> str:
    return f"x{index}"


def freeze(function: Callable, specs: Sequence[tf.TensorSpec]):
    """The frozen concrete function (variables as Consts) and its GraphDef."""
    frozen = convert_variables_to_constants_v2(tf.function(function).get_concrete_function(*specs))
    return frozen, frozen.graph.as_graph_def()


def write_graph(graph_def, path: Path, text: bool = False) -> Path:
    from google.protobuf import text_format

    path.parent.mkdir(parents=True, exist_ok=True)
    if text:
        path.write_text(text_format.MessageToString(graph_def))
    else:
        path.write_bytes(graph_def.SerializeToString())
    return path


def run_ir(graph: Graph, folder: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    xml, _ = save_model(graph, folder / "model.xml")
    return IrRunner(xml, "openvino").run(feeds)


def check(
    tmp_path: Path,
    function: Callable,
    *inputs: np.ndarray,
    shapes: Sequence[Sequence[int | None]] | None = None,
    reference: Callable | None = None,
    expect_ops: Sequence[str] = (),
    text: bool = False,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Graph:
    """Freeze `function` on `inputs` (shapes may leave dims dynamic), convert the GraphDef file,
    optimize, save, run in OpenVINO and compare with TensorFlow's outputs.

    `reference` computes the expected outputs instead of the frozen graph, for graphs TF's CPU
    kernels cannot run (NCHW convolutions and pools). `expect_ops` must occur in the GraphDef,
    so a test checks the op it means to.
    """
    specs = [
        tf.TensorSpec(shapes[i] if shapes else x.shape, tf.as_dtype(x.dtype), name=input_name(i)) for i, x in enumerate(inputs)
    ]
    frozen, graph_def = freeze(function, specs)
    ops = {node.op for node in graph_def.node}
    assert set(expect_ops) <= ops, f"the graph has {sorted(ops)}"
    run = reference or frozen
    expected = [np.asarray(t) for t in tf.nest.flatten(run(*[tf.constant(x) for x in inputs]))]
    path = write_graph(graph_def, tmp_path / ("model.pbtxt" if text else "model.pb"), text)
    graph = convert_graphdef(path, inputs=[t.name for t in frozen.inputs], outputs=[t.name for t in frozen.outputs])
    optimized, _ = optimize(graph)
    actual = run_ir(optimized, tmp_path / "ir", {input_name(i): x for i, x in enumerate(inputs)})
    assert len(actual) == len(expected)
    for index, (want, got) in enumerate(zip(expected, actual)):
        assert got.shape == want.shape, f"output {index}: shape {got.shape}, TensorFlow {want.shape}"
        assert got.dtype == want.dtype, f"output {index}: {got.dtype}, TensorFlow {want.dtype}"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"output {index}")
    return optimized


def random(*shape: int, seed: int = 0, low: float | None = None, high: float | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if low is not None and high is not None:
        return rng.uniform(low, high, shape).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)
