"""A real trained SavedModel: Spotify's basic-pitch note transcription model (icassp_2022/nmp, written
by an older TF 2 that TF 2.21's `tf.saved_model.load` rejects), read from the installed basic-pitch
package, converted, validated against TensorFlow and listening to a played arpeggio; the ONNX
export shipped beside it converts through the ONNX frontend to the same answers."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from cli_support import irforge  # noqa: E402
from model_packages import package_file  # noqa: E402
from tf_support import run_ir  # noqa: E402

from converter.api import load_model, optimize  # noqa: E402

SAMPLE_RATE = 22050
SAMPLES = 43844  # the signature's input: [batch, 43844, 1], 2 s of mono audio
FRAMES_PER_SECOND = 86  # the outputs' 172 frames over the 2 s
LOWEST_MIDI_NOTE = 21  # note and onset have one bin per piano key, A0 first
ARPEGGIO = [(60, 0.1, 0.7), (64, 0.7, 1.3), (67, 1.3, 1.9)]  # C4, E4, G4: (MIDI note, start s, end s)


@pytest.fixture(scope="module")
def saved_model():
    return package_file("basic_pitch", "saved_models/icassp_2022/nmp")


def played(notes: list[tuple[int, float, float]], seed: int = 0) -> np.ndarray:
    """A plucked-string rendering of the notes (three harmonics, decaying) over a -50 dB noise
    floor, [1, SAMPLES, 1] float32. (Digital silence makes the model's log spectrogram
    ill-conditioned: TensorFlow with and without oneDNN differs by 1e-3 of the output there.)"""
    t = np.arange(SAMPLES) / SAMPLE_RATE
    audio = 0.01 * np.random.default_rng(seed).standard_normal(SAMPLES)
    for midi, start, stop in notes:
        frequency = 440.0 * 2 ** ((midi - 69) / 12)
        envelope = ((t >= start) & (t < stop)) * np.exp(-3.0 * np.clip(t - start, 0.0, None))
        audio += envelope * sum(weight * np.sin(2 * np.pi * k * frequency * t) for k, weight in ((1, 1.0), (2, 0.3), (3, 0.1)))
    return (0.3 * audio).astype(np.float32).reshape(1, SAMPLES, 1)


def heard_notes(note_activations: np.ndarray) -> list[int]:
    """The strongest piano key in the middle of each played note (activations [172, 88])."""
    heard = []
    for _, start, stop in ARPEGGIO:
        frames = slice(int((start + 0.05) * FRAMES_PER_SECOND), int((stop - 0.1) * FRAMES_PER_SECOND))
        heard.append(int(np.argmax(note_activations[frames].mean(axis=0))) + LOWEST_MIDI_NOTE)
    return heard


def tensorflow_outputs(saved_model, audio: np.ndarray) -> dict[str, np.ndarray]:
    from converter.frontends.tensorflow.reference import SavedModelReference

    reference = SavedModelReference(saved_model)
    assert [spec.name for spec in reference.input_specs()] == ["input_2"]
    return dict(zip([spec.name for spec in reference.output_specs()], reference.run({"input_2": audio})))


def test_basic_pitch_saved_model_matches_tensorflow_and_hears_the_arpeggio(saved_model, tmp_path):
    audio = played(ARPEGGIO)
    expected = tensorflow_outputs(saved_model, audio)
    assert heard_notes(expected["note"][0]) == [midi for midi, _, _ in ARPEGGIO], "the reference itself hears the notes"

    graph, _ = optimize(load_model(saved_model))
    assert [value.names[0] for value in graph.outputs] == ["contour", "note", "onset"]
    # the reshapes TF wrote from tf.shape(x)[0] become constant patterns: static frames and bins, no ShapeOf
    assert [value.shape.dims for value in graph.outputs] == [(None, 172, 264), (None, 172, 88), (None, 172, 88)]
    assert "ShapeOf" not in graph.op_histogram()
    actual = dict(zip(["contour", "note", "onset"], run_ir(graph, tmp_path / "ir", {"input_2": audio})))
    for name, value in expected.items():
        np.testing.assert_allclose(actual[name], value, rtol=1e-4, atol=1e-5, err_msg=name)
    assert heard_notes(actual["note"][0]) == [midi for midi, _, _ in ARPEGGIO]


def test_basic_pitch_converts_with_verify_and_validates_against_tensorflow(saved_model, tmp_path):
    """The command line: --verify runs every pass on searched inputs, validate compares both
    precisions on both backends with TensorFlow (through TF1's loader for this SavedModel)."""
    converted = irforge("convert", saved_model, "-o", tmp_path / "ir", "--verify")
    assert converted.returncode == 0, converted.stderr
    validated = irforge("validate", saved_model, tmp_path / "ir")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.count(" pass ") == 4, validated.stdout


def test_basic_pitch_onnx_export_gives_the_saved_models_answers(saved_model, tmp_path):
    """nmp.onnx (tf2onnx 1.15) through the ONNX frontend: onnxruntime on the source file, and the
    SavedModel in TensorFlow, agree with its IR."""
    from converter.validate import run_onnxruntime

    onnx_file = package_file("basic_pitch", "saved_models/icassp_2022/nmp.onnx")
    audio = played(ARPEGGIO)
    graph, _ = optimize(load_model(onnx_file))
    actual = run_ir(graph, tmp_path / "ir", {graph.inputs[0].names[0]: audio})
    import onnx

    source = run_onnxruntime(onnx.load(onnx_file), [audio])
    expected = tensorflow_outputs(saved_model, audio)
    # the ONNX outputs are the signature's StatefulPartitionedCall:2, :1, :0: onset, note, contour
    for got, from_onnx, name in zip(actual, source, ["onset", "note", "contour"]):
        np.testing.assert_allclose(got, from_onnx, rtol=1e-4, atol=1e-5, err_msg=f"{name} vs onnxruntime")
        np.testing.assert_allclose(got, expected[name], rtol=1e-4, atol=1e-5, err_msg=f"{name} vs TensorFlow")
    assert heard_notes(actual[1][0]) == [midi for midi, _, _ in ARPEGGIO]
