"""MXNet checkpoint files: the params format's versions, old symbol JSON, checkpoint resolution,
detection and zoo discovery, and clear one-line errors (exit 2) on truncated or garbage files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cli_support import assert_clean_failure, irforge
from converter.api import load_model
from converter.errors import InvalidModelError, NodeConversionError, UnsupportedOpsError
from converter.frontends import detect_format, reference_runner, source_bytes
from converter.frontends.mxnet import convert_mxnet, find_checkpoint
from converter.frontends.mxnet.params import ParamsError, parse_params
from converter.frontends.options import FrontendOptions, options_from_mapping
from converter.errors import NoReferenceError
from converter.zoo import find_models, model_files
from mxnet_files import SymbolBuilder, assert_close, params_bytes, run_converted, write_checkpoint
from mxnet_reference import run_reference


def small_net(folder: Path, prefix: str = "net", epoch: int = 0, scale: float = 1.0, version: str = "v2") -> Path:
    """data [?, 3, 6, 6] → Convolution 3×3 → BatchNorm → relu → FullyConnected 4."""
    rng = np.random.default_rng(0)
    b = SymbolBuilder()
    x = b.var("data", (0, 3, 6, 6))
    conv = b.op("Convolution", "conv0", x, b.var("conv0_weight"), b.var("conv0_bias"), kernel=(3, 3), num_filter=2)
    bn = b.op("BatchNorm", "bn0", conv, b.var("bn0_gamma"), b.var("bn0_beta"), b.var("bn0_moving_mean"), b.var("bn0_moving_var"), fix_gamma=False)
    relu = b.op("Activation", "relu0", bn, act_type="relu")
    fc = b.op("FullyConnected", "fc", relu, b.var("fc_weight"), b.var("fc_bias"), num_hidden=4)
    args = {
        "conv0_weight": rng.standard_normal((2, 3, 3, 3)).astype(np.float32) * scale,
        "conv0_bias": rng.standard_normal(2).astype(np.float32),
        "bn0_gamma": rng.uniform(0.5, 1.5, 2).astype(np.float32),
        "bn0_beta": rng.standard_normal(2).astype(np.float32),
        "fc_weight": rng.standard_normal((4, 32)).astype(np.float32),
        "fc_bias": rng.standard_normal(4).astype(np.float32),
    }
    aux = {"bn0_moving_mean": rng.standard_normal(2).astype(np.float32), "bn0_moving_var": rng.uniform(0.5, 2, 2).astype(np.float32)}
    return write_checkpoint(folder, prefix, b, [fc], args, aux, epoch=epoch, version=version)


def feeds() -> dict[str, np.ndarray]:
    return {"data": np.random.default_rng(1).standard_normal((2, 3, 6, 6)).astype(np.float32)}


# ------------------------------------------------------------------ the params format


@pytest.mark.parametrize("version", ["v2", "v3", "v1", "legacy"])
def test_params_versions_read_alike(version: str, tmp_path: Path) -> None:
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "i": np.array([1, -2], np.int64), "h": np.ones((1, 2), np.float16)}
    params = parse_params(params_bytes(arrays, {"m": np.array([0.5], np.float64)}, version))
    for name, array in arrays.items():
        np.testing.assert_array_equal(params.args[name], array)
        assert params.args[name].dtype == array.dtype
    assert params.aux["m"].dtype == np.float64


def test_params_without_names_and_bare_names() -> None:
    params = parse_params(params_bytes({"a": np.zeros(2, np.float32)}, names=False))
    assert list(params.args) == ["0"]
    gluon = bytearray(params_bytes({"dense0_weight": np.ones(3, np.float32)}))
    gluon = gluon.replace(b"arg:dense0_weight", b"dense0_weight")
    gluon[-len(b"dense0_weight") - 8 : -len(b"dense0_weight")] = len(b"dense0_weight").to_bytes(8, "little")
    params = parse_params(bytes(gluon))
    assert params.find("dense0_weight") is not None


@pytest.mark.parametrize("cut", [0, 7, 20, 30, 60, -5])
def test_truncated_params_raise_params_error(cut: int) -> None:
    data = params_bytes({"w": np.ones((4, 4), np.float32)})
    with pytest.raises(ParamsError):
        parse_params(data[:cut])


def test_garbage_params_raise_params_error() -> None:
    for seed in range(20):
        noise = np.random.default_rng(seed).integers(0, 256, 200, dtype=np.uint8).tobytes()
        with pytest.raises(ParamsError):
            parse_params(b"\x12\x01\0\0\0\0\0\0" + bytes(8) + noise)
    data = bytearray(params_bytes({"w": np.ones(4, np.float32)}))
    data[52:56] = (99).to_bytes(4, "little")  # the type flag, after magic, storage type, shape and context
    with pytest.raises(ParamsError, match="type flag"):
        parse_params(bytes(data))


# ------------------------------------------------------------------ symbols and checkpoints


def test_converts_and_matches_reference(tmp_path: Path) -> None:
    path = small_net(tmp_path)
    graph = convert_mxnet(path)
    assert [v.name for v in graph.inputs] == ["data"]
    assert graph.inputs[0].shape.dims == (None, 3, 6, 6)
    assert "fc_output" in graph.outputs[0].names
    args, aux = _arrays(tmp_path / "net-0000.params")
    expected = run_reference(path, args, aux, feeds())
    assert_close(run_converted(path, feeds(), tmp_path)[0], expected[0])


def _arrays(params_path: Path):
    params = parse_params(params_path.read_bytes())
    return params.args, params.aux


def test_old_symbol_json_param_attr_and_missing_aux_inputs(tmp_path: Path) -> None:
    """MXNet 0.8 files: parameters under "param", hidden ones under "attr", two-entry inputs, old op
    names, and BatchNorm's moving statistics left out of the graph (found in the params by name)."""
    path = small_net(tmp_path)
    symbol = json.loads(path.read_text())
    for node in symbol["nodes"]:
        node["inputs"] = [entry[:2] for entry in node["inputs"]]
        if "attrs" in node:
            node["param"] = node.pop("attrs")
            node["attr"] = {"ctx_group": "stage1", "lr_mult": "0.1"}
        if node["op"] == "BatchNorm":
            node["inputs"] = node["inputs"][:3]
    symbol["heads"] = [entry[:2] for entry in symbol["heads"]]
    del symbol["attrs"]
    plus = {"op": "_PlusScalar", "name": "plus", "param": {"scalar": "2"}, "inputs": [[len(symbol["nodes"]) - 1, 0]]}
    symbol["nodes"].append(plus)
    symbol["heads"] = [[len(symbol["nodes"]) - 1, 0]]
    path.write_text(json.dumps(symbol))
    args, aux = _arrays(tmp_path / "net-0000.params")
    reference_symbol = json.loads(path.read_text())
    reference_symbol["nodes"][-1]["op"] = "_plus_scalar"
    for node in reference_symbol["nodes"]:
        if node["op"] == "BatchNorm":
            node["inputs"] += [[6, 0], [7, 0]]
    reference_path = tmp_path / "reference-symbol.json"
    reference_path.write_text(json.dumps(reference_symbol))
    expected = run_reference(reference_path, args, aux, feeds())
    assert_close(run_converted(path, feeds(), tmp_path)[0], expected[0])


