"""Calibration data is checked before any statistic: one InvalidModelError per problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from converter.errors import InvalidModelError
from converter.quantize.calibration import ImageCalibration, load_calibration
from converter.validate.inputs import TensorSpec
from converter.validate.manifest import load_manifest

IMAGE = TensorSpec("image", np.dtype(np.float32), (None, 1, 8, 8))
IDS = TensorSpec("ids", np.dtype(np.int64), (None, 6))


def save(tmp_path: Path, **arrays: np.ndarray) -> Path:
    path = tmp_path / "calibration.npz"
    np.savez(path, **arrays)
    return path


def test_batches_of_at_most_eight_and_the_size_limit(tmp_path: Path) -> None:
    path = save(tmp_path, image=np.zeros((20, 1, 8, 8), np.float32), labels=np.zeros(20, np.int64))
    calibration = load_calibration(path, [IMAGE])
    assert calibration.samples == 20 and [len(b["image"]) for b in calibration.batches] == [8, 8, 4]
    assert load_calibration(path, [IMAGE], size=5).samples == 5


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"image": np.zeros((0, 1, 8, 8), np.float32)}, "holds no samples"),
        ({"image": np.zeros((3, 1, 9, 8), np.float32)}, "does not fit input image"),
        ({"image": np.zeros((3, 8, 8), np.float32)}, "needs samples stacked on its first axis"),
        ({"image": np.zeros((3, 1, 8, 8), np.int32)}, "is int32; input image[?,1,8,8] is float32"),
        ({"pixels": np.zeros((3, 1, 8, 8), np.float32)}, "missing: image; unknown: pixels"),
        ({"image": np.full((3, 1, 8, 8), np.nan, np.float32)}, "NaN or infinite"),
    ],
    ids=["empty", "shape", "rank", "dtype", "names", "nan"],
)
def test_bad_data_is_one_clear_error(tmp_path: Path, arrays: dict, message: str) -> None:
    with pytest.raises(InvalidModelError, match="calibration|fit") as error:
        load_calibration(save(tmp_path, **arrays), [IMAGE])
    assert message in str(error.value)


def test_float_data_for_an_integer_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidModelError, match="is float64; input ids"):
        load_calibration(save(tmp_path, ids=np.zeros((2, 6))), [IDS])


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidModelError, match="no such calibration file"):
        load_calibration(tmp_path / "nope.npz", [IMAGE])
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(InvalidModelError, match="not a readable .npz"):
        load_calibration(tmp_path / "bad.npz", [IMAGE])
    with pytest.raises(InvalidModelError, match="preprocessing in the model's manifest"):
        load_calibration(tmp_path, [IMAGE])


def test_a_directory_of_images_with_the_manifest_preprocessing(tmp_path: Path) -> None:
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        Image.fromarray(np.full((20, 30, 3), 50 * i, np.uint8)).save(photos / f"{i}.png")
    (tmp_path / "net.yaml").write_text(
        "calibration: {images: photos, size: [8, 8], mean: [100, 100, 100], std: [50, 50, 50], layout: nchw, samples: 2}\n"
    )
    manifest = load_manifest(tmp_path / "net.yaml")
    assert isinstance(manifest.calibration, ImageCalibration) and manifest.calibration_samples == 2
    spec = TensorSpec("rgb", np.dtype(np.float32), (None, 3, 8, 8))
    calibration = load_calibration(manifest.calibration, [spec], manifest.calibration_samples)
    batch = calibration.batches[0]["rgb"]
    assert batch.shape == (2, 3, 8, 8)
    np.testing.assert_allclose(batch[:, 0, 0, 0], [-2.0, -1.0])  # (0 − 100) / 50, (50 − 100) / 50


def test_bad_image_manifests(tmp_path: Path) -> None:
    (tmp_path / "net.yaml").write_text("calibration: {images: photos}\n")
    with pytest.raises(InvalidModelError, match="calibration is an .npz path or"):
        load_manifest(tmp_path / "net.yaml")
    (tmp_path / "net.yaml").write_text("calibration: {images: photos, size: [8, 8]}\n")
    calibration = load_manifest(tmp_path / "net.yaml").calibration
    with pytest.raises(InvalidModelError, match="no such directory of calibration images"):
        load_calibration(calibration, [TensorSpec("rgb", np.dtype(np.float32), (None, 3, 8, 8))])
