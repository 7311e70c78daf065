"""Valid ranges of integer inputs, read off the IR graph the ONNX frontend builds."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from converter.api import load_model
from converter.validate.ranges import index_bounds, integer_ranges
from models import model_of
from sized_models import transformer_int64_ids


def table(rows: int, columns: int = 4) -> np.ndarray:
    return np.zeros((rows, columns), np.float32)


def ranges_of(nodes, inputs, initializers) -> dict[str, tuple[int, int]]:
    return integer_ranges(load_model(model_of(nodes, inputs, initializers=initializers)))


def test_gather_bounds_ids_by_the_table_rows():
    ranges = ranges_of(
        [helper.make_node("Gather", ["table", "ids"], ["y"], axis=0)],
        [("ids", TensorProto.INT64, [1, "n"])],
        {"table": table(37)},
    )
    assert ranges == {"ids": (0, 37)}


def test_ids_followed_through_ops_that_pass_values_on():
    nodes = [
        helper.make_node("Cast", ["ids"], ["cast"], to=TensorProto.INT32),
        helper.make_node("Reshape", ["cast", "shape"], ["flat"]),
        helper.make_node("Unsqueeze", ["flat", "axes"], ["row"]),
        helper.make_node("Concat", ["extra", "row"], ["both"], axis=0),  # ids on Concat's second port
        helper.make_node("Gather", ["table", "both"], ["y"], axis=0),
    ]
    ranges = ranges_of(
        nodes,
        [("ids", TensorProto.INT64, [2, 3])],
        {
            "table": table(41),
            "shape": np.array([6], np.int64),
            "axes": np.array([0], np.int64),
            "extra": np.zeros((1, 6), np.int32),
        },
    )
    assert ranges == {"ids": (0, 41)}


def test_two_gathers_on_the_same_ids_take_the_smaller_table():
    nodes = [
        helper.make_node("Gather", ["words", "ids"], ["a"], axis=0),
        helper.make_node("Gather", ["types", "ids"], ["b"], axis=0),
        helper.make_node("Add", ["a", "b"], ["y"]),
    ]
    ranges = ranges_of(nodes, [("ids", TensorProto.INT64, ["batch", "sequence"])], {"words": table(50), "types": table(30)})
    assert ranges == {"ids": (0, 30)}


def test_gather_on_axis_1_bounds_by_the_columns():
    ranges = ranges_of(
        [helper.make_node("Gather", ["table", "ids"], ["y"], axis=1)],
        [("ids", TensorProto.INT64, [3])],
        {"table": table(4, 23)},
    )
    assert ranges == {"ids": (0, 23)}


def test_gather_negative_axis():
    ranges = ranges_of(
        [helper.make_node("Gather", ["table", "ids"], ["y"], axis=-1)],
        [("ids", TensorProto.INT64, [3])],
        {"table": table(4, 19)},
    )
    assert ranges == {"ids": (0, 19)}


def test_ids_used_as_gather_data_pass_their_values_on():
    # positions = ids[order]: still ids, then indexing a 12-row table
    nodes = [
        helper.make_node("Gather", ["ids", "order"], ["picked"], axis=0),
        helper.make_node("Gather", ["table", "picked"], ["y"], axis=0),
    ]
    ranges = ranges_of(nodes, [("ids", TensorProto.INT64, [5])], {"table": table(12), "order": np.array([4, 0], np.int64)})
    assert ranges == {"ids": (0, 12)}


def test_float_and_unindexing_integer_inputs_are_not_in_the_result():
    nodes = [
        helper.make_node("Gather", ["x", "ids"], ["g"], axis=0),  # x is the data here, ids the index
        helper.make_node("Cast", ["count"], ["count_f"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["g", "count_f"], ["y"]),
    ]
    graph = load_model(
        model_of(nodes, [("x", TensorProto.FLOAT, [9, 4]), ("ids", TensorProto.INT64, [2]), ("count", TensorProto.INT64, [1])])
    )
    assert integer_ranges(graph) == {"ids": (0, 9)}
    assert index_bounds(graph) == {"ids": 9}


def test_integer_index_through_arithmetic_is_not_bounded():
    # ids + 1 may exceed anything: Add does not pass values on unchanged
    nodes = [
        helper.make_node("Add", ["ids", "one"], ["shifted"]),
        helper.make_node("Gather", ["table", "shifted"], ["y"], axis=0),
    ]
    ranges = ranges_of(nodes, [("ids", TensorProto.INT64, [3])], {"table": table(10), "one": np.array(1, np.int64)})
    assert ranges == {}


def test_onehot_depth_bounds_its_indices():
    ranges = ranges_of(
        [helper.make_node("OneHot", ["labels", "depth", "values"], ["y"], axis=-1)],
        [("labels", TensorProto.INT32, [3])],
        {"depth": np.array([7], np.int64), "values": np.array([0, 1], np.float32)},
    )
    assert ranges == {"labels": (0, 7)}


def test_gather_elements_bounds_by_its_axis():
    ranges = ranges_of(
        [helper.make_node("GatherElements", ["table", "ids"], ["y"], axis=1)],
        [("ids", TensorProto.INT64, [4, 2])],
        {"table": table(4, 6)},
    )
    assert ranges == {"ids": (0, 6)}


def test_transformer_int64_ids():
    # input_ids → 1000 words, token_type_ids → 2 types; the mask is only Cast and multiplied.
    assert integer_ranges(load_model(transformer_int64_ids())) == {"input_ids": (0, 1000), "token_type_ids": (0, 2)}
