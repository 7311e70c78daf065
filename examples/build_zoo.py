"""Regenerate the bundled demo zoo: small ONNX models written the way exporters write them.

    python examples/build_zoo.py

The builders live in tests/models.py (the tests use the same models). Weights are seeded, so
the files are identical on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import onnx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import models  # noqa: E402

ZOO = {
    "cnn_classifier": lambda: models.cnn(batch="N"),
    "resnet_small": models.resnet,
    "mobilenet_v3_small": models.mobilenet_v3,
    "bert_tiny": lambda: models.bert(layers=2, d=64, heads=4, ffn=128, vocab=200),
    "lstm_bidirectional": lambda: models.recurrent("LSTM"),
}


def main() -> None:
    for name, build in ZOO.items():
        path = HERE / f"{name}.onnx"
        onnx.save(build(), path)
        print(f"{path.relative_to(HERE.parent)}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
