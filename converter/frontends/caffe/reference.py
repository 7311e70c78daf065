"""The Caffe reference runner: OpenCV's Caffe importer runs the source model (validation only).

`cv2.dnn.readNetFromCaffe` (opencv-python-headless below 5: 5.0 removed the Caffe importer;
pip install 'irforge[caffe]'), imported only when a runner is made. It returns the net's
unconsumed tops, named by their blobs as the IR's outputs are. A net converted with random
weights runs with the same blobs, written to a temporary .caffemodel.

Detection outputs: OpenCV pads the rows after the last detection with zeros, OpenVINO marks the
first of them with image −1; the runner marks it too, so both answer alike.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from converter.errors import InvalidModelError
from converter.validate.inputs import TensorSpec


def _cv2():
    try:
        import cv2
    except ImportError:
        return None
    return cv2 if hasattr(cv2, "dnn") and hasattr(cv2.dnn, "readNetFromCaffe") else None


class CaffeReference:
    """The model in OpenCV's dnn module, on its CPU backend."""

    label = "opencv"

    def __init__(self, path: str | os.PathLike[str], prototxt: str | None = None, random_weights: bool = False):
        from converter.frontends.caffe import convert_caffe_with_weights, load_net, model_files
        from converter.frontends.caffe.net import layers_of, net_inputs

        cv2 = _cv2()
        if cv2 is None:
            raise InvalidModelError(f"{path}: validating a Caffe model needs OpenCV's Caffe importer: pip install 'irforge[caffe]' (opencv-python-headless<5)")
        self.prototxt, weights = model_files(path, prototxt)
        net = load_net(self.prototxt)
        source = os.fspath(self.prototxt)
        graph, generated = convert_caffe_with_weights(path, prototxt, random_weights)
        self._inputs = [TensorSpec(v.name, np.dtype(np.float32), tuple(v.shape.dims or ())) for v in graph.inputs]
        self._outputs = [TensorSpec(v.names[0] if v.names else v.name, np.dtype(np.float32), tuple(v.shape.dims or ())) for v in graph.outputs]
        layers = layers_of(net, source)
        self.node_count = len(layers) + len(net_inputs(net, source))
        self._layer_of_output, self._detections = self._output_layers(layers)
        try:
            if weights is None and generated:
                self.net = self._read_with(cv2, generated)
            else:
                self.net = cv2.dnn.readNetFromCaffe(os.fspath(self.prototxt), os.fspath(weights) if weights else "")
            self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        except cv2.error as error:
            reason = " ".join(str(error).split())
            raise InvalidModelError(f"{self.prototxt}: OpenCV's Caffe importer cannot load the model: {reason}") from None

    def _output_layers(self, layers) -> tuple[list[str], set[str]]:
        """The OpenCV layer whose output each IR output is: the last layer writing its blob
        (OpenCV renames a repeated layer name to name_1, name_2...)."""
        writer: dict[str, tuple[str, int]] = {}
        kinds: dict[str, str] = {}
        seen: dict[str, int] = {}
        for layer in layers:
            repeats = seen.get(layer.name, 0)
            seen[layer.name] = repeats + 1
            name = layer.name if not repeats else f"{layer.name}_{repeats}"
            for index, top in enumerate(layer.top):
                writer[top] = (name, index)
                kinds[top] = layer.type
        names, detections = [], set()
        for spec in self._outputs:
            layer_name, index = writer[spec.name]
            names.append(layer_name if index == 0 else f"{layer_name}:{index}")
            if kinds[spec.name] == "DetectionOutput":
                detections.add(spec.name)
        return names, detections

    def _read_with(self, cv2, generated: dict[str, list[np.ndarray]]):
        from converter.frontends.caffe.protos import NetWeights

        weights = NetWeights()
        for name, blobs in generated.items():
            layer = weights.layer.add(name=name)
            for array in blobs:
                blob = layer.blobs.add()
                blob.shape.dim.extend(array.shape)
                blob.data.extend(np.asarray(array, dtype=np.float32).reshape(-1).tolist())
        with tempfile.TemporaryDirectory(prefix="irforge-caffe-") as folder:
            model = Path(folder) / "random.caffemodel"
            model.write_bytes(weights.SerializeToString())
            return cv2.dnn.readNetFromCaffe(os.fspath(self.prototxt), os.fspath(model))

    def input_specs(self) -> list[TensorSpec]:
        return list(self._inputs)

    def output_specs(self) -> list[TensorSpec]:
        return list(self._outputs)

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        for spec in self._inputs:
            self.net.setInput(np.ascontiguousarray(feeds[spec.name], dtype=np.float32), spec.name)
        layers = list(dict.fromkeys(name.split(":")[0] for name in self._layer_of_output))
        retrieved = dict(zip(layers, self.net.forwardAndRetrieve(layers)))
        results = []
        for spec, name in zip(self._outputs, self._layer_of_output):
            layer, _, index = name.partition(":")
            array = retrieved[layer][int(index or 0)]
            array = np.array(array, dtype=np.float32)
            if spec.name in self._detections:
                array = _mark_end(array)
            results.append(array.reshape(spec.dims) if spec.dims and array.size == int(np.prod(spec.dims)) else array)
        return results


def _mark_end(detections: np.ndarray) -> np.ndarray:
    """The first all-zero row after the detections gets image −1, as OpenVINO marks the end."""
    rows = detections.reshape(-1, 7)
    empty = np.flatnonzero(~rows.any(axis=1))
    if empty.size:
        rows = rows.copy()
        rows[empty[0], 0] = -1
    return rows.reshape(detections.shape)
