"""ONNX If and Loop → inlined branch, If-8, Loop-5; nested bodies in the IR, and back to ONNX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from converter import convert_model, read_model, save_model
from converter.errors import InvalidModelError, NodeConversionError
from converter.serialize.reader import parse_ir
from converter.serialize.writer import serialize

FLOAT, BOOL, INT64 = TensorProto.FLOAT, TensorProto.BOOL, TensorProto.INT64


def info(name: str, element: int = FLOAT, dims: list | None = None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, element, dims)


def branch(name: str, nodes: list[onnx.NodeProto], outputs: list[str], initializers: list | None = None) -> onnx.GraphProto:
    return helper.make_graph(nodes, name, [], [info(o) for o in outputs], initializers or [])


def model(nodes: list[onnx.NodeProto], inputs: list, outputs: list, initializers: list | None = None, opset: int = 17) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializers or [])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def add_mul_branches() -> tuple[onnx.GraphProto, onnx.GraphProto]:
    then_branch = branch("then", [helper.make_node("Add", ["x", "y"], ["t"])], ["t"])
    scale = numpy_helper.from_array(np.array([2.0, 3.0, 4.0], np.float32), "scale")
    else_branch = branch("else", [helper.make_node("Mul", ["x", "scale"], ["e"])], ["e"], [scale])
    return then_branch, else_branch


def if_model(cond_initializer: bool | None = None) -> onnx.ModelProto:
    then_branch, else_branch = add_mul_branches()
    inputs = [info("x", dims=[2, 3]), info("y", dims=[2, 3])]
    initializers = []
    if cond_initializer is None:
        inputs.insert(0, info("cond", BOOL, []))
    else:
        initializers.append(numpy_helper.from_array(np.array(cond_initializer), "cond"))
    node = helper.make_node("If", ["cond"], ["out"], then_branch=then_branch, else_branch=else_branch)
    return model([node], inputs, [info("out", dims=[2, 3])], initializers)


def random(*dims: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(dims).astype(np.float32)


# ---------------------------------------------------------------- If with a constant condition


@pytest.mark.parametrize("value", [True, False])
def test_constant_condition_inlines_the_branch(check_onnx, value: bool) -> None:
    onnx_model = if_model(cond_initializer=value)
    graph = convert_model(onnx_model)
    assert "If" not in graph.op_histogram()
    assert ("Add" in graph.op_histogram()) is value
    check_onnx(onnx_model)


@pytest.mark.parametrize("batch, expected_branch", [(1, "Add"), (2, "Multiply")])
def test_condition_folded_from_static_shape(check_onnx, batch: int, expected_branch: str) -> None:
    then_branch, else_branch = add_mul_branches()
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["rows"], axis=0),
        helper.make_node("Equal", ["rows", "two"], ["cond"]),
        helper.make_node("If", ["cond"], ["out"], then_branch=then_branch, else_branch=else_branch),
    ]
    initializers = [numpy_helper.from_array(np.array(0, np.int64), "zero"), numpy_helper.from_array(np.array(2 // batch, np.int64), "two")]
    onnx_model = model(nodes, [info("x", dims=[2, 3]), info("y", dims=[2, 3])], [info("out")], initializers)
    histogram = convert_model(onnx_model).op_histogram()
    assert "If" not in histogram and expected_branch in histogram
    check_onnx(onnx_model)


# ---------------------------------------------------------------- If-8


@pytest.mark.parametrize("cond", [True, False])
def test_if_with_runtime_condition(check_onnx, cond: bool) -> None:
    onnx_model = if_model()
    assert "If" in convert_model(onnx_model).op_histogram()
    check_onnx(onnx_model, [np.array(cond), random(2, 3), random(2, 3, seed=1)])


@pytest.mark.parametrize("cond", [True, False])
def test_if_with_several_outputs_constants_and_pass_through(check_onnx, cond: bool) -> None:
    then_branch = branch(
        "then",
        [
            helper.make_node("Relu", ["x"], ["r"]),
            helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.ones((2, 3), np.float32))),
            helper.make_node("Identity", ["x"], ["x_copy"]),  # onnxruntime refuses outer values as branch outputs
        ],
        ["r", "c", "x_copy"],
    )
    else_branch = branch(
        "else",
        [helper.make_node("Sub", ["y", "x"], ["d"]), helper.make_node("Identity", ["y"], ["i"]), helper.make_node("Neg", ["d"], ["n"])],
        ["i", "d", "n"],
    )
    node = helper.make_node("If", ["cond"], ["a", "b", "c_out"], then_branch=then_branch, else_branch=else_branch)
    onnx_model = model([node], [info("cond", BOOL, [1]), info("x", dims=[2, 3]), info("y", dims=[2, 3])], [info(n) for n in ["a", "b", "c_out"]])
    check_onnx(onnx_model, [np.array([cond]), random(2, 3), random(2, 3, seed=1)])


@pytest.mark.parametrize("cond", [True, False])
def test_if_branches_with_different_shapes(check_onnx, cond: bool) -> None:
    then_branch = branch("then", [helper.make_node("Identity", ["x"], ["t"])], ["t"])
    else_branch = branch("else", [helper.make_node("Concat", ["x", "x"], ["e"], axis=0)], ["e"])
    node = helper.make_node("If", ["cond"], ["out"], then_branch=then_branch, else_branch=else_branch)
    onnx_model = model([node], [info("cond", BOOL, []), info("x", dims=["N", 3])], [info("out")])
    graph = convert_model(onnx_model)
    assert graph.outputs[0].shape.dims == (None, 3)
    check_onnx(onnx_model, [np.array(cond), random(2, 3)])


@pytest.mark.parametrize("outer, inner", [(True, True), (True, False), (False, True)])
def test_nested_if_reads_the_outermost_scope(check_onnx, outer: bool, inner: bool) -> None:
    inner_then = branch("inner_then", [helper.make_node("Add", ["x", "y"], ["it"])], ["it"])
    inner_else = branch("inner_else", [helper.make_node("Sub", ["x", "y"], ["ie"])], ["ie"])
    outer_then = branch(
        "outer_then", [helper.make_node("If", ["inner_cond"], ["ot"], then_branch=inner_then, else_branch=inner_else)], ["ot"]
    )
    outer_else = branch("outer_else", [helper.make_node("Neg", ["y"], ["oe"])], ["oe"])
    node = helper.make_node("If", ["outer_cond"], ["out"], then_branch=outer_then, else_branch=outer_else)
    inputs = [info("outer_cond", BOOL, []), info("inner_cond", BOOL, []), info("x", dims=[4]), info("y", dims=[4])]
    onnx_model = model([node], inputs, [info("out", dims=[4])])
    check_onnx(onnx_model, [np.array(outer), np.array(inner), random(4), random(4, seed=1)])


def test_constant_if_inside_a_runtime_if(check_onnx) -> None:
    inner_then = branch("inner_then", [helper.make_node("Add", ["x", "x"], ["it"])], ["it"])
    inner_else = branch("inner_else", [helper.make_node("Sub", ["x", "x"], ["ie"])], ["ie"])
    yes = numpy_helper.from_array(np.array(True), "yes")
    outer_then = branch("outer_then", [helper.make_node("If", ["yes"], ["ot"], then_branch=inner_then, else_branch=inner_else)], ["ot"], [yes])
    outer_else = branch("outer_else", [helper.make_node("Neg", ["x"], ["oe"])], ["oe"])
    node = helper.make_node("If", ["cond"], ["out"], then_branch=outer_then, else_branch=outer_else)
    onnx_model = model([node], [info("cond", BOOL, []), info("x", dims=[4])], [info("out", dims=[4])])
    graph = convert_model(onnx_model)
    then_body = next(n for n in graph.nodes() if n.op.type == "If").bodies["then_body"]
    assert then_body.op_histogram().get("If") is None
    for cond in (True, False):
        check_onnx(onnx_model, [np.array(cond), random(4)])


def test_if_round_trip_is_byte_identical(tmp_path: Path) -> None:
    first = tmp_path / "a" / "m.xml"
    save_model(convert_model(if_model()), first)
    second = tmp_path / "b" / "m.xml"
    save_model(read_model(first), second)
    assert first.read_bytes() == second.read_bytes()
    assert first.with_suffix(".bin").read_bytes() == second.with_suffix(".bin").read_bytes()


def test_if_xml_port_maps() -> None:
    xml, _ = serialize(convert_model(if_model()))
    text = xml.decode()
    assert '<layer id="3" name="out" type="If" version="opset8">' in text
    assert '<then_port_map>\n\t\t\t\t<input external_port_id="1" internal_layer_id="0" />' in text
    assert '<output external_port_id="3" internal_layer_id="3" />' in text
    assert "<else_body>" in text and "<else_port_map>" in text


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda xml: xml.replace(b'internal_layer_id="0"', b'internal_layer_id="9"', 1), "not one of the body"),
        (lambda xml: xml.replace(b"<else_port_map>", b"<else_port_mop>", 1).replace(b"</else_port_map>", b"</else_port_mop>", 1), "else_port_map"),
        (lambda xml: xml.replace(b'<output external_port_id="3"', b'<output external_port_id="7"', 1), "does not exist"),
    ],
)
def test_reader_rejects_broken_port_maps(mutate, message: str) -> None:
    xml, blob = serialize(convert_model(if_model()))
    with pytest.raises(InvalidModelError, match=message):
        parse_ir(mutate(xml), blob)


# ---------------------------------------------------------------- Loop-5


def loop_body(nodes: list[onnx.NodeProto], carried: list[str], outputs: list[str], initializers: list | None = None) -> onnx.GraphProto:
    inputs = [info("i", INT64, []), info("cond_in", BOOL, [])] + [info(name) for name in carried]
    output_infos = [info(outputs[0], BOOL, [])] + [info(o) for o in outputs[1:]]
    return helper.make_graph(nodes, "body", inputs, output_infos, initializers or [])


def accumulate_body(scan: bool = True) -> onnx.GraphProto:
    """y_out = y_in + x[i], cond passes through, scan output y_out * 2."""
    nodes = [
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        helper.make_node("Unsqueeze", ["i", "axes"], ["start"]),
        helper.make_node("Add", ["start", "one"], ["end"]),
        helper.make_node("Slice", ["x", "start", "end"], ["x_i"]),
        helper.make_node("Add", ["y_in", "x_i"], ["y_out"]),
        helper.make_node("Add", ["y_out", "y_out"], ["scan"]),
    ]
    initializers = [numpy_helper.from_array(np.array([0], np.int64), "axes"), numpy_helper.from_array(np.array([1], np.int64), "one")]
    return loop_body(nodes, ["y_in"], ["cond_out", "y_out", "scan"][: 3 if scan else 2], initializers)


def loop_model(trip_count: bool = True, cond: bool = True, scan: bool = True) -> onnx.ModelProto:
    inputs = [info("x", dims=[5]), info("y", dims=[1])]
    names = ["", "", "y"]
    if trip_count:
        inputs.insert(0, info("M", INT64, []))
        names[0] = "M"
    if cond:
        inputs.insert(1 if trip_count else 0, info("cond", BOOL, []))
        names[1] = "cond"
    outputs = ["y_final", "scans"][: 2 if scan else 1]
    node = helper.make_node("Loop", names, outputs, body=accumulate_body(scan))
    return model([node], inputs, [info(o) for o in outputs], opset=13)


@pytest.mark.parametrize("count, cond", [(3, True), (5, True), (1, True)])
def test_loop_with_trip_count_and_condition(check_onnx, count: int, cond: bool) -> None:
    check_onnx(loop_model(), [np.array(count, np.int64), np.array(cond), random(5), random(1, seed=1)])


@pytest.mark.parametrize("count, cond", [(0, True), (4, False)])
def test_loop_that_never_runs_gives_the_initial_value(check_onnx, count: int, cond: bool) -> None:
    onnx_model = loop_model(scan=False)  # onnxruntime and OpenVINO disagree on the shape of an empty scan output
    check_onnx(onnx_model, [np.array(count, np.int64), np.array(cond), random(5), random(1, seed=1)])


def test_loop_with_constant_trip_count_and_no_condition(check_onnx) -> None:
    onnx_model = loop_model(trip_count=False, cond=False)
    onnx_model.graph.node[0].input[0] = "M"
    onnx_model.graph.initializer.append(numpy_helper.from_array(np.array(4, np.int64), "M"))
    graph = convert_model(onnx_model)
    assert graph.outputs[1].shape[0] == 4
    check_onnx(onnx_model, [random(5), random(1, seed=1)])


def test_while_loop_condition_from_body(check_onnx) -> None:
    """No trip count: the body decides (i < limit), reading `limit` from the outer scope."""
    nodes = [
        helper.make_node("Less", ["i", "limit"], ["cond_out"]),
        helper.make_node("Mul", ["acc_in", "factor"], ["acc_out"]),
        helper.make_node("Cast", ["i"], ["i_float"], to=FLOAT),
    ]
    body = loop_body(nodes, ["acc_in"], ["cond_out", "acc_out", "i_float"])
    node = helper.make_node("Loop", ["", "cond", "acc"], ["acc_final", "iterations"], body=body)
    inputs = [info("cond", BOOL, []), info("acc", dims=[2]), info("factor", dims=[2]), info("limit", INT64, [])]
    onnx_model = model([node], inputs, [info("acc_final"), info("iterations")], opset=13)
    check_onnx(onnx_model, [np.array(True), random(2), random(2, seed=1), np.array(3, np.int64)])


def test_loop_carried_value_that_grows(check_onnx) -> None:
    nodes = [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Concat", ["v_in", "step"], ["v_out"], axis=0)]
    node = helper.make_node("Loop", ["M", "", "v"], ["v_final"], body=loop_body(nodes, ["v_in"], ["cond_out", "v_out"]))
    onnx_model = model([node], [info("M", INT64, []), info("v", dims=[1]), info("step", dims=[2])], [info("v_final")], opset=13)
    graph = convert_model(onnx_model)
    assert graph.outputs[0].shape.dims == (None,)
    check_onnx(onnx_model, [np.array(3, np.int64), random(1), random(2, seed=1)])


def test_loop_xml_port_map() -> None:
    text = serialize(convert_model(loop_model()))[0].decode()
    assert "<back_edges>" in text and 'purpose="execution_condition"' in text and 'purpose="current_iteration"' in text


@pytest.mark.parametrize("make", [lambda: loop_model(), lambda: scan_model(input_directions=[1, 0], output_directions=[0, 1])], ids=["loop", "scan"])
def test_loop_round_trip_is_byte_identical(tmp_path: Path, make) -> None:
    first = tmp_path / "a" / "m.xml"
    save_model(convert_model(make()), first)
    second = tmp_path / "b" / "m.xml"
    save_model(read_model(first), second)
    assert first.read_bytes() == second.read_bytes()
    assert first.with_suffix(".bin").read_bytes() == second.with_suffix(".bin").read_bytes()


# ---------------------------------------------------------------- Scan-9+ (as Loop-5)


def scan_model(
    input_axes: list[int] | None = None,
    input_directions: list[int] | None = None,
    output_axes: list[int] | None = None,
    output_directions: list[int] | None = None,
    x_dims: list | None = None,
) -> onnx.ModelProto:
    """state_out = state_in + x_t * w (w from the outer scope); scan outputs state_out and x_t - z_t."""
    body = helper.make_graph(
        [
            helper.make_node("Mul", ["x_t", "w"], ["xw"]),
            helper.make_node("Add", ["state_in", "xw"], ["state_out"]),
            helper.make_node("Sub", ["x_t", "z_t"], ["diff"]),
            helper.make_node("Identity", ["state_out"], ["running"]),
        ],
        "body",
        [info("state_in", dims=[3]), info("x_t", dims=[3]), info("z_t", dims=[3])],
        [info("state_out", dims=[3]), info("running", dims=[3]), info("diff", dims=[3])],
    )
    attrs = {"num_scan_inputs": 2}
    for name, value in [
        ("scan_input_axes", input_axes),
        ("scan_input_directions", input_directions),
        ("scan_output_axes", output_axes),
        ("scan_output_directions", output_directions),
    ]:
        if value is not None:
            attrs[name] = value
    node = helper.make_node("Scan", ["state", "x", "z"], ["final", "runnings", "diffs"], body=body, **attrs)
    x_dims = x_dims or [4, 3]
    z_dims = [4, 3] if (input_axes or [0, 0])[1] in (0, -2) else [3, 4]
    inputs = [info("state", dims=[3]), info("x", dims=x_dims), info("z", dims=z_dims), info("w", dims=[3])]
    return model([node], inputs, [info("final"), info("runnings"), info("diffs")], opset=16)


@pytest.mark.parametrize(
    "attrs",
    [
        {},
        {"input_directions": [1, 0]},
        {"input_axes": [-1, 1], "x_dims": [3, 4]},
        {"output_axes": [1, -2], "output_directions": [0, 1]},
        {"input_directions": [0, 1], "output_directions": [1, 1], "output_axes": [-1, 0]},
        {"x_dims": ["T", 3]},
    ],
)
def test_scan(check_onnx, attrs: dict) -> None:
    onnx_model = scan_model(**attrs)
    x_dims = [4 if d == "T" else d for d in attrs.get("x_dims", [4, 3])]
    z_dims = [4, 3] if attrs.get("input_axes", [0, 0])[1] == 0 else [3, 4]
    check_onnx(onnx_model, [random(3), random(*x_dims, seed=1), random(*z_dims, seed=2), random(3, seed=3)])


def scan8_model(directions: list[int] | None = None, lengths: list[int] | None = None) -> onnx.ModelProto:
    """Scan-8: batch of 2, state [3], scan input [2, 4, 3]; body adds x_t * w (w from the outer scope)."""
    body = helper.make_graph(
        [helper.make_node("Mul", ["x_t", "w"], ["xw"]), helper.make_node("Add", ["state_in", "xw"], ["state_out"]),
         helper.make_node("Neg", ["state_out"], ["negated"])],
        "body",
        [info("state_in", dims=[3]), info("x_t", dims=[3])],
        [info("state_out", dims=[3]), info("negated", dims=[3])],
    )
    attrs = {"num_scan_inputs": 1} | ({"directions": directions} if directions else {})
    node = helper.make_node("Scan", ["lengths" if lengths else "", "state", "x"], ["final", "negated_all"], body=body, **attrs)
    initializers = [numpy_helper.from_array(np.array(lengths, np.int64), "lengths")] if lengths else []
    inputs = [info("state", dims=[2, 3]), info("x", dims=[2, 4, 3]), info("w", dims=[3])]
    return model([node], inputs, [info("final"), info("negated_all")], initializers, opset=8)


@pytest.mark.parametrize("directions, lengths", [(None, None), ([1], None), ([0], [4, 4])])
def test_batched_scan8(check_onnx, directions: list[int] | None, lengths: list[int] | None) -> None:
    check_onnx(scan8_model(directions, lengths), [random(2, 3), random(2, 4, 3, seed=1), random(3, seed=2)])


def test_scan8_shorter_sequences_rejected() -> None:
    with pytest.raises(NodeConversionError, match="sequence_lens"):
        convert_model(scan8_model(lengths=[4, 2]))
