"""The source model fed the prepared input, for validation: a reference runner whose inputs are
the IR's (raw images in the fed layout and type, frozen inputs gone, shapes as given) and which
feeds the source what the embedded ops compute (preprocess.InputPlan.feed), frozen values included.

Cuts need a source that can be fed or read at an internal tensor: a frozen GraphDef can (its
reference takes the names); for other formats validation refuses them with a clear error."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from converter.errors import ConverterError
from converter.prepare.freeze import frozen_array
from converter.prepare.preprocess import plan_inputs
from converter.prepare.request import Preparation


class _Spec:
    """The little of a Value frozen_array reads, from a TensorSpec."""

    def __init__(self, spec):
        from converter.ir.types import ElementType, Shape, TensorType

        self.type = TensorType(ElementType.from_numpy(spec.dtype), Shape(None if spec.dims is None else tuple(d if isinstance(d, int) else None for d in spec.dims)))

    @property
    def element_type(self):
        return self.type.element_type

    @property
    def shape(self):
        return self.type.shape


class PreparedReference:
    def __init__(self, reference, preparation: Preparation, source: str, cuts_supported: bool = False):
        from converter.validate.inputs import TensorSpec

        self.reference = reference
        self.label = reference.label
        self.node_count = getattr(reference, "node_count", None)
        specs = reference.input_specs()
        by_name = {spec.name: spec for spec in specs}
        if (preparation.outputs or any(r.name not in by_name for r in preparation.inputs)) and not cuts_supported:
            inner = [r.name for r in preparation.inputs if r.name not in by_name]
            what = f"--input {inner[0]!r} is not an input of the source model" if inner else "--output cuts the model"
            raise ConverterError(
                f"{source}: {what}: validation runs the source in its framework, which cannot be cut here "
                f"(inputs: {', '.join(by_name)}); validate a converted model without the cut"
            )
        requests = {r.name: r for r in preparation.inputs}
        self._frozen = {
            name: frozen_array(request, _Spec(by_name[name]), source) for name, request in requests.items() if request.frozen
        }
        live = [spec for spec in specs if spec.name not in self._frozen]
        named = [by_name[r.name] for r in preparation.inputs if not r.frozen]
        live = [*named, *(spec for spec in live if spec not in named)]
        dims = {}
        for spec in live:
            request = requests.get(spec.name)
            shape = request.shape if request is not None and request.shape is not None else spec.dims
            dims[spec.name] = None if shape is None else tuple(d if isinstance(d, int) else None for d in shape)
        if preparation.batch is not None:
            layouts = {r.name: r for r in preparation.layouts}
            for spec in live:
                request = layouts.get(spec.name) or (layouts.get(None) if len(live) == 1 else None)
                letters = request.source if request is not None else None
                axis = letters.index("n") if letters and "n" in letters else 0
                if dims[spec.name]:
                    dims[spec.name] = tuple(preparation.batch if i == axis else d for i, d in enumerate(dims[spec.name]))
        self._plans = plan_inputs([(s.name, dims[s.name], None) for s in live], preparation, source) if preparation.preprocesses else {}
        self._dtypes = {spec.name: spec.dtype for spec in live}
        self._specs = []
        for spec in live:
            plan = self._plans.get(spec.name)
            request = requests.get(spec.name)
            dtype = np.dtype(_numpy_type(request.element_type)) if request is not None and request.element_type else spec.dtype
            shape = plan.fed_dims() if plan is not None else dims[spec.name]
            self._specs.append(TensorSpec(spec.name, dtype, shape))

    def input_specs(self):
        return list(self._specs)

    def output_specs(self):
        return self.reference.output_specs()

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        source_feeds = dict(self._frozen)
        for spec in self._specs:
            array = np.asarray(feeds[spec.name])
            plan = self._plans.get(spec.name)
            dtype = self._dtypes[spec.name]
            source_feeds[spec.name] = plan.feed(array, dtype) if plan is not None else array.astype(dtype)
        return self.reference.run(source_feeds)


def _numpy_type(element_type: str) -> np.dtype:
    from converter.ir.types import ElementType

    return ElementType(element_type).numpy
