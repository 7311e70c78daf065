"""Activation functions and softmax-family ops."""

from __future__ import annotations

import numpy as np

from converter.ops.spec import OpSpec, same_as_input

Relu = OpSpec("ReLU", "opset1", (), same_as_input(), lambda inputs, attrs: [np.maximum(inputs[0], 0).astype(inputs[0].dtype)])

OPS: tuple[OpSpec, ...] = (Relu,)
