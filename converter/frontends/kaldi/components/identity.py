"""Components that only matter in training: in inference they pass the frames on (dropout in
test mode, gradient clipping and truncation, SpecAugment), some scaled."""

from __future__ import annotations

from converter.frontends.kaldi.components.common import check_dim
from converter.frontends.kaldi.graph import Handler, KaldiContext
from converter.ir.graph import Value
from converter.ops import elementwise as ew


def _scaled(ctx: KaldiContext, x: Value, scale: float) -> Value:
    return x if scale == 1.0 else ew.Multiply(x, ctx.floats(scale))


# ---------------------------------------------------------------- nnet3


def NoOpComponent(ctx: KaldiContext, x: Value, *, dim: int, backprop_scale: float = 1.0) -> Value:
    check_dim(x, dim)
    return x


def DropoutComponent(
    ctx: KaldiContext, x: Value, *, dim: int, dropout_proportion: float, dropout_per_frame: bool = False, test_mode: bool = False
) -> Value:
    """In test mode (as decoding sets it) Kaldi scales by 1 − proportion: identity once the
    dropout schedule has ended at 0."""
    check_dim(x, dim)
    return _scaled(ctx, x, 1.0 - float(dropout_proportion))


def GeneralDropoutComponent(
    ctx: KaldiContext,
    x: Value,
    *,
    dim: int,
    block_dim: int | None = None,
    time_period: int = 0,
    dropout_proportion: float = 0.0,
    spec_augment_max_proportion: float = 0.0,
    spec_augment_max_regions: int = 1,
    test_mode: bool = False,
    continuous: bool = False,
) -> Value:
    """In test mode: the input unchanged."""
    check_dim(x, dim)
    return x


def SpecAugmentTimeMaskComponent(
    ctx: KaldiContext, x: Value, *, dim: int, zeroed_proportion: float = 0.0, time_mask_max_frames: int = 0, test_mode: bool = False
) -> Value:
    """In test mode: the input unchanged."""
    check_dim(x, dim)
    return x


def ClipGradientComponent(ctx: KaldiContext, x: Value, *, dim: int) -> Value:
    """Clips gradients only: forward, the identity."""
    check_dim(x, dim)
    return x


def BackpropTruncationComponent(ctx: KaldiContext, x: Value, *, dim: int, scale: float = 1.0) -> Value:
    """Truncates gradients; forward it scales by <Scale> (1 unless set)."""
    check_dim(x, dim)
    return _scaled(ctx, x, float(scale))


# ---------------------------------------------------------------- nnet1


def Dropout(ctx: KaldiContext, x: Value, *, dropout_rate: float = 0.5, dropout_retention: float | None = None) -> Value:
    """nnet1's dropout scales at training time (by 1 / (1 − rate)), so inference is the identity."""
    return x


NNET3: dict[str, Handler] = {
    f.__name__: f
    for f in (
        NoOpComponent, DropoutComponent, GeneralDropoutComponent, SpecAugmentTimeMaskComponent, ClipGradientComponent,
        BackpropTruncationComponent,
    )
}  # fmt: skip
NNET1: dict[str, Handler] = {f.__name__: f for f in (Dropout,)}
