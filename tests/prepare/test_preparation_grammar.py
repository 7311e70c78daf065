"""The option grammar (converter/prepare/grammar.py) and the request built from FrontendOptions:
every form the legacy Model Optimizer took, and one-line errors for what does not parse."""

from __future__ import annotations

import pytest

from converter.errors import ConverterError
from converter.frontends.options import FrontendOptions, options_from_mapping
from converter.prepare.grammar import (
    InputRequest,
    LayoutRequest,
    parse_channel_values,
    parse_input,
    parse_layouts,
    split_entries,
    split_top_level,
)
from converter.prepare.request import preparation_of


def test_top_level_commas_split_entries_not_shapes() -> None:
    assert split_top_level("a[1,3,224,224]{f32},b->[1,2], c") == ["a[1,3,224,224]{f32}", "b->[1,2]", "c"]
    assert split_entries(["a,b", "c[1,2]"]) == ("a", "b", "c[1,2]")  # repeated option and comma lists mix
    assert split_entries(None) == ()
    with pytest.raises(ConverterError, match="not closed"):
        split_top_level("a[1,2")
    with pytest.raises(ConverterError, match="unbalanced"):
        split_top_level("a]")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("images", InputRequest("images")),
        ("images[1,3,224,224]", InputRequest("images", (1, 3, 224, 224))),
        ("images[?,3,-1,224]{f32}", InputRequest("images", (None, 3, None, 224), "f32")),
        ("images{uint8}[1,3,8,8]", InputRequest("images", (1, 3, 8, 8), "u8")),
        ("ids{i64}", InputRequest("ids", None, "i64")),
        ("sr->16000", InputRequest("sr", None, None, (16000,), False)),
        ("x[2]->[1,2]", InputRequest("x", (2,), None, (1, 2), True)),
        ("x[]{f32}->0.5", InputRequest("x", (), "f32", (0.5,), False)),
        ("flag->true", InputRequest("flag", None, None, (True,), False)),
        ("model/conv1:0", InputRequest("model/conv1:0")),
    ],
)
def test_input_entries(text: str, expected: InputRequest) -> None:
    assert parse_input(text) == expected
    assert parse_input(expected.text()) == expected  # the error messages' spelling reads back


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1,2]", "expected NAME"),
        ("x[1,a]", "dim 'a'"),
        ("x[1..10]", "bounded dim"),
        ("x{f33}", "unknown element type 'f33'"),
        ("x->1,2", "several values need brackets"),
        ("x->[1,2", "does not close"),
        ("x->abc", "'abc' is not a number"),
        ("x->", "expected NAME"),
    ],
)
def test_bad_input_entries(text: str, message: str) -> None:
    with pytest.raises(ConverterError, match=message.replace("[", r"\[").replace(".", r"\.")) as error:
        parse_input(text)
    assert "\n" not in str(error.value)


def test_channel_values() -> None:
    assert parse_channel_values("data[123.68,116.78,103.94]", "--mean-values") == {"data": (123.68, 116.78, 103.94)}
    assert parse_channel_values("[1,2,3]", "--mean-values") == {None: (1.0, 2.0, 3.0)}
    assert parse_channel_values("255", "--scale-values") == {None: (255.0,)}
    assert parse_channel_values("a[1],b[2,3,4]", "--scale-values") == {"a": (1.0,), "b": (2.0, 3.0, 4.0)}
    assert parse_channel_values(None, "--mean-values") == {}
    with pytest.raises(ConverterError, match="'x' is not a number"):
        parse_channel_values("a[1,x]", "--mean-values")
    with pytest.raises(ConverterError, match="given twice"):
        parse_channel_values("a[1],a[2]", "--mean-values")
    with pytest.raises(ConverterError, match="do not mix"):
        parse_channel_values("[1],a[2]", "--mean-values")


def test_layouts() -> None:
    assert parse_layouts("image(nhwc)", "--layout") == [LayoutRequest("image", "nhwc", None)]
    assert parse_layouts("image(NHWC->NCHW),mask([N,C])", "--layout") == [LayoutRequest("image", "nhwc", "nchw"), LayoutRequest("mask", "nc", None)]
    assert parse_layouts("nchw", "--target-layout") == [LayoutRequest(None, None, "nchw")]
    assert parse_layouts("x(nc??)", "--source-layout") == [LayoutRequest("x", "nc??", None)]
    with pytest.raises(ConverterError, match="names a dim twice"):
        parse_layouts("x(nchh)", "--layout")
    with pytest.raises(ConverterError, match="belongs to --layout"):
        parse_layouts("x(nhwc->nchw)", "--source-layout")
    with pytest.raises(ConverterError, match="letters"):
        parse_layouts("x(n1)", "--layout")


def test_request_from_options_merges_layouts_and_rejects_conflicts() -> None:
    request = preparation_of(FrontendOptions(layout="x(nhwc)", target_layout="x(nchw)", inputs=("x[1,8,8,3]",), batch=2))
    assert request.layouts == (LayoutRequest("x", "nhwc", "nchw"),)
    assert request.inputs == (InputRequest("x", (1, 8, 8, 3)),)
    with pytest.raises(ConverterError, match="two source layouts"):
        preparation_of(FrontendOptions(layout="x(nhwc)", source_layout="x(nchw)"))
    with pytest.raises(ConverterError, match="more than once"):
        FrontendOptions(inputs=("x[1]", "x->1"))
    with pytest.raises(ConverterError, match="a scale of 0"):
        FrontendOptions(scale_values="[1,0,1]")
    with pytest.raises(ConverterError, match="--batch"):
        FrontendOptions(batch=0)
    with pytest.raises(ConverterError, match="--layout NAME"):
        FrontendOptions(input_layout="nchw", mean_values="[1,2,3]")


def test_manifest_frontend_keys() -> None:
    options = options_from_mapping(
        {
            "inputs": ["images[1,3,224,224]{u8}", "sr->16000"],
            "outputs": "logits",
            "batch": 1,
            "mean_values": {"images": [123.675, 116.28, 103.53]},
            "scale_values": 58.4,
            "reverse_input_channels": True,
            "layout": "images(nchw)",
        },
        "m.yaml",
    )
    assert options.inputs == ("images[1,3,224,224]{u8}", "sr->16000")
    assert options.outputs == ("logits",)
    assert preparation_of(options).mean_values == {"images": (123.675, 116.28, 103.53)}
    assert preparation_of(options).scale_values == {None: (58.4,)}
    assert options.given() == [
        "--inputs", "--outputs", "--batch", "--mean-values", "--scale-values", "--reverse-input-channels", "--layout"
    ]
    options.check_applies("onnx", "m.onnx")  # preparation applies to every format
    with pytest.raises(ConverterError, match="frontend.batch"):
        options_from_mapping({"batch": "2"}, "m.yaml")
    with pytest.raises(ConverterError, match="frontend.mean_values"):
        options_from_mapping({"mean_values": ["a"]}, "m.yaml")
