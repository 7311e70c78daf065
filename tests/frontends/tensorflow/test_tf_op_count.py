"""irforge's IR is as small as OpenVINO's own converter makes it: Keras MobileNetV2 as a SavedModel,
converted by both, compared by the ops that compute (not Const, Parameter, Result or the
Convert that decompresses a weight)."""

from __future__ import annotations

from collections import Counter

import pytest

pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import openvino as ov  # noqa: E402

from converter.api import load_model, optimize  # noqa: E402

NOT_COUNTED = {"Const", "Constant", "Parameter", "Result"}


def openvino_ops(model: ov.Model) -> Counter[str]:
    counts: Counter[str] = Counter()
    for op in model.get_ordered_ops():
        kind = op.get_type_name()
        if kind in NOT_COUNTED or (kind == "Convert" and "decompression" in str(op.get_rt_info())):
            continue
        counts[kind] += 1
    return counts


def irforge_ops(histogram: dict[str, int]) -> Counter[str]:
    return Counter({kind: count for kind, count in histogram.items() if kind not in NOT_COUNTED})


def test_mobilenet_v2_has_no_more_ops_than_openvino_convert_model(tmp_path):
    keras.utils.set_random_seed(0)
    folder = tmp_path / "mobilenet_v2"
    keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3)).export(str(folder), verbose=False)

    theirs = openvino_ops(ov.convert_model(str(folder)))
    optimized, _ = optimize(load_model(folder))
    ours = irforge_ops(optimized.op_histogram())

    detail = f"irforge {sum(ours.values())} {dict(sorted(ours.items()))}, OpenVINO {sum(theirs.values())} {dict(sorted(theirs.items()))}"
    assert sum(ours.values()) <= sum(theirs.values()), detail
    assert ours["Transpose"] <= 2, detail
    assert "BatchNormInference" not in ours and "Pad" not in ours, detail
