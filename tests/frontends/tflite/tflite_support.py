"""Build .tflite models in the test session with TensorFlow's TFLite converter, convert them with
irforge, run the IR in OpenVINO and compare with the TFLite interpreter on the same file."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")

import tensorflow as tf  # noqa: E402

from converter.api import optimize, save_model  # noqa: E402
from converter.frontends.tflite import convert_tflite, load_tflite  # noqa: E402
from converter.frontends.tflite.reference import TFLiteReference  # noqa: E402
from converter.ir.graph import Graph  # noqa: E402
from converter.validate.runners import IrRunner, align_outputs  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5


def random(*shape: int, seed: int = 0, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


def from_function(
    function: Callable,
    specs: Sequence[tf.TensorSpec],
    representative: Iterable[Sequence[np.ndarray]] | None = None,
    integer_io: bool | tf.DType = False,
    fp16: bool = False,
    sparsity: bool = False,
) -> bytes:
    """A tf.function over `specs` as .tflite bytes; with `representative` data, fully quantized:
    int8 (int8 inputs and outputs with `integer_io` True; tf.uint8 for uint8 ones; tf.int16 for
    16-bit activations and inputs, 8-bit weights); `fp16` stores weights as float16 (DEQUANTIZE)."""
    module = tf.Module()
    module.f = tf.function(function, input_signature=list(specs))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.f.get_concrete_function()], module)
    return _convert(converter, representative, integer_io, fp16, sparsity)


def from_keras(model, representative=None, integer_io: bool | tf.DType = False, fp16: bool = False, per_tensor: bool = False) -> bytes:
    """A Keras model as .tflite bytes (see from_function); `per_tensor` quantizes each weight with
    one scale instead of one per output channel."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter._experimental_disable_per_channel = per_tensor
    return _convert(converter, representative, integer_io, fp16, False)


def _convert(converter, representative, integer_io: bool | tf.DType, fp16: bool, sparsity: bool) -> bytes:
    if fp16:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    if sparsity:
        converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    if representative is not None:
        samples = [list(sample) for sample in representative]
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: iter(samples)
        sixteen = integer_io is tf.int16
        ops = tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 if sixteen else tf.lite.OpsSet.TFLITE_BUILTINS_INT8
        converter.target_spec.supported_ops = [ops]
        if integer_io:
            io_type = tf.int8 if integer_io is True else integer_io
            converter.inference_input_type = converter.inference_output_type = io_type
    return converter.convert()


def write(data: bytes, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def operators(path: Path) -> list[str]:
    model, _ = load_tflite(path)
    return [model.operator_codes[op.opcode_index].name for op in model.subgraphs[0].operators]


def feeds_for(reference: TFLiteReference, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feeds = {}
    for spec in reference.input_specs():
        shape = [d if d is not None else 2 for d in spec.dims or ()]
        if spec.dtype.kind == "f":
            feeds[spec.name] = rng.uniform(-1, 1, shape).astype(spec.dtype)
        else:
            info = np.iinfo(spec.dtype)
            feeds[spec.name] = rng.integers(info.min, int(info.max) + 1, shape).astype(spec.dtype)
    return feeds


def output_steps(path: Path) -> list[float]:
    """Per graph output, one quantization step of what it reports: 1 for an integer output, the
    scale of the quantized tensor a DEQUANTIZE output reads, 0 for a float output."""
    model, _ = load_tflite(path)
    graph = model.subgraphs[0]
    producers = {index: op for op in graph.operators for index in op.outputs}
    steps = []
    for index in graph.outputs:
        tensor = graph.tensors[index]
        if tensor.is_quantized:
            steps.append(1.0)
            continue
        op = producers.get(index)
        source = graph.tensors[op.inputs[0]] if op is not None and model.operator_codes[op.opcode_index].name == "DEQUANTIZE" else None
        steps.append(float(source.quantization.scale[0]) if source is not None and source.is_quantized else 0.0)
    return steps


def run_ir(graph: Graph, folder: Path, feeds: dict[str, np.ndarray], reference: TFLiteReference) -> list[np.ndarray]:
    """The IR written, reloaded and run in OpenVINO; outputs in the reference's order, by name."""
    xml, _ = save_model(graph, folder / "model.xml")
    runner = IrRunner(xml, "openvino")
    actual = runner.run(feeds)
    order = align_outputs([spec.name for spec in reference.output_specs()], runner.output_names)
    return [actual[i] for i in order]


def check(
    tmp_path: Path,
    data: bytes | Path,
    feeds: dict[str, np.ndarray] | None = None,
    expect_ops: Sequence[str] = (),
    rtol: float = RTOL,
    atol: float = ATOL,
    quantized: bool = False,
    steps: int = 1,
) -> Graph:
    """Convert the .tflite, optimize, write, run in OpenVINO and compare with the interpreter:
    within rtol/atol, or within `steps` quantization steps of each output when `quantized`."""
    path = data if isinstance(data, Path) else write(data, tmp_path / "model.tflite")
    ops = operators(path)
    assert set(expect_ops) <= set(ops), f"the model has {ops}"
    reference = TFLiteReference(path)
    feeds = feeds if feeds is not None else feeds_for(reference)
    expected = reference.run(feeds)
    optimized, _ = optimize(convert_tflite(path))
    actual = run_ir(optimized, tmp_path / "ir", feeds, reference)
    assert len(actual) == len(expected)
    units = output_steps(path) if quantized else [0.0] * len(expected)
    for index, (want, got, step) in enumerate(zip(expected, actual, units)):
        assert got.shape == want.shape, f"output {index}: shape {got.shape}, TFLite {want.shape}"
        assert got.dtype == want.dtype, f"output {index}: {got.dtype}, TFLite {want.dtype}"
        if step:
            worst = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)), initial=0.0))
            assert worst <= steps * step * 1.0001, f"output {index}: off by {worst}, one step is {step}"
        else:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"output {index}")
    return optimized


def op_types(graph: Graph) -> list[str]:
    return [node.op.type for node in graph.nodes()]


def edit(data: bytes, change: Callable) -> bytes:
    """The model with `change(model)` applied to its object form (TFLite's generated schema
    classes) and written back: options and ops TensorFlow's converter does not emit."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(data, 0)
    change(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def builtin(name: str) -> int:
    from tensorflow.lite.python import schema_py_generated as schema

    return getattr(schema.BuiltinOperator, name)


def ops_of(model, name: str) -> list:
    """The operators of subgraph 0 whose op is builtin `name` (in a ModelT)."""
    code = builtin(name)
    indices = {i for i, c in enumerate(model.operatorCodes) if max(c.builtinCode, c.deprecatedBuiltinCode) == code}
    return [op for op in model.subgraphs[0].operators if op.opcodeIndex in indices]


def rename_op(model, old: str, new: str) -> None:
    """Every `old` operator becomes a `new` one (same inputs and options)."""
    for code in model.operatorCodes:
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin(old):
            code.builtinCode = builtin(new)
            code.deprecatedBuiltinCode = min(builtin(new), 127)
