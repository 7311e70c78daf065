"""The Keras frontend: `.keras` and legacy `.h5`/`.hdf5` model files → IR graph, without importing Keras.

Only h5py, numpy, json and zipfile read the files (see files.py); model.py walks the layer
graph; layers/<family>.py hold one handler per Keras layer class.
"""

from __future__ import annotations

import os

from converter.ir.graph import Graph


def convert_keras(path: str | os.PathLike[str]) -> Graph:
    """The model in `path` as an IR graph (inputs named like its input layers, outputs like its output layers)."""
    from converter.frontends.keras.files import read_keras_file
    from converter.frontends.keras.layers import LAYERS
    from converter.frontends.keras.model import KerasModelConverter

    return KerasModelConverter(read_keras_file(path), LAYERS).convert()
