"""The pass manager: reports per pass, and --verify names the pass that broke a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from typer.testing import CliRunner

import models
from converter.api import load_model, optimize
from converter.cli import app
from converter.ir.graph import Graph
from converter.ops.core import const
from converter.ops.elementwise import Multiply
from converter.passes import PASSES
from converter.passes.manager import PassVerificationError, run_pipeline


def scale_first_output_slightly(graph: Graph) -> Graph:
    """A deliberately wrong 'optimization': multiplies an output by 1.001."""
    graph.outputs[0] = Multiply(graph.outputs[0], const(np.float32(1.001)))
    return graph


def test_report_counts_what_each_pass_did() -> None:
    _, report = optimize(load_model(models.cnn()))
    by_name = {r.name: r for r in report.records}
    assert by_name["fold_batchnorm"].removed["BatchNormInference"] == 2
    assert by_name["fold_batchnorm"].added == {"Add": 2, "Multiply": 2}
    assert report.records[-1].ops_after < report.records[0].ops_before
    assert all(r.seconds >= 0 for r in report.records)


def test_verify_names_the_wrong_pass() -> None:
    passes = [(n, PASSES[n]) for n in ("fold_constants", "fold_batchnorm")]
    passes.insert(1, ("scale_first_output_slightly", scale_first_output_slightly))
    passes.append(("fuse_linear", PASSES["fuse_linear"]))
    with pytest.raises(PassVerificationError) as caught:
        run_pipeline(load_model(models.cnn()), passes, verify=True, rtol=1e-5, atol=1e-6)
    assert caught.value.pass_name == "scale_first_output_slightly"


def test_verify_accepts_the_default_pipeline_on_every_test_model() -> None:
    for build in (models.cnn, models.depthwise_net, models.transformer, models.mobilenet_v3, lambda: models.recurrent("GRU")):
        _, report = optimize(load_model(build()), verify=True)
        assert all(r.max_abs_diff is not None for r in report.records)


def test_cli_verify_reports_the_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "cnn.onnx"
    onnx.save(models.cnn(), source)
    monkeypatch.setitem(PASSES, "scale_first_output_slightly", scale_first_output_slightly)
    result = CliRunner().invoke(
        app, ["convert", str(source), "-o", str(tmp_path / "out"), "--verify", "--passes", "fold_batchnorm,scale_first_output_slightly"]
    )
    assert result.exit_code == 2
    assert "scale_first_output_slightly" in result.output
    assert not (tmp_path / "out").exists()


def test_disable_pass_and_unknown_pass(tmp_path: Path) -> None:
    source = tmp_path / "cnn.onnx"
    onnx.save(models.cnn(), source)
    result = CliRunner().invoke(app, ["convert", str(source), "-o", str(tmp_path / "a"), "--disable-pass", "fold_batchnorm", "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    assert "BatchNormInference" in (tmp_path / "a" / "FP32" / "cnn.xml").read_text()
    result = CliRunner().invoke(app, ["convert", str(source), "-o", str(tmp_path / "b"), "--passes", "no_such_pass"])
    assert result.exit_code == 2 and "no_such_pass" in result.output
