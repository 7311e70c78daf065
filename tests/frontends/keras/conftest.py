"""Keras frontend test fixtures (helpers in keras_support.py, importable from the tests here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from keras_support import check_keras_model  # noqa: E402


@pytest.fixture(scope="session")
def keras():
    import keras as keras_module

    return keras_module


@pytest.fixture
def check_keras(tmp_path: Path):
    """`check_keras(model, inputs=None, formats=(".keras", ".h5"), optimize=False)` → the graphs by format."""

    def check(model, inputs=None, **kwargs):
        return check_keras_model(model, tmp_path, inputs, **kwargs)

    return check
