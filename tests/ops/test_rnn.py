"""ONNX LSTM, GRU, RNN → LSTMSequence-5, GRUSequence-5, RNNSequence-5, and back."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter import convert_model, save_model
from converter.errors import NodeConversionError
from converter.ir.graph import Graph
from converter.validate import compare, run_ir, run_onnxruntime

SEQ, BATCH, INPUT, HIDDEN = 4, 3, 5, 6
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
OUTPUTS = {"LSTM": ["Y", "Y_h", "Y_c"], "GRU": ["Y", "Y_h"], "RNN": ["Y", "Y_h"]}


def recurrent_model(
    op: str,
    direction: str = "forward",
    layout: int = 0,
    bias: bool = True,
    initial: bool = False,
    lengths: list[int] | None = None,
    constant_weights: bool = True,
    x_dims: list | None = None,
    dynamic_batch: bool = False,
    opset: int = 22,
    seed: int = 0,
    **attrs,
) -> tuple[onnx.ModelProto, list[np.ndarray]]:
    """One recurrent node; weights as initializers or as graph inputs. Returns (model, inputs)."""
    rng = np.random.default_rng(seed)
    directions = 2 if direction == "bidirectional" else 1
    gates = GATES[op]
    x_shape = [SEQ, BATCH, INPUT] if layout == 0 else [BATCH, SEQ, INPUT]
    state_shape = [directions, BATCH, HIDDEN] if layout == 0 else [BATCH, directions, HIDDEN]
    tensors: dict[str, np.ndarray] = {
        "W": rng.standard_normal((directions, gates * HIDDEN, INPUT)).astype(np.float32) * 0.5,
        "R": rng.standard_normal((directions, gates * HIDDEN, HIDDEN)).astype(np.float32) * 0.5,
    }
    names = ["X", "W", "R"]
    if bias:
        tensors["B"] = rng.standard_normal((directions, 2 * gates * HIDDEN)).astype(np.float32)
    names.append("B" if bias else "")
    if lengths is not None:
        tensors["sequence_lens"] = np.array(lengths, dtype=np.int32)
    names.append("sequence_lens" if lengths is not None else "")
    for state in ["initial_h"] + (["initial_c"] if op == "LSTM" else []):
        if initial:
            tensors[state] = rng.standard_normal(state_shape).astype(np.float32)
        names.append(state if initial else "")
    while names[-1] == "":
        names.pop()
    if direction != "forward":
        attrs["direction"] = direction
    if layout:
        attrs["layout"] = layout
    node = helper.make_node(op, names, OUTPUTS[op], hidden_size=HIDDEN, **attrs)
    x = rng.standard_normal(x_shape).astype(np.float32)
    if dynamic_batch:
        x_dims = [SEQ, "N", INPUT] if layout == 0 else ["N", SEQ, INPUT]
    inputs_info = [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_dims or x_shape)]
    initializers, feeds = [], [x]
    for name, array in tensors.items():
        batch_dependent = name == "sequence_lens" or name.startswith("initial_")
        if dynamic_batch and batch_dependent:
            dims: list = list(array.shape)
            dims[0 if name == "sequence_lens" else 1 - layout] = "N"
            element = TensorProto.INT32 if name == "sequence_lens" else TensorProto.FLOAT
            inputs_info.append(helper.make_tensor_value_info(name, element, dims))
            feeds.append(array)
        elif constant_weights or name == "sequence_lens":
            initializers.append(numpy_helper.from_array(array, name))
        else:
            inputs_info.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(array.shape)))
            feeds.append(array)
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in OUTPUTS[op]]
    graph = helper.make_graph([node], "g", inputs_info, outputs, initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), feeds


DIRECTIONS = ["forward", "reverse", "bidirectional"]


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("constant_weights", [True, False], ids=["const", "input"])
def test_directions(check_onnx, op: str, direction: str, constant_weights: bool) -> None:
    model, inputs = recurrent_model(op, direction, constant_weights=constant_weights)
    check_onnx(model, inputs)


def check_batchwise(tmp_path, op: str, peepholes: bool = False, **kwargs) -> None:
    """onnxruntime has no layout=1: compare with the same node at layout 0, inputs and outputs transposed."""
    model, inputs = recurrent_model(op, layout=1, **kwargs)
    reference, _ = recurrent_model(op, layout=0, **{k: v for k, v in kwargs.items() if k != "x_dims"})
    if peepholes:
        directions = 2 if kwargs.get("direction") == "bidirectional" else 1
        with_peepholes(model, inputs, directions, True)
        with_peepholes(reference, inputs, directions, True)
    for tensor in reference.graph.initializer:
        if tensor.name.startswith("initial_"):
            array = numpy_helper.to_array(model.graph.initializer[[t.name for t in model.graph.initializer].index(tensor.name)])
            tensor.CopyFrom(numpy_helper.from_array(array.transpose(1, 0, 2).copy(), tensor.name))
    expected = run_onnxruntime(reference, [inputs[0].transpose(1, 0, 2).copy(), *inputs[1:]])
    expected = [expected[0].transpose(2, 0, 1, 3)] + [state.transpose(1, 0, 2) for state in expected[1:]]
    xml_path = tmp_path / "model.xml"
    save_model(convert_model(model), xml_path)
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, run_ir(xml_path, inputs, backend), 1e-4, 1e-5)
        assert result.ok, f"{backend}: {result.detail}"


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
def test_initial_states(check_onnx, op: str, direction: str) -> None:
    model, inputs = recurrent_model(op, direction, initial=True, lengths=[4, 2, 3])
    check_onnx(model, inputs)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
def test_batchwise_layout(tmp_path, op: str, direction: str) -> None:
    check_batchwise(tmp_path, op, direction=direction, initial=True, lengths=[4, 2, 3])


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_no_bias_default_states(tmp_path, op: str) -> None:
    check_batchwise(tmp_path, op, direction="bidirectional", bias=False)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("constant_weights", [True, False], ids=["const", "input"])
def test_gru_linear_before_reset(check_onnx, direction: str, bias: bool, constant_weights: bool) -> None:
    model, inputs = recurrent_model(
        "GRU", direction, bias=bias, lengths=[1, 4, 2], constant_weights=constant_weights, linear_before_reset=1
    )
    check_onnx(model, inputs)


@pytest.mark.parametrize(
    "op, activations",
    [
        ("LSTM", ["Sigmoid", "Relu", "Tanh"]),
        ("LSTM", ["Tanh", "Tanh", "Sigmoid"]),
        ("GRU", ["Relu", "Tanh"]),
        ("GRU", ["sigmoid", "relu"]),
        ("RNN", ["Relu"]),
        ("RNN", ["Sigmoid"]),
    ],
)
def test_activations(check_onnx, op: str, activations: list[str]) -> None:
    model, inputs = recurrent_model(op, activations=activations, activation_alpha=[0.5], activation_beta=[0.2])
    check_onnx(model, inputs)


def test_activations_listed_for_both_directions(check_onnx) -> None:
    model, inputs = recurrent_model("RNN", "bidirectional", activations=["Relu", "Relu"])
    check_onnx(model, inputs)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_clip(check_onnx, op: str) -> None:
    model, inputs = recurrent_model(op, "bidirectional", clip=0.7)
    check_onnx(model, inputs)


@pytest.mark.parametrize("constant_weights", [True, False], ids=["const", "input"])
def test_lstm_input_forget(check_onnx, constant_weights: bool) -> None:
    model, inputs = recurrent_model("LSTM", "bidirectional", constant_weights=constant_weights, input_forget=1)
    check_onnx(model, inputs)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_hidden_size_from_r(tmp_path, op: str) -> None:
    model, inputs = recurrent_model(op)
    expected = run_onnxruntime(model, inputs)  # onnxruntime insists on hidden_size
    del model.graph.node[0].attribute[:]
    xml_path = tmp_path / "model.xml"
    save_model(convert_model(model), xml_path)
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, run_ir(xml_path, inputs, backend), 1e-4, 1e-5)
        assert result.ok, f"{backend}: {result.detail}"


@pytest.mark.parametrize("op, opset", [("LSTM", 7), ("GRU", 7), ("RNN", 7), ("LSTM", 14)])
def test_older_opsets(check_onnx, op: str, opset: int) -> None:
    model, inputs = recurrent_model(op, "bidirectional", opset=opset)
    check_onnx(model, inputs)


@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_dynamic_sequence_length(check_onnx, op: str) -> None:
    model, inputs = recurrent_model(op, "reverse", x_dims=["T", BATCH, INPUT])
    check_onnx(model, inputs)
    graph = convert_model(model)
    assert graph.outputs[0].shape.dims == (None, 1, BATCH, HIDDEN)


def _broadcast_lowered() -> bool:
    from converter.ops import shape
    from converter.runtime.lowering import LOWERINGS

    return getattr(shape, "Broadcast", None) in LOWERINGS


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize(
    "initial",
    [True, pytest.param(False, marks=pytest.mark.skipif(not _broadcast_lowered(), reason="zero states need Broadcast-3"))],
)
def test_dynamic_batch(check_onnx, op: str, initial: bool) -> None:
    model, inputs = recurrent_model(op, "bidirectional", initial=initial, lengths=[4, 4, 4] if initial else None, dynamic_batch=True)
    check_onnx(model, inputs)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("layout", [0, 1])
def test_dynamic_x_batch_fixed_by_constant_states(tmp_path, check_onnx, op: str, layout: int) -> None:
    kwargs = {"direction": "bidirectional", "initial": True, "lengths": [3, 1, 4]}
    if layout:
        check_batchwise(tmp_path, op, x_dims=["N", SEQ, INPUT], **kwargs)
        return
    model, inputs = recurrent_model(op, x_dims=[SEQ, "N", INPUT], **kwargs)
    check_onnx(model, inputs)


def test_dynamic_batch_uneven_lengths(check_onnx) -> None:
    # OpenVINO's CPU plugin (2026.4) ignores non-constant sequence lengths when the batch is
    # dynamic (a plain opset5.rnn_sequence shows it too), so only the ONNX lowering is checked.
    model, inputs = recurrent_model("LSTM", "reverse", initial=True, lengths=[3, 1, 4], dynamic_batch=True)
    check_onnx(model, inputs, backends=("onnxruntime",))


def test_only_some_outputs_used(check_onnx) -> None:
    model, inputs = recurrent_model("LSTM")
    model.graph.node[0].output[:] = ["", "Y_h"]
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, None))
    check_onnx(model, inputs)


def test_weights_reordered_in_numpy_when_constant() -> None:
    model, _ = recurrent_model("LSTM", "bidirectional")
    histogram = convert_model(model).op_histogram()
    assert histogram.get("Gather", 0) == 0 and histogram.get("Add", 0) == 0
    assert histogram["LSTMSequence"] == 1


@pytest.mark.parametrize(
    "op, attrs, message",
    [
        ("LSTM", {"activations": ["HardSigmoid", "Tanh", "Tanh"]}, "not supported"),
        ("GRU", {"direction": "bidirectional", "activations": ["Sigmoid", "Tanh", "Sigmoid", "Relu"]}, "per direction"),
        ("LSTM", {"input_forget": 1, "activations": ["Tanh", "Tanh", "Tanh"]}, "input_forget"),
        ("RNN", {"direction": "sideways"}, "direction"),
        ("RNN", {"clip": -1.0}, "clip"),
    ],
)
def test_rejections(op: str, attrs: dict, message: str) -> None:
    model, _ = recurrent_model(op, **attrs)
    with pytest.raises(NodeConversionError, match=message):
        convert_model(model)


def with_peepholes(model: onnx.ModelProto, inputs: list[np.ndarray], directions: int, constant: bool) -> list[np.ndarray]:
    node = model.graph.node[0]
    names = list(node.input) + [""] * (8 - len(node.input))
    names[7] = "P"
    node.input[:] = names
    peepholes = np.random.default_rng(7).standard_normal((directions, 3 * HIDDEN)).astype(np.float32)
    if constant:
        model.graph.initializer.append(numpy_helper.from_array(peepholes, "P"))
        return inputs
    model.graph.input.append(helper.make_tensor_value_info("P", TensorProto.FLOAT, list(peepholes.shape)))
    return [*inputs, peepholes]


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("constant_weights", [True, False], ids=["const", "input"])
def test_peepholes_unrolled(check_onnx, direction: str, constant_weights: bool) -> None:
    model, inputs = recurrent_model("LSTM", direction, initial=True, lengths=[4, 2, 3], constant_weights=constant_weights)
    inputs = with_peepholes(model, inputs, 2 if direction == "bidirectional" else 1, constant_weights)
    check_onnx(model, inputs)


@pytest.mark.parametrize("attrs", [{"clip": 0.4}, {"input_forget": 1}, {"activations": ["Sigmoid", "Relu", "Tanh"] * 2}])
def test_peepholes_with_attributes(check_onnx, attrs: dict) -> None:
    model, inputs = recurrent_model("LSTM", "bidirectional", **attrs)
    check_onnx(model, with_peepholes(model, inputs, 2, True))


def test_peepholes_batchwise(tmp_path) -> None:
    check_batchwise(tmp_path, "LSTM", peepholes=True, direction="reverse", initial=True, lengths=[1, 4, 3])


def test_peepholes_need_a_static_sequence_length() -> None:
    model, inputs = recurrent_model("LSTM", x_dims=["T", BATCH, INPUT])
    with_peepholes(model, inputs, 1, True)
    with pytest.raises(NodeConversionError, match="static sequence length"):
        convert_model(model)


def test_zero_peepholes_accepted(check_onnx) -> None:
    model, inputs = recurrent_model("LSTM")
    model.graph.node[0].input[:] = ["X", "W", "R", "B", "", "", "", "P"]
    model.graph.initializer.append(numpy_helper.from_array(np.zeros((1, 3 * HIDDEN), np.float32), "P"))
    check_onnx(model, inputs)


# ---------------------------------------------------------------- kernels


def evaluate_with_kernels(graph: Graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run a graph with the ops' numpy kernels only."""
    values: dict[int, np.ndarray] = {}
    for parameter, array in zip(graph.parameters, inputs):
        values[id(parameter.outputs[0])] = array
    for node in graph.nodes():
        if node.op.type == "Parameter":
            continue
        assert node.op.kernel is not None, node.op.type
        results = node.op.kernel([values[id(v)] for v in node.inputs], node.attrs)
        for value, result in zip(node.outputs, results):
            values[id(value)] = result
    return [values[id(v)] for v in graph.outputs]


