"""Handler defaults are Keras' own: every keyword the handler and keras.layers.<Class>.__init__ share has the same default."""

from __future__ import annotations

import inspect

import pytest

from converter.frontends.keras.layers import LAYERS

KERAS2_ONLY = {"time_major", "implementation", "alpha", "input_length", "theta"}


def _normalized(value):
    if isinstance(value, (list, tuple)):
        return tuple(_normalized(v) for v in value)
    return value


@pytest.mark.parametrize("class_name", sorted(k for k in LAYERS if not k.startswith("ops.")))
def test_defaults_match_keras(keras, class_name):
    keras_class = getattr(keras.layers, class_name, None)
    if keras_class is None:
        pytest.skip(f"keras.layers has no {class_name} (a Keras 2 layer)")
    keras_parameters = inspect.signature(keras_class.__init__).parameters
    handler_parameters = inspect.signature(LAYERS[class_name]).parameters
    for name, parameter in handler_parameters.items():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY or name in KERAS2_ONLY:
            continue
        keras_name = name.rstrip("_")
        if keras_name not in keras_parameters:
            continue
        keras_default = keras_parameters[keras_name].default
        ours = parameter.default
        if keras_default is inspect.Parameter.empty:
            assert ours is inspect.Parameter.empty, f"{class_name}.{name}: Keras requires it, the handler defaults to {ours!r}"
        else:
            assert _normalized(ours) == _normalized(keras_default), f"{class_name}.{name}: handler {ours!r}, Keras {keras_default!r}"
