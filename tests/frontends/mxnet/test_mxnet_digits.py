"""Done-when 2 of issue 12: an MXNet checkpoint with real trained weights. The digits CNN trained
in the tests (tests/digits_training.py, on scikit-learn's handwritten digits) is written as an
MXNet checkpoint the way MXNet 1.x saves one (symbol with SoftmaxOutput and its label, params
with arg: names), converted, and run from the IR on disk in OpenVINO: its logits match the trained
numpy model and the numpy reference of the symbol, and its held-out accuracy is the source's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import digits_training
from digits_checkpoint import digits_checkpoint
from mxnet_files import assert_close, mxnet_outputs, run_converted
from mxnet_reference import run_reference
from sized_models import trained_digits_cnn


def test_trained_digits_cnn_as_mxnet_checkpoint(tmp_path: Path) -> None:
    trained = trained_digits_cnn()
    path, args = digits_checkpoint(tmp_path)
    images = trained.test_images
    logits, probabilities = run_converted(path, {"data": images}, tmp_path)
    source_logits, _ = digits_training.forward(trained.params, images)
    assert_close(logits, source_logits.astype(np.float32), rtol=1e-4, atol=1e-4)
    reference = run_reference(path, args, {}, {"data": images})
    assert_close(logits, reference[0], rtol=1e-4, atol=1e-4)
    assert_close(probabilities, reference[1], rtol=1e-4, atol=1e-6)
    accuracy = float((logits.argmax(axis=1) == trained.test_labels).mean())
    assert accuracy == trained.test_accuracy
    assert accuracy > 0.95
    real = mxnet_outputs(path, {"data": images}, epoch=30)
    if real is not None:  # real MXNet on the same files, when an interpreter with mxnet is configured
        assert_close(real[0], logits, rtol=1e-4, atol=1e-4)
