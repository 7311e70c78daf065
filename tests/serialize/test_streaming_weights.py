"""Large memory-mapped weights (ONNX external data) are streamed: read from their file a chunk
at a time when written or compressed to FP16, never paged in through the mapping (which would
keep a resident copy of the whole model for as long as the mapping lives)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from converter.ir import arrays
from converter.ir.arrays import chunks, file_region, sample_key
from converter.passes.compress_fp16 import _half, _half_in_chunks
from converter.ops.core import const

ROWS, COLUMNS = 3072, 2048  # 24 MiB of f32


def _weights() -> np.ndarray:
    weights = np.random.default_rng(0).standard_normal((ROWS, COLUMNS)).astype(np.float32)
    weights[0, :3] = [np.inf, np.nan, -1e6]  # beyond f16: clamped, NaN kept
    return weights


def _external_model(folder: Path, weights: np.ndarray) -> Path:
    (folder / "w.bin").write_bytes(b"\0" * 64 + weights.tobytes())
    tensor = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=list(weights.shape))
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "w.bin"), ("offset", "64"), ("length", str(weights.nbytes))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, ROWS])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [tensor],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = folder / "m.onnx"
    onnx.save(model, path)
    return path


def _mapped(folder: Path, weights: np.ndarray) -> np.ndarray:
    (folder / "raw.bin").write_bytes(b"\0" * 12 + weights.tobytes())
    return np.asarray(np.memmap(folder / "raw.bin", dtype="<f4", mode="r", offset=12, shape=weights.shape))


def test_chunks_samples_and_halves_of_a_map_equal_the_array(tmp_path: Path, monkeypatch) -> None:
    weights = _weights()
    mapped = _mapped(tmp_path, weights)
    assert file_region(mapped) == (str(tmp_path / "raw.bin"), 12)
    assert file_region(mapped[1:]) == (str(tmp_path / "raw.bin"), 12 + COLUMNS * 4)
    assert file_region(mapped[:, ::2]) is None and file_region(weights) is None
    monkeypatch.setattr(arrays, "CHUNK_BYTES", 1 << 20)
    pieces = [piece.copy() for piece in chunks(mapped, 3 << 20)]
    assert len(pieces) == 8 and np.array_equal(np.concatenate(pieces), weights.reshape(-1), equal_nan=True)
    assert sample_key(mapped) == sample_key(weights)
    expected = np.clip(weights, -65504, 65504).astype(np.float16)
    for half in (_half(const(mapped).producer), _half_in_chunks(weights), _half_in_chunks(mapped)):
        assert half is not None and np.array_equal(half, expected, equal_nan=True)
    mostly_huge = np.full((COLUMNS, 8), 1e9, np.float32)
    assert _half_in_chunks(mostly_huge) is None  # kept in f32, as the one-shot rule says


CONVERT = r"""
import json, re, sys
from converter.api import load_model, optimize, save_model
def rss_file():
    return int(re.search(r"RssFile:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024
graph, _ = optimize(load_model(sys.argv[1]))
before = rss_file()
save_model(graph, sys.argv[2] + "/FP32/m.xml")
save_model(graph, sys.argv[2] + "/FP16/m.xml", compress_to_fp16=True)
print(json.dumps({"paged_in": rss_file() - before}))
"""


def test_a_large_external_weight_is_written_and_compressed_without_paging_it_in(tmp_path: Path) -> None:
    weights = _weights()
    source = _external_model(tmp_path, weights)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-c", CONVERT, str(source), str(out)], capture_output=True, text=True, check=True)
    paged_in = json.loads(result.stdout.strip().splitlines()[-1])["paged_in"]
    assert paged_in < weights.nbytes // 4, f"{paged_in:,} bytes of the {weights.nbytes:,}-byte map became resident"
    fp32 = (out / "FP32" / "m.bin").read_bytes()
    fp16 = (out / "FP16" / "m.bin").read_bytes()
    assert weights.tobytes() in fp32
    assert np.clip(weights, -65504, 65504).astype(np.float16).tobytes() in fp16


def test_sample_key_of_a_view_reads_the_elements_a_flat_copy_would() -> None:
    """Broadcast and transposed views are sampled in place (no flat copy of the whole view), to the
    same key as their contiguous copy, so equal constants still meet in eliminate_duplicates."""
    rng = np.random.default_rng(7)
    views = [
        rng.standard_normal((30, 40)).T,
        np.broadcast_to(np.float32(3), (5, 7)),
        np.broadcast_to(rng.standard_normal(3), (1000, 3)),
        rng.standard_normal((2, 3, 4))[:, ::2],
        rng.standard_normal(300)[::-1],
    ]
    for view in views:
        assert not view.flags.c_contiguous
        assert sample_key(view) == sample_key(np.ascontiguousarray(view)), view.shape


def test_transposing_a_large_memory_map_reads_its_file(tmp_path: Path) -> None:
    """contiguous_transpose of a memory-mapped filter over 1 MiB reads it from the file (its pages
    are not left resident through the map): the same values as numpy's transpose."""
    from converter.ir.arrays import contiguous_transpose

    filt = np.random.default_rng(8).standard_normal((3, 3, 96, 128)).astype(np.float32)  # HWIO, 1.3 MB
    path = tmp_path / "weights.bin"
    path.write_bytes(b"\0" * 64 + filt.tobytes())
    mapped = np.memmap(path, dtype=np.float32, mode="r", offset=64, shape=filt.shape)
    assert file_region(mapped) is not None
    result = contiguous_transpose(mapped, [3, 2, 0, 1])
    assert not isinstance(result, np.memmap) and result.flags.c_contiguous
    np.testing.assert_array_equal(result, np.ascontiguousarray(filt.transpose(3, 2, 0, 1)))
