"""The validation verdict on crafted metrics, and finding the IR variants `irforge convert` wrote."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from converter.config import Tolerance
from converter.errors import InvalidModelError
from converter.validate.metrics import OutputMetrics
from converter.validate.validation import Variant, find_variants, verdict

# ------------------------------------------------------------------ the verdict


TOLERANCE = Tolerance(rtol=1e-4, atol=1e-5, cosine=0.999, top1=0.99, top5=0.995, accuracy_drop=0.01)


def metrics(name="logits", max_rel=0.0, cosine=1.0, top1=1.0, top5=1.0, within=True, problem="") -> OutputMetrics:
    return OutputMetrics(name, max_rel * 4.0, max_rel, cosine, top1, top5, within, problem)


def judge(outputs, metric, variant_accuracy=math.nan, source_accuracy=math.nan, classifier=None):
    return verdict(outputs, metric, TOLERANCE, variant_accuracy, source_accuracy, classifier, [m.name for m in outputs])


def test_verdict_max_rel():
    assert judge([metrics("boxes", 1e-6), metrics("scores", 2e-6)], "max_rel") == []
    assert judge([metrics("boxes", 1e-6), metrics("scores", 0.25, within=False)], "max_rel") == [
        "output 'scores': max_rel 0.25 (max_abs 1) beyond the tolerance (rtol 0.0001, atol 1e-05)"
    ]


def test_verdict_cosine():
    assert judge([metrics("a", cosine=0.9995), metrics("b", cosine=0.999)], "cosine") == []
    assert judge([metrics("a", cosine=0.9995), metrics("b", cosine=0.95)], "cosine") == ["output 'b': cosine 0.950000 < 0.999"]
    assert judge([metrics("a", cosine=math.nan)], "cosine") == ["output 'a': cosine nan < 0.999"]
    # an output out of tolerance element-wise still passes on cosine
    assert judge([metrics("a", 0.5, cosine=0.9999, within=False)], "cosine") == []


def test_verdict_top1_and_top5_judge_the_classifier_output():
    outputs = [metrics("features", cosine=0.5), metrics("logits", top1=0.99, top5=0.995)]
    assert judge(outputs, "top1", classifier=1) == []
    assert judge(outputs, "top5", classifier=1) == []
    low = [metrics("features"), metrics("logits", top1=0.98, top5=0.99)]
    assert judge(low, "top1", classifier=1) == ["output 'logits': top1_agreement 0.9800 < 0.99"]
    assert judge(low, "top5", classifier=1) == ["output 'logits': top5_agreement 0.9900 < 0.995"]
    assert judge([metrics("logits", top5=math.nan)], "top5", classifier=0) == ["output 'logits': top5_agreement nan < 0.995"]


def test_verdict_accuracy():
    outputs = [metrics("logits")]
    assert judge(outputs, "accuracy", 0.96, 0.97, classifier=0) == []  # a drop of exactly accuracy_drop
    assert judge(outputs, "accuracy", 0.98, 0.97, classifier=0) == []
    assert judge(outputs, "accuracy", 0.95, 0.97, classifier=0) == [
        "output 'logits': accuracy 0.9500 < source 0.9700 − 0.01"
    ]


def test_verdict_problems_come_first_whatever_the_metric():
    outputs = [metrics("mask", problem="shape [1, 2], expected [1, 3]", within=False), metrics("logits", 0.5, within=False)]
    assert judge(outputs, "cosine") == ["output 'mask': shape [1, 2], expected [1, 3]"]
    assert judge(outputs, "max_rel") == [
        "output 'mask': shape [1, 2], expected [1, 3]",
        "output 'logits': max_rel 0.5 (max_abs 2) beyond the tolerance (rtol 0.0001, atol 1e-05)",
    ]


# ------------------------------------------------------------------ finding the IRs


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("<net/>")
    return path


def test_find_variants_fp32_and_fp16(tmp_path):
    fp32, fp16 = touch(tmp_path / "FP32" / "resnet.xml"), touch(tmp_path / "FP16" / "resnet.xml")
    touch(tmp_path / "FP16" / "resnet.bin")
    assert find_variants(tmp_path) == [Variant("fp32", fp32), Variant("fp16", fp16)]


def test_find_variants_only_fp16(tmp_path):
    fp16 = touch(tmp_path / "FP16" / "m.xml")
    assert find_variants(tmp_path) == [Variant("fp16", fp16)]


def test_find_variants_by_name(tmp_path):
    for name in ("resnet", "yolo"):
        touch(tmp_path / "FP32" / f"{name}.xml")
        touch(tmp_path / "FP16" / f"{name}.xml")
    assert find_variants(tmp_path, "yolo") == [
        Variant("fp32", tmp_path / "FP32" / "yolo.xml"),
        Variant("fp16", tmp_path / "FP16" / "yolo.xml"),
    ]
    with pytest.raises(InvalidModelError) as error:
        find_variants(tmp_path)
    assert str(error.value) == f"{tmp_path / 'FP32'}: holds several IRs (resnet.xml, yolo.xml); name one with --name"
    with pytest.raises(InvalidModelError) as error:
        find_variants(tmp_path, "bert")
    assert str(error.value) == f"{tmp_path}: no IR found (FP32/bert.xml or FP16/bert.xml or INT8/bert.xml)"


def test_find_variants_empty_or_missing_dir(tmp_path):
    (tmp_path / "FP32").mkdir()
    with pytest.raises(InvalidModelError) as error:
        find_variants(tmp_path)
    assert str(error.value) == f"{tmp_path}: no IR found (FP32/*.xml or FP16/*.xml or INT8/*.xml)"
    with pytest.raises(InvalidModelError) as error:
        find_variants(tmp_path / "out")
    assert str(error.value) == f"{tmp_path / 'out'}: no such IR directory (give the -o folder of irforge convert)"
