"""`irforge validate` end to end: real data and labels, broken IRs caught, models that need valid sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto, helper

from cli_support import assert_clean_failure, irforge
from converter import read_model, save_model
from models import model_of
from sized_models import digits_cnn, fpn_unet, reflect_pad_1d, transformer_int64_ids, yolo_head

VARIANTS = [("source", "onnxruntime"), ("fp32", "onnxruntime"), ("fp32", "openvino"), ("fp16", "onnxruntime"), ("fp16", "openvino")]


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The digits CNN trained in this session, its held-out split as .npz, and its IRs."""
    folder = tmp_path_factory.mktemp("digits")
    model, data = digits_cnn()
    onnx.save(model, folder / "digits.onnx")
    np.savez(folder / "heldout.npz", **data)
    result = irforge("convert", folder / "digits.onnx", "-o", folder / "ir")
    assert result.returncode == 0, result.stderr
    return folder / "digits.onnx", folder / "heldout.npz", folder / "ir"


def test_digits_accuracy_for_source_fp32_and_fp16_on_both_backends(digits, tmp_path: Path) -> None:
    model, data, ir = digits
    result = irforge("validate", model, ir, "--data", data, "-o", tmp_path / "report")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("report.csv", "report.parquet", "report.md", "report.html"):
        assert (tmp_path / "report" / name).stat().st_size > 0
    frame = pd.read_parquet(tmp_path / "report" / "report.parquet")
    assert [tuple(r) for r in frame[["precision", "backend"]].itertuples(index=False)] == VARIANTS
    assert (frame["samples"] == 360).all()
    accuracy = dict(zip(zip(frame["precision"], frame["backend"]), frame["accuracy"]))
    assert accuracy[("source", "onnxruntime")] >= 0.95
    assert accuracy[("fp32", "onnxruntime")] == accuracy[("fp32", "openvino")] == accuracy[("source", "onnxruntime")]
    assert abs(accuracy[("fp16", "openvino")] - accuracy[("source", "onnxruntime")]) <= 0.01
    variants = frame[frame["precision"] != "source"]
    assert (variants["status"] == "pass").all() and (variants["metric"] == "accuracy").all()
    assert (variants["top1_agreement"] > 0.99).all() and (variants["cosine"] > 0.999).all()
    assert (frame.loc[frame["precision"] == "fp16", "size_ratio"] < 1.0).all()
    assert (variants["latency_ms"] > 0).all() and (variants["ops"] > 0).all()


def test_perturbed_weights_fail_naming_the_output_and_metric(digits, tmp_path: Path) -> None:
    model, data, ir = digits
    broken = tmp_path / "ir"
    for precision in ("FP32", "FP16"):
        (broken / precision).mkdir(parents=True)
        for suffix in (".xml", ".bin"):
            (broken / precision / f"digits{suffix}").write_bytes((ir / precision / f"digits{suffix}").read_bytes())
    graph = read_model(broken / "FP32" / "digits.xml")
    weights = max((n for n in graph.nodes() if n.op.type == "Const" and n.attrs["value"].dtype == np.float32), key=lambda n: n.attrs["value"].size)
    noise = np.random.default_rng(0).standard_normal(weights.attrs["value"].shape).astype(np.float32)
    weights.attrs["value"] = weights.attrs["value"] + noise
    save_model(graph, broken / "FP32" / "digits.xml")

    result = irforge("validate", model, broken)  # random inputs: the max_rel verdict
    assert result.returncode == 3, result.stdout + result.stderr
    assert "fp32/openvino: output 'logits': max_rel" in result.stderr and "fp16/" not in result.stderr
    labelled = irforge("validate", model, broken, "--data", data)  # real data: the accuracy verdict
    assert labelled.returncode == 3, labelled.stdout + labelled.stderr
    assert "fp32/onnxruntime: output 'logits': accuracy" in labelled.stderr
    frame = pd.read_csv(broken / "report.csv")
    assert set(frame.loc[frame["status"] == "fail", "precision"]) == {"fp32"}


def _two_outputs() -> onnx.ModelProto:
    rng = np.random.default_rng(1)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["scores"]),
        helper.make_node("MatMul", ["x", "w2"], ["h2"]),
        helper.make_node("Sigmoid", ["h2"], ["gates"]),
    ]
    weights = {name: rng.standard_normal((6, 4)).astype(np.float32) for name in ("w1", "w2")}
    return model_of(nodes, [("x", TensorProto.FLOAT, ["batch", 6])], ("scores", "gates"), opset=17, initializers=weights)


