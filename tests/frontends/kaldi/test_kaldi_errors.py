"""Broken Kaldi files: truncated or garbage bytes are one clear error (API, and the CLI's one
line with exit 2); what irforge cannot convert is reported all at once."""

from __future__ import annotations

import numpy as np
import pytest

from cli_support import assert_clean_failure, irforge
from converter.errors import ConverterError, InvalidModelError, NodeConversionError, UnsupportedOpsError
from converter.frontends.kaldi import convert_kaldi
from kaldi_support import random
from kaldi_writer import Writer, mdl_bytes, nnet1_bytes, nnet3_bytes, transition_model
from kaldi_reference import (
    Activation,
    Affine,
    AffineTransform,
    Append,
    IfDefined,
    Nnet1Component,
    Nnet3Model,
    Nonlinear,
    Offset,
    Parallel,
    Raw,
    Splice,
    Unknown,
)

RNG = np.random.default_rng(13)


def small_nnet3() -> Nnet3Model:
    m = Nnet3Model({"input": 3, "ivector": 2}, per_window={"ivector"})
    m.component("affine", Affine(random(RNG, 4, 8), random(RNG, 4), "NaturalGradientAffineComponent"), Raw("Append(Offset(input, -1), input, ReplaceIndex(ivector, t, 0))"))
    m.component("relu", Nonlinear("RectifiedLinearComponent", 4), "affine")
    m.output("output", "relu")
    return m


def small_nnet1() -> list:
    return [Splice((-1, 0, 1), 3), AffineTransform(random(RNG, 4, 9), random(RNG, 4)), Activation("Sigmoid", 4)]


