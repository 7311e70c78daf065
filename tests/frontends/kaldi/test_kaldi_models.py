"""Whole Kaldi models: a TDNN-F trained on real data (scikit-learn's digits as utterances of
frames), written as nnet3 .mdl and .raw, binary and text; nnet1 networks with their feature
transform, text and binary. OpenVINO runs each IR from disk; the frames match the numpy
reference within rtol 1e-4."""

from __future__ import annotations

import numpy as np
import pytest

from converter.frontends import detect_format, source_bytes
from converter.zoo import find_models
from kaldi_support import check_nnet1, random, run_kaldi_bytes
from kaldi_writer import mdl_bytes, nnet1_bytes, nnet3_bytes
from kaldi_reference import Activation, AffineTransform, Nnet1Model, Shift, Splice, splice_clamped
from tdnn_training import Trained, train

RNG = np.random.default_rng(5)


@pytest.fixture(scope="module")
def trained() -> Trained:
    result = train(epochs=20)
    assert result.train_accuracy > 0.95
    return result


def utterance(images: np.ndarray) -> np.ndarray:
    """Images one after another: an utterance of 8 frames per image."""
    return images.reshape(-1, images.shape[-1])


@pytest.mark.parametrize("form", ["mdl-binary", "mdl-text", "raw-binary", "raw-text"])
def test_trained_tdnn_matches_the_reference(trained: Trained, form: str, tmp_path) -> None:
    container, binary = form.split("-")[0], form.endswith("binary")
    data = mdl_bytes(trained.model, binary, num_pdfs=10, left=2, right=2) if container == "mdl" else nnet3_bytes(trained.model, binary)
    features = utterance(trained.heldout_images[:20])  # 160 frames
    expected_first, expected = trained.model.reference({"input": features})["output"]
    actual = run_kaldi_bytes(data, {"input": features}, tmp_path, suffix=f".{container}")["output"]
    assert expected_first == 2 and actual.shape == (160 - 4, 10)  # left and right context 2
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


def test_trained_tdnn_recognizes_held_out_digits(trained: Trained, tmp_path) -> None:
    """The IR's frame outputs classify held-out utterances as the trained network does."""
    images, labels = trained.heldout_images, trained.heldout_labels
    log_probs = run_kaldi_bytes(mdl_bytes(trained.model, True, 10, 2, 2), {"input": utterance(images)}, tmp_path, suffix=".mdl")["output"]
    # Output frame i is input frame i + 2: the 4 frames of image k with full context are 8k … 8k+3.
    per_image = np.stack([log_probs[8 * k : 8 * k + 4].mean(0) for k in range(len(images))])
    assert (per_image.argmax(1) == labels).mean() > 0.9


def nnet1_model() -> Nnet1Model:
    """nnet1 as its recipes build it: a feature transform (Splice ±2, AddShift, Rescale), then sigmoid layers and a softmax."""
    dim = 6
    return Nnet1Model(
        [
            Splice((-2, -1, 0, 1, 2), dim),
            Shift("AddShift", random(RNG, 5 * dim)),
            Shift("Rescale", random(RNG, 5 * dim)),
            AffineTransform(random(RNG, 16, 5 * dim, scale=0.3), random(RNG, 16)),
            Activation("Sigmoid", 16),
            AffineTransform(random(RNG, 16, 16), random(RNG, 16)),
            Activation("Sigmoid", 16),
            AffineTransform(random(RNG, 8, 16), random(RNG, 8)),
            Activation("Softmax", 8),
        ]
    )


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "text"])
def test_nnet1_network(binary: bool, tmp_path) -> None:
    first = check_nnet1(nnet1_model(), random(RNG, 30, 6), tmp_path, binary)
    assert first == 2


def test_nnet1_edge_frames_by_repeating_the_ends(tmp_path) -> None:
    """nnet-forward repeats the first and last frame where Splice reaches past an utterance: feeding
    the IR the utterance padded that way gives nnet-forward's frames, one per input frame."""
    model = nnet1_model()
    features = random(RNG, 12, 6)
    padded = np.concatenate([features[:1].repeat(2, 0), features, features[-1:].repeat(2, 0)])
    actual = run_kaldi_bytes(nnet1_bytes(model.components, True), {"input": padded}, tmp_path, suffix=".nnet")["output"]
    spliced = splice_clamped(features.astype(np.float64), (-2, -1, 0, 1, 2))
    rest = Nnet1Model(model.components[1:])
    expected = np.stack([rest.reference(row[None])[1][0] for row in spliced])
    assert actual.shape == (12, 8)
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6)


def test_detection_discovery_and_size(trained: Trained, tmp_path) -> None:
    files = {
        "am/final.mdl": mdl_bytes(trained.model, True, 10, 2, 2),
        "am/final.raw": nnet3_bytes(trained.model, False),
        "dnn/final.nnet": nnet1_bytes(nnet1_model().components, True),
    }
    for name, data in files.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        assert detect_format(path) == "kaldi"
        assert source_bytes(path) == len(data)
    assert [p.relative_to(tmp_path).as_posix() for p in find_models(tmp_path)] == sorted(files)


def test_validation_without_a_kaldi_reference(trained: Trained, tmp_path) -> None:
    """No Kaldi runs here: validation compares the IRs with the FP32 one and says so; convert
    --verify searches inputs on the converted graph."""
    from cli_support import irforge

    from converter.errors import NoReferenceError
    from converter.frontends import reference_runner

    model = tmp_path / "final.mdl"
    model.write_bytes(mdl_bytes(trained.model, True, 10, 2, 2))
    with pytest.raises(NoReferenceError, match="no runnable Kaldi reference"):
        reference_runner(model)
    converted = irforge("convert", model, "-o", tmp_path / "out", "--verify", "--input-shape", "input[24,8]")
    assert converted.returncode == 0, converted.stderr
    result = irforge("validate", model, tmp_path / "out", "--input-shape", "input[24,8]")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no runnable Kaldi reference" in " ".join(result.stdout.split())
    import pandas as pd

    frame = pd.read_csv(tmp_path / "out" / "report.csv", keep_default_na=False)
    source = frame[frame["precision"] == "source"].iloc[0]
    assert source["framework"] == "kaldi" and "compared with FP32" in source["message"]
    assert set(frame.loc[frame["precision"] != "source", "status"]) == {"pass"}


def test_framework_override_reads_any_file_name(tmp_path) -> None:
    """nnet1 feature transforms are often named final.feature_transform: --framework kaldi reads them."""
    from cli_support import irforge

    path = tmp_path / "final.feature_transform"
    path.write_bytes(nnet1_bytes(nnet1_model().components[:3], False))
    assert detect_format(path, "kaldi") == "kaldi"
    result = irforge("convert", path, "-o", tmp_path / "out", "--framework", "kaldi")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "FP32" / "final.xml").is_file()
