"""nnet3 descriptors over a window of frames: which frames each output covers, how offsets,
sums, scales, constants, IfDefined and iVectors (ReplaceIndex) map, against Kaldi's
frame-by-frame definition (kaldi_reference)."""

from __future__ import annotations

import numpy as np
import pytest

from converter.api import load_model
from converter.errors import InvalidModelError
from converter.frontends.kaldi import descriptors as desc
from kaldi_support import check_nnet3, random, run_kaldi_bytes
from kaldi_writer import nnet3_bytes
from kaldi_reference import (
    Affine,
    Append,
    Const,
    IfDefined,
    Nnet3Model,
    Nonlinear,
    Offset,
    Raw,
    ReplaceIndex,
    Scale,
    Sum,
    Tdnn,
)

RNG = np.random.default_rng(11)


def r(*shape: int) -> np.ndarray:
    return random(RNG, *shape)


def ivector_model() -> Nnet3Model:
    """A TDNN with an iVector appended to every frame, as Kaldi's recipes write it."""
    m = Nnet3Model({"input": 5, "ivector": 3}, per_window={"ivector"})
    m.component("lda", Affine(r(8, 18), r(8), "FixedAffineComponent"), Append(Offset("input", -2), "input", Offset("input", 1), ReplaceIndex("ivector", 0)))
    m.component("tdnn1", Tdnn((-1, 0, 3), r(6, 24), r(6)), "lda")
    m.component("relu1", Nonlinear("RectifiedLinearComponent", 6), "tdnn1")
    m.component("out", Affine(r(4, 6), r(4)), "relu1")
    m.output("output", "out")
    return m


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "text"])
def test_ivector_is_one_row_broadcast_over_the_frames(binary: bool, tmp_path) -> None:
    expected = check_nnet3(ivector_model(), {"input": r(12, 5), "ivector": r(1, 3)}, tmp_path, binary)
    first, frames = expected["output"]
    assert first == 3 and len(frames) == 12 - 3 - 4  # left context 2 + 1, right context 1 + 3


def test_inputs_are_named_as_the_nnet_names_them() -> None:
    graph = load_model_bytes(nnet3_bytes(ivector_model(), True))
    assert [(v.name, v.shape.dims) for v in graph.inputs] == [("input", (None, 5)), ("ivector", (1, 3))]
    assert [v.names[-1] for v in graph.outputs] == ["output"]


def load_model_bytes(data: bytes, suffix: str = ".raw"):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"model{suffix}"
        path.write_bytes(data)
        return load_model(path)


@pytest.mark.parametrize("frames", [8, 9, 40])
def test_any_window_of_at_least_the_context_works(frames: int, tmp_path) -> None:
    model = ivector_model()
    feeds = {"input": r(frames, 5), "ivector": r(1, 3)}
    actual = run_kaldi_bytes(nnet3_bytes(model, True), feeds, tmp_path)["output"]
    assert actual.shape == (frames - 7, 4)
    np.testing.assert_allclose(actual, model.reference(feeds)["output"][1], rtol=1e-4, atol=1e-5)


def test_sum_scale_const_and_ifdefined(tmp_path) -> None:
    """IfDefined gives zeros where its argument has no frame: the output keeps the other parts' frames."""
    m = Nnet3Model({"input": 4})
    m.component("a", Affine(r(4, 4), r(4)), "input")
    m.component("b", Affine(r(4, 12), r(4)), Append(Scale(0.5, "a"), Sum(Offset("a", 2), Const(0.25, 4)), Sum("input", IfDefined(Offset("a", -3)))))
    m.component("c", Nonlinear("TanhComponent", 4), Sum("b", IfDefined(Offset("b", 4)), Scale(-1.0, Offset("input", -1))))
    m.output("output", "c")
    first, frames = check_nnet3(m, {"input": r(10, 4)}, tmp_path, binary=True)["output"]
    assert first == 1 and len(frames) == 10 - 1 - 2


def test_ifdefined_alone_and_offsets_on_appends(tmp_path) -> None:
    """A node read only through IfDefined covers the frames its argument has (Kaldi would
    compute any frame, from zeros); an Offset of an Append moves all its parts."""
    m = Nnet3Model({"input": 3})
    m.component("a", Affine(r(3, 6), r(3)), Offset(Append(Offset("input", -1), "input"), 1))
    m.component("b", Affine(r(2, 3), r(2)), IfDefined(Offset("a", -2)))
    m.output("output", "b")
    m.output("delayed", Offset("a", 2))
    feeds = {"input": r(7, 3)}
    expected = m.reference(feeds)
    actual = run_kaldi_bytes(nnet3_bytes(m, False), feeds, tmp_path)
    first, frames = expected["delayed"]
    assert first == -2  # a covers t = 0 … 5, read 2 frames later
    np.testing.assert_allclose(actual["delayed"], frames, rtol=1e-4, atol=1e-5)
    first, frames = expected["output"]
    np.testing.assert_allclose(actual["output"], frames[2 - first : 8 - first], rtol=1e-4, atol=1e-5)  # t = 2 … 7


