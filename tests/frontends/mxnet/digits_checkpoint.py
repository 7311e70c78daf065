"""The tests' trained digits CNN (tests/digits_training.py) as an MXNet checkpoint, the way MXNet
1.x saves one: a symbol ending in SoftmaxOutput with its label, params with arg: names. Used by
test_mxnet_digits.py and by examples/build_zoo.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mxnet_files import Entry, SymbolBuilder, write_checkpoint
from sized_models import trained_digits_cnn


def digits_checkpoint(folder: Path, with_logits: bool = True, epoch: int = 30) -> tuple[Path, dict[str, np.ndarray]]:
    """Writes digits-symbol.json + digits-00EE.params; heads: logits (when asked) and the softmax."""
    params = trained_digits_cnn().params
    b = SymbolBuilder()
    x: Entry = b.var("data", (0, 1, 8, 8))
    for layer, filters in (("conv1", 8), ("conv2", 16)):
        x = b.op("Convolution", layer, x, b.var(f"{layer}_weight"), b.var(f"{layer}_bias"), kernel=(3, 3), pad=(1, 1), num_filter=filters)
        x = b.op("Activation", f"{layer}_relu", x, act_type="relu")
        x = b.op("Pooling", f"{layer}_pool", x, kernel=(2, 2), stride=(2, 2), pool_type="max")
    x = b.op("Flatten", "flatten", x)
    logits = b.op("FullyConnected", "fc", x, b.var("fc_weight"), b.var("fc_bias"), num_hidden=10)
    probabilities = b.op("SoftmaxOutput", "softmax", logits, b.var("softmax_label"))
    args = {name: np.ascontiguousarray(array) for name, array in params.items()}
    heads = [logits, probabilities] if with_logits else [probabilities]
    return write_checkpoint(folder, "digits", b, heads, args, epoch=epoch), args
