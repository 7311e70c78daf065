"""Real inputs from an .npz: how samples become batches, labels, and the errors on files that do not fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from converter.errors import InvalidModelError
from converter.validate.data import load_dataset
from converter.validate.inputs import TensorSpec

F32 = np.dtype(np.float32)
I64 = np.dtype(np.int64)


def spec(name: str, dims, dtype=F32) -> TensorSpec:
    return TensorSpec(name, np.dtype(dtype), tuple(dims))


def npz(tmp_path: Path, **arrays) -> Path:
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    return path


def samples(count: int, *shape: int) -> np.ndarray:
    """Sample i is filled with i: which sample went where stays visible."""
    return np.broadcast_to(np.arange(count, dtype=np.float32).reshape(count, *[1] * len(shape)), (count, *shape)).copy()


def test_static_batch_1_feeds_one_sample_per_run(tmp_path):
    path = npz(tmp_path, image=samples(3, 1, 8, 8), labels=np.array([4, 5, 6]))
    dataset = load_dataset(path, [spec("image", [1, 1, 8, 8])])
    assert dataset.samples == 3
    assert [batch["image"].shape for batch in dataset.batches] == [(1, 1, 8, 8)] * 3
    assert [float(batch["image"][0, 0, 0, 0]) for batch in dataset.batches] == [0.0, 1.0, 2.0]
    np.testing.assert_array_equal(dataset.labels, [4, 5, 6])


def test_dynamic_batch_chunks_of_batch_size_last_one_shorter(tmp_path):
    path = npz(tmp_path, image=samples(10, 1, 8, 8))
    dataset = load_dataset(path, [spec("image", ["batch", 1, 8, 8])], batch_size=4)
    assert dataset.samples == 10
    assert [batch["image"].shape[0] for batch in dataset.batches] == [4, 4, 2]
    np.testing.assert_array_equal(dataset.batches[2]["image"][:, 0, 0, 0], [8.0, 9.0])
    assert dataset.labels is None


def test_arrays_of_rank_plus_one_hold_one_full_input_per_sample(tmp_path):
    # each sample is a whole [4, 3] input (batch 4 included), fed as it is
    path = npz(tmp_path, x=samples(5, 4, 3), labels=np.arange(5))
    dataset = load_dataset(path, [spec("x", [4, 3])], batch_size=2)
    assert dataset.samples == 5
    assert [batch["x"].shape for batch in dataset.batches] == [(4, 3)] * 5
    assert [float(batch["x"][0, 0]) for batch in dataset.batches] == [0.0, 1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(dataset.labels, np.arange(5))


def test_static_batch_4_drops_the_samples_of_a_partial_batch(tmp_path):
    path = npz(tmp_path, x=samples(10, 3), labels=np.arange(10) + 100)
    dataset = load_dataset(path, [spec("x", [4, 3])])
    assert dataset.samples == 8
    assert [batch["x"].shape for batch in dataset.batches] == [(4, 3), (4, 3)]
    np.testing.assert_array_equal(dataset.batches[1]["x"][:, 0], [4.0, 5.0, 6.0, 7.0])
    np.testing.assert_array_equal(dataset.labels, np.arange(8) + 100)


def test_static_batch_larger_than_the_file(tmp_path):
    with pytest.raises(InvalidModelError) as error:
        load_dataset(npz(tmp_path, x=samples(3, 3)), [spec("x", [4, 3])])
    assert str(error.value).endswith("the model's batch is fixed at 4; the file has fewer samples")


def test_limit_trims_samples_and_labels(tmp_path):
    path = npz(tmp_path, image=samples(10, 1, 8, 8), labels=np.arange(10) * 2)
    dataset = load_dataset(path, [spec("image", ["batch", 1, 8, 8])], batch_size=4, limit=6)
    assert dataset.samples == 6
    assert [batch["image"].shape[0] for batch in dataset.batches] == [4, 2]
    np.testing.assert_array_equal(dataset.labels, [0, 2, 4, 6, 8, 10])


def test_custom_labels_key_and_several_inputs(tmp_path):
    path = npz(
        tmp_path,
        input_ids=np.arange(12).reshape(3, 4),
        attention_mask=np.ones((3, 4), np.int64),
        classes=np.array([1, 0, 1]),
    )
    specs = [spec("input_ids", ["batch", "sequence"], I64), spec("attention_mask", ["batch", "sequence"], I64)]
    dataset = load_dataset(path, specs, labels_key="classes", batch_size=2)
    assert dataset.samples == 3
    assert [sorted(batch) for batch in dataset.batches] == [["attention_mask", "input_ids"]] * 2
    np.testing.assert_array_equal(dataset.batches[1]["input_ids"], [[8, 9, 10, 11]])
    assert dataset.batches[0]["input_ids"].dtype == I64
    np.testing.assert_array_equal(dataset.labels, [1, 0, 1])


def test_integer_data_is_cast_to_the_input_type(tmp_path):
    dataset = load_dataset(npz(tmp_path, x=np.arange(6, dtype=np.int32).reshape(2, 3)), [spec("x", ["n", 3])])
    assert dataset.batches[0]["x"].dtype == F32
    np.testing.assert_array_equal(dataset.batches[0]["x"], [[0, 1, 2], [3, 4, 5]])


# ------------------------------------------------------------------ errors


def error_of(path, specs, **kwargs) -> str:
    with pytest.raises(InvalidModelError) as error:
        load_dataset(path, specs, **kwargs)
    return str(error.value)


def test_missing_input_array(tmp_path):
    path = npz(tmp_path, image=samples(2, 3))
    message = error_of(path, [spec("image", ["n", 3]), spec("mask", ["n", 3])])
    assert message == (
        f"{path}: the arrays must be named like the model's inputs (image, mask) plus an optional 'labels'; "
        "missing: mask; unknown: none"
    )


def test_unknown_extra_array(tmp_path):
    path = npz(tmp_path, image=samples(2, 3), imgae=samples(2, 3))
    message = error_of(path, [spec("image", ["n", 3])])
    assert message.endswith("missing: none; unknown: imgae")


def test_mismatched_sample_counts(tmp_path):
    path = npz(tmp_path, a=samples(3, 2), b=samples(4, 2))
    message = error_of(path, [spec("a", ["n", 2]), spec("b", ["n", 2])])
    assert message == f"{path}: every input array needs the same number of samples on its first axis, got {{'a': 3, 'b': 4}}"


def test_too_few_labels(tmp_path):
    path = npz(tmp_path, a=samples(3, 2), labels=np.array([1, 2]))
    assert error_of(path, [spec("a", ["n", 2])]) == f"{path}: 'labels' has 2 entries for 3 samples"


def test_shape_that_does_not_fit_a_static_dim(tmp_path):
    path = npz(tmp_path, image=samples(2, 3, 8, 8))
    message = error_of(path, [spec("image", ["n", 1, 8, 8])])
    assert message == f"{path}: array 'image' has shape [2, 3, 8, 8], which does not fit input image[n,1,8,8] (dim 1)"


def test_shape_of_the_wrong_rank(tmp_path):
    path = npz(tmp_path, image=samples(2, 8, 8))
    message = error_of(path, [spec("image", ["n", 1, 8, 8])])
    assert message == (
        f"{path}: array 'image' has shape [2, 8, 8]; input image[n,1,8,8] needs [samples, 1, 8, 8] or [samples, ?, 1, 8, 8]"
    )


def test_float_data_for_an_integer_input(tmp_path):
    path = npz(tmp_path, input_ids=np.zeros((2, 4), np.float32))
    message = error_of(path, [spec("input_ids", ["batch", "sequence"], I64)])
    assert message == f"{path}: array 'input_ids' holds floats, the input is int64"


def test_a_file_that_is_not_an_npz(tmp_path):
    path = tmp_path / "data.npz"
    path.write_text("image,label\n0.5,1\n")
    message = error_of(path, [spec("image", ["n", 3])])
    assert message.startswith(f"{path}: not a readable .npz file: ")


def test_an_npy_file_is_not_an_npz(tmp_path):
    """np.load returns a bare ndarray for .npy (no archive to open): still a clear InvalidModelError."""
    path = tmp_path / "data.npy"
    np.save(path, samples(2, 3))
    message = error_of(path, [spec("image", ["n", 3])])
    assert message.startswith(f"{path}: not a readable .npz file")


def test_a_missing_file(tmp_path):
    path = tmp_path / "nowhere.npz"
    message = error_of(path, [spec("image", ["n", 3])])
    assert message == f"{path}: no such data file (--data takes an .npz, one array per model input)"
