"""Per-model manifests: every key read, paths resolved, bad values refused, and which file applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter.errors import InvalidModelError
from converter.validate.manifest import FOLDER_MANIFEST, Manifest, find_manifest, load_manifest, manifest_path

FULL = """\
inputs: {image: [1, 1, 8, 8], ids: [2, 16]}
data: data/digits_test.npz
labels: classes
metric: accuracy
output: logits
samples: 200
batch_size: 16
tolerances: {fp16: {accuracy_drop: 0.02, rtol: 0.05}, fp32: {per_tensor: true}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path / "m.yaml", text)
    with pytest.raises(InvalidModelError) as error:
        load_manifest(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    return message[len(f"{path}: "):]


def test_full_manifest(tmp_path):
    path = write(tmp_path / "models" / "digits.yaml", FULL)
    assert load_manifest(path) == Manifest(
        path=path,
        inputs={"image": (1, 1, 8, 8), "ids": (2, 16)},
        data=tmp_path / "models" / "data" / "digits_test.npz",  # relative to the manifest, not the cwd
        labels="classes",
        metric="accuracy",
        output="logits",
        samples=200,
        batch_size=16,
        tolerances={"fp16": {"accuracy_drop": 0.02, "rtol": 0.05}, "fp32": {"per_tensor": 1.0}},
    )


def test_empty_manifest_is_all_defaults(tmp_path):
    path = write(tmp_path / "m.yaml", "")
    assert load_manifest(path) == Manifest(path=path)
    assert Manifest() == Manifest(None, {}, None, "labels", None, None, None, 32, {})


def test_absolute_data_path_is_kept(tmp_path):
    data = tmp_path / "elsewhere" / "d.npz"
    assert load_manifest(write(tmp_path / "m.yaml", f"data: {data}\n")).data == data


def test_unknown_key(tmp_path):
    assert error_of(tmp_path, "metric: cosine\nthreshold: 0.1\n") == (
        "unknown manifest key(s) threshold; known: batch_size, calibration, data, frontend, inputs, labels, metric, output, samples, tolerances"
    )


def test_not_a_mapping(tmp_path):
    assert error_of(tmp_path, "- metric\n- accuracy\n").startswith("a manifest is a mapping of batch_size, calibration, data,")


def test_malformed_yaml(tmp_path):
    assert error_of(tmp_path, "inputs: {image: [1, 3\n").startswith("cannot read the manifest: ")


@pytest.mark.parametrize("metric", ["top3", "max_abs", "Accuracy"])
def test_bad_metric(tmp_path, metric):
    assert error_of(tmp_path, f"metric: {metric}\n") == f"metric {metric!r} is not one of max_rel, accuracy, top1, top5, cosine"


@pytest.mark.parametrize(
    "inputs",
    ["[1, 3, 224, 224]", "{image: 224}", "{image: [1, 3, -1, 224]}", "{image: [1, 3, h, w]}", "{image: [1.5, 3]}"],
)
def test_bad_inputs(tmp_path, inputs):
    assert error_of(tmp_path, f"inputs: {inputs}\n") == (
        "inputs maps each input name to a list of sizes, e.g. {image: [1, 3, 224, 224]}"
    )


@pytest.mark.parametrize(("key", "value"), [("samples", "0"), ("samples", "-3"), ("batch_size", "2.5"), ("batch_size", "many")])
def test_counts_must_be_positive_integers(tmp_path, key, value):
    assert error_of(tmp_path, f"{key}: {value}\n").startswith(f"{key} must be a positive integer, got ")


def test_a_boolean_is_not_a_sample_count(tmp_path):
    # YAML `yes`/`true` is a bool, and bool is an int subclass in Python: it must still be refused
    assert error_of(tmp_path, "samples: true\n") == "samples must be a positive integer, got True"


def test_tolerances_with_an_unknown_key(tmp_path):
    message = error_of(tmp_path, "tolerances: {fp16: {rtol: 0.01, max_drop: 0.1}}\n")
    assert message == "tolerances.fp16 takes rtol, atol, per_tensor, cosine, top1, top5, accuracy_drop"


def test_tolerances_not_a_mapping(tmp_path):
    assert error_of(tmp_path, "tolerances: [fp16]\n") == "tolerances maps a precision (fp32, fp16) to its bounds"
    assert error_of(tmp_path, "tolerances: {fp16: 0.01}\n").startswith("tolerances.fp16 takes rtol, atol")


def test_tolerances_with_a_value_that_is_not_a_number(tmp_path):
    # a user's typo must come back as InvalidModelError naming the file, not a bare ValueError
    message = error_of(tmp_path, "tolerances: {fp16: {rtol: loose}}\n")
    assert "tolerances.fp16" in message and "rtol" in message


# ------------------------------------------------------------------ which manifest applies


def test_manifest_path_prefers_the_models_own_yaml(tmp_path):
    model = tmp_path / "zoo" / "resnet.onnx"
    write(model, "")
    own = write(tmp_path / "zoo" / "resnet.yaml", "metric: top1\n")
    folder = write(tmp_path / "zoo" / FOLDER_MANIFEST, "metric: cosine\n")
    assert manifest_path(model) == own
    assert find_manifest(model).metric == "top1"
    own.unlink()
    assert manifest_path(model) == folder
    assert find_manifest(model) == Manifest(path=folder, metric="cosine")


def test_folder_manifest_is_not_taken_from_a_parent_folder(tmp_path):
    write(tmp_path / FOLDER_MANIFEST, "metric: cosine\n")
    model = write(tmp_path / "sub" / "m.onnx", "")
    assert manifest_path(model) is None


def test_find_manifest_without_one_is_empty(tmp_path):
    model = write(tmp_path / "m.onnx", "")
    assert manifest_path(model) is None
    assert find_manifest(model) == Manifest()


def test_manifest_of_an_ir_model(tmp_path):
    model = write(tmp_path / "FP32" / "net.xml", "")
    own = write(tmp_path / "FP32" / "net.yaml", "samples: 5\n")
    assert manifest_path(model) == own
    assert find_manifest(model).samples == 5