def test_the_highest_epoch_is_read_unless_one_is_named(tmp_path: Path) -> None:
    small_net(tmp_path, epoch=1, scale=1.0)
    small_net(tmp_path, epoch=12, scale=2.0)
    symbol = tmp_path / "net-symbol.json"
    assert find_checkpoint(symbol).epoch == 12
    assert find_checkpoint(symbol, 1).params.name == "net-0001.params"
    assert find_checkpoint(tmp_path / "net-0001.params").epoch == 1
    first = run_converted(tmp_path / "net-symbol.json", feeds(), tmp_path / "a")
    by_option = load_model(symbol, FrontendOptions(epoch=1))
    assert by_option.name == "net"
    with pytest.raises(InvalidModelError, match="epochs: 1, 12"):
        find_checkpoint(symbol, 3)
    assert options_from_mapping({"epoch": 1}, "m.yaml").epoch == 1
    with pytest.raises(InvalidModelError, match="checkpoint number"):
        options_from_mapping({"epoch": "one"}, "m.yaml")
    assert first[0].shape == (2, 4)


def test_detection_sources_and_zoo_discovery(tmp_path: Path) -> None:
    symbol = small_net(tmp_path / "zoo" / "mxnet")
    small_net(tmp_path / "zoo" / "mxnet", epoch=3)
    (tmp_path / "zoo" / "mxnet" / "notes.json").write_text("{}")
    assert detect_format(symbol) == "mxnet"
    assert detect_format(tmp_path / "zoo" / "mxnet" / "net-0003.params") == "mxnet"
    assert find_models(tmp_path / "zoo") == [symbol]
    files = model_files(symbol)
    assert [f.name for f in files] == ["net-0003.params", "net-symbol.json"]
    assert source_bytes(symbol) == sum(f.stat().st_size for f in files)
    with pytest.raises(NoReferenceError, match="no runnable MXNet reference"):
        reference_runner(symbol)
    with pytest.raises(InvalidModelError, match="--signature does not apply to a mxnet model"):
        load_model(symbol, FrontendOptions(signature="serving_default"))


