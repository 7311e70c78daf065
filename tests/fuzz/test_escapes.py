"""A name or link written inside a model file never makes irforge read or write outside the model's
folder and the output folder: each hostile file is refused with a clear message, the file it
names outside is never opened (Python's audit hook sees every open() and os.open()), and nothing
appears outside the two folders. A symlink the *user* placed is followed (model caches are full
of them). Costs about 3 s."""

from __future__ import annotations

import io
import os
import shutil
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from converter import convert_model, save_model
from converter.errors import ConverterError

ZOO = Path(__file__).resolve().parents[2] / "examples" / "zoo"
_opened: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _opened is not None and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _opened.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@contextmanager
def opened_files() -> Iterator[list[str]]:
    global _opened
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """model/ (the hostile model), out/ (its output), outside/secret.bin (what it must not touch)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.bin").write_bytes(np.arange(64, dtype=np.float32).tobytes())
    (tmp_path / "model").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path / "model", tmp_path / "out", outside


def refused_without_escape(model: Path, out: Path, outside: Path, message: str) -> None:
    before = sorted(p for p in model.parents[0].rglob("*"))
    with opened_files() as opened, pytest.raises(ConverterError) as refusal:
        save_model(convert_model(model), out / "model.xml")
    assert message in str(refusal.value) and "\n" not in str(refusal.value), str(refusal.value)
    assert not [p for p in opened if Path(p).resolve().is_relative_to(outside.resolve())], opened
    after = sorted(p for p in model.parents[0].rglob("*"))
    assert after == before, set(after) ^ set(before)


# ---------------------------------------------------------------- ONNX external data


def _external_model(location: str) -> onnx.ModelProto:
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[64])
    weight.data_location = TensorProto.EXTERNAL
    for key, value in {"location": location, "offset": "0", "length": "256"}.items():
        weight.external_data.add(key=key, value=value)
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])], "external",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [64])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [64])], [weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


@pytest.mark.parametrize("location", ["../outside/secret.bin", "sub/../../outside/secret.bin", "ABSOLUTE"])
def test_onnx_external_data_named_outside_is_refused(folders, location: str) -> None:
    model, out, outside = folders
    location = str(outside / "secret.bin") if location == "ABSOLUTE" else location
    path = model / "model.onnx"
    onnx.save(_external_model(location), path)
    refused_without_escape(path, out, outside, "points outside the model folder")


def test_onnx_external_data_through_a_symlink_the_user_placed_is_followed(folders) -> None:
    """As in a Hugging Face cache: the weights' name is a symlink into a blobs folder elsewhere."""
    model, out, outside = folders
    (model / "weights.bin").symlink_to(outside / "secret.bin")
    onnx.save(_external_model("weights.bin"), model / "model.onnx")
    graph = convert_model(model / "model.onnx")
    save_model(graph, out / "model.xml")
    assert (out / "model.bin").stat().st_size == 256


# ---------------------------------------------------------------- Keras .keras and .h5


def _keras_with(extra: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(ZOO / "keras" / "keras_cnn.keras")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, source.read(name))
        for name, data in extra.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("member", ["../escaped.txt", "/tmp/irforge-escaped.txt", "assets/../../escaped.txt"])
def test_keras_archive_names_outside_are_refused(folders, member: str) -> None:
    model, out, outside = folders
    path = model / "model.keras"
    path.write_bytes(_keras_with({member: b"escaped"}))
    refused_without_escape(path, out, outside, "archive member names point outside the archive")
    assert not Path("/tmp/irforge-escaped.txt").exists()


def _h5_with(source: Path, target: Path, hostile: str, outside: Path) -> None:
    shutil.copy(source, target)
    with h5py.File(target, "r+") as file:
        datasets: list[str] = []
        file.visititems(lambda name, obj: datasets.append(name) if isinstance(obj, h5py.Dataset) else None)
        victim = datasets[0]
        parent, leaf = victim.rsplit("/", 1)
        del file[victim]
        if hostile == "external link":
            file[parent][leaf] = h5py.ExternalLink(str(outside / "secret.h5"), "/data")
        elif hostile == "external dataset":
            file[parent].create_dataset(leaf, shape=(16,), dtype="f4", external=[(str(outside / "secret.bin"), 0, 64)])
        else:
            file[parent].create_dataset(leaf, shape=(16,), dtype="f4", external=[("../outside/secret.bin", 0, 64)])


@pytest.mark.parametrize("hostile", ["external link", "external dataset", "relative external dataset"])
def test_hdf5_links_and_external_storage_are_refused(folders, hostile: str) -> None:
    model, out, outside = folders
    with h5py.File(outside / "secret.h5", "w") as secret:
        secret["data"] = np.zeros(16, np.float32)
    path = model / "model.h5"
    _h5_with(ZOO / "keras" / "keras_cnn.h5", path, hostile, outside)
    refused_without_escape(path, out, outside, "HDF5 external link" if hostile == "external link" else "external file")


