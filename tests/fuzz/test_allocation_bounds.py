"""A file claiming a tensor of 10^12 elements is refused before anything is allocated, in every
format that can express one; a constant subgraph that would compute one is left for the runtime.
Each case runs in this process under tracemalloc (numpy reports its buffers to it): the peak stays
far below the claim. Costs about 5 s (TensorFlow's TFLite schema import)."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

import fuzz_mutations as mutations
from fuzz_seeds import ZOO, seeds
from fuzz_worker import Case, run_case

from converter import convert_model
from converter.errors import InvalidModelError
from converter.limits import LIMIT_VARIABLE, check_tensor_bytes, max_tensor_bytes

PEAK = 64 << 20  # far below 4 TB; a copy of any seed's weights fits many times over


class Forced(random.Random):
    """A generator whose choices are the given values wherever one of them is among the options."""

    def __init__(self, *forced):
        super().__init__(0)
        self.forced = list(forced)

    def choice(self, options):
        for value in self.forced:
            if value in options:
                self.forced.remove(value)
                return value
        return super().choice(options)


def _seed(fmt: str, name: str | None = None):
    return next(s for s in seeds(fmt) if name is None or s.name == name)


CLAIMS = {
    "onnx initializer": ("onnx", None, lambda s: mutations.onnx_structure(Forced("huge_initializer", mutations.HUGE_DIMS), s)),
    "onnx external data": ("onnx", None, lambda s: mutations.onnx_structure(Forced("huge_external"), s)),
    "IR .bin Const": ("ir", None, lambda s: mutations.ir_structure(Forced("huge_shape"), s)),
    "TF TensorProto fill": ("graphdef", None, lambda s: mutations.graphdef_structure(Forced("tensor", "fill_huge", mutations.HUGE_DIMS), s)),
    "TF TensorProto content": ("graphdef", None, lambda s: mutations.graphdef_structure(Forced("tensor", "huge_content", mutations.HUGE_DIMS), s)),
    "TF checkpoint bundle": ("savedmodel", None, lambda s: mutations.savedmodel_structure(Forced("huge_shape"), s)),
    "TF bundle shape wrapping int64": ("savedmodel", None, lambda s: mutations.savedmodel_structure(Forced("overflowing_shape"), s)),
    "Keras .h5 dataset": ("h5", None, lambda s: (lambda d: ({s.entry: d[0]}, d[1], d[2]))(mutations._hostile_h5(Forced("huge"), s.files[s.entry], "model_weights"))),
    "Keras .keras weights": ("keras", None, lambda s: mutations.keras_structure(Forced("weights", "huge"), s)),
    "TFLite buffer": ("tflite", None, lambda s: mutations.tflite_structure(Forced("huge_shape", mutations.HUGE_DIMS), s)),
    "TFLite external buffer": ("tflite", None, lambda s: mutations.tflite_structure(Forced("extern_buffer_huge"), s)),
    "Caffe blob": ("caffe", None, lambda s: mutations.caffe_structure(Forced("huge_blob"), s)),
    "Caffe legacy blob": ("caffe", None, lambda s: mutations.caffe_structure(Forced("legacy_huge"), s)),
    "MXNet params": ("mxnet", None, lambda s: mutations.mxnet_structure(Forced("params_huge"), s)),
    "Kaldi matrix header": ("kaldi", "nnet3 binary", lambda s: mutations.kaldi_structure(Forced("matrix_huge"), s)),
}


@pytest.mark.parametrize("claim", list(CLAIMS))
def test_a_claim_of_a_trillion_elements_is_refused_before_allocating(claim: str, tmp_path: Path) -> None:
    fmt, seed_name, mutate = CLAIMS[claim]
    seed = _seed(fmt, seed_name)
    files, _, _ = mutate(seed)
    case = Case(fmt, {**seed.files, **files}, seed.entry, claim, must_refuse=True)
    tracemalloc.start()
    try:
        result = run_case(case, tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.kind == "refused", result.detail
    assert peak < PEAK, f"{claim}: {peak} bytes allocated before refusing"


@pytest.mark.parametrize("op", ["ConstantOfShape", "Expand", "Tile", "Range"])
def test_folding_leaves_a_trillion_element_constant_to_the_runtime(op: str, tmp_path: Path) -> None:
    """The decision (docs/reliability.md): such a model is valid, so it converts; the op that
    computes the big tensor stays in the IR and is never materialized in the .bin."""
    model = mutations._fill_bomb(Forced(op, 10**12), helper, TensorProto)
    onnx.checker.check_model(model)
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    tracemalloc.start()
    try:
        graph = convert_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK
    constants = [n.attrs["value"].nbytes for n in graph.nodes() if n.op.type == "Const"]
    assert max(constants) < 1 << 20
    assert any(n.op.type in ("Broadcast", "Tile", "Range") for n in graph.nodes())


def test_the_limit_is_configurable_and_named_in_the_message(monkeypatch) -> None:
    monkeypatch.setenv(LIMIT_VARIABLE, "1M")
    assert max_tensor_bytes() == 1 << 20
    check_tensor_bytes("m.onnx", "initializer 'w'", [512, 512], 4)  # exactly 1 MiB
    with pytest.raises(InvalidModelError, match=r"m.onnx: initializer 'w' \(shape \[513, 512\]\) asks for 1 MiB \(1050624 bytes\), more than the limit of 1 MiB \(IRFORGE_MAX_TENSOR_BYTES\)"):
        check_tensor_bytes("m.onnx", "initializer 'w'", [513, 512], 4)
    with pytest.raises(InvalidModelError, match="negative dimension"):
        check_tensor_bytes("m.onnx", "initializer 'w'", [-1, 4], 4)
    monkeypatch.setenv(LIMIT_VARIABLE, "lots")
    with pytest.raises(InvalidModelError, match="not a size"):
        max_tensor_bytes()


def test_a_model_over_a_low_limit_is_refused_saying_how_much_it_asked_for(monkeypatch) -> None:
    monkeypatch.setenv(LIMIT_VARIABLE, "1K")
    with pytest.raises(InvalidModelError, match=r"asks for .* more than the limit of 1 KiB"):
        convert_model(ZOO / "digits" / "digits_cnn.onnx")
