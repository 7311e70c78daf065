"""`--keras-trace`: a Keras file the layer-by-layer frontend cannot map (a `Lambda`, a custom layer)
loaded by Keras itself, traced to a TensorFlow graph with its variables frozen in, and converted by
the TensorFlow frontend. Needs TensorFlow; inputs and outputs keep the Keras layer names, as the
layer-by-layer frontend names them."""

from __future__ import annotations

import os
from pathlib import Path

from converter.errors import InvalidModelError
from converter.ir.graph import Graph


def convert_keras_traced(path: str | os.PathLike[str]) -> Graph:
    from converter.frontends.keras.reference import KerasReference
    from converter.frontends.tensorflow.graph import convert_graph_def
    from converter.frontends.tensorflow.ops import HANDLERS
    from converter.frontends.tensorflow.protos import GraphDef

    source = os.fspath(path)
    # Asking for a trace is trusting the file: Keras may run the Python code it carries (a Lambda).
    reference = KerasReference(path, trusted=True)
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    model = reference.model
    specs = [tf.TensorSpec(tensor.shape, tensor.dtype) for tensor in model.inputs]

    def call(*inputs):
        result = model(list(inputs) if len(inputs) > 1 else inputs[0], training=False)
        return result if isinstance(result, (list, tuple)) else [result]

    try:
        concrete = tf.function(call).get_concrete_function(*specs)
        frozen = convert_variables_to_constants_v2(concrete)
    except Exception as error:  # tracing runs the model's own Python code: any error is the model's
        raise InvalidModelError(f"{source}: Keras cannot trace the model: {type(error).__name__}: {error}") from None
    graph_def = GraphDef.FromString(frozen.graph.as_graph_def().SerializeToString())
    inputs = [tensor.name for tensor in frozen.inputs if tensor.dtype != tf.resource]
    outputs = [tensor.name for tensor in frozen.outputs]
    graph = convert_graph_def(graph_def, source, HANDLERS, inputs, outputs, name=Path(source).stem)
    _rename(graph.inputs, [spec.name for spec in reference.input_specs()])
    _rename(graph.outputs, [spec.name for spec in reference.output_specs()])
    return graph


def _rename(values, names: list[str]) -> None:
    for value, name in zip(values, names):
        value.names[:] = [name, *(n for n in value.names if n != name)]
