"""The .tflite file itself: the flatbuffer reader, broken files, unsupported ops, options, sparse
and out-of-flatbuffer buffers, the reference runner and zoo discovery."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from cli_support import assert_clean_failure, irforge  # noqa: E402
from tflite_support import check, edit, from_function, ops_of, random, rename_op, tf, write  # noqa: E402

from converter.api import load_model  # noqa: E402
from converter.errors import InvalidModelError, NodeConversionError, UnsupportedOpsError  # noqa: E402
from converter.frontends import detect_format, reference_runner  # noqa: E402
from converter.frontends.tflite import convert_tflite, load_tflite  # noqa: E402
from converter.frontends.tflite.model import convert_model  # noqa: E402
from converter.frontends.tflite.ops import HANDLERS  # noqa: E402
from converter.frontends.tflite.reference import TFLiteReference  # noqa: E402
from converter.frontends.tflite.schema import BUILTIN_OPTIONS  # noqa: E402
from converter.ops import elementwise as ew  # noqa: E402


def spec(*shape: int) -> tf.TensorSpec:
    return tf.TensorSpec(shape, tf.float32)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """conv → relu → add: a few ops, a few tensors."""
    w = random(3, 3, 2, 4, seed=1)
    data = from_function(lambda x: tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME")) + 1.0, [spec(1, 6, 6, 2)])
    return write(data, tmp_path_factory.mktemp("small") / "small.tflite")


# ---------------------------------------------------------------- broken files


def test_truncated_files_are_invalid_models(small, tmp_path):
    data = small.read_bytes()
    for size in sorted({0, 3, 7, 8, 12, *range(16, len(data), max(1, len(data) // 60))}):
        path = write(data[:size], tmp_path / f"cut{size}.tflite")
        with pytest.raises(InvalidModelError, match=str(path)):
            convert_tflite(path)


def test_garbage_is_an_invalid_model(tmp_path):
    rng = np.random.default_rng(0)
    for index in range(20):
        garbage = rng.integers(0, 256, 64 + 16 * index, dtype=np.uint8).tobytes()
        if index % 2:
            garbage = garbage[:4] + b"TFL3" + garbage[8:]  # past the identifier check
        with pytest.raises(InvalidModelError):
            convert_tflite(write(garbage, tmp_path / f"garbage{index}.tflite"))


def test_corrupted_bytes_are_converter_errors(small, sparse_pair):
    """Bytes changed anywhere (offsets, lengths, shapes, indices, sparsity): a ConverterError, never a crash."""
    from converter.errors import ConverterError

    rng = np.random.default_rng(0)
    for source in (small, sparse_pair[1]):
        data = source.read_bytes()
        for _ in range(300):
            corrupted = bytearray(data)
            for position in rng.integers(0, len(data), rng.integers(1, 6)):
                corrupted[position] = rng.integers(0, 256)
            try:
                convert_tflite(bytes(corrupted))
            except ConverterError:
                pass


def test_truncated_file_through_the_cli(small, tmp_path):
    source = write(small.read_bytes()[: small.stat().st_size // 2], tmp_path / "half.tflite")
    assert_clean_failure(irforge("convert", source, "-o", tmp_path / "out"), "half.tflite", "not a TFLite model")


def test_garbage_file_through_the_cli(tmp_path):
    source = write(b"this is not a flatbuffer at all" * 4, tmp_path / "text.tflite")
    assert_clean_failure(irforge("convert", source, "-o", tmp_path / "out"), "text.tflite", "TFL3")


def test_unsupported_ops_are_reported_at_once(small):
    def alien(model):
        from tensorflow.lite.python import schema_py_generated as schema

        rename_op(model, "CONV_2D", "EMBEDDING_LOOKUP_SPARSE")
        custom = schema.OperatorCodeT()
        custom.builtinCode = custom.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
        custom.customCode = "MyCustomOp"
        model.operatorCodes.append(custom)
        ops_of(model, "ADD")[0].opcodeIndex = len(model.operatorCodes) - 1

    with pytest.raises(UnsupportedOpsError) as caught:
        convert_tflite(edit(small.read_bytes(), alien))
    assert set(caught.value.unsupported) == {"EMBEDDING_LOOKUP_SPARSE", "MyCustomOp"}
    assert all(names and names[0] for names in caught.value.unsupported.values())  # the output tensors' names


def test_unsupported_ops_through_the_cli(small, tmp_path):
    source = write(edit(small.read_bytes(), lambda m: rename_op(m, "ADD", "SKIP_GRAM")), tmp_path / "odd.tflite")
    assert_clean_failure(irforge("convert", source, "-o", tmp_path / "out"), "unsupported ops", "SKIP_GRAM")


def test_tensor_read_before_written_is_invalid(small):
    def cycle(model):
        (add,) = ops_of(model, "ADD")
        (conv,) = ops_of(model, "CONV_2D")
        conv.inputs = [add.outputs[0], *conv.inputs[1:]]

    with pytest.raises(InvalidModelError, match="read before"):
        convert_tflite(edit(small.read_bytes(), cycle))


# ---------------------------------------------------------------- options and operator codes


# The options table each handled op reads (the BuiltinOptions union's type code).
OPTIONS_OF = {
    "CONV_2D": 1, "DEPTHWISE_CONV_2D": 2, "AVERAGE_POOL_2D": 5, "MAX_POOL_2D": 5, "L2_POOL_2D": 5,
    "FULLY_CONNECTED": 8, "SOFTMAX": 9, "CONCATENATION": 10, "ADD": 11, "RESIZE_BILINEAR": 15, "RESHAPE": 17,
    "MUL": 21, "PAD": 22, "TRANSPOSE": 26, "MEAN": 27, "SUM": 27, "REDUCE_MAX": 27, "SUB": 28, "DIV": 29,
    "SQUEEZE": 30, "STRIDED_SLICE": 32, "LOG_SOFTMAX": 36, "DEQUANTIZE": 38, "MAXIMUM": 39, "MINIMUM": 39,
    "PADV2": 43, "SLICE": 48, "TRANSPOSE_CONV": 49, "EXPAND_DIMS": 52, "RESIZE_NEAREST_NEIGHBOR": 74,
    "LEAKY_RELU": 75, "QUANTIZE": 89, "HARD_SWISH": 91, "DENSIFY": 99, "GELU": 116,
}  # fmt: skip


@pytest.mark.parametrize("op", sorted(OPTIONS_OF))
def test_handler_options_are_the_schema_fields_with_its_defaults(op):
    parameters = inspect.signature(HANDLERS[op]).parameters
    options = {name: p.default for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    fields = {name: default for name, _, default in BUILTIN_OPTIONS[OPTIONS_OF[op]].fields if name is not None}
    assert options == fields


def test_an_option_the_handler_does_not_take_is_reported(small):
    model, source = load_tflite(edit(small.read_bytes(), lambda m: setattr(ops_of(m, "ADD")[0].builtinOptions, "fusedActivationFunction", 1)))
    handlers = dict(HANDLERS, ADD=lambda ctx, a, b: ew.Add(a, b))
    with pytest.raises(NodeConversionError, match="fused_activation_function='RELU'"):
        convert_model(model, source, handlers)
    model, source = load_tflite(small)
    convert_model(model, source, handlers)  # at its default, an option needs no parameter


def test_opcode_is_the_larger_of_both_codes(small, tmp_path):
    """Old files keep the op in deprecated_builtin_code alone, new ones in builtin_code (127 in the old field past 127)."""

    def old_style(model):
        for code in model.operatorCodes:
            code.deprecatedBuiltinCode, code.builtinCode = max(code.builtinCode, code.deprecatedBuiltinCode), 0

    check(tmp_path, edit(small.read_bytes(), old_style))
    gelu = from_function(lambda x: tf.nn.gelu(x, approximate=True), [spec(2, 3)])
    model, _ = load_tflite(gelu)
    assert [code.name for code in model.operator_codes] == ["GELU"]


# ---------------------------------------------------------------- weights


def test_weights_are_views_on_the_file(small):
    model, source = load_tflite(small)
    graph = convert_model(model, source, HANDLERS)
    file = np.frombuffer(model.buf, np.uint8)
    floats = [n.attrs["value"] for n in graph.nodes() if n.op.type == "Const" and n.attrs["value"].dtype == np.float32]
    kept = [v for v in floats if v.ndim < 4]  # all but the filter, rearranged to OIHW
    assert kept and all(np.shares_memory(v, file) and not v.flags.writeable for v in kept)


def test_buffers_after_the_flatbuffer(small, tmp_path):
    """Models over 2 GB keep their buffers after the flatbuffer, found by offset and size from the file's start."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(small.read_bytes(), 0)
    moved = [buffer for buffer in model.buffers if buffer.data is not None and len(buffer.data)]
    payloads = [bytes(np.asarray(buffer.data, np.uint8)) for buffer in moved]
    for buffer, payload in zip(moved, payloads):
        buffer.data, buffer.offset, buffer.size = None, 1 << 40, len(payload)  # placeholders: the table's size stays
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    start = (len(builder.Output()) + 15) // 16 * 16
    offsets, position = [], start
    for payload in payloads:
        offsets.append(position)
        position = (position + len(payload) + 15) // 16 * 16
    for buffer, offset in zip(moved, offsets):
        buffer.offset = offset
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    head = bytes(builder.Output())
    assert len(head) <= start
    data = bytearray(head.ljust(position, b"\0"))
    for payload, offset in zip(payloads, offsets):
        data[offset : offset + len(payload)] = payload
    path = write(bytes(data), tmp_path / "outside.tflite")
    check(tmp_path, path)
    with pytest.raises(InvalidModelError, match="beyond the end"):
        convert_tflite(write(bytes(data[: offsets[-1] + 2]), tmp_path / "cut.tflite"))


