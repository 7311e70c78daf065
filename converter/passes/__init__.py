"""Optimization passes. Each is a function Graph -> Graph in its own module.

`PASSES` names every pass irforge has; the order they run in is data, in
`configs/default.yaml` (or `irforge convert --passes ...`), never implied here.
"""

from __future__ import annotations

from converter.passes.eliminate import eliminate_duplicates, eliminate_noops
from converter.passes.fold_batchnorm import fold_batchnorm
from converter.passes.fold_constants import fold_constants
from converter.passes.fold_if import fold_if
from converter.passes.fuse_activations import (
    fuse_clamp,
    fuse_gelu,
    fuse_hsigmoid,
    fuse_hswish,
    fuse_mish,
    fuse_softplus,
    fuse_swish,
)
from converter.passes.fuse_attention import fuse_attention
from converter.passes.fuse_linear import fuse_linear
from converter.passes.fuse_normalization import fuse_mvn, fuse_normalize_l2
from converter.passes.fuse_pad import fuse_pad_into_convolution
from converter.passes.fuse_qdq import fuse_qdq
from converter.passes.fuse_transpose_matmul import fuse_transpose_into_matmul
from converter.passes.manager import PassFn
from converter.passes.simplify_shapes import canonicalize_shape_reads, fold_shape_values, simplify_reshape_patterns
from converter.passes.sink_transposes import sink_transposes

PASSES: dict[str, PassFn] = {
    "eliminate_noops": eliminate_noops,
    "eliminate_duplicates": eliminate_duplicates,
    "fold_constants": fold_constants,
    "fold_if": fold_if,
    "fold_batchnorm": fold_batchnorm,
    "fuse_linear": fuse_linear,
    "fuse_qdq": fuse_qdq,
    "sink_transposes": sink_transposes,
    "fuse_pad_into_convolution": fuse_pad_into_convolution,
    "fuse_transpose_into_matmul": fuse_transpose_into_matmul,
    "fuse_softplus": fuse_softplus,
    "fuse_mish": fuse_mish,
    "fuse_hsigmoid": fuse_hsigmoid,
    "fuse_hswish": fuse_hswish,
    "fuse_gelu": fuse_gelu,
    "fuse_swish": fuse_swish,
    "fuse_clamp": fuse_clamp,
    "fuse_mvn": fuse_mvn,
    "fuse_normalize_l2": fuse_normalize_l2,
    "fuse_attention": fuse_attention,
    "fold_shape_values": fold_shape_values,
    "canonicalize_shape_reads": canonicalize_shape_reads,
    "simplify_reshape_patterns": simplify_reshape_patterns,
}


def resolve(names: list[str]) -> list[tuple[str, PassFn]]:
    unknown = [name for name in names if name not in PASSES]
    if unknown:
        raise KeyError(f"unknown pass(es) {unknown}; known: {', '.join(sorted(PASSES))}")
    return [(name, PASSES[name]) for name in names]
