"""Corrupted inputs must end in a ConverterError (a clear message, exit code 2), never a crash."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pytest

import models
from converter import convert_model
from converter.errors import ConverterError
from converter.serialize.reader import parse_ir
from converter.serialize.writer import serialize


def _mutate_text(data: bytes, rng: random.Random) -> bytes:
    mutated = bytearray(data)
    kind = rng.randrange(3)
    if kind == 0:
        digits = [i for i, c in enumerate(mutated) if chr(c).isdigit()]
        mutated[rng.choice(digits)] = ord(rng.choice("0123456789-"))
    elif kind == 1:
        start = rng.randrange(len(mutated))
        del mutated[start : start + rng.randrange(1, 40)]
    else:
        mutated[rng.randrange(len(mutated)) : 0] = rng.choice([b'"', b"x", b"<", b"-1", b"999999999"])
    return bytes(mutated)


@pytest.mark.parametrize("build", [models.cnn, models.transformer, lambda: models.recurrent("LSTM")])
def test_corrupted_ir_is_a_clear_error(build) -> None:
    xml, weights = serialize(convert_model(build()))
    rng = random.Random(0)
    for _ in range(150):
        try:
            parse_ir(_mutate_text(xml, rng), weights)
        except ConverterError:
            pass
        try:
            parse_ir(xml, weights[: rng.randrange(len(weights))])
        except ConverterError:
            pass


@pytest.mark.parametrize("build", [models.cnn, lambda: models.recurrent("GRU")])
def test_corrupted_onnx_is_a_clear_error(build, tmp_path: Path) -> None:
    original = build().SerializeToString()
    rng = random.Random(1)
    path = tmp_path / "model.onnx"
    for _ in range(60):
        mutated = bytearray(original)
        for _ in range(rng.randrange(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        path.write_bytes(bytes(mutated))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # corrupted weights overflow while folding
            try:
                convert_model(path)
            except ConverterError:
                pass
