"""Model preparation on ONNX models built with onnx.helper: each option's IR runs in OpenVINO and
matches onnxruntime on the source fed the correspondingly prepared input (rtol 1e-4); folded
preprocessing costs no op; what cannot fold stays as explicit ops; bad options fail in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter.api import load_model, optimize
from converter.errors import ConverterError
from converter.frontends.options import FrontendOptions
from converter.validate.runners import GraphRunner

MEAN = np.array([123.68, 116.78, 103.94], np.float32)
SCALE = np.array([58.4, 57.1, 57.4], np.float32)
RNG = np.random.default_rng(0)


def _classifier(path: Path, pads: int, first: str = "conv") -> Path:
    """x [N,3,H,W] → first layer → ReLU ("features") → 1×1 conv → global average pool → Gemm → "logits".
    `pads` pads the first 3×3 convolution (stride 2); first="matmul" starts with a MatMul over W."""
    weights = {
        "w1": RNG.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.2,
        "b1": RNG.standard_normal(8).astype(np.float32),
        "w2": RNG.standard_normal((6, 8, 1, 1)).astype(np.float32) * 0.3,
        "b2": RNG.standard_normal(6).astype(np.float32),
        "fc": RNG.standard_normal((6, 5)).astype(np.float32),
        "fcb": RNG.standard_normal(5).astype(np.float32),
        "m": RNG.standard_normal((16, 8)).astype(np.float32) * 0.1,
    }
    if first == "conv":
        nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], strides=[2, 2], pads=[pads] * 4)]
    else:
        nodes = [
            helper.make_node("MatMul", ["x", "m"], ["mm"]),
            helper.make_node("Transpose", ["mm"], ["mt"], perm=[0, 1, 3, 2]),
            helper.make_node("Conv", ["mt", "w1", "b1"], ["c1"], kernel_shape=[3, 3], strides=[2, 2], pads=[pads] * 4),
        ]
    nodes += [
        helper.make_node("Relu", ["c1"], ["features"]),
        helper.make_node("Conv", ["features", "w2", "b2"], ["c2"], kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["c2"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc", "fcb"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"] if first == "conv" else ["N", 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@pytest.fixture(scope="module")
def padded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _classifier(tmp_path_factory.mktemp("onnx") / "padded.onnx", pads=1)


@pytest.fixture(scope="module")
def unpadded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _classifier(tmp_path_factory.mktemp("onnx") / "unpadded.onnx", pads=0)


def _source(path: Path, feeds: dict[str, np.ndarray], outputs: list[str] | None = None) -> list[np.ndarray]:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(outputs, feeds)


def _ir(path: Path, options: FrontendOptions):
    graph, _ = optimize(load_model(path, options))
    return graph


def _ov(graph, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    return GraphRunner(graph, "openvino").run(feeds)


def _ops(graph) -> int:
    return sum(count for op, count in graph.op_histogram().items() if op not in ("Const", "Parameter"))


def _close(got: np.ndarray, want: np.ndarray) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))


def _normalized(raw_nchw: np.ndarray, reverse: bool = True) -> np.ndarray:
    x = raw_nchw[:, ::-1] if reverse else raw_nchw
    return np.ascontiguousarray((x - MEAN[None, :, None, None]) / SCALE[None, :, None, None], np.float32)


PREPROCESS = dict(mean_values="x[123.68,116.78,103.94]", scale_values="x[58.4,57.1,57.4]", reverse_input_channels=True)


def test_padded_conv_static_shape_folds_mean_scale_reverse(padded: Path) -> None:
    raw = RNG.uniform(0, 255, (1, 3, 16, 16)).astype(np.float32)
    plain = _ir(padded, FrontendOptions(inputs=("x[1,3,16,16]",)))
    prepared = _ir(padded, FrontendOptions(inputs=("x[1,3,16,16]",), **PREPROCESS))
    assert prepared.op_histogram() == plain.op_histogram()  # the preprocessing costs nothing
    (want,) = _source(padded, {"x": _normalized(raw)})
    _close(_ov(prepared, {"x": raw})[0], want)
    # the bias replacing the first convolution's varies over positions: the borders saw zeros
    biases = [n.inputs[1].const for n in prepared.nodes() if n.op.type == "Add" and n.inputs[1].const is not None]
    assert any(b.shape[-2:] == (8, 8) for b in biases)


def test_padded_conv_dynamic_shape_keeps_the_mean_explicit(padded: Path) -> None:
    raw = RNG.uniform(0, 255, (2, 3, 12, 20)).astype(np.float32)
    plain = _ir(padded, FrontendOptions())
    prepared = _ir(padded, FrontendOptions(**PREPROCESS))
    assert prepared.inputs[0].shape.dims == (None, 3, None, None)
    assert _ops(prepared) > _ops(plain)  # borders depend on the size: no exact fold
    (want,) = _source(padded, {"x": _normalized(raw)})
    _close(_ov(prepared, {"x": raw})[0], want)


def test_unpadded_conv_folds_per_channel_whatever_the_size(unpadded: Path) -> None:
    plain = _ir(unpadded, FrontendOptions())
    prepared = _ir(unpadded, FrontendOptions(**PREPROCESS))
    assert prepared.op_histogram() == plain.op_histogram()
    for shape in ((1, 3, 9, 9), (2, 3, 15, 11)):
        raw = RNG.uniform(0, 255, shape).astype(np.float32)
        (want,) = _source(unpadded, {"x": _normalized(raw)})
        _close(_ov(prepared, {"x": raw})[0], want)


def test_scalar_mean_and_scale_and_no_reversal(unpadded: Path) -> None:
    prepared = _ir(unpadded, FrontendOptions(mean_values="127.5", scale_values="[127.5]"))
    assert prepared.op_histogram() == _ir(unpadded, FrontendOptions()).op_histogram()
    raw = RNG.uniform(0, 255, (1, 3, 10, 10)).astype(np.float32)
    (want,) = _source(unpadded, {"x": ((raw - 127.5) / 127.5).astype(np.float32)})
    _close(_ov(prepared, {"x": raw})[0], want)


def test_first_op_not_a_convolution_keeps_explicit_ops(tmp_path: Path) -> None:
    model = _classifier(tmp_path / "matmul_first.onnx", pads=1, first="matmul")
    prepared = _ir(model, FrontendOptions(**PREPROCESS))
    assert "Gather" in prepared.op_histogram()  # the channel reversal, explicit
    raw = RNG.uniform(0, 255, (2, 3, 16, 16)).astype(np.float32)
    (want,) = _source(model, {"x": _normalized(raw)})
    _close(_ov(prepared, {"x": raw})[0], want)


def test_target_layout_and_element_type(padded: Path) -> None:
    options = FrontendOptions(inputs=("x[1,3,16,16]{u8}",), layout="x(nchw->nhwc)", **PREPROCESS)
    prepared = _ir(padded, options)
    parameter = prepared.parameters[0]
    assert parameter.outputs[0].shape.dims == (1, 16, 16, 3) and parameter.outputs[0].element_type.value == "u8"
    assert parameter.rt_info["layout"]["layout"] == "[N,H,W,C]"
    raw = RNG.integers(0, 256, (1, 16, 16, 3), dtype=np.uint8)
    (want,) = _source(padded, {"x": _normalized(raw.transpose(0, 3, 1, 2).astype(np.float32))})
    _close(_ov(prepared, {"x": raw})[0], want)
    histogram = prepared.op_histogram()
    assert histogram.get("Convert") == 1 and histogram.get("Transpose") == 1  # all the preprocessing adds


def test_shapes_and_batch(padded: Path) -> None:
    reshaped = _ir(padded, FrontendOptions(inputs=("x[2,3,20,12]",)))
    assert reshaped.inputs[0].shape.dims == (2, 3, 20, 12)
    assert reshaped.outputs[0].shape.dims == (2, 5)
    raw = RNG.standard_normal((2, 3, 20, 12)).astype(np.float32)
    _close(_ov(reshaped, {"x": raw})[0], _source(padded, {"x": raw})[0])
    batched = _ir(padded, FrontendOptions(batch=3, inputs=("x[?,3,16,?]",)))
    assert batched.inputs[0].shape.dims == (3, 3, 16, None)
    raw = RNG.standard_normal((3, 3, 16, 10)).astype(np.float32)
    _close(_ov(batched, {"x": raw})[0], _source(padded, {"x": raw})[0])


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """y = If(rate > 8000, x·gain·2, x − gain) + Reshape(x, shape): a frozen rate picks the branch, a frozen
    shape input is folded into the Reshape."""
    then_branch = helper.make_graph(
        [helper.make_node("Mul", ["xg", "two"], ["t_out"])], "then", [], [helper.make_tensor_value_info("t_out", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array(2, np.float32), "two")],
    )
    else_branch = helper.make_graph(
        [helper.make_node("Sub", ["x", "gain"], ["e_out"])], "else", [], [helper.make_tensor_value_info("e_out", TensorProto.FLOAT, None)]
    )
    nodes = [
        helper.make_node("Mul", ["x", "gain"], ["xg"]),
        helper.make_node("Greater", ["rate", "limit"], ["fast"]),
        helper.make_node("Squeeze", ["fast"], ["cond"]),
        helper.make_node("If", ["cond"], ["branch"], then_branch=then_branch, else_branch=else_branch),
        helper.make_node("Reshape", ["x", "shape"], ["flat"]),
        helper.make_node("ReduceSum", ["flat"], ["total"], keepdims=0),
        helper.make_node("Add", ["branch", "total"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "gated",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 6]),
            helper.make_tensor_value_info("gain", TensorProto.FLOAT, [6]),
            helper.make_tensor_value_info("rate", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array([8000], np.int64), "limit")],
    )
    path = tmp_path_factory.mktemp("gated") / "gated.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_freeze_inputs_folds_what_depends_on_them(gated: Path) -> None:
    x = RNG.standard_normal((4, 6)).astype(np.float32)
    gain = RNG.standard_normal(6).astype(np.float32)
    plain = _ir(gated, FrontendOptions())
    frozen = _ir(gated, FrontendOptions(inputs=("rate->16000", "shape[2]->[6,4]", "gain->[1,2,3,4,5,6]")))
    assert [v.name for v in frozen.inputs] == ["x"]
    assert "Greater" in plain.op_histogram() and "Greater" not in frozen.op_histogram()
    # the branch condition is a constant now (folding the If itself is the passes' business)
    assert all(n.inputs[0].const is not None for n in frozen.nodes() if n.op.type == "If")
    assert _ops(frozen) < _ops(plain)
    want = _source(gated, {"x": x, "gain": np.arange(1, 7, dtype=np.float32), "rate": np.array([16000]), "shape": np.array([6, 4])})[0]
    _close(_ov(frozen, {"x": x})[0], want)
    slow = _ir(gated, FrontendOptions(inputs=("rate->[100]", "shape->[24,1]")))
    assert [v.name for v in slow.inputs] == ["x", "gain"]
    want = _source(gated, {"x": x, "gain": gain, "rate": np.array([100]), "shape": np.array([24, 1])})[0]
    _close(_ov(slow, {"x": x, "gain": gain})[0], want)


def test_cuts_at_internal_tensors(padded: Path, tmp_path: Path) -> None:
    # --input at an internal tensor: a new Parameter there, the first layers gone
    head = _ir(padded, FrontendOptions(inputs=("features",)))
    assert [(v.name, v.shape.dims) for v in head.inputs] == [("features", (None, 8, None, None))]
    assert head.op_histogram().get("Convolution") == 1
    sub = tmp_path / "head.onnx"
    onnx.utils.extract_model(str(padded), str(sub), ["features"], ["logits"], check_model=False)
    features = np.maximum(RNG.standard_normal((2, 8, 5, 7)), 0).astype(np.float32)
    _close(_ov(head, {"features": features})[0], _source(sub, {"features": features})[0])
    # --output: cut after the named tensors, in that order
    body = _ir(padded, FrontendOptions(outputs=("features", "pooled")))
    assert [v.name for v in body.outputs] == ["features", "pooled"]
    raw = RNG.standard_normal((1, 3, 16, 16)).astype(np.float32)
    got = _ov(body, {"x": raw})
    onnx.utils.extract_model(str(padded), str(tmp_path / "body.onnx"), ["x"], ["features", "pooled"], check_model=False)
    for g, w in zip(got, _source(tmp_path / "body.onnx", {"x": raw})):
        _close(g, w)
    # both at once, with the cut input given a static shape
    middle = _ir(padded, FrontendOptions(inputs=("features[1,8,4,4]",), outputs=("c2",)))
    assert middle.inputs[0].shape.dims == (1, 8, 4, 4) and middle.outputs[0].shape.dims == (1, 6, 4, 4)


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        (FrontendOptions(inputs=("featurez",)), ("--input 'featurez'", "close: features")),
        (FrontendOptions(outputs=("logit",)), ("--output 'logit'", "close: logits")),
        (FrontendOptions(inputs=("x[1,3,16]",)), ("rank 3", "'x' has rank 4")),
        (FrontendOptions(inputs=("x[1,3,2,2]->[1,2,3]",)), ("3 values for 'x' of shape [1,3,2,2] (12 values)",)),
        (FrontendOptions(inputs=("x->1",)), ("'x' is [?,3,?,?]", "give the frozen value's shape")),
        (FrontendOptions(mean_values="x[1,2]"), ("no dim of 2 channels",)),
        (FrontendOptions(mean_values="y[1,2,3]"), ("--mean-values 'y'", "inputs: x")),
        (FrontendOptions(inputs=("x[1,3,16,16]",), layout="x(nhw)"), ("layout nhw of input 'x': 3 dims",)),
    ],
)
def test_one_line_errors_name_the_tensor(padded: Path, options: FrontendOptions, fragments: tuple[str, ...]) -> None:
    with pytest.raises(ConverterError) as error:
        load_model(padded, options)
    message = str(error.value)
    assert "\n" not in message and str(padded) in message
    for fragment in fragments:
        assert fragment in message, message


def test_new_input_shapes_reach_if_bodies(tmp_path: Path) -> None:
    """x [N, 6] read inside both branches of an If: with --input x[3,6] the branches, the If and what
    follows it are static; OpenVINO runs both branches and matches onnxruntime."""
    then_branch = helper.make_graph(
        [helper.make_node("Mul", ["x", "x"], ["t_out"])], "then", [], [helper.make_tensor_value_info("t_out", TensorProto.FLOAT, None)]
    )
    else_branch = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["e_out"])], "else", [], [helper.make_tensor_value_info("e_out", TensorProto.FLOAT, None)]
    )
    graph = helper.make_graph(
        [
            helper.make_node("If", ["cond"], ["branch"], then_branch=then_branch, else_branch=else_branch),
            helper.make_node("Softmax", ["branch"], ["y"], axis=-1),
        ],
        "branches",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6]), helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    path = tmp_path / "branches.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    prepared = _ir(path, FrontendOptions(inputs=("x[3,6]",)))
    assert prepared.outputs[0].shape.dims == (3, 6)
    for node in (n for n in prepared.nodes() if n.op.type == "If"):
        assert all(b.parameters[0].outputs[0].shape.dims == (3, 6) for b in node.bodies.values() if b.parameters)
    x = RNG.standard_normal((3, 6)).astype(np.float32)
    for cond in (True, False):
        feeds = {"x": x, "cond": np.array(cond)}
        _close(_ov(prepared, feeds)[0], _source(path, feeds)[0])


@pytest.mark.parametrize(("group", "auto_pad"), [(3, "SAME_UPPER"), (1, "SAME_LOWER"), (3, "VALID")])
def test_grouped_and_auto_padded_first_convolutions_fold(tmp_path: Path, group: int, auto_pad: str) -> None:
    """A depthwise (group 3) or plain first convolution with ONNX auto_pad and stride 2 on an
    odd size: the padding begins where the IR's auto_pad puts it, and the mean folds exactly."""
    w = (RNG.standard_normal((6, 3 // group, 3, 3)) * 0.3).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], strides=[2, 2], auto_pad=auto_pad, group=group),
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "first",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 15, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(RNG.standard_normal(6).astype(np.float32), "b")],
    )
    path = tmp_path / "first.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    options = FrontendOptions(mean_values="x[123.68,116.78,103.94]", scale_values="x[58.4,57.1,57.4]", reverse_input_channels=group == 1)
    prepared = _ir(path, options)
    assert prepared.op_histogram() == _ir(path, FrontendOptions()).op_histogram()
    raw = RNG.uniform(0, 255, (1, 3, 15, 12)).astype(np.float32)
    (want,) = _source(path, {"x": _normalized(raw, reverse=group == 1)})
    _close(_ov(prepared, {"x": raw})[0], want)


def test_preprocessing_an_integer_input_is_an_error(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Cast", ["ids"], ["y"], to=TensorProto.FLOAT)],
        "ids",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    path = tmp_path / "ids.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(ConverterError, match=r"ids.onnx: input 'ids' is i64: mean, scale and channel reversal need a float input"):
        load_model(path, FrontendOptions(mean_values="[1,2,3]"))