@pytest.fixture(scope="module")
def sparse_pair(tmp_path_factory):
    """A fully connected layer and a convolution with 80 % zero weights, dense and as TensorFlow's
    converter stores them sparse (DENSIFY of SPARSE_CSR dimensions)."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((64, 32)).astype(np.float32)
    w[rng.random(w.shape) < 0.8] = 0
    k = rng.standard_normal((3, 3, 4, 8)).astype(np.float32)
    k[rng.random(k.shape) < 0.8] = 0

    def f(x, y):
        return {"fc": tf.matmul(x, w), "conv": tf.nn.conv2d(y, k, 1, "SAME")}

    folder = tmp_path_factory.mktemp("sparse")
    specs = [spec(2, 64), spec(1, 6, 6, 4)]
    return write(from_function(f, specs), folder / "dense.tflite"), write(from_function(f, specs, sparsity=True), folder / "sparse.tflite")


def _outputs(path: Path, feeds: dict[str, np.ndarray], tmp_path: Path) -> list[np.ndarray]:
    from tflite_support import run_ir

    from converter.api import optimize

    return run_ir(optimize(convert_tflite(path))[0], tmp_path, feeds, TFLiteReference(path))


def test_sparse_model_matches_its_dense_twin(sparse_pair, tmp_path):
    dense, sparse = sparse_pair
    model, _ = load_tflite(sparse)
    assert any(t.sparsity is not None for t in model.subgraphs[0].tensors)
    check(tmp_path / "sparse", sparse, expect_ops=["DENSIFY"])
    reference = TFLiteReference(dense)
    feeds = {s.name: random(*s.dims, seed=3) for s in reference.input_specs()}
    expected = reference.run(feeds)
    for want, got in zip(expected, _outputs(sparse, feeds, tmp_path / "ir")):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def _block_sparse(dense: np.ndarray, block: tuple[int, int], column_major: bool):
    """`dense` [R, C] in TFLite's sparse format: blocks of `block`, the block grid traversed row- or
    column-major (dense outer dimension, SPARSE_CSR inner one), each block stored row-major."""
    from tensorflow.lite.python import schema_py_generated as schema

    rows, cols = dense.shape[0] // block[0], dense.shape[1] // block[1]
    grid = dense.reshape(rows, block[0], cols, block[1]).transpose(0, 2, 1, 3)  # [rows, cols, bh, bw]
    if column_major:
        grid = grid.transpose(1, 0, 2, 3)
    segments, indices, values = [0], [], []
    for outer in range(grid.shape[0]):
        for inner in range(grid.shape[1]):
            if np.any(grid[outer, inner]):
                indices.append(inner)
                values.append(grid[outer, inner].reshape(-1))
        segments.append(len(indices))

    def dimension(size: int, sparse_segments=None, sparse_indices=None):
        meta = schema.DimensionMetadataT()
        if sparse_segments is None:
            meta.format, meta.denseSize = schema.DimensionType.DENSE, size
        else:
            meta.format = schema.DimensionType.SPARSE_CSR
            meta.arraySegmentsType = meta.arrayIndicesType = schema.SparseIndexVector.Int32Vector
            meta.arraySegments, meta.arrayIndices = schema.Int32VectorT(), schema.Int32VectorT()
            meta.arraySegments.values, meta.arrayIndices.values = sparse_segments, sparse_indices
        return meta

    sparsity = schema.SparsityParametersT()
    sparsity.traversalOrder = [1, 0, 2, 3] if column_major else [0, 1, 2, 3]
    sparsity.blockMap = [0, 1]
    sparsity.dimMetadata = [dimension(grid.shape[0]), dimension(0, segments, indices), dimension(block[0]), dimension(block[1])]
    return sparsity, np.concatenate(values).astype(np.float32)


@pytest.mark.parametrize("column_major", [False, True])
def test_block_sparse_weights_written_by_hand(sparse_pair, tmp_path, column_major):
    """Block sparsity with the block grid in either order: the interpreter's DENSIFY and irforge agree."""
    dense, sparse = sparse_pair
    rng = np.random.default_rng(1)
    weights = rng.standard_normal((32, 64)).astype(np.float32)  # FULLY_CONNECTED's [N, K]
    weights.reshape(8, 4, 16, 4).transpose(0, 2, 1, 3)[rng.random((8, 16)) < 0.7] = 0  # whole 4×4 blocks of zeros

    def rewrite(model):
        (densify,) = [op for op in ops_of(model, "DENSIFY") if model.subgraphs[0].tensors[op.inputs[0]].shape.tolist() == [32, 64]]
        tensor = model.subgraphs[0].tensors[densify.inputs[0]]
        tensor.sparsity, values = _block_sparse(weights, (4, 4), column_major)
        model.buffers[tensor.buffer].data = np.frombuffer(values.tobytes(), np.uint8)

    path = write(edit(sparse.read_bytes(), rewrite), tmp_path / "block.tflite")
    check(tmp_path, path, expect_ops=["DENSIFY"])
    graph = convert_tflite(path)
    (constant,) = [n.attrs["value"] for n in graph.nodes() if n.op.type == "Const" and n.attrs["value"].shape == (32, 64)]
    np.testing.assert_array_equal(constant, weights)


# ---------------------------------------------------------------- plugged into irforge


def test_detected_loaded_and_validated_as_tflite(small):
    assert detect_format(small) == "tflite"
    assert load_model(small).name == "small"
    runner = reference_runner(small)
    assert isinstance(runner, TFLiteReference) and runner.label == "tflite" and runner.node_count == 2


def test_zoo_discovers_tflite_files(small, tmp_path):
    from converter.zoo import find_models

    write(small.read_bytes(), tmp_path / "zoo" / "nets" / "small.tflite")
    assert find_models(tmp_path / "zoo") == [tmp_path / "zoo" / "nets" / "small.tflite"]


def test_convert_and_validate_through_the_cli(small, tmp_path):
    import pandas as pd

    assert irforge("convert", small, "-o", tmp_path / "ir").returncode == 0
    result = irforge("validate", small, tmp_path / "ir")
    assert result.returncode == 0, result.stdout + result.stderr
    frame = pd.read_csv(tmp_path / "ir" / "report.csv")
    assert set(frame["framework"]) == {"tflite"}
    assert (frame.loc[frame["precision"] == "fp32", "max_rel"] < 1e-5).all()
