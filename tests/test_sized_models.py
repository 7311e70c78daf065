"""The sized models run in onnxruntime at the sizes they are built for and raise at the others
(so a validator feeding every dynamic dim 2 fails on them), and the numpy-trained digits CNN
keeps its accuracy in ONNX."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

import digits_training
import sized_models
from sized_models import digits_cnn, fpn_unet, reflect_pad_1d, trained_digits_cnn, transformer_int64_ids, yolo_head

ORT_ERRORS = (ort_state.Fail, ort_state.InvalidArgument, ort_state.RuntimeException)

SIZED_BUILDERS: dict[str, Callable[[], onnx.ModelProto]] = {
    "fpn_unet": fpn_unet,
    "yolo_head": yolo_head,
    "reflect_pad_1d": reflect_pad_1d,
    "transformer_int64_ids": transformer_int64_ids,
}


def session_of(model: onnx.ModelProto) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 4  # the failures below are expected: keep their error logs quiet
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def image(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)


@pytest.fixture(scope="module")
def sessions() -> dict[str, ort.InferenceSession]:
    return {name: session_of(build()) for name, build in SIZED_BUILDERS.items()}


# ------------------------------------------------------------------ every sized builder


@pytest.mark.parametrize("name", sorted(SIZED_BUILDERS))
def test_builder_gives_a_checked_opset17_model_with_the_same_bytes_each_time(name: str) -> None:
    model = SIZED_BUILDERS[name]()
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == 8
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]
    assert model.SerializeToString() == SIZED_BUILDERS[name]().SerializeToString()


# ------------------------------------------------------------------ FPN / UNet


@pytest.mark.parametrize("height, width", [(224, 224), (256, 256), (320, 320), (640, 640), (224, 320)])
def test_fpn_unet_runs_when_both_sides_are_multiples_of_32(sessions, height: int, width: int) -> None:
    (mask,) = sessions["fpn_unet"].run(None, {"image": image(height, width)})
    assert mask.shape == (1, 1, height, width)
    assert np.isfinite(mask).all()


@pytest.mark.parametrize("height, width", [(2, 2), (16, 16), (48, 48), (100, 100), (224, 100), (100, 224)])
def test_fpn_unet_skip_add_fails_off_multiples_of_32(sessions, height: int, width: int) -> None:
    with pytest.raises(ORT_ERRORS, match="running Add node"):
        sessions["fpn_unet"].run(None, {"image": image(height, width)})


def test_fpn_unet_one_pixel_image_broadcasts_through_every_add(sessions) -> None:
    """Not an error: every feature is 1×1, so a 1-pixel image yields a 32×32 mask."""
    (mask,) = sessions["fpn_unet"].run(None, {"image": image(1, 1)})
    assert mask.shape == (1, 1, 32, 32)


# ------------------------------------------------------------------ YOLO head


@pytest.mark.parametrize(
    "height, width, anchors", [(224, 224, 1029), (256, 256, 1344), (320, 320, 2100), (640, 640, 8400), (64, 96, 126)]
)
def test_yolo_head_runs_when_both_sides_are_multiples_of_32(sessions, height: int, width: int, anchors: int) -> None:
    (output,) = sessions["yolo_head"].run(None, {"images": image(height, width)})
    assert output.shape == (1, anchors, 4 + 1 + 4)  # cells of strides 8, 16 and 32
    assert ((0 < output) & (output < 1)).all()


@pytest.mark.parametrize("height, width", [(2, 2), (16, 16), (48, 48), (100, 100), (224, 100)])
def test_yolo_head_fpn_merge_fails_off_multiples_of_32(sessions, height: int, width: int) -> None:
    with pytest.raises(ORT_ERRORS, match="running Concat node"):
        sessions["yolo_head"].run(None, {"images": image(height, width)})


# ------------------------------------------------------------------ reflect-padded 1-D audio


@pytest.mark.parametrize("samples", [33, 64, 256, 16000])
def test_reflect_pad_1d_runs_with_more_samples_than_the_pad(sessions, samples: int) -> None:
    audio = np.random.default_rng(0).standard_normal((1, 1, samples)).astype(np.float32)
    (logits,) = sessions["reflect_pad_1d"].run(None, {"audio": audio})
    assert logits.shape == (1, 8)


@pytest.mark.parametrize("samples", [1, 2, 16, 32])
def test_reflect_pad_1d_fails_with_at_most_32_samples(sessions, samples: int) -> None:
    with pytest.raises(ORT_ERRORS, match="running Pad node"):
        sessions["reflect_pad_1d"].run(None, {"audio": np.ones((1, 1, samples), np.float32)})


# ------------------------------------------------------------------ transformer with int64 ids


@pytest.mark.parametrize("batch, sequence", [(1, 1), (2, 16), (2, 128)])
def test_transformer_runs_with_valid_ids_up_to_128_tokens(sessions, batch: int, sequence: int) -> None:
    hidden, pooled = sessions["transformer_int64_ids"].run(None, sized_models.transformer_inputs(batch, sequence))
    assert hidden.shape == (batch, sequence, 32)
    assert pooled.shape == (batch, 32)
    assert np.abs(pooled).max() <= 1.0  # Tanh


def test_transformer_fails_past_the_128_positions(sessions) -> None:
    # Range→Gather fails in Gather, or (after onnxruntime rewrites it to a clamping Slice) in the Add.
    with pytest.raises(ORT_ERRORS, match="running (Gather|Add) node"):
        sessions["transformer_int64_ids"].run(None, sized_models.transformer_inputs(2, 129))


@pytest.mark.parametrize("input_name, bad_id", [("input_ids", 1000), ("input_ids", -1001), ("token_type_ids", 2)])
def test_transformer_gather_raises_on_out_of_range_ids(sessions, input_name: str, bad_id: int) -> None:
    feeds = sized_models.transformer_inputs()
    feeds[input_name][1, 3] = bad_id
    with pytest.raises(ORT_ERRORS, match="running Gather node.*out of data bounds"):
        sessions["transformer_int64_ids"].run(None, feeds)


def test_transformer_negative_id_reads_from_the_end_of_the_vocabulary(sessions) -> None:
    """Not an error: a validator feeding -1 gets row 999, so negative ids go unnoticed."""
    negative, last = sized_models.transformer_inputs(), sized_models.transformer_inputs()
    negative["input_ids"][1, 3] = -1
    last["input_ids"][1, 3] = 999
    run = sessions["transformer_int64_ids"].run
    for got, expected in zip(run(None, negative), run(None, last)):
        np.testing.assert_array_equal(got, expected)


# ------------------------------------------------------------------ trained digits CNN


def test_digits_cnn_is_accurate_in_onnxruntime_and_matches_numpy(capsys) -> None:
    model, data = digits_cnn()
    trained = trained_digits_cnn()
    (logits,) = session_of(model).run(None, {"image": data["image"]})
    onnx_accuracy = float((logits.argmax(axis=1) == data["labels"]).mean())
    numpy_logits, _ = digits_training.forward(trained.params, data["image"])
    with capsys.disabled():
        print(f"\ndigits CNN: trained in {trained.train_seconds:.2f} s, held-out accuracy "
              f"{onnx_accuracy:.4f} in onnxruntime, {trained.test_accuracy:.4f} in numpy ({len(data['labels'])} images)")
    assert onnx_accuracy >= 0.95
    assert onnx_accuracy == trained.test_accuracy
    np.testing.assert_allclose(logits, numpy_logits, rtol=1e-4, atol=1e-4)


def test_digits_cnn_model_and_data_have_the_declared_form(tmp_path: Path) -> None:
    model, data = digits_cnn()
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == 8 and model.opset_import[0].version == 17
    declared = (model.graph.input[0], model.graph.output[0])
    dims = [[d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim] for value in declared]
    assert dims == [["batch", 1, 8, 8], ["batch", 10]]
    assert data["image"].dtype == np.float32 and data["image"].shape == (360, 1, 8, 8)
    assert data["labels"].dtype == np.int64 and data["labels"].shape == (360,)
    assert 0.0 <= data["image"].min() and data["image"].max() <= 1.0
    np.savez(tmp_path / "digits.npz", **data)
    with np.load(tmp_path / "digits.npz") as saved:
        assert sorted(saved.files) == ["image", "labels"]
        np.testing.assert_array_equal(saved["image"], data["image"])


def test_digits_cnn_retrained_gives_the_same_bytes() -> None:
    first_model, first_data = digits_cnn()
    first_training = trained_digits_cnn()
    trained_digits_cnn.cache_clear()
    second_model, second_data = digits_cnn()
    assert trained_digits_cnn() is not first_training
    assert first_model.SerializeToString() == second_model.SerializeToString()
    for name in ("image", "labels"):
        np.testing.assert_array_equal(first_data[name], second_data[name])
