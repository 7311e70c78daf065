"""What the user asked to prepare, parsed once from the options' text (FrontendOptions or a manifest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from converter.errors import ConverterError
from converter.prepare.grammar import (
    InputRequest,
    LayoutRequest,
    parse_channel_values,
    parse_input,
    parse_layouts,
    parse_outputs,
)

if TYPE_CHECKING:
    from converter.frontends.options import FrontendOptions


@dataclass(frozen=True)
class Preparation:
    inputs: tuple[InputRequest, ...] = ()
    outputs: tuple[str, ...] = ()
    batch: int | None = None
    mean_values: dict[str | None, tuple[float, ...]] = field(default_factory=dict)
    scale_values: dict[str | None, tuple[float, ...]] = field(default_factory=dict)
    reverse_input_channels: bool = False
    layouts: tuple[LayoutRequest, ...] = ()

    @property
    def preprocesses(self) -> bool:
        return bool(self.mean_values or self.scale_values or self.reverse_input_channels or self.layouts)


def preparation_of(options: FrontendOptions) -> Preparation:
    inputs = tuple(parse_input(entry) for entry in options.inputs)
    names = [request.name for request in inputs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ConverterError(f"--input names {', '.join(twice)} more than once")
    for values in (parse_channel_values(options.scale_values, "--scale-values"),):
        for name, numbers in values.items():
            if any(v == 0 for v in numbers):
                raise ConverterError(f"--scale-values {name or ''}{list(numbers)}: a scale of 0")
    layouts = [
        *parse_layouts(options.layout, "--layout"),
        *parse_layouts(options.source_layout, "--source-layout"),
        *parse_layouts(options.target_layout, "--target-layout"),
    ]
    merged: dict[str | None, LayoutRequest] = {}
    for request in layouts:
        known = merged.get(request.name, LayoutRequest(request.name, None, None))
        for part in ("source", "target"):
            given, before = getattr(request, part), getattr(known, part)
            if given is not None and before is not None and given != before:
                label = "every input" if request.name is None else repr(request.name)
                raise ConverterError(f"--layout: two {part} layouts for {label}: {before} and {given}")
        merged[request.name] = LayoutRequest(request.name, request.source or known.source, request.target or known.target)
    if None in merged and len(merged) > 1:
        raise ConverterError("--layout: a layout without a name applies to the single input; do not mix it with named ones")
    return Preparation(
        inputs=inputs,
        outputs=parse_outputs(options.outputs),
        batch=options.batch,
        mean_values=parse_channel_values(options.mean_values, "--mean-values"),
        scale_values=parse_channel_values(options.scale_values, "--scale-values"),
        reverse_input_channels=options.reverse_input_channels,
        layouts=tuple(merged.values()),
    )
