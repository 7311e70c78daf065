"""`--input NAME->VALUE`: the input (or an internal tensor) replaced by a constant, so the passes
fold what depends on it (a sample rate choosing If branches, a flag, a fixed length)."""

from __future__ import annotations

import numpy as np

from converter.errors import ConverterError
from converter.ir.graph import Graph, Value
from converter.ops.core import const
from converter.prepare.grammar import InputRequest
from converter.prepare.shapes import describe


def frozen_array(request: InputRequest, value: Value, source: str) -> np.ndarray:
    """The constant for `value`: the model's element type, the entry's shape, else the tensor's."""
    assert request.value is not None
    dtype = value.element_type.numpy
    numbers = np.asarray(request.value)
    if np.issubdtype(dtype, np.integer) and not np.all(np.asarray(request.value, np.float64) == np.round(np.asarray(request.value, np.float64))):
        raise ConverterError(f"{source}: --input {request.text()}: input {request.name!r} is {value.element_type.value}, the value is not an integer")
    array = numbers.astype(dtype)
    shape = request.shape if request.shape is not None else value.shape.dims
    if shape is None:
        raise ConverterError(f"{source}: --input {request.text()}: the tensor's rank is unknown; give its shape, e.g. {request.name}[{array.size}]->...")
    if any(d is None for d in shape):
        if len(shape) == 1:
            shape = (array.size,)
        else:
            raise ConverterError(
                f"{source}: --input {request.text()}: {request.name!r} is {describe(shape)}; give the frozen value's shape, e.g. {request.name}[...]->..."
            )
    count = int(np.prod(shape, dtype=np.int64))
    if array.size != count:
        raise ConverterError(
            f"{source}: --input {request.text()}: {array.size} value{'s' if array.size != 1 else ''} for {request.name!r} of shape {describe(shape)} ({count} values)"
        )
    declared = value.shape.dims
    if declared is not None and (len(declared) != len(shape) or any(d is not None and d != s for d, s in zip(declared, shape))):
        raise ConverterError(f"{source}: --input {request.text()}: shape {describe(shape)} does not fit {request.name!r} {describe(declared)}")
    return array.reshape(shape)


def freeze(graph: Graph, value: Value, request: InputRequest, source: str) -> None:
    frozen = const(frozen_array(request, value, source), name=f"{request.name}/frozen")
    graph.replace_values({value: frozen})
    if value.producer in graph.parameters:
        graph.parameters.remove(value.producer)