SAMPLES = {
    "nnet3 binary": lambda: nnet3_bytes(small_nnet3(), True),
    "nnet3 text": lambda: nnet3_bytes(small_nnet3(), False),
    "mdl binary": lambda: mdl_bytes(small_nnet3(), True, 4, 1, 0),
    "mdl text": lambda: mdl_bytes(small_nnet3(), False, 4, 1, 0),
    "nnet1 binary": lambda: nnet1_bytes(small_nnet1(), True),
    "nnet1 text": lambda: nnet1_bytes(small_nnet1(), False),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_truncation_is_a_converter_error(name: str) -> None:
    """Cut anywhere, a file fails with a ConverterError, or (nnet1 cut between components, .mdl
    cut after its nnet, as Kaldi reads them too) converts."""
    data = SAMPLES[name]()
    convert_kaldi(data)
    failures = 0
    for end in range(len(data)):
        try:
            convert_kaldi(data[:end])
        except ConverterError as error:
            assert "\n" not in str(error)
            failures += 1
    assert failures > len(data) * 0.8


@pytest.mark.parametrize("name", list(SAMPLES))
def test_garbage_bytes_are_converter_errors(name: str) -> None:
    data = bytearray(SAMPLES[name]())
    rng = np.random.default_rng(len(data))
    for _ in range(150):
        broken = bytearray(data)
        for position in rng.integers(0, len(data), 3):
            broken[position] = int(rng.integers(0, 256))
        try:
            convert_kaldi(bytes(broken))
        except ConverterError:
            pass


@pytest.mark.parametrize(
    "data, fragments",
    [
        (b"\0B<Nnet3> \ninput-node name=input dim=3\n", ["model.raw", "truncated"]),
        (b"\x00\x01\x02garbage", ["model.raw", "binary header"]),
        (b"hello world\n", ["model.raw", "not a Kaldi nnet1 or nnet3 model", "'hello'"]),
        (b"", ["model.raw", "an empty file"]),
        (b"<Nnet> <NumComponents> 3 <Components>", ["nnet2 model"]),
    ],
    ids=["truncated", "zero byte", "text", "empty", "nnet2"],
)
def test_cli_reports_broken_files_in_one_line(data: bytes, fragments: list[str], tmp_path) -> None:
    path = tmp_path / "model.raw"
    path.write_bytes(data)
    assert_clean_failure(irforge("convert", path, "-o", tmp_path / "out"), *fragments)


def test_cli_reports_a_truncated_mdl(tmp_path) -> None:
    path = tmp_path / "final.mdl"
    path.write_bytes(SAMPLES["mdl binary"]()[:-200])
    assert_clean_failure(irforge("convert", path, "-o", tmp_path / "out"), "final.mdl", "truncated")


def test_a_gmm_mdl_is_no_nnet(tmp_path) -> None:
    w = transition_model(Writer(True), 4).token("<DIMENSION>").int(13)
    with pytest.raises(InvalidModelError, match="after the transition model comes '<DIMENSION>', not an nnet3"):
        convert_kaldi(w.bytes())


def test_unsupported_components_and_descriptors_are_reported_at_once(tmp_path) -> None:
    m = Nnet3Model({"input": 4})
    m.component("conv1", Unknown("GruNonlinearityComponent", 4), "input")
    m.component("conv2", Unknown("GruNonlinearityComponent", 4), "conv1")
    m.component("attention", Unknown("RestrictedAttentionComponent", 4), Raw("Round(conv2, 3)"))
    m.component("lstm", Affine(random(RNG, 4, 8), random(RNG, 4)), Append("attention", Offset("lstm", -3)))
    m.component("switch", Affine(random(RNG, 4, 4), random(RNG, 4)), Raw("Switch(lstm, attention)"))
    m.output("output", "switch")
    path = tmp_path / "model.raw"
    path.write_bytes(nnet3_bytes(m, True))
    with pytest.raises(UnsupportedOpsError) as caught:
        convert_kaldi(path)
    assert set(caught.value.unsupported) == {
        "GruNonlinearityComponent",
        "RestrictedAttentionComponent",
        "descriptor Round",
        "descriptor Switch",
        "recurrence",
    }
    assert caught.value.unsupported["GruNonlinearityComponent"] == ["conv1", "conv2"]
    assert caught.value.unsupported["recurrence"] == ["lstm reads lstm 3 frames away without IfDefined"]
    line = assert_clean_failure(irforge("convert", path, "-o", tmp_path / "out"), "unsupported ops", "GruNonlinearityComponent")
    assert "descriptor Round (nodes: attention)" in line


def test_unsupported_nnet1_components_at_once() -> None:
    class Rbm(Nnet1Component):
        marker = "Rbm"

        def write_data(self, w):
            w.token("<VisibleType>").token("bern").token("<HiddenType>").token("bern").matrix(np.ones((3, 3))).vector(np.ones(3)).vector(np.ones(3))

    chain = [Rbm(3, 3), Parallel([[Rbm(3, 3)], [Activation("Tanh", 2)]])]
    chain[1].nested[1][0].marker = "KlHmm"
    with pytest.raises(UnsupportedOpsError) as caught:
        convert_kaldi(nnet1_bytes(chain, True))
    assert caught.value.unsupported == {"Rbm": ["Rbm_1", "ParallelComponent_2/1/Rbm_1"], "KlHmm": ["ParallelComponent_2/2/KlHmm_1"]}


def test_fields_a_handler_does_not_know_are_reported() -> None:
    m = Nnet3Model({"input": 3})
    affine = Affine(random(RNG, 2, 3), random(RNG, 2))
    affine.fields = lambda: [("LinearParams", affine.w), ("BiasParams", affine.b), ("Shift", 0.5)]  # type: ignore[method-assign]
    m.component("a", affine, "input")
    m.output("output", "a")
    with pytest.raises(NodeConversionError, match="node 'a' \\(AffineComponent\\): unsupported field\\(s\\) shift"):
        convert_kaldi(nnet3_bytes(m, True))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda lines: lines + ["component-node name=x component=nothing input=input"], "no component named 'nothing'"),
        (lambda lines: lines[:1] + ["dim-range-node name=d input-node=input dim-offset=2 dim=5"] + lines[1:-1] + ["output-node name=output input=d"], "dims 2 … 6 of a 3-dim node"),
        (lambda lines: [line.replace("output-node", "input-node") for line in lines], "no output-node"),
        (lambda lines: lines + ["bogus-node name=x"], "unknown kind 'bogus-node'"),
        (lambda lines: lines + [lines[0]], "two nodes are named 'input'"),
        (lambda lines: ["input-node name=input dim=three"] + lines[1:], "dim= is not an integer"),
    ],
    ids=["component", "dim-range", "outputs", "kind", "duplicate", "dim"],
)
def test_inconsistent_configs_are_invalid_models(change, message: str) -> None:
    m = Nnet3Model({"input": 3})
    m.component("a", Affine(random(RNG, 2, 3), random(RNG, 2)), "input")
    m.output("output", "a")
    lines = change(m.config_lines())
    m.config_lines = lambda: lines  # type: ignore[method-assign]
    with pytest.raises(InvalidModelError, match=message):
        convert_kaldi(nnet3_bytes(m, True))


def test_nnet1_dimension_mismatch() -> None:
    chain = [AffineTransform(random(RNG, 4, 3), random(RNG, 4)), Activation("Sigmoid", 5)]
    with pytest.raises(InvalidModelError, match="Sigmoid_2 takes 5 dims, the layer before gives 4"):
        convert_kaldi(nnet1_bytes(chain, False))
