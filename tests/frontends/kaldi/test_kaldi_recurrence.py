"""Recurrences (a node reading its own earlier or later frames through IfDefined(Offset(...))),
converted to one Loop over the frames, against Kaldi's frame-by-frame definition."""

from __future__ import annotations

import numpy as np
import pytest

from converter.api import load_model
from converter.errors import UnsupportedOpsError
from kaldi_support import check_nnet3, random, run_kaldi_bytes
from kaldi_writer import nnet3_bytes
from kaldi_reference import (
    Affine,
    Append,
    IfDefined,
    Nnet3Model,
    Nonlinear,
    Offset,
    ReplaceIndex,
    Tdnn,
    backprop_truncation,
    lstm_nonlinearity,
)

RNG = np.random.default_rng(17)


def r(*shape: int, scale: float = 0.5) -> np.ndarray:
    return random(RNG, *shape, scale=scale)


def lstmp_layer(m: Nnet3Model, name: str, source, input_dim: int, cell: int, recurrent: int, delay: int = -3) -> str:
    """An LSTM layer with a recurrent projection, node for node as Kaldi's lstmp-layer xconfig writes it."""
    r_trunc, c_trunc = f"{name}.r_trunc", f"{name}.c_trunc"
    m.component(f"{name}.W_all", Affine(r(4 * cell, input_dim + recurrent), r(4 * cell), "NaturalGradientAffineComponent"), Append(source, IfDefined(Offset(r_trunc, delay))))
    m.component(f"{name}.lstm_nonlin", lstm_nonlinearity(r(3, cell)), Append(f"{name}.W_all", IfDefined(Offset(c_trunc, delay))))
    m.dim_range(f"{name}.c", f"{name}.lstm_nonlin", 0, cell)
    m.dim_range(f"{name}.m", f"{name}.lstm_nonlin", cell, cell)
    m.component(f"{name}.W_rp", Affine(r(2 * recurrent, cell), r(2 * recurrent), "NaturalGradientAffineComponent"), f"{name}.m")
    m.dim_range(f"{name}.r", f"{name}.W_rp", 0, recurrent)
    m.component(f"{name}.cr_trunc", backprop_truncation(cell + recurrent, 1.0), Append(f"{name}.c", f"{name}.r"))
    m.dim_range(c_trunc, f"{name}.cr_trunc", 0, cell)
    m.dim_range(r_trunc, f"{name}.cr_trunc", cell, recurrent)
    return f"{name}.W_rp"


def test_simple_recurrence_one_frame_back(tmp_path) -> None:
    m = Nnet3Model({"input": 3})
    m.component("rnn.affine", Affine(r(4, 7), r(4)), Append("input", IfDefined(Offset("rnn.tanh", -1))))
    m.component("rnn.tanh", Nonlinear("TanhComponent", 4), "rnn.affine")
    m.component("out", Affine(r(2, 4), r(2)), "rnn.tanh")
    m.output("output", "out")
    first, frames = check_nnet3(m, {"input": r(10, 3, scale=1.0)}, tmp_path, binary=True)["output"]
    assert first == 0 and len(frames) == 10  # a recurrence adds no context: it starts from zeros


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "text"])
def test_lstm_projected_layers_with_an_ivector(binary: bool, tmp_path) -> None:
    """A TDNN layer, two stacked LSTMP layers (delay 3), an output: as a TDNN-LSTM recipe writes them."""
    m = Nnet3Model({"input": 5, "ivector": 2}, per_window={"ivector"})
    m.component("tdnn1", Tdnn((-1, 0, 1), r(8, 15), r(8)), "input")
    m.component("tdnn1.relu", Nonlinear("RectifiedLinearComponent", 8), "tdnn1")
    rp1 = lstmp_layer(m, "lstm1", Append("tdnn1.relu", ReplaceIndex("ivector", 0)), 10, cell=6, recurrent=3)
    rp2 = lstmp_layer(m, "lstm2", rp1, 6, cell=4, recurrent=2)
    m.component("output.affine", Affine(r(5, 4), r(5)), rp2)
    m.component("output.log-softmax", Nonlinear("LogSoftmaxComponent", 5), "output.affine")
    m.output("output", "output.log-softmax")
    feeds = {"input": r(14, 5, scale=1.0), "ivector": r(1, 2)}
    expected = check_nnet3(m, feeds, tmp_path, binary)
    first, frames = expected["output"]
    assert first == 1 and len(frames) == 12
    lowered = run_kaldi_bytes(nnet3_bytes(m, binary), feeds, tmp_path, backend="onnxruntime")["output"]  # the Loop lowered to ONNX
    np.testing.assert_allclose(lowered, frames, rtol=1e-4, atol=1e-5)
    graph = load_model_bytes(nnet3_bytes(m, True), tmp_path)
    assert sum(node.op.type == "Loop" for node in graph.nodes()) == 2


def load_model_bytes(data: bytes, tmp_path):
    path = tmp_path / "recurrent.raw"
    path.write_bytes(data)
    return load_model(path)


def test_backward_recurrence_runs_the_frames_in_reverse(tmp_path) -> None:
    m = Nnet3Model({"input": 3})
    m.component("back.affine", Affine(r(4, 7), r(4)), Append(Offset("input", 1), IfDefined(Offset("back.tanh", 2))))
    m.component("back.tanh", Nonlinear("TanhComponent", 4), "back.affine")
    m.component("forward.affine", Affine(r(4, 7), r(4)), Append("input", IfDefined(Offset("forward.tanh", -1))))
    m.component("forward.tanh", Nonlinear("TanhComponent", 4), "forward.affine")
    m.component("out", Affine(r(2, 8), r(2)), Append("back.tanh", "forward.tanh"))
    m.output("output", "out")
    feeds = {"input": r(9, 3, scale=1.0)}
    expected = m.reference(feeds)["output"][1]
    actual = run_kaldi_bytes(nnet3_bytes(m, True), feeds, tmp_path)["output"]
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


def test_recurrences_irforge_cannot_loop_are_reported(tmp_path) -> None:
    m = Nnet3Model({"input": 3})
    m.component("tdnn", Tdnn((-1, 0), r(4, 14), r(4)), Append("input", IfDefined(Offset("tdnn", -2))))
    m.component("both", Affine(r(4, 11), r(4)), Append("input", IfDefined(Offset("both", -1)), IfDefined(Offset("both", 1))))
    m.component("out", Affine(r(2, 8), r(2)), Append("tdnn", "both"))
    m.output("output", "out")
    with pytest.raises(UnsupportedOpsError) as caught:
        load_model_bytes(nnet3_bytes(m, True), tmp_path)
    assert caught.value.unsupported == {
        "recurrence": ["tdnn reads other frames inside the recurrence", "both reads both earlier and later frames of itself"]
    }