@pytest.mark.parametrize(
    "op, attrs",
    [
        ("LSTM", {"direction": "bidirectional", "lengths": [4, 1, 3], "initial": True}),
        ("LSTM", {"direction": "reverse", "clip": 0.5, "activations": ["Sigmoid", "Relu", "Tanh"]}),
        ("GRU", {"direction": "bidirectional", "lengths": [2, 4, 3], "linear_before_reset": 1}),
        ("GRU", {"direction": "reverse", "initial": True}),
        ("RNN", {"direction": "bidirectional", "lengths": [4, 0, 2], "activations": ["Relu", "Relu"]}),
    ],
)
def test_kernels_match_onnxruntime(op: str, attrs: dict) -> None:
    model, inputs = recurrent_model(op, **attrs)
    expected = run_onnxruntime(model, inputs)
    actual = evaluate_with_kernels(convert_model(model), inputs)
    for e, a in zip(expected, actual):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_double_precision(tmp_path, op: str) -> None:
    """onnxruntime has no f64 recurrent kernels: compare with the f32 model's answer."""
    model, inputs = recurrent_model(op, "bidirectional", constant_weights=False, initial=True, lengths=[2, 4, 3])
    expected = [e.astype(np.float64) for e in run_onnxruntime(model, inputs)]
    for value_info in list(model.graph.input) + list(model.graph.output):
        value_info.type.tensor_type.elem_type = TensorProto.DOUBLE
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.data_type == TensorProto.FLOAT:
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float64), tensor.name))
    xml_path = tmp_path / "model.xml"
    save_model(convert_model(model), xml_path)
    doubles = [x.astype(np.float64) for x in inputs]
    for backend in ("openvino", "onnxruntime"):
        result = compare(expected, run_ir(xml_path, doubles, backend), 1e-4, 1e-5)
        assert result.ok, f"{backend}: {result.detail}"
