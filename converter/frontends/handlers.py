"""What a frontend's op handler accepts, read once from its signature.

A handler is `handler(ctx, *inputs, **attributes)`: its positional parameters after the context
are the op's inputs (those without a default are required), its keyword-only parameters the
attributes it knows. The frontends check a node against these facts before calling the handler.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple


class HandlerFacts(NamedTuple):
    accepts_any: bool  # takes **attributes
    keyword_only: frozenset[str]  # the attributes it names
    positional: int  # inputs it takes by position
    required: int  # of those, the ones without a default
    variadic: bool  # takes *inputs


@functools.cache
def handler_facts(handler: Callable[..., Any]) -> HandlerFacts:
    parameters = inspect.signature(handler).parameters.values()
    positional = [p for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)][1:]
    return HandlerFacts(
        accepts_any=any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters),
        keyword_only=frozenset(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY),
        positional=len(positional),
        required=sum(1 for p in positional if p.default is inspect.Parameter.empty),
        variadic=any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters),
    )
