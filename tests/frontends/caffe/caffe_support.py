"""Small Caffe nets written in the tests: a prototxt, its caffemodel built with irforge's own schema
messages, and a comparison of the IR (reloaded from disk, run in OpenVINO) with OpenCV's Caffe importer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from converter import convert_model, save_model
from converter.frontends.caffe import convert_caffe_with_weights, load_net
from converter.frontends.caffe.protos import NetParameter
from converter.frontends.caffe.reference import CaffeReference
from converter.validate.runners import IrRunner

RNG = np.random.default_rng(11)


def caffemodel_bytes(
    blobs: Mapping[str, Sequence[np.ndarray]], v1: bool = False, legacy_shapes: bool = False, names: Sequence[str] = ()
) -> bytes:
    """A NetParameter holding each layer's name and blobs (the layers `names` without any), as a trained model stores them."""
    net = NetParameter()
    for name in names:
        if name not in blobs:
            net.layers.add(name=name) if v1 else net.layer.add(name=name)
    for name, arrays in blobs.items():
        layer = net.layers.add(name=name) if v1 else net.layer.add(name=name)
        for array in arrays:
            blob = layer.blobs.add()
            if legacy_shapes:
                dims = [1] * (4 - array.ndim) + list(array.shape)
                blob.num, blob.channels, blob.height, blob.width = dims
            else:
                blob.shape.dim.extend(array.shape)
            blob.data.extend(np.asarray(array, dtype=np.float32).reshape(-1).tolist())
    return net.SerializeToString()


def write_net(folder: Path, prototxt: str, name: str = "net", v1: bool = False, legacy_shapes: bool = False) -> Path:
    """prototxt + a caffemodel with the blobs irforge asks for, random (fixed seed): the .caffemodel's path."""
    folder.mkdir(parents=True, exist_ok=True)
    net = folder / f"{name}.prototxt"
    net.write_text(prototxt)
    (folder / f"{name}.caffemodel").unlink(missing_ok=True)  # else the net would read its old weights
    _, blobs = convert_caffe_with_weights(net, random_weights=True)
    model = folder / f"{name}.caffemodel"
    parsed = load_net(net)
    names = [layer.name for layer in (*parsed.layer, *parsed.layers)]
    model.write_bytes(caffemodel_bytes(blobs, v1=v1, legacy_shapes=legacy_shapes, names=names))
    return model


def random_feeds(reference: CaffeReference, low: float = -1.0, high: float = 1.0) -> dict[str, np.ndarray]:
    return {spec.name: RNG.uniform(low, high, spec.dims).astype(np.float32) for spec in reference.input_specs()}


def compare(model: Path, folder: Path, feeds: Mapping[str, np.ndarray] | None = None, rtol: float = 1e-4, atol: float = 1e-5) -> list[np.ndarray]:
    """Convert, write, reload in OpenVINO from disk, run; assert it answers as OpenCV does. The IR's outputs."""
    reference = CaffeReference(model)
    feeds = feeds if feeds is not None else random_feeds(reference)
    xml, _ = save_model(convert_model(model), folder / "ir" / "model.xml")
    runner = IrRunner(xml, "openvino")
    actual = runner.run(feeds)
    expected = reference.run(feeds)
    assert [s.name for s in runner.output_specs()] == [s.name for s in reference.output_specs()] or len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert got.shape == want.shape, (got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    return actual


def net_text(input_shape: Sequence[int], body: str, name: str = "test", input_name: str = "data") -> str:
    dims = " ".join(f"dim: {d}" for d in input_shape)
    return f'name: "{name}"\nlayer {{ name: "{input_name}" type: "Input" top: "{input_name}" input_param {{ shape {{ {dims} }} }} }}\n{body}'


def ir_outputs(model: Path, folder: Path, feeds: Mapping[str, np.ndarray]) -> tuple[list[np.ndarray], dict[str, list[np.ndarray]]]:
    """The IR's outputs (written, reloaded and run in OpenVINO) and the model's blobs by layer."""
    from converter.frontends.caffe import load_weights

    xml, _ = save_model(convert_model(model), folder / "ir" / "model.xml")
    return IrRunner(xml, "openvino").run(feeds), load_weights(model)