def test_dim_range_nodes_and_several_outputs(tmp_path) -> None:
    """A chain model's two outputs (output and output-xent), one reading part of a node's dims."""
    m = Nnet3Model({"input": 6})
    m.component("prefinal", Affine(r(10, 18), r(10)), Append(Offset("input", -1), "input", Offset("input", 1)))
    m.dim_range("prefinal.first", "prefinal", 2, 5)
    m.component("chain", Affine(r(3, 5), r(3)), "prefinal.first")
    m.component("xent", Affine(r(3, 10), r(3)), "prefinal")
    m.component("xent.log-softmax", Nonlinear("LogSoftmaxComponent", 3), "xent")
    m.output("output", "chain")
    m.output("output-xent", "xent.log-softmax")
    check_nnet3(m, {"input": r(9, 6)}, tmp_path, binary=True)


def test_replace_index_of_a_framed_node_reads_that_frame(tmp_path) -> None:
    m = Nnet3Model({"input": 4})
    m.component("a", Affine(r(3, 8), r(3)), Append(Offset("input", -1), "input"))
    m.component("b", Affine(r(2, 6), r(2)), Append("a", ReplaceIndex("a", 2)))
    m.output("output", "b")
    check_nnet3(m, {"input": r(8, 4)}, tmp_path, binary=True)


def test_an_input_read_directly_is_framed(tmp_path) -> None:
    m = Nnet3Model({"input": 4, "ivector": 2})
    m.component("a", Affine(r(3, 6), r(3)), Append("input", "ivector"))
    m.output("output", "a")
    graph = load_model_bytes(nnet3_bytes(m, True))
    assert graph.inputs[1].shape.dims == (None, 2)
    check_nnet3(m, {"input": r(5, 4), "ivector": r(5, 2)}, tmp_path, binary=True)


def test_descriptor_parsing() -> None:
    parsed = desc.parse("Append(Offset(input, -1), Scale(-0.5, Sum(a.b, IfDefined(Offset(c-1, 2, 1)))), ReplaceIndex(ivector, t, 0), Const(1.5, 3))")
    assert parsed == desc.Append(
        (
            desc.Offset(desc.Node("input"), -1),
            desc.Scale(-0.5, desc.Sum((desc.Node("a.b"), desc.IfDefined(desc.Offset(desc.Node("c-1"), 2, 1))))),
            desc.ReplaceIndex(desc.Node("ivector"), "t", 0),
            desc.Const(1.5, 3),
        )
    )
    assert desc.node_names(parsed) == ["input", "a.b", "c-1", "ivector"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("Append(input,", "expected a node name"),
        ("Offset(input, x)", "expected an integer"),
        ("ReplaceIndex(input, n, 0)", "expected t or x"),
        ("Const(1, 0)", "dimension 0"),
        ("input junk", "unexpected 'junk'"),
        ("Scale(input, 2)", "expected a number"),
    ],
)
def test_descriptor_errors(text: str, message: str) -> None:
    with pytest.raises(desc.DescriptorError, match=message):
        desc.parse(text)


@pytest.mark.parametrize(
    "descriptor, message",
    [
        (Raw("Append(input"), "descriptor 'Append\\(input'"),
        (Raw("missing"), "reads 'missing', which is no input, component or dim-range node"),
        (Raw("output"), "reads 'output'"),
    ],
)
def test_bad_descriptors_are_invalid_models(descriptor, message: str) -> None:
    m = Nnet3Model({"input": 4})
    m.component("a", Affine(r(2, 4), r(2)), descriptor)
    m.output("output", "a")
    with pytest.raises(InvalidModelError, match=message):
        load_model_bytes(nnet3_bytes(m, True))


@pytest.mark.parametrize("left, right", [(2, 3), (0, 100)], ids=["window", "to the end"])
def test_xvector_statistics_pooling(left: int, right: int, tmp_path) -> None:
    """x-vector layers: statistics per frame, pooled over a window (or to the utterance's end, as
    x-vector configs do with right-context 10000), read through Round(·, 1). A pooled frame covers
    its input's frames (Kaldi could compute pooled frames beyond them too)."""
    from kaldi_reference import Round, StatisticsPooling, statistics_extraction

    m = Nnet3Model({"input": 4})
    m.component("tdnn", Tdnn((-1, 0, 1), r(3, 12), r(3)), "input")
    m.component("stats-extraction", statistics_extraction(3), "tdnn")
    m.component("stats-pooling", StatisticsPooling(7, left, right, log_counts=2), "stats-extraction")
    m.component("segment", Affine(r(2, 8), r(2)), Round("stats-pooling", 1))
    m.output("output", "segment")
    feeds = {"input": r(12, 4)}
    first, frames = m.reference(feeds)["output"]
    actual = run_kaldi_bytes(nnet3_bytes(m, True), feeds, tmp_path)["output"]
    assert actual.shape == (10, 2)  # tdnn covers frames 1 … 10
    np.testing.assert_allclose(actual, frames[1 - first : 11 - first], rtol=1e-4, atol=1e-5)
