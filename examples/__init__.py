"""irforge's bundled example zoo: small models in every format irforge reads, shipped in the wheel.

`zoo_dir()` is the folder: ONNX models (`classifiers/`, `nlp/`, `sequence/`, `detectors/`), a
trained digits CNN with its held-out data and manifest (`digits/`), an ONNX model with external
data (`external/`), an OpenVINO IR as a source (`ir/`) and one model broken on purpose
(`broken/`). `python examples/build_zoo.py` regenerates it from the checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def zoo_dir() -> Path:
    """The bundled zoo's folder, a real directory (`irforge zoo` walks it)."""
    zoo = Path(str(files("examples") / "zoo"))
    if not zoo.is_dir():  # e.g. imported from a zip archive: there is no folder to walk
        raise FileNotFoundError(f"the bundled example zoo is not a folder on disk: {zoo}")
    return zoo
