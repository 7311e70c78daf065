"""Each component type against its numpy definition (kaldi_reference), written binary and text,
converted, and run by OpenVINO from the IR on disk."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from kaldi_support import check_nnet1, check_nnet3, random
from kaldi_reference import (
    Activation,
    Affine,
    Convolutional,
    AffineTransform,
    BatchNorm,
    Dropout,
    Linear,
    LinearTransform,
    MaxPooling,
    Nnet1Model,
    Nnet3Model,
    Nonlinear,
    Normalize,
    Parallel,
    Shift,
    Splice,
    Tdnn,
    TimeHeightConvolution,
    average_pooling,
    backprop_truncation,
    block_softmax,
    copy,
    clip_gradient,
    dropout,
    elementwise_product,
    fixed_bias,
    fixed_scale,
    general_dropout,
    length_norm,
    lstm_nonlinearity,
    maxpooling,
    noop,
    parametric_relu,
    per_element_offset,
    per_element_scale,
    permute,
    pnorm,
    scale_and_offset,
    sum_group,
)

RNG = np.random.default_rng(3)
DIM = 12


def r(*shape: int, scale: float = 1.0) -> np.ndarray:
    return random(RNG, *shape, scale=scale)


COMPONENTS: dict[str, Callable[[], object]] = {
    "AffineComponent": lambda: Affine(r(7, DIM), r(7)),
    "NaturalGradientAffineComponent": lambda: Affine(r(7, DIM), r(7), "NaturalGradientAffineComponent"),
    "FixedAffineComponent": lambda: Affine(r(7, DIM), r(7), "FixedAffineComponent"),
    "LinearComponent": lambda: Linear(r(5, DIM)),
    "TdnnComponent": lambda: Tdnn((-3, 0, 2), r(6, 3 * DIM), r(6)),
    "TdnnComponent without bias": lambda: Tdnn((-1, 0), r(6, 2 * DIM), np.zeros(0, np.float32)),
    "SigmoidComponent": lambda: Nonlinear("SigmoidComponent", DIM),
    "TanhComponent": lambda: Nonlinear("TanhComponent", DIM),
    "RectifiedLinearComponent": lambda: Nonlinear("RectifiedLinearComponent", DIM),
    "SoftmaxComponent": lambda: Nonlinear("SoftmaxComponent", DIM),
    "LogSoftmaxComponent": lambda: Nonlinear("LogSoftmaxComponent", DIM),
    "BatchNormComponent": lambda: BatchNorm(r(DIM), np.abs(r(DIM)) + 0.1, target_rms=0.5),
    "BatchNormComponent in blocks": lambda: BatchNorm(r(4), np.abs(r(4)) + 0.1, block_dim=4, dim=DIM),
    "NormalizeComponent": lambda: Normalize(DIM, target_rms=2.0),
    "NormalizeComponent with log-stddev in blocks": lambda: Normalize(DIM, block_dim=4, add_log_stddev=True),
    "NoOpComponent": lambda: noop(DIM),
    "DropoutComponent": lambda: dropout(DIM, 0.25),
    "GeneralDropoutComponent": lambda: general_dropout(DIM),
    "ClipGradientComponent": lambda: clip_gradient(DIM),
    "BackpropTruncationComponent": lambda: backprop_truncation(DIM, 0.5),
    "FixedScaleComponent": lambda: fixed_scale(r(DIM)),
    "FixedBiasComponent": lambda: fixed_bias(r(DIM)),
    "PerElementScaleComponent": lambda: per_element_scale(r(DIM)),
    "PerElementOffsetComponent in blocks": lambda: per_element_offset(r(4), DIM),
    "ScaleAndOffsetComponent": lambda: scale_and_offset(np.r_[r(DIM - 2), 0.0, -1e-6], r(DIM), DIM),
    "ElementwiseProductComponent": lambda: elementwise_product(DIM, 4),
    "SumGroupComponent": lambda: sum_group([3, 3, 3, 3]),
    "SumGroupComponent of unequal groups": lambda: sum_group([1, 5, 6]),
    "PnormComponent": lambda: pnorm(DIM, 3),
    "PermuteComponent": lambda: permute(RNG.permutation(DIM).tolist()),
    "MaxpoolingComponent": lambda: maxpooling((2, 3, 2), (1, 2, 2), (1, 1, 1)),
    "TimeHeightConvolutionComponent 3x3, padded": lambda: TimeHeightConvolution(
        3, 2, 4, 4, 1, [(dt, dh) for dt in (-1, 0, 1) for dh in (-1, 0, 1)], [0], r(2, 27), r(2)
    ),
    "TimeHeightConvolutionComponent subsampled": lambda: TimeHeightConvolution(
        2, 3, 6, 2, 2, [(dt, dh) for dt in (-2, 0, 2) for dh in (0, 1, 2)], [-2, 0, 2], r(3, 18), r(3)
    ),
}


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "text"])
@pytest.mark.parametrize("name", list(COMPONENTS))
def test_nnet3_component(name: str, binary: bool, tmp_path) -> None:
    model = Nnet3Model({"input": DIM})
    model.component("c", COMPONENTS[name](), "input")
    model.output("output", "c")
    expected = check_nnet3(model, {"input": r(9, DIM, scale=2.0)}, tmp_path, binary)
    component = model.components["c"]
    assert expected["output"][0] == -min(getattr(component, "required", component.offsets))  # the left context


def test_lstm_nonlinearity(tmp_path) -> None:
    """The cell arithmetic, with c_prev given as an input (the recurrence itself is a descriptor cycle)."""
    cell = 4
    model = Nnet3Model({"input": 5 * cell})
    model.component("lstm", lstm_nonlinearity(r(3, cell)), "input")
    model.output("output", "lstm")
    check_nnet3(model, {"input": r(6, 5 * cell)}, tmp_path, binary=True)


NNET1: dict[str, Callable[[], list]] = {
    "AffineTransform, Sigmoid, Softmax": lambda: [AffineTransform(r(6, 5), r(6)), Activation("Sigmoid", 6), Activation("Softmax", 6)],
    "LinearTransform, Tanh": lambda: [LinearTransform(r(4, 5)), Activation("Tanh", 4)],
    "feature transform: Splice, AddShift, Rescale": lambda: [Splice((-2, -1, 0, 1, 2), 5), Shift("AddShift", r(25)), Shift("Rescale", r(25))],
    "Dropout, HiddenSoftmax": lambda: [Dropout(5), Activation("HiddenSoftmax", 5)],
    "MaxPoolingComponent": lambda: [AffineTransform(r(12, 5), r(12)), MaxPooling(12, size=2, step=1, stride=3)],
    "ConvolutionalComponent over spliced frames": lambda: [Splice((-1, 0, 1), 5), Convolutional(15, patch_dim=2, step=1, stride=5, filters=r(3, 6), bias=r(3))],
    "BlockSoftmax, Copy": lambda: [copy([4, 0, 0, 2, 3, 1], 5), block_softmax([2, 4])],
    "LengthNormComponent, ParametricRelu": lambda: [length_norm(5), parametric_relu(r(5), r(5))],
    "AveragePoolingComponent": lambda: [AffineTransform(r(12, 5), r(12)), average_pooling(12, size=3, step=1, stride=2)],
    "ParallelComponent": lambda: [
        Parallel([[Splice((-1, 0, 1), 2), AffineTransform(r(3, 6), r(3))], [AffineTransform(r(4, 3), r(4)), Activation("Sigmoid", 4)]])
    ],
}


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "text"])
@pytest.mark.parametrize("name", list(NNET1))
def test_nnet1_components(name: str, binary: bool, tmp_path) -> None:
    check_nnet1(Nnet1Model(NNET1[name]()), r(9, 5), tmp_path, binary)
