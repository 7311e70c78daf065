"""Done-when 2 of issue 12: an MXNet checkpoint with real trained weights. The digits CNN trained
in the tests (tests/digits_training.py, on scikit-learn's handwritten digits) is written as an
MXNet checkpoint the way MXNet 1.x saves one (symbol with SoftmaxOutput and its label, params
with arg: names), converted, and run from the IR on disk in OpenVINO: its logits match the trained
numpy model and the numpy reference of the symbol, and its held-out accuracy is the source's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import digits_training
from mxnet_files import SymbolBuilder, assert_close, mxnet_outputs, run_converted, write_checkpoint
from reference_numpy import run_reference
from sized_models import trained_digits_cnn


def digits_checkpoint(folder: Path) -> tuple[Path, dict[str, np.ndarray]]:
    params = trained_digits_cnn().params
    b = SymbolBuilder()
    x = b.var("data", (0, 1, 8, 8))
    for layer, filters in (("conv1", 8), ("conv2", 16)):
        x = b.op("Convolution", layer, x, b.var(f"{layer}_weight"), b.var(f"{layer}_bias"), kernel=(3, 3), pad=(1, 1), num_filter=filters)
        x = b.op("Activation", f"{layer}_relu", x, act_type="relu")
        x = b.op("Pooling", f"{layer}_pool", x, kernel=(2, 2), stride=(2, 2), pool_type="max")
    x = b.op("Flatten", "flatten", x)
    logits = b.op("FullyConnected", "fc", x, b.var("fc_weight"), b.var("fc_bias"), num_hidden=10)
    probabilities = b.op("SoftmaxOutput", "softmax", logits, b.var("softmax_label"))
    args = {name: np.ascontiguousarray(array) for name, array in params.items()}
    return write_checkpoint(folder, "digits", b, [logits, probabilities], args, epoch=30), args


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
