"""What a Keras layer handler sees: the layer (name, class, weights, call arguments) and how to refuse.

A handler is one function per Keras layer class, named like the class, called as
`handler(layer, *inputs, **config)`: `inputs` are the IR values the layer is called on, `config`
the layer's saved config minus the keys every layer has (name, dtype, trainable) and the keys
that only matter in training (initializers, regularizers, constraints, seeds). Defaults sit in
the signature, as in Keras' own `__init__`; a config key the signature does not name is
reported, never ignored.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from converter.frontends.keras.files import Weights
from converter.ir.graph import Value

Handler = Callable[..., Any]

TRAINING_ONLY = re.compile(r".*_(initializer|regularizer|constraint)$|^activity_regularizer$|^seed$")
"""Config keys that change training, never inference: accepted and dropped."""

COMMON_KEYS = frozenset({"name", "trainable", "dtype", "batch_input_shape", "batch_shape", "input_shape", "input_dim"})
"""Keys every layer may carry: identity, trainability, dtype policy (checked apart), input shape hints."""

FLOAT_POLICIES = ("float32",)


class Unsupported(Exception):
    """Raised by a handler for a config or input it cannot express; becomes NodeConversionError."""


@dataclass
class Layer:
    """One call of one Keras layer."""

    source: str
    name: str
    class_name: str
    weights: Weights
    keras_major: int = 3
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    convert_inner: Callable[[dict[str, Any], list[Value], Weights, str], list[Value]] | None = None
    twins: Any = None  # layout.ChannelsFirstTwins of the conversion: NCHW twins of NHWC values

    def variables(self, *names: str | None) -> list[np.ndarray]:
        """The layer's variables in its variable order; `names` (None for an absent one) say what is expected."""
        expected = [n for n in names if n]
        arrays = self.weights.flat()
        if len(arrays) != len(expected):
            raise Unsupported(
                f"expected {len(expected)} variable(s) ({', '.join(expected) or 'none'}), the file has {len(arrays)}"
            )
        return arrays

    def call_option(self, name: str, default: Any = None) -> Any:
        """A call argument the handler understands (removed, so what is left can be reported)."""
        return self.call_kwargs.pop(name, default)

    def inner(self, config: dict[str, Any], inputs: list[Value], weights: Weights | None = None, suffix: str = "") -> list[Value]:
        """Convert a wrapped layer (TimeDistributed, Bidirectional) on `inputs`."""
        assert self.convert_inner is not None
        inner_name = _layer_name(config)
        return self.convert_inner(config, inputs, weights if weights is not None else self.weights.child(inner_name), f"{self.name}/{suffix or inner_name}")


def _layer_name(config: dict[str, Any]) -> str:
    return str(config.get("config", {}).get("name") or config.get("name") or config.get("class_name", "layer"))


def dtype_policy(value: Any) -> str | None:
    """`"float32"` (Keras 2) or `{"class_name": "DTypePolicy", "config": {"name": "float32"}}` (Keras 3) → its name."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        if value.get("class_name") not in (None, "DTypePolicy", "Policy", "FloatDTypePolicy"):
            return str(value.get("class_name"))
        inner = value.get("config", {})
        return str(inner.get("name")) if isinstance(inner, dict) else str(inner)
    return str(value)


@functools.cache
def _parameters(handler: Handler) -> tuple[frozenset[str], frozenset[str], bool]:
    parameters = inspect.signature(handler).parameters.values()
    names = frozenset(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)
    positional = frozenset(p.name for p in parameters if p.kind is not inspect.Parameter.KEYWORD_ONLY)
    return names, positional, any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def handler_config(handler: Handler, config: dict[str, Any]) -> dict[str, Any]:
    """The config keys the handler takes; raises Unsupported naming any key it does not know.

    A key spelled like a positional parameter (a wrapper's `layer`) is passed with a trailing `_`.
    """
    accepted, positional, takes_any = _parameters(handler)
    kept: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in config.items():
        if key in positional:
            key = key + "_"
        if key in accepted or takes_any:
            kept[key] = value
        elif key in COMMON_KEYS or TRAINING_ONLY.match(key):
            continue
        else:
            unknown.append(key)
    if unknown:
        raise Unsupported(f"unsupported config attribute(s) {sorted(unknown)}")
    return kept


def check_dtype(config: dict[str, Any]) -> None:
    policy = dtype_policy(config.get("dtype"))
    if policy is not None and policy not in FLOAT_POLICIES:
        raise Unsupported(f"dtype policy {policy!r} is not supported (only {', '.join(FLOAT_POLICIES)})")


def per_axis(value: Any, count: int, what: str) -> tuple[int, ...]:
    """Keras' `3` or `(3, 3)` or `[3, 3]` → a tuple of `count` ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * count
    if isinstance(value, Sequence) and len(value) == count and all(isinstance(v, (int, np.integer)) for v in value):
        return tuple(int(v) for v in value)
    raise Unsupported(f"{what}={value!r} is not {count} integer(s)")