def test_swapped_outputs_fail(tmp_path: Path) -> None:
    onnx.save(_two_outputs(), tmp_path / "two.onnx")
    assert irforge("convert", tmp_path / "two.onnx", "-o", tmp_path / "ir").returncode == 0
    xml = tmp_path / "ir" / "FP32" / "two.xml"
    text = xml.read_text()
    assert text.count(' names="scores"') == 1 and text.count(' names="gates"') == 1
    xml.write_text(text.replace('"scores"', "@").replace('"gates"', '"scores"').replace("@", '"gates"'))  # tensor names swapped
    result = irforge("validate", tmp_path / "two.onnx", tmp_path / "ir")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "fp32/openvino: output 'scores': max_rel" in result.stderr
    assert "fp32/onnxruntime: output 'gates': max_rel" in result.stderr


SIZED = {
    "fpn_unet": (fpn_unet, "image[1,3,224,224]"),
    "yolo_head": (yolo_head, "images[1,3,224,224]"),
    "reflect_pad_1d": (reflect_pad_1d, "audio[1,1,64]"),
    "transformer": (transformer_int64_ids, "input_ids[1,8]"),
}


@pytest.mark.parametrize("name", SIZED)
def test_models_that_need_valid_sizes_go_through_every_command(name: str, tmp_path: Path) -> None:
    build, chosen = SIZED[name]
    source = tmp_path / f"{name}.onnx"
    onnx.save(build(), source)
    for options in (["--verify"], ["--fp16-guard", "0.01"]):
        converted = irforge("convert", source, "-o", tmp_path / "ir", *options)
        assert converted.returncode == 0, converted.stdout + converted.stderr
    validated = irforge("validate", source, tmp_path / "ir")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert chosen in validated.stdout.replace("\n", "")
    frame = pd.read_csv(tmp_path / "ir" / "report.csv")
    assert (frame.loc[frame["precision"] != "source", "status"] == "pass").all()


def test_no_valid_size_is_a_clear_error(tmp_path: Path) -> None:
    """Only 50×50 images fit the Reshape: no size the search tries works, so the user is told to give one."""
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"])]
    model = model_of(nodes, [("x", TensorProto.FLOAT, [1, 3, "height", "width"])], opset=17, initializers={"shape": np.array([1, 7500], np.int64)})
    onnx.save(model, tmp_path / "fixed.onnx")
    assert irforge("convert", tmp_path / "fixed.onnx", "-o", tmp_path / "ir", "--input-shape", "x[1,3,50,50]").returncode == 0
    line = assert_clean_failure(irforge("validate", tmp_path / "fixed.onnx", tmp_path / "ir"), "fixed.onnx", "--input-shape")
    assert "x[1,3,224,224]" in line
    assert_clean_failure(irforge("convert", tmp_path / "fixed.onnx", "-o", tmp_path / "ir2", "--verify"), "--input-shape")
    assert not (tmp_path / "ir2").exists()
    given = irforge("validate", tmp_path / "fixed.onnx", tmp_path / "ir", "--input-shape", "x[1,3,50,50]")
    assert given.returncode == 0, given.stdout + given.stderr


def test_bad_data_file_is_a_clear_error(digits, tmp_path: Path) -> None:
    model, _, ir = digits
    np.savez(tmp_path / "wrong.npz", pixels=np.zeros((4, 1, 8, 8), np.float32))
    assert_clean_failure(irforge("validate", model, ir, "--data", tmp_path / "wrong.npz"), "wrong.npz", "image", "pixels")
    assert_clean_failure(irforge("validate", model, tmp_path / "nothing-here"), "no such IR directory")


def test_manifest_gives_data_metric_and_tolerance(digits, tmp_path: Path) -> None:
    model, data, ir = digits
    folder = tmp_path / "zoo"
    folder.mkdir()
    (folder / "digits.onnx").write_bytes(model.read_bytes())
    (folder / "heldout.npz").write_bytes(data.read_bytes())
    (folder / "digits.yaml").write_text("data: heldout.npz\nmetric: top1\nsamples: 100\ntolerances:\n  fp16: {top1: 1.01}\n")
    result = irforge("validate", folder / "digits.onnx", ir, "-o", tmp_path / "report")
    assert result.returncode == 3, result.stdout + result.stderr  # nothing reaches a top-1 agreement of 101%
    assert "fp16/openvino: output 'logits': top1_agreement" in result.stderr and "fp32/" not in result.stderr
    frame = pd.read_csv(tmp_path / "report" / "report.csv")
    assert (frame["samples"] == 100).all() and (frame.loc[frame["precision"] != "source", "metric"] == "top1").all()


def test_report_re_renders_from_the_table(digits, tmp_path: Path) -> None:
    model, data, ir = digits
    assert irforge("validate", model, ir, "--data", data, "-o", tmp_path / "r").returncode == 0
    html = (tmp_path / "r" / "report.html").read_bytes()
    (tmp_path / "r" / "report.html").unlink()
    (tmp_path / "r" / "report.md").unlink()
    result = irforge("report", tmp_path / "r" / "report.csv", "--title", "irforge validation: digits.onnx")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r" / "report.html").read_bytes() == html
    assert "97." in (tmp_path / "r" / "report.md").read_text()
    assert_clean_failure(irforge("report", tmp_path / "missing"), "missing")