def test_unsupported_ops_are_reported_at_once(tmp_path: Path) -> None:
    b = SymbolBuilder()
    x = b.var("data", (1, 3))
    y = b.op("_contrib_Fancy", "fancy0", x)
    y = b.op("relu", "r", y)
    y = b.op("RNN", "rnn0", y, state_size=4)
    y = b.op("_contrib_Fancy", "fancy1", y)
    path = write_checkpoint(tmp_path, "net", b, [y], {})
    with pytest.raises(UnsupportedOpsError) as error:
        convert_mxnet(path)
    assert error.value.unsupported == {"RNN": ["rnn0"], "_contrib_Fancy": ["fancy0", "fancy1"]}
    result = irforge("convert", path, "-o", tmp_path / "out")
    assert_clean_failure(result, "unsupported ops", "RNN (nodes: rnn0)", "_contrib_Fancy (nodes: fancy0, fancy1)")


def test_unknown_attribute_and_unknown_rank_are_errors(tmp_path: Path) -> None:
    b = SymbolBuilder()
    y = b.op("Activation", "a", b.var("data", (1, 3)), act_type="relu", fancy="1")
    with pytest.raises(NodeConversionError, match="unsupported attribute.*fancy"):
        convert_mxnet(write_checkpoint(tmp_path / "a", "net", b, [y], {}))
    b = SymbolBuilder()
    y = b.op("Activation", "a", b.var("data"), act_type="relu")
    with pytest.raises(NodeConversionError, match="__shape__"):
        convert_mxnet(write_checkpoint(tmp_path / "b", "net", b, [y], {}))


# ------------------------------------------------------------------ broken files through the CLI


def test_truncated_and_garbage_files_fail_in_one_line(tmp_path: Path) -> None:
    path = small_net(tmp_path / "ok")
    params = tmp_path / "ok" / "net-0000.params"
    whole = params.read_bytes()
    params.write_bytes(whole[: len(whole) // 2])
    assert_clean_failure(irforge("convert", path, "-o", tmp_path / "o1"), "net-0000.params", "truncated")
    params.write_bytes(b"garbage, not an NDArray list" * 4)
    assert_clean_failure(irforge("convert", path, "-o", tmp_path / "o2"), "not an MXNet params file")
    params.write_bytes(whole)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    assert_clean_failure(irforge("convert", path, "-o", tmp_path / "o3"), "net-symbol.json", "not an MXNet symbol")
    path.write_text(json.dumps({"nodes": [{"op": "relu", "name": "r", "inputs": [[5, 0, 0]]}], "heads": [[0, 0, 0]]}))
    assert_clean_failure(irforge("convert", path, "-o", tmp_path / "o4"), "does not come before it")
    lonely = tmp_path / "lonely-symbol.json"
    lonely.write_text(text)
    assert_clean_failure(irforge("convert", lonely, "-o", tmp_path / "o5"), "no parameters beside it", "lonely-NNNN.params")
