"""Inputs a real model accepts: dim roles, --input-shape parsing and checks, synthesized values,
and the search over dynamic dims run against onnxruntime on the sized test models."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from converter.api import load_model
from converter.errors import ConverterError
from converter.frontends.onnx.reference import OnnxReference
from converter.validate.inputs import (
    InputSearchError,
    TensorSpec,
    check_shapes,
    dim_role,
    error_gist,
    find_inputs,
    parse_input_shape,
    synthesize,
)
from converter.validate.ranges import integer_ranges
from models import model_of
from sized_models import TRANSFORMER_TYPE_VOCAB, TRANSFORMER_VOCAB, fpn_unet, reflect_pad_1d, transformer_int64_ids, yolo_head

F32 = np.dtype(np.float32)
I64 = np.dtype(np.int64)


def spec(dims, name: str = "x", dtype=F32) -> TensorSpec:
    return TensorSpec(name, np.dtype(dtype), None if dims is None else tuple(dims))


def roles(dims) -> list[str | None]:
    """The role of every dynamic dim (None for static ones)."""
    tensor = spec(dims)
    return [None if isinstance(d, int) else dim_role(tensor, axis) for axis, d in enumerate(dims)]


def search(model: onnx.ModelProto, shapes=None, ranges=None):
    reference = OnnxReference(model)
    return find_inputs(reference.input_specs(), reference.run, "model.onnx", shapes, ranges, reference.output_specs())


# ------------------------------------------------------------------ dim roles


@pytest.mark.parametrize(
    ("dims", "expected"),
    [
        ([None, 3, None, None], ["batch", None, "spatial", "spatial"]),  # NCHW
        ([None, None, None, 3], ["batch", "spatial", "spatial", None]),  # NHWC
        ([None, 3, None, None, None], ["batch", None, "spatial", "spatial", "spatial"]),  # NCDHW
        ([None, None], ["batch", "sequence"]),  # [B, T] token ids
        ([None, 1, None], ["batch", None, "sequence"]),  # [B, C, T] audio
        ([None], ["sequence"]),  # rank 1: no batch axis
        (["unk__12", 3, "unk__13", "unk__14"], ["batch", None, "spatial", "spatial"]),  # tf2onnx symbols: by position
        (["unk__7", "unk__8"], ["batch", "sequence"]),
    ],
)
def test_dim_role_by_position(dims, expected):
    assert roles(dims) == expected


@pytest.mark.parametrize(
    ("symbol", "axis", "expected"),
    [
        ("batch", 1, "batch"),
        ("batch_size", 2, "batch"),
        ("N", 3, "batch"),
        ("height", 0, "spatial"),
        ("width", 1, "spatial"),
        ("image_height", 3, "spatial"),
        ("sequence", 0, "sequence"),
        ("seq_len", 2, "sequence"),
        ("samples", 3, "sequence"),
        ("T", 0, "sequence"),
        ("num_frames", 0, "sequence"),
    ],
)
def test_dim_role_by_symbol_overrides_position(symbol, axis, expected):
    # A rank-4 tensor: by position axis 0 is batch and axes 2, 3 spatial; the symbol decides first.
    dims = [1, 1, 1, 1]
    dims[axis] = symbol
    assert dim_role(spec(dims), axis) == expected


# ------------------------------------------------------------------ --input-shape


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x[1,3,224,224]", ("x", (1, 3, 224, 224))),
        ("  images [ 1, 3 , 640,640 ] ", ("images", (1, 3, 640, 640))),
        ("input.1[2,8]", ("input.1", (2, 8))),
        ("x[]", ("x", ())),
        ("x[0]", ("x", (0,))),
    ],
)
def test_parse_input_shape(text, expected):
    assert parse_input_shape(text) == expected


@pytest.mark.parametrize("text", ["x", "x[1,a]", "x[-1,3]", "[1,3]", "x[1 2]", "x(1,3)"])
def test_parse_input_shape_rejects(text):
    with pytest.raises(ConverterError) as error:
        parse_input_shape(text)
    message = str(error.value)
    assert message.startswith(f"--input-shape {text!r}: ")
    assert "NAME[d0,d1,...]" in message or "non-negative integers" in message


SPECS = [spec([1, 3, "height", "width"], "image"), spec(["batch", "sequence"], "ids", I64)]


def test_check_shapes_accepts_matching_shapes():
    check_shapes(SPECS, {"image": (1, 3, 50, 70), "ids": (4, 9)}, "m.onnx")  # raises on any problem
    check_shapes([spec(None, "anything")], {"anything": (1, 2, 3)}, "m.onnx")  # unknown rank: any shape


def test_check_shapes_unknown_input_lists_the_inputs():
    with pytest.raises(ConverterError) as error:
        check_shapes(SPECS, {"img": (1, 3, 8, 8)}, "m.onnx")
    assert str(error.value) == (
        "m.onnx: --input-shape img: the model has no input 'img' (inputs: image[1,3,height,width], ids[batch,sequence])"
    )


def test_check_shapes_wrong_rank():
    with pytest.raises(ConverterError) as error:
        check_shapes(SPECS, {"image": (1, 3, 8)}, "m.onnx")
    assert str(error.value) == "m.onnx: --input-shape image[1, 3, 8]: the input has rank 4 (image[1,3,height,width])"


def test_check_shapes_static_dim_conflict():
    with pytest.raises(ConverterError) as error:
        check_shapes(SPECS, {"image": (1, 1, 8, 8)}, "m.onnx")
    assert str(error.value) == (
        "m.onnx: --input-shape image[1, 1, 8, 8]: dim 1 is fixed at 3 by the model (image[1,3,height,width])"
    )


def test_find_inputs_checks_given_shapes_first():
    with pytest.raises(ConverterError, match="dim 1 is fixed at 3"):
        search(fpn_unet(), shapes={"image": (1, 4, 64, 64)})


# ------------------------------------------------------------------ synthesize


def test_synthesize_shapes_dtypes_and_integer_ranges():
    specs = [spec([2, 3], "x"), spec([4, 50], "ids", I64), spec([4, 50], "types", np.int32), spec([7], "n", np.uint8)]
    shapes = {"x": (2, 3), "ids": (4, 50), "types": (4, 50), "n": (7,)}
    feeds = synthesize(specs, shapes, {"ids": (5, 9), "types": (0, 2)})
    assert {name: (a.shape, a.dtype) for name, a in feeds.items()} == {
        "x": ((2, 3), F32), "ids": ((4, 50), I64), "types": ((4, 50), np.dtype(np.int32)), "n": ((7,), np.dtype(np.uint8))
    }
    assert set(np.unique(feeds["ids"])) == {5, 6, 7, 8}  # [5, 9): every value drawn, 9 never
    assert set(np.unique(feeds["types"])) == {0, 1}
    assert feeds["n"].min() >= 0 and feeds["n"].max() < 10  # default range [0, 10)


def test_synthesize_empty_range_gives_its_low_end():
    feeds = synthesize([spec([5], "ids", I64)], {"ids": (5,)}, {"ids": (3, 3)})
    np.testing.assert_array_equal(feeds["ids"], [3, 3, 3, 3, 3])


def test_synthesize_masks_are_all_ones():
    specs = [
        spec([2, 16], "attention_mask", I64),
        spec([2, 16], "PaddingMask", bool),
        spec([2, 16], "flags", bool),
    ]
    feeds = synthesize(specs, {s.name: (2, 16) for s in specs}, {"attention_mask": (5, 9)})
    assert feeds["attention_mask"].dtype == I64 and np.all(feeds["attention_mask"] == 1)
    assert feeds["PaddingMask"].dtype == np.bool_ and feeds["PaddingMask"].all()
    assert feeds["flags"].dtype == np.bool_ and 0 < feeds["flags"].sum() < 32  # not a mask: random


def test_synthesize_uniform_in_unit_interval_normal_otherwise():
    specs = [spec([4000], "x")]
    uniform = synthesize(specs, {"x": (4000,)}, distribution="uniform")["x"]
    normal = synthesize(specs, {"x": (4000,)})["x"]
    assert uniform.min() >= 0.0 and uniform.max() < 1.0
    assert abs(float(uniform.mean()) - 0.5) < 0.03
    assert normal.min() < -2.0 and normal.max() > 2.0
    assert abs(float(normal.mean())) < 0.1 and abs(float(normal.std()) - 1.0) < 0.05


def test_synthesize_is_deterministic_per_seed():
    specs = [spec([3, 4], "x"), spec([3, 4], "ids", I64)]
    shapes = {"x": (3, 4), "ids": (3, 4)}
    first, again, other = (synthesize(specs, shapes, None, seed) for seed in (7, 7, 8))
    for name in shapes:
        np.testing.assert_array_equal(first[name], again[name])
    assert not np.array_equal(first["x"], other["x"])
    assert not np.array_equal(first["ids"], other["ids"])


# ------------------------------------------------------------------ the search, on real models


def test_find_inputs_fpn_unet_needs_multiples_of_32():
    choice = search(fpn_unet())
    assert choice.shapes == {"image": (1, 3, 224, 224)}
    assert choice.feeds["image"].shape == (1, 3, 224, 224) and choice.feeds["image"].dtype == F32
    assert choice.distribution == "normal"
    assert choice.notes == ["dynamic dims chosen: image[1,3,224,224]"]


def test_find_inputs_reflect_pad_needs_more_samples_than_the_pad():
    choice = search(reflect_pad_1d())
    assert choice.shapes == {"audio": (1, 1, 64)}
    assert choice.tries == 4  # 8, 16 and 32 samples are rejected by Pad(reflect, 32)


def test_find_inputs_yolo_head_sides_are_multiples_of_32():
    (batch, channels, height, width), = search(yolo_head()).shapes.values()
    assert (batch, channels) == (1, 3)
    assert height == width and height % 32 == 0


def test_find_inputs_transformer_ids_within_the_vocabulary():
    model = transformer_int64_ids()
    ranges = integer_ranges(load_model(model))
    assert ranges == {"input_ids": (0, TRANSFORMER_VOCAB), "token_type_ids": (0, TRANSFORMER_TYPE_VOCAB)}
    choice = search(model, ranges=ranges)
    assert choice.shapes == {"input_ids": (1, 8), "attention_mask": (1, 8), "token_type_ids": (1, 8)}
    ids, mask, types = choice.feeds["input_ids"], choice.feeds["attention_mask"], choice.feeds["token_type_ids"]
    assert ids.dtype == mask.dtype == types.dtype == I64
    assert ids.min() >= 0 and ids.max() < TRANSFORMER_VOCAB and ids.max() >= 10  # not the default [0, 10)
    assert set(np.unique(types)) <= {0, 1}
    assert np.all(mask == 1)


def test_find_inputs_shapes_given_fix_shared_symbols():
    # input_ids fixes "batch" and "sequence"; the mask and token types take the same sizes.
    model = transformer_int64_ids()
    choice = search(model, shapes={"input_ids": (2, 5)}, ranges=integer_ranges(load_model(model)))
    assert choice.shapes == {"input_ids": (2, 5), "attention_mask": (2, 5), "token_type_ids": (2, 5)}
    assert choice.tries == 1


def _fixed_size_model() -> onnx.ModelProto:
    """[1, 3, H, W] reshaped to the constant [1, 3·50·50]: only 50×50 runs."""
    return model_of(
        [helper.make_node("Reshape", ["x", "shape"], ["y"])],
        [("x", TensorProto.FLOAT, [1, 3, "H", "W"])],
        initializers={"shape": np.array([1, 3 * 50 * 50], np.int64)},
    )


def test_find_inputs_size_not_among_candidates_asks_for_input_shape():
    with pytest.raises(InputSearchError) as error:
        search(_fixed_size_model())
    message = str(error.value)
    assert message.startswith(
        "model.onnx: found no input sizes the model accepts (tried x[1,3,224,224]: Reshape: input_shape_size == "
    )
    assert message.endswith("requested shape:{1,7500} and 17 more); give them with --input-shape NAME[d0,d1,...]")


def test_find_inputs_with_the_size_given():
    choice = search(_fixed_size_model(), shapes={"x": (1, 3, 50, 50)})
    assert choice.shapes == {"x": (1, 3, 50, 50)}
    assert choice.tries == 1
    assert choice.notes == []  # nothing was searched


def test_find_inputs_falls_back_to_uniform_for_logs():
    choice = search(model_of([helper.make_node("Log", ["x"], ["y"])], [("x", TensorProto.FLOAT, ["batch", 16])]))
    assert choice.distribution == "uniform"
    assert choice.shapes == {"x": (1, 16)}
    assert choice.tries == 1
    x = choice.feeds["x"]
    assert x.min() >= 0.0 and x.max() < 1.0


def _never_finite(dims) -> onnx.ModelProto:
    """Log(x) − Log(x) + Log(−x): NaN for any non-zero x, whatever its sign."""
    nodes = [
        helper.make_node("Log", ["x"], ["a"]),
        helper.make_node("Sub", ["a", "a"], ["zero"]),
        helper.make_node("Neg", ["x"], ["minus"]),
        helper.make_node("Log", ["minus"], ["b"]),
        helper.make_node("Add", ["zero", "b"], ["y"]),
    ]
    return model_of(nodes, [("x", TensorProto.FLOAT, dims)])


def test_find_inputs_never_finite_asks_for_data():
    with pytest.raises(InputSearchError) as error:
        search(_never_finite([1, 4]))
    assert str(error.value) == (
        "model.onnx: the model's outputs are not finite on random inputs (x[1,4]: y is not finite); "
        "give real inputs with --data FILE.npz"
    )


def test_find_inputs_never_finite_with_dynamic_dims_asks_for_data():
    with pytest.raises(InputSearchError) as error:
        search(_never_finite(["batch", 4]))
    message = str(error.value)
    assert "not finite" in message and "--data FILE.npz" in message
    assert "--input-shape" not in message


def test_find_inputs_not_finite_at_the_one_accepted_size_asks_for_data():
    """224×224 runs (every other size is rejected by the Reshape) but gives NaN: the advice must be
    --data, not --input-shape (the user would give 224×224 and hit the NaNs next)."""
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["flat"]),
        helper.make_node("Log", ["flat"], ["a"]),
        helper.make_node("Sub", ["a", "a"], ["zero"]),
        helper.make_node("Neg", ["flat"], ["minus"]),
        helper.make_node("Log", ["minus"], ["b"]),
        helper.make_node("Add", ["zero", "b"], ["y"]),
    ]
    model = model_of(nodes, [("x", TensorProto.FLOAT, [1, 1, "H", "W"])], initializers={"shape": np.array([224 * 224], np.int64)})
    with pytest.raises(InputSearchError) as error:
        search(model)
    message = str(error.value)
    assert "x[1,1,224,224]: y is not finite" in message
    assert "--data FILE.npz" in message


def test_find_inputs_same_symbol_same_size_across_inputs():
    # "s" is axis 0 of a (a batch by position) and axis 1 of b (a sequence): one size for both.
    nodes = [helper.make_node("Transpose", ["b"], ["bt"], perm=[1, 0]), helper.make_node("Add", ["a", "bt"], ["y"])]
    model = model_of(nodes, [("a", TensorProto.FLOAT, ["s", 3]), ("b", TensorProto.FLOAT, [3, "s"])])
    choice = search(model)
    assert choice.shapes == {"a": (1, 3), "b": (3, 1)}
    assert choice.feeds["a"].shape == (1, 3) and choice.feeds["b"].shape == (3, 1)


def test_find_inputs_symbol_takes_the_size_of_its_first_dim():
    # m (axis 0): batch 1; k (axis 1 of a): sequence 8, kept for axis 0 of b; p (axis 1): sequence 8.
    inputs = [("a", TensorProto.FLOAT, ["m", "k"]), ("b", TensorProto.FLOAT, ["k", "p"])]
    model = model_of([helper.make_node("MatMul", ["a", "b"], ["y"])], inputs)
    choice = search(model)
    assert choice.shapes == {"a": (1, 8), "b": (8, 8)}
    assert choice.tries == 1


def test_find_inputs_rejects_outputs_not_of_their_declared_static_shape():
    # y = x on [k]; the model declares y as [16]: k = 8 runs but contradicts the declaration.
    model = model_of([helper.make_node("Identity", ["x"], ["y"])], [("x", TensorProto.FLOAT, ["k"])])
    model.graph.output[0].CopyFrom(helper.make_tensor_value_info("y", TensorProto.FLOAT, [16]))
    choice = search(model)
    assert choice.shapes == {"x": (16,)}
    assert choice.tries == 2


def test_find_inputs_rejects_outputs_contradicting_a_symbol_shared_with_inputs():
    # y = Concat(x, x) has 2k elements where the model declares [k]: no size satisfies it.
    model = model_of([helper.make_node("Concat", ["x", "x"], ["y"], axis=0)], [("x", TensorProto.FLOAT, ["k"])])
    model.graph.output[0].CopyFrom(helper.make_tensor_value_info("y", TensorProto.FLOAT, ["k"]))
    with pytest.raises(InputSearchError) as error:
        search(model)
    assert "(tried x[8]: y has shape [16], declared y[k] and 11 more)" in str(error.value)


def test_find_inputs_unknown_rank_asks_for_the_shape():
    reference = OnnxReference(model_of([helper.make_node("Relu", ["x"], ["y"])], [("x", TensorProto.FLOAT, None)]))
    with pytest.raises(InputSearchError) as error:
        find_inputs(reference.input_specs(), reference.run, "model.onnx")
    assert str(error.value) == (
        "model.onnx: the rank of input(s) x is unknown; give the shape with --input-shape NAME[d0,d1,...]"
    )
    choice = find_inputs(reference.input_specs(), reference.run, "model.onnx", {"x": (2, 5)})
    assert choice.shapes == {"x": (2, 5)}


def test_error_gist_of_an_onnxruntime_error():
    reference = OnnxReference(reflect_pad_1d())
    with pytest.raises(Exception) as error:
        reference.run({"audio": np.zeros((1, 1, 8), np.float32)})
    assert error_gist(error.value) == "Pad: Pad reflect: pre-pad (32) exceeds maximum allowed (7) for axis 2. Input shape:{1,1,8}"
    assert error_gist(error.value, limit=20) == "Pad: Pad reflect:..."


def test_error_gist_of_other_errors():
    assert error_gist(ValueError("first line\nsecond line")) == "first line"
    assert error_gist(KeyError()) == "KeyError"
    assert error_gist(RuntimeError("x" * 300)) == "x" * 237 + "..."


def test_inputs_named_for_what_they_hold_get_such_values():
    """Detector size inputs hold the image's height and width, a VAD's sample rate is 16 kHz."""
    specs = [
        TensorSpec("image", np.dtype(np.float32), (1, 3, "h", "w")),
        TensorSpec("im_shape", np.dtype(np.float32), (1, 2)),
        TensorSpec("scale_factor", np.dtype(np.float32), (1, 2)),
        TensorSpec("sr", np.dtype(np.int64), ()),
        TensorSpec("attention_mask", np.dtype(bool), (1, 5)),
        TensorSpec("other", np.dtype(np.int64), (3,)),
    ]
    shapes = {"image": (1, 3, 320, 256), "im_shape": (1, 2), "scale_factor": (1, 2), "sr": (), "attention_mask": (1, 5), "other": (3,)}
    feeds = synthesize(specs, shapes, {"other": (5, 6)})
    assert feeds["im_shape"].tolist() == [[320.0, 256.0]] and feeds["im_shape"].dtype == np.float32
    assert feeds["scale_factor"].tolist() == [[1.0, 1.0]]
    assert feeds["sr"].shape == () and int(feeds["sr"]) == 16000
    assert feeds["attention_mask"].all()
    assert feeds["other"].tolist() == [5, 5, 5]
