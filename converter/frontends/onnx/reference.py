"""The ONNX reference runner: the source model executed by onnxruntime, as validation's yardstick."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx

from converter.errors import InvalidModelError
from converter.validate.inputs import Dim, TensorSpec


class OnnxReference:
    """`onnxruntime` on the source `.onnx` (or an in-memory ModelProto), one thread, CPU."""

    label = "onnxruntime"

    def __init__(self, model: onnx.ModelProto | str | os.PathLike[str]):
        import onnxruntime

        from converter.frontends.onnx.loader import load_onnx

        if isinstance(model, onnx.ModelProto):
            proto, payload, self.source = model, model.SerializeToString(), "<ModelProto>"
        else:
            proto, payload, self.source = load_onnx(model), os.fspath(model), os.fspath(model)
        initializers = {tensor.name for tensor in proto.graph.initializer}
        self._inputs = [_spec(info) for info in proto.graph.input if info.name not in initializers]
        self._outputs = [_spec(info) for info in proto.graph.output]
        self.node_count = len(proto.graph.node)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 4  # errors reach the caller as exceptions, not as log lines
        try:
            self.session = onnxruntime.InferenceSession(payload, options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime's own errors carry no common base class
            raise InvalidModelError(f"{self.source}: onnxruntime cannot load the source model: {error}") from None

    def input_specs(self) -> list[TensorSpec]:
        return list(self._inputs)

    def output_specs(self) -> list[TensorSpec]:
        return list(self._outputs)

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return list(self.session.run(None, {spec.name: feeds[spec.name] for spec in self._inputs}))


def _spec(info: onnx.ValueInfoProto) -> TensorSpec:
    from converter.frontends.onnx.converter import ELEMENT_TYPES

    tensor_type = info.type.tensor_type
    element = ELEMENT_TYPES.get(tensor_type.elem_type)
    dtype = element.numpy if element is not None else np.dtype(np.float32)
    dims: tuple[Dim, ...] | None = None
    if tensor_type.HasField("shape"):
        dims = tuple(
            d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor_type.shape.dim
        )
    return TensorSpec(info.name, np.dtype(dtype), dims)


def source_bytes(path: str | os.PathLike[str]) -> int:
    """The model file plus every external-data file it references."""
    path = Path(path)
    model = onnx.load(os.fspath(path), load_external_data=False)
    files = {path.resolve()}
    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        tensors.extend(attr.t for attr in node.attribute if attr.HasField("t"))
    for tensor in tensors:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = next((entry.value for entry in tensor.external_data if entry.key == "location"), None)
            if location:
                files.add((path.parent / location).resolve())
    return sum(f.stat().st_size for f in files if f.is_file())