@pytest.mark.parametrize("hostile", ["external link", "external dataset"])
def test_keras_weights_member_links_are_refused(folders, hostile: str, tmp_path: Path) -> None:
    model, out, outside = folders
    with h5py.File(outside / "secret.h5", "w") as secret:
        secret["data"] = np.zeros(16, np.float32)
    source = zipfile.ZipFile(ZOO / "keras" / "keras_cnn.keras")
    weights = tmp_path / "weights.h5"
    weights.write_bytes(source.read("model.weights.h5"))
    hostile_weights = tmp_path / "hostile.h5"
    _h5_with(weights, hostile_weights, hostile, outside)
    path = model / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, hostile_weights.read_bytes() if name == "model.weights.h5" else source.read(name))
    refused_without_escape(path, out, outside, "HDF5 external link" if hostile == "external link" else "external file")


# ---------------------------------------------------------------- IR, Caffe, SavedModel


def test_ir_external_entities_are_refused(folders) -> None:
    """An XML entity naming a file (XXE) is never resolved: defusedxml refuses the document."""
    model, out, outside = folders
    xml = (ZOO / "ir" / "cnn_ir.xml").read_text()
    body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
    hostile = f'<?xml version="1.0"?>\n<!DOCTYPE net [<!ENTITY leak SYSTEM "file://{outside / "secret.bin"}">]>\n' + body.replace('name="', 'name="&leak;', 1)
    (model / "model.xml").write_text(hostile)
    shutil.copy(ZOO / "ir" / "cnn_ir.bin", model / "model.bin")
    refused_without_escape(model / "model.xml", out, outside, "model.xml")


def test_caffe_manifest_prototxt_outside_is_refused(folders) -> None:
    from converter.frontends.options import FrontendOptions

    model, out, outside = folders
    shutil.copy(ZOO / "caffe" / "classifier.caffemodel", model / "net.caffemodel")
    shutil.copy(ZOO / "caffe" / "classifier.prototxt", outside / "net.prototxt")
    with opened_files() as opened, pytest.raises(ConverterError, match="must be a file beside it"):
        convert_model(model / "net.caffemodel", options=FrontendOptions(prototxt="../outside/net.prototxt"))
    assert not [p for p in opened if Path(p).resolve().is_relative_to(outside.resolve())]


@pytest.mark.parametrize("reference", ['data_param { source: "SECRET" }', 'transform_param { mean_file: "SECRET" }', 'hdf5_data_param { source: "SECRET" }'])
def test_caffe_file_references_inside_a_prototxt_are_never_opened(folders, reference: str) -> None:
    """Data layers name their sources (LMDBs, list files, mean files); a deploy net's converter
    reads none of them: the net converts without the data layer's files, or is refused, never
    opening what they name."""
    model, out, outside = folders
    text = (ZOO / "caffe" / "classifier.prototxt").read_text()
    layer = f'layer {{ name: "reader" type: "Data" top: "unused" {reference.replace("SECRET", str(outside / "secret.bin"))} }}\n'
    (model / "net.prototxt").write_text(layer + text)
    shutil.copy(ZOO / "caffe" / "classifier.caffemodel", model / "net.caffemodel")
    with opened_files() as opened:
        try:
            save_model(convert_model(model / "net.caffemodel"), out / "model.xml")
        except ConverterError as error:
            assert "\n" not in str(error)
    assert not [p for p in opened if Path(p).resolve().is_relative_to(outside.resolve())], opened


def test_savedmodel_asset_paths_are_never_opened(folders) -> None:
    """A SavedModel's asset_file_def names files under assets/; irforge reads no asset, so one
    naming a file outside is never opened (the model converts as without it)."""
    from tensorflow.core.protobuf import saved_model_pb2  # irforge's own protos do not even declare asset_file_def

    model, out, outside = folders
    folder = model / "saved"
    shutil.copytree(ZOO / "tensorflow" / "regressor_savedmodel", folder)
    saved = saved_model_pb2.SavedModel.FromString((folder / "saved_model.pb").read_bytes())
    for meta_graph in saved.meta_graphs:
        asset = meta_graph.asset_file_def.add()
        asset.filename = "../../outside/secret.bin"
        asset.tensor_info.name = "asset_path:0"
    (folder / "saved_model.pb").write_bytes(saved.SerializeToString())
    with opened_files() as opened:
        save_model(convert_model(folder), out / "model.xml")
    assert not [p for p in opened if Path(p).resolve().is_relative_to(outside.resolve())], opened
