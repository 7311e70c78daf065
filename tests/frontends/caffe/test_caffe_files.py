"""Caffe files: truncated and garbage inputs (one error line, exit 2), the all-at-once unsupported report,
a net alone (--caffe-random-weights), V1 layers and legacy blob shapes, finding the net beside the
weights, --framework, zoo discovery (one model per pair), and handler defaults against the schema."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from caffe_support import compare, net_text, write_net
from cli_support import assert_clean_failure, irforge
from converter.api import load_model
from converter.errors import InvalidModelError, UnsupportedOpsError
from converter.frontends import detect_format, source_bytes
from converter.frontends.caffe.layers import HANDLERS
from converter.frontends.caffe.net import PARAMS, handler_defaults
from converter.frontends.caffe.protos import POOL
from converter.frontends.options import FrontendOptions
from converter.zoo import find_models

SMALL = net_text(
    [1, 3, 8, 8],
    'layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 3 } }\n'
    'layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }\n'
    'layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }',
)

V1 = """name: "old"
input: "data"
input_dim: 1 input_dim: 2 input_dim: 6 input_dim: 6
layers { name: "conv" type: CONVOLUTION bottom: "data" top: "conv" convolution_param { num_output: 3 kernel_size: 3 } }
layers { name: "relu" type: RELU bottom: "conv" top: "conv" }
layers { name: "fc" type: INNER_PRODUCT bottom: "conv" top: "fc" inner_product_param { num_output: 5 } }
layers { name: "prob" type: SOFTMAX bottom: "fc" top: "prob" }
"""


def test_v1_layers_legacy_blob_shapes_and_train_only_layers(tmp_path) -> None:
    model = write_net(tmp_path, V1, v1=True, legacy_shapes=True)
    (prob,) = compare(model, tmp_path)
    assert prob.shape == (1, 5)


def test_layers_outside_the_test_phase_are_left_out(tmp_path) -> None:
    net = tmp_path / "train_val.prototxt"
    net.write_text(
        V1
        + 'layers { name: "loss" type: SOFTMAX_LOSS bottom: "fc" top: "loss" include { phase: TRAIN } }\n'
        + 'layers { name: "drop" type: DROPOUT bottom: "fc" top: "d" exclude { phase: TEST } }\n'
        + 'layers { name: "staged" type: SOFTMAX_LOSS bottom: "fc" top: "s" include { stage: "deploy" } }\n'
    )
    graph = load_model(net, FrontendOptions(caffe_random_weights=True))
    assert [v.names[0] for v in graph.outputs] == ["prob"]


def test_net_finds_weights_and_weights_find_net(tmp_path) -> None:
    model = write_net(tmp_path / "a", SMALL, name="deploy")
    renamed = model.with_name("trained.caffemodel")
    model.rename(renamed)
    assert detect_format(renamed) == "caffe"
    graph = load_model(renamed)  # deploy.prototxt beside it
    assert [v.names[0] for v in graph.outputs] == ["pool"]
    assert load_model(renamed.with_name("deploy.prototxt")).outputs[0].shape == graph.outputs[0].shape
    assert source_bytes(renamed) == renamed.stat().st_size + renamed.with_name("deploy.prototxt").stat().st_size


def test_manifest_names_the_net(tmp_path) -> None:
    model = write_net(tmp_path, SMALL, name="net")
    model.with_suffix(".prototxt").rename(tmp_path / "structure.txt")
    with pytest.raises(InvalidModelError, match="no net beside it"):
        load_model(model)
    (tmp_path / "net.yaml").write_text("frontend: {prototxt: structure.txt}\n")
    result = irforge("convert", model, "-o", tmp_path / "ir", "--precision", "fp32")
    assert result.returncode == 0, result.stderr
    assert load_model(model, FrontendOptions(prototxt="structure.txt")).outputs[0].shape.dims == (1, 4, 3, 3)


def test_prototxt_alone_needs_random_weights(tmp_path) -> None:
    net = tmp_path / "alone.prototxt"
    net.write_text(SMALL)
    assert_clean_failure(irforge("convert", net, "-o", tmp_path / "ir"), "alone.prototxt", "--caffe-random-weights")
    result = irforge("convert", net, "-o", tmp_path / "ir", "--caffe-random-weights", "--precision", "fp32")
    assert result.returncode == 0, result.stderr
    result = irforge("validate", net, tmp_path / "ir", "--caffe-random-weights", "--backend", "openvino")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_broken_caffemodel_is_one_error_line(tmp_path, damage) -> None:
    model = write_net(tmp_path, SMALL)
    data = model.read_bytes()
    model.write_bytes(data[: len(data) // 2] if damage == "truncated" else bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)))
    assert_clean_failure(irforge("convert", model, "-o", tmp_path / "ir"), "net.caffemodel")


@pytest.mark.parametrize("text", ['layer { name: "x" type: ', "\x00\x01garbage{{{", 'layer { name: "c" type: "Convolution" bottom: "nowhere" top: "c" }'])
def test_broken_prototxt_is_one_error_line(tmp_path, text) -> None:
    model = write_net(tmp_path, SMALL)
    model.with_suffix(".prototxt").write_text(text)
    assert_clean_failure(irforge("convert", model, "-o", tmp_path / "ir"), "net.prototxt")


def test_unsupported_layers_are_reported_at_once(tmp_path) -> None:
    body = (
        'layer { name: "s1" type: "SPP" bottom: "data" top: "s1" }\n'
        'layer { name: "s2" type: "SPP" bottom: "s1" top: "s2" }\n'
        'layer { name: "py" type: "Python" bottom: "s2" top: "py" python_param { module: "m" layer: "L" } }\n'
    )
    net = tmp_path / "net.prototxt"
    net.write_text(net_text([1, 3, 4, 4], body))
    with pytest.raises(UnsupportedOpsError) as error:
        load_model(net, FrontendOptions(caffe_random_weights=True))
    assert error.value.unsupported == {"Python": ["py"], "SPP": ["s1", "s2"]}
    assert_clean_failure(irforge("convert", net, "-o", tmp_path / "ir", "--caffe-random-weights"), "Python (nodes: py)", "SPP (nodes: s1, s2)")


def test_unknown_parameter_value_is_reported(tmp_path) -> None:
    net = tmp_path / "net.prototxt"
    net.write_text(net_text([1, 3, 4, 4], 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: STOCHASTIC kernel_size: 2 } }'))
    assert_clean_failure(irforge("convert", net, "-o", tmp_path / "ir", "--caffe-random-weights"), "'p' (Pooling)", "STOCHASTIC")


def test_framework_override(tmp_path) -> None:
    model = write_net(tmp_path, SMALL)
    odd = tmp_path / "weights.bin"
    shutil.copy(model, odd)
    shutil.copy(model.with_suffix(".prototxt"), tmp_path / "weights.prototxt")
    assert detect_format(odd, "caffe") == "caffe"
    assert load_model(odd, FrontendOptions(framework="caffe")).outputs[0].shape.dims == (1, 4, 3, 3)
    assert_clean_failure(irforge("info", odd, "--framework", "nosuch"), "--framework nosuch")
    assert_clean_failure(irforge("convert", model, "-o", tmp_path / "ir", "--keras-trace"), "--keras-trace does not apply to a caffe model")


def test_zoo_finds_one_model_per_pair(tmp_path) -> None:
    write_net(tmp_path / "a", SMALL, name="net")
    write_net(tmp_path / "b", SMALL, name="deploy")
    (tmp_path / "b" / "deploy.caffemodel").rename(tmp_path / "b" / "trained.caffemodel")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "alone.prototxt").write_text(SMALL)
    found = [p.relative_to(tmp_path).as_posix() for p in find_models(tmp_path)]
    assert found == ["a/net.caffemodel", "b/trained.caffemodel", "c/alone.prototxt"]


def test_handler_defaults_are_the_schema_defaults() -> None:
    for layer_type, field in PARAMS.items():
        if layer_type not in HANDLERS:
            continue
        message = POOL.FindMessageTypeByName("irforge.caffe.LayerParameter").fields_by_name[field].message_type
        for name, default in handler_defaults(HANDLERS[layer_type]).items():
            schema_field = message.fields_by_name[name]
            if schema_field.is_repeated or not schema_field.has_default_value or default is None:
                continue
            want = schema_field.default_value
            if schema_field.enum_type is not None:
                want = schema_field.enum_type.values_by_number[want].name
            assert default == pytest.approx(want), (layer_type, name, default, want)
