"""TF control flow and TensorLists → IR Loop-5 and If-8 (or Select, for TF1 conds).

While / StatelessWhile run `body` (a library function over the loop variables) while `cond`
holds. One IR Loop does it: the body function is converted on body Parameters (a constant
initial value the body hands on unchanged is a Const inside the body instead); `cond` is
converted on the initial values outside (the Loop's execution condition) and on the body's
results inside (its condition output). Loop variables the body returns unchanged are body
inputs without back edges. When `cond` bounds counters (a variable starting at a constant
and growing by 1, `i < n`), the bound is the Loop's trip count too; when nothing else is in
`cond`, the condition output is constant true, so OpenVINO sees a counted loop.

TensorLists (TF2's TensorArray) are `TensorList` objects, not tensors: a list whose
elements are known is carried as them stacked on axis 0 (TensorListFromTensor), a reserved
one only as its length until an element is set. Inside a loop body, setting an element of
a list the body only writes (Keras' `output_ta.write(time, h)`) does not build the list in
the body: at the counter's index (starting at 0) the items are a Loop output concatenated
along axis 0, at a fixed index the last item is. Reading an element is a Gather; setting
one in a list with known elements, a ScatterNDUpdate.

If / StatelessIf become an IR If, or the chosen branch inlined when the condition is
constant.

TF1 spells the same (frames.py): a loop frame becomes the same Loop, converted at its Exit
nodes, its body and condition converted as the subgraphs between the frame's Switches (or
Merges) and its NextIterations (or LoopCond); a Switch/Merge cond computes both branches and
selects; a TensorArrayV3's elements travel with its flow as a TensorList.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from converter.frontends.tensorflow.frames import Frame
from converter.frontends.tensorflow.graph import Handler, Opaque, TFContext
from converter.frontends.tensorflow.ops.common import as_i64, i64
from converter.frontends.tensorflow.tensors import Unsupported, element_type
from converter.ir.graph import Graph, Node, Value
from converter.ir.types import ElementType, Shape, TensorType
from converter.ops import control
from converter.ops import elementwise as ew
from converter.ops import indexing
from converter.ops import shape as shape_ops
from converter.ops.core import Convert, ShapeOf, const, parameter
from converter.ops.reduction import ReduceProd

Run = Callable[[Sequence["Value | Opaque"]], "list[Value | Opaque]"]  # a loop's body or condition on given values

MAX_ATTEMPTS = 6  # body conversions per loop: parameters for carried constants, relaxed shapes
FOLD_LIMIT = 1024  # elements; larger constant expressions are left to the passes


# ---------------------------------------------------------------- TensorList values


@dataclass(eq=False)
class Write:
    """One item set into (index None: appended to) a list a loop body only writes."""

    base: TensorList
    index: Value | None
    item: Value


@dataclass(eq=False)
class TensorList(Opaque):
    """A TF TensorList: its elements stacked on axis 0 when known, else its reserved length.

    In a loop body, a list the body only writes has neither; `written` records the write.
    """

    element_type: ElementType
    element_shape: Shape = field(default_factory=Shape.dynamic_rank)
    stacked: Value | None = None
    size: Value | None = None
    written: Write | None = None

    def with_stacked(self, stacked: Value) -> TensorList:
        return TensorList(self.element_type, self.element_shape, stacked=stacked)


class TensorArray(Opaque):
    """A TF1 TensorArray's handle. Its elements travel with its flow, a TensorList here: every
    TensorArray op reads the flow it is given and returns the next one."""


def _declared_shape(value: Value) -> Shape:
    """An element_shape input: -1 for an unknown rank, -1 entries for unknown dims."""
    array = value.const
    if array is None or np.asarray(array).ndim != 1:
        return Shape.dynamic_rank()
    return Shape(tuple(None if int(d) < 0 else int(d) for d in np.asarray(array)))


def _unknown_list(tensor_list: TensorList, what: str) -> Unsupported:
    if tensor_list.written is not None or (tensor_list.stacked is None and tensor_list.size is None):
        return Unsupported(f"{what} of a list the loop body also writes")
    return Unsupported(f"{what} of a reserved list whose element shape is not known")


def _zeros(tensor_list: TensorList, like: Value | None = None) -> Value:
    """The elements of a reserved list no element was set in: zeros [size, *element shape]
    (the shape of `like`, an item to be set, when the declared one is not static)."""
    assert tensor_list.size is not None
    zero = const(np.zeros((), dtype=tensor_list.element_type.numpy))
    if like is not None:
        dims = shape_ops.Concat(shape_ops.Reshape(tensor_list.size, i64([1]), special_zero=False), ShapeOf(like), axis=0)
    elif tensor_list.element_shape.is_static:
        dims = shape_ops.Concat(shape_ops.Reshape(tensor_list.size, i64([1]), special_zero=False), i64(tensor_list.element_shape.static), axis=0)
    else:
        raise _unknown_list(tensor_list, "the elements")
    return shape_ops.Broadcast(zero, dims, mode="numpy")


def _elements(tensor_list: TensorList, what: str, like: Value | None = None) -> Value:
    if tensor_list.stacked is not None:
        return tensor_list.stacked
    if tensor_list.size is None:
        raise _unknown_list(tensor_list, what)
    return _zeros(tensor_list, like)


def _in_list(tensor_list: Opaque | Value, op: str) -> TensorList:
    if not isinstance(tensor_list, TensorList):
        raise Unsupported(f"{op} reads a tensor, not a TensorList")
    return tensor_list


def _set(tensor_list: TensorList, index: Value, item: Value) -> Value:
    """The stacked elements with the one at `index` replaced by `item`."""
    stacked = _elements(tensor_list, "setting an element", like=item)
    position = shape_ops.Reshape(as_i64(index), i64([1, 1]), special_zero=False)
    return indexing.ScatterNDUpdate(stacked, position, shape_ops.Unsqueeze(item, i64([0])))


def TensorListFromTensor(ctx: TFContext, tensor: Value, element_shape: Value, *, element_dtype: int) -> TensorList:
    dims = tensor.shape.dims
    if dims == ():
        raise Unsupported("TensorListFromTensor of a scalar")
    declared = Shape(None if dims is None else dims[1:])
    return TensorList(tensor.element_type, declared, stacked=tensor)


def TensorListReserve(ctx: TFContext, element_shape: Value, num_elements: Value, *, element_dtype: int) -> TensorList:
    return TensorList(element_type(element_dtype), _declared_shape(element_shape), size=as_i64(num_elements))


def EmptyTensorList(ctx: TFContext, element_shape: Value, max_num_elements: Value, *, element_dtype: int) -> TensorList:
    return TensorList(element_type(element_dtype), _declared_shape(element_shape), size=i64(0))


def TensorListGetItem(ctx: TFContext, input_handle: TensorList, index: Value, element_shape: Value, *, element_dtype: int) -> Value:
    stacked = _elements(_in_list(input_handle, "TensorListGetItem"), "reading an element")
    return indexing.Gather(stacked, as_i64(index), i64(0))


def TensorListGather(ctx: TFContext, input_handle: TensorList, indices: Value, element_shape: Value, *, element_dtype: int) -> Value:
    stacked = _elements(_in_list(input_handle, "TensorListGather"), "reading elements")
    return indexing.Gather(stacked, as_i64(indices), i64(0))


def TensorListSetItem(
    ctx: TFContext, input_handle: TensorList, index: Value, item: Value, *, element_dtype: int, resize_if_index_out_of_bounds: bool = False
) -> TensorList:
    return _set_item(_in_list(input_handle, "TensorListSetItem"), index, item, resize_if_index_out_of_bounds)


def _set_item(tensor_list: TensorList, index: Value, item: Value, grows: bool = False) -> TensorList:
    if tensor_list.written is not None:
        raise Unsupported("two writes into one list in one loop iteration")
    if tensor_list.stacked is None and tensor_list.size is None:
        return TensorList(tensor_list.element_type, tensor_list.element_shape, written=Write(tensor_list, index, item))
    if grows:
        raise Unsupported("setting an element of a list that may grow, outside the loop that fills it")
    return tensor_list.with_stacked(_set(tensor_list, index, item))


def TensorListPushBack(ctx: TFContext, input_handle: TensorList, tensor: Value, *, element_dtype: int) -> TensorList:
    tensor_list = _in_list(input_handle, "TensorListPushBack")
    if tensor_list.written is not None:
        raise Unsupported("two writes into one list in one loop iteration")
    if tensor_list.stacked is None and tensor_list.size is None:
        return TensorList(tensor_list.element_type, tensor_list.element_shape, written=Write(tensor_list, None, tensor))
    item = shape_ops.Unsqueeze(tensor, i64([0]))
    if tensor_list.stacked is None and _folded(tensor_list.size) == 0:
        return tensor_list.with_stacked(item)
    return tensor_list.with_stacked(shape_ops.Concat(_elements(tensor_list, "appending", like=tensor), item, axis=0))


def TensorListStack(
    ctx: TFContext, input_handle: TensorList, element_shape: Value, *, element_dtype: int, num_elements: int = -1
) -> Value:
    tensor_list = _in_list(input_handle, "TensorListStack")
    if tensor_list.stacked is None and not tensor_list.element_shape.is_static:
        declared = _declared_shape(element_shape)
        if declared.is_static and tensor_list.size is not None:
            tensor_list = TensorList(tensor_list.element_type, declared, size=tensor_list.size)
    return _elements(tensor_list, "stacking the elements")


def TensorListLength(ctx: TFContext, input_handle: TensorList) -> Value:
    tensor_list = _in_list(input_handle, "TensorListLength")
    if tensor_list.stacked is not None:
        return indexing.Gather(ShapeOf(tensor_list.stacked, output_type=ElementType.i32), i64(0), i64(0))
    if tensor_list.size is None:
        raise _unknown_list(tensor_list, "the length")
    return Convert(tensor_list.size, destination_type=ElementType.i32)


def TensorListElementShape(ctx: TFContext, input_handle: TensorList, *, shape_type: int) -> Value:
    tensor_list = _in_list(input_handle, "TensorListElementShape")
    output_type = element_type(shape_type)
    if tensor_list.stacked is not None:
        dims = ShapeOf(tensor_list.stacked, output_type=output_type)
        return indexing.Slice(dims, i64([1]), i64([np.iinfo(np.int64).max]), i64([1]), i64([0]))
    declared = tensor_list.element_shape
    if declared.dims is None:
        return const(np.array(-1, dtype=output_type.numpy))
    return const(np.array([-1 if d is None else d for d in declared.dims], dtype=output_type.numpy))


# ---------------------------------------------------------------- constants and predicates


def _folded(value: Value, depth: int = 0) -> np.ndarray | None:
    """The value's array when constants alone compute it (TF's shape arithmetic, Keras' `Max`
    of the sequence length), else None."""
    if value.const is not None:
        return np.asarray(value.const)
    node = value.producer
    if node.op.type == "ShapeOf" and node.inputs[0].shape.is_static:
        return np.array(node.inputs[0].shape.static, dtype=value.element_type.numpy)
    small = value.shape.is_static and int(np.prod(value.shape.static, dtype=np.int64)) <= FOLD_LIMIT
    if node.op.kernel is None or depth > 32 or not small:  # no Parameter, Loop or If has a kernel
        return None
    arrays = []
    for source in node.inputs:
        array = _folded(source, depth + 1)
        if array is None:
            return None
        arrays.append(array)
    return np.asarray(node.op.kernel(arrays, node.attrs)[value.index])


def _predicate(value: Value | Opaque, what: str) -> Value:
    """TF's truth of a condition: a scalar's value (non-zero), a tensor's non-emptiness."""
    if not isinstance(value, Value):
        raise Unsupported(f"{what} is a {type(value).__name__}, not a tensor")
    rank = value.shape.rank
    if rank is None:
        raise Unsupported(f"{what} needs a known rank")
    if rank > 0:
        size = ReduceProd(ShapeOf(value), i64([0]), keep_dims=False)
        return ew.Greater(size, i64(0))
    if value.element_type is ElementType.boolean:
        return value
    return ew.NotEqual(value, const(np.zeros((), dtype=value.element_type.numpy)))


# ---------------------------------------------------------------- While


@dataclass(eq=False)
class Slot:
    """One loop variable: its initial value, what the body reads, what it returns."""

    initial: Value | TensorList
    stand_in: Value | TensorList
    parameter: Node | None = None
    result: Value | Opaque | None = None

    @property
    def invariant(self) -> bool:
        return self.result is self.stand_in

    @property
    def tensor(self) -> Value | None:
        """The tensor the body reads: the value, or a list's stacked elements."""
        if isinstance(self.stand_in, TensorList):
            return self.stand_in.stacked
        return self.stand_in if isinstance(self.stand_in, Value) else None

    def outer_tensor(self) -> Value:
        tensor = self.initial.stacked if isinstance(self.initial, TensorList) else self.initial
        assert tensor is not None
        return tensor


def _refined(value_type: TensorType, invariant: Shape | None) -> TensorType:
    """`value_type` with the dims it leaves dynamic taken from TF's shape invariant, which every
    iteration's value satisfies (TF checks it when it builds the loop)."""
    dims, declared = value_type.shape.dims, None if invariant is None else invariant.dims
    if declared is None or (dims is not None and len(dims) != len(declared)):
        return value_type
    if dims is None:
        return TensorType(value_type.element_type, Shape(declared))
    return TensorType(value_type.element_type, Shape(tuple(d if d is not None else i for d, i in zip(dims, declared))))


def _slot(name: str, position: int, initial: Value | Opaque, needs_parameter: bool, relaxed: TensorType | None, invariant: Shape | None) -> Slot:
    """The body's view of one loop variable: a Const for a constant, else a Parameter."""
    if isinstance(initial, TensorArray) and not needs_parameter:
        return Slot(initial, initial)  # a TF1 TensorArray's handle: its elements travel with its flow
    if isinstance(initial, TensorList):
        if initial.written is not None:
            raise Unsupported(f"loop variable {position} is a list written in an enclosing loop body")
        if initial.stacked is None:
            return Slot(initial, TensorList(initial.element_type, initial.element_shape))
        tensor = initial.stacked
    elif isinstance(initial, Value):
        tensor = initial
    else:
        raise Unsupported(f"loop variable {position} is a {type(initial).__name__}")
    folded = None if needs_parameter else _folded(tensor)
    node = None
    if folded is not None:
        view = const(folded.astype(tensor.element_type.numpy, copy=False), name=f"{name}/arg{position}")
    else:
        value_type = _refined(relaxed or tensor.type, invariant)
        node = parameter(f"{name}/arg{position}", value_type.element_type, value_type.shape)
        view = node.outputs[0]
    stand_in = initial.with_stacked(view) if isinstance(initial, TensorList) else view
    return Slot(initial, stand_in, node)


def _returned_tensor(slot: Slot, position: int) -> Value | None:
    """What the body hands on in place of the slot's tensor (None: a write-only list)."""
    result = slot.result
    if isinstance(slot.stand_in, TensorList):
        if not isinstance(result, TensorList):
            raise Unsupported(f"loop variable {position}: the body turns a list into a tensor")
        if result.written is not None and result.written.base is slot.stand_in:
            return None
        if result.stacked is None or slot.stand_in.stacked is None:
            raise Unsupported(f"loop variable {position}: the body returns a list it does not build from its own")
        return result.stacked
    if not isinstance(result, Value):
        raise Unsupported(f"loop variable {position}: the body turns a tensor into a {type(result).__name__}")
    return result


def _settle(slot: Slot, position: int, invariant: Shape | None) -> tuple[bool, TensorType | None]:
    """(needs a Parameter, relaxed type) for the next conversion, from what the body returned."""
    if slot.invariant:
        return False, None
    returned = _returned_tensor(slot, position)
    if returned is None:
        return False, None
    if slot.parameter is None:
        return True, None
    read = slot.parameter.outputs[0].type
    if returned.element_type is not read.element_type:
        raise Unsupported(f"loop variable {position} changes element type ({read.element_type.value} → {returned.element_type.value})")
    merged = _refined(control.merge_types(read, returned.type), invariant)
    return False, (merged if merged != read else None)


def _convert_body(name: str, initial: Sequence[Value | Opaque], body: Run, invariants: Sequence[Shape | None]) -> list[Slot]:
    """Slots whose stand-ins fit what the body does with them: carried constants become
    Parameters, Parameters whose shape an iteration changes become as dynamic as needed."""
    parameters: set[int] = set()
    relaxed: dict[int, TensorType] = {}
    for _ in range(MAX_ATTEMPTS):
        slots = [_slot(name, k, v, k in parameters, relaxed.get(k), invariants[k]) for k, v in enumerate(initial)]
        results = body([slot.stand_in for slot in slots])
        if len(results) != len(slots):
            raise Unsupported(f"the body returns {len(results)} values for {len(slots)} loop variables")
        changed = False
        for position, (slot, result) in enumerate(zip(slots, results)):
            slot.result = result
            needs_parameter, merged = _settle(slot, position, invariants[position])
            if needs_parameter:
                parameters.add(position)
            if merged is not None:
                relaxed[position] = merged
            changed = changed or needs_parameter or merged is not None
        if not changed:
            return slots
    raise Unsupported("the loop variables' shapes do not settle")


def _counter_start(slot: Slot) -> int | None:
    """The first value of a loop variable that starts at a constant and grows by 1 each iteration."""
    if slot.parameter is None or not isinstance(slot.result, Value) or slot.result.producer.op.type != "Add":
        return None
    read = slot.parameter.outputs[0]
    if not read.element_type.is_integer or read.shape.dims != ():
        return None
    a, b = slot.result.producer.inputs
    step = b if a is read else a if b is read else None
    start = _folded(slot.outer_tensor())
    if step is None or start is None or _folded(step) is None or int(_folded(step)) != 1:
        return None
    return int(start)


def _conjuncts(value: Value) -> list[Value]:
    if value.producer.op.type == "LogicalAnd":
        return [part for operand in value.producer.inputs for part in _conjuncts(operand)]
    return [value]


def _iterations_allowed(conjunct: Value, counters: dict[Value, int], outer: dict[Value, Value]) -> Value | None:
    """How many iterations `counter < limit` (or `limit > counter`, `<=`) lets run, computed
    outside the loop, or None when the conjunct is no such bound."""
    kind = conjunct.producer.op.type
    if kind not in ("Less", "LessEqual", "Greater", "GreaterEqual"):
        return None
    a, b = conjunct.producer.inputs
    counter, limit = (a, b) if kind in ("Less", "LessEqual") else (b, a)
    if counter not in counters:
        return None
    bound = limit if limit.const is not None else outer.get(limit)
    if bound is None:
        return None
    offset = counters[counter] - (1 if kind in ("LessEqual", "GreaterEqual") else 0)
    return as_i64(bound) if offset == 0 else ew.Subtract(as_i64(bound), i64(offset))


def _trip_count(bounds: list[Value]) -> Value:
    count = bounds[0]
    for bound in bounds[1:]:
        count = ew.Minimum(count, bound)
    count = ew.Maximum(count, i64(0))
    folded = _folded(count)
    return i64(int(folded)) if folded is not None else count


def _condition(cond: Run, slots: list[Slot], counters: dict[Value, int]) -> tuple[Value, bool]:
    """(trip count, -1 when unbounded; whether cond is nothing but the bounds).

    cond is read on the body's stand-ins: each conjunct `counter < limit` with a loop-invariant
    limit bounds the number of iterations.
    """
    outer = {slot.tensor: slot.outer_tensor() for slot in slots if slot.invariant and slot.parameter is not None}
    (predicate,) = cond([slot.stand_in for slot in slots])
    if not isinstance(predicate, Value):
        raise Unsupported("cond returns no tensor")
    conjuncts = _conjuncts(predicate)
    bounds = [b for c in conjuncts if (b := _iterations_allowed(c, counters, outer)) is not None]
    if not bounds:
        return i64(-1), False
    return _trip_count(bounds), len(bounds) == len(conjuncts)


@dataclass
class LoopPlan:
    """The Loop's body results, its outputs and the carried Parameters' back edges, as assembled."""

    back_edges: list[int] = field(default_factory=list)
    results: list[Value] = field(default_factory=list)
    outputs: list[tuple[int, int | None, int, int, int, int]] = field(default_factory=list)

    def result(self, value: Value) -> int:
        self.results.append(value)
        return len(self.results) - 1

    def output(self, value: Value, axis: int | None = control.CONCAT_NONE) -> int:
        self.outputs.append((self.result(value), axis, 0, -1, 1, 1))
        return len(self.outputs) - 1


def _write_index(write: Write, counters: dict[Value, int]) -> int | None:
    """None when the loop writes item i at index i (or appends it), else the constant index it
    writes every iteration (the list keeps the last item there)."""
    if write.index is None:
        return None
    index = write.index
    if index.producer.op.type == "Convert":
        index = index.producer.inputs[0]
    if counters.get(index) == 0:
        return None
    folded = _folded(index)
    if folded is not None and folded.size == 1:
        return int(folded.reshape(-1)[0])
    raise Unsupported("a list the loop writes at an index other than an iteration counter from 0 or a constant")


def _source(value: Value) -> Value:
    while value.producer.op.type == "Convert":
        value = value.producer.inputs[0]
    return value


def _counts(count: Value, size: Value) -> bool:
    """Whether `count` is `size`: equal constants, the same tensor, or a trip count max(size, 0)
    (`i < n` for a list of n elements; a reserved size is never negative)."""
    known, length = _folded(count), _folded(size)
    if known is not None and length is not None:
        return int(known) == int(length)
    if _source(count) is _source(size):
        return True
    node = count.producer
    return node.op.type == "Maximum" and _folded(node.inputs[1]) == 0 and _source(node.inputs[0]) is _source(size)


def _appended(tensor_list: TensorList, items: Value, count: Value) -> Value:
    """The elements of a reserved list after `count` items (-1: unknown) were set at 0, 1, ... (or appended)."""
    if tensor_list.size is None:
        raise Unsupported("a loop writing into a list it did not reserve")
    length = _folded(tensor_list.size)
    if (length is not None and int(length) == 0) or _counts(count, tensor_list.size):
        return items
    # Fewer iterations than reserved elements: the rest are zeros, as TensorListStack gives them.
    written = indexing.Gather(ShapeOf(items), i64([0]), i64(0))
    missing = ew.Maximum(ew.Subtract(shape_ops.Reshape(tensor_list.size, i64([1]), special_zero=False), written), i64([0]))
    rest = indexing.Slice(ShapeOf(items), i64([1]), i64([np.iinfo(np.int64).max]), i64([1]), i64([0]))
    zeros = shape_ops.Broadcast(const(np.zeros((), dtype=items.element_type.numpy)), shape_ops.Concat(missing, rest, axis=0), mode="numpy")
    return shape_ops.Concat(items, zeros, axis=0)


def _placed(tensor_list: TensorList, last: Value, index: int) -> Value:
    """The elements of a list whose element `index` is `last` ([1, *element]), the others as they were."""
    length = _folded(tensor_list.size) if tensor_list.stacked is None and tensor_list.size is not None else None
    if length is not None and int(length) == 1 and index == 0:
        return last
    return _set(tensor_list, i64(index), shape_ops.Squeeze(last, i64([0])))


def While(
    ctx: TFContext, *initial: Value | Opaque, cond: str, body: str, output_shapes: list[Shape] | None = None, parallel_iterations: int = 10
) -> list[Value | Opaque]:
    """Body Parameters take the initial values' types, relaxed where an iteration changes them
    and refined by `output_shapes`, TF's shape invariants (scalars for lists)."""
    invariants = list(output_shapes or []) if len(output_shapes or []) == len(initial) else [None] * len(initial)

    def run_body(values: Sequence[Value | Opaque]) -> list[Value | Opaque]:
        return ctx.call_function(body, values)

    def run_cond(values: Sequence[Value | Opaque]) -> list[Value | Opaque]:
        return ctx.call_function(cond, values)

    return _loop(ctx.node_name, list(initial), run_body, run_cond, invariants)


def _loop(name: str, initial: list[Value | Opaque], body: Run, cond: Run, invariants: Sequence[Shape | None]) -> list[Value | Opaque]:
    """`while cond(v): v = body(v)` as one Loop node; the loop variables' final values."""
    slots = _convert_body(name, initial, body, invariants)
    counters = {slot.tensor: start for slot in slots if (start := _counter_start(slot)) is not None}
    trip_count, counted = _condition(cond, slots, counters)
    plan = LoopPlan()
    finals: list[tuple[int, int | None]] = []  # per loop variable: its Loop output (-1: none) and write index
    for position, slot in enumerate(slots):
        if slot.invariant:
            finals.append((-1, None))
            continue
        returned = _returned_tensor(slot, position)
        if returned is not None:
            plan.back_edges.append(len(plan.results))
            finals.append((plan.output(returned), None))
            continue
        write = slot.result.written  # type: ignore[union-attr]
        index = _write_index(write, counters)
        item = shape_ops.Unsqueeze(write.item, i64([0]))
        finals.append((plan.output(item, 0 if index is None else control.CONCAT_NONE), index))
    if counted:
        condition = execution = const(np.array(True))
    else:
        (inner,) = cond([slot.stand_in if slot.invariant else slot.result for slot in slots])
        condition = _predicate(inner, "cond")
        (outer,) = cond(initial)
        execution = _predicate(outer, "cond")
    condition_output = plan.result(condition)

    carried = [slot for slot in slots if not slot.invariant and slot.parameter is not None]
    read = set(plan.results) | {value for node in Graph([], plan.results).nodes() for value in node.inputs}
    invariant = [slot for slot in slots if slot.invariant and slot.parameter is not None and slot.parameter.outputs[0] in read]
    ordered = carried + invariant
    node = control.loop_node(
        trip_count,
        execution,
        [slot.outer_tensor() for slot in ordered],
        Graph([slot.parameter for slot in ordered], plan.results, "body"),  # type: ignore[misc]
        list(range(len(ordered))),
        plan.back_edges + [-1] * len(invariant),
        current_iteration=-1,
        condition_output=condition_output,
        outputs=plan.outputs,
        name=name,
    )
    iterations = trip_count if counted else i64(-1)  # otherwise cond may end the loop earlier
    return [_final(slot, node.outputs[output] if output >= 0 else None, index, iterations) for slot, (output, index) in zip(slots, finals)]


def _final(slot: Slot, output: Value | None, index: int | None, trip_count: Value) -> Value | Opaque:
    """A loop variable's value after the loop."""
    initial = slot.initial
    if output is None:
        return initial
    if not isinstance(initial, TensorList):
        return output
    if not isinstance(slot.result, TensorList) or slot.result.written is None:
        return initial.with_stacked(output)
    if index is not None:
        return initial.with_stacked(_placed(initial, output, index))
    return initial.with_stacked(_appended(initial, output, trip_count))


# ---------------------------------------------------------------- If


def _branch(ctx: TFContext, name: str, inputs: Sequence[Value | Opaque], key: str) -> tuple[Graph, list[int]]:
    """A branch function as a body: a Parameter per non-constant input it reads (constants
    inside), and for each Parameter the index of the input it reads."""
    stand_ins: list[Value] = []
    parameters: list[tuple[Node, int]] = []
    for position, value in enumerate(inputs):
        if not isinstance(value, Value):
            raise Unsupported(f"If input {position} is a {type(value).__name__}, not a tensor")
        folded = _folded(value)
        if folded is not None:
            stand_ins.append(const(folded.astype(value.element_type.numpy, copy=False)))
            continue
        node = parameter(f"{ctx.node_name}/{key}/arg{position}", value.element_type, value.shape)
        parameters.append((node, position))
        stand_ins.append(node.outputs[0])
    results = ctx.call_function(name, stand_ins)
    if not all(isinstance(r, Value) for r in results):
        raise Unsupported(f"{key} returns a value that is not a tensor")
    outputs: list[Value] = results  # type: ignore[assignment]
    read = set(outputs) | {value for node in Graph([], outputs).nodes() for value in node.inputs}
    used = [(node, position) for node, position in parameters if node.outputs[0] in read]
    return Graph([node for node, _ in used], outputs, key), [position for _, position in used]


def If(
    ctx: TFContext, cond: Value, *inputs: Value | Opaque, then_branch: str, else_branch: str, output_shapes: list[Shape] | None = None
) -> list[Value | Opaque]:
    predicate = _predicate(cond, "the condition")
    known = _folded(predicate)
    if known is not None:
        return ctx.call_function(then_branch if bool(known.reshape(-1)[0]) else else_branch, inputs)
    then_body, then_inputs = _branch(ctx, then_branch, inputs, "then_body")
    else_body, else_inputs = _branch(ctx, else_branch, inputs, "else_body")
    if len(then_body.outputs) != len(else_body.outputs):
        raise Unsupported("then_branch and else_branch return different numbers of values")
    if not then_body.outputs:
        return []
    read = sorted(set(then_inputs) | set(else_inputs))
    values: list[Value] = [inputs[position] for position in read]  # type: ignore[misc]
    then_map = [read.index(position) for position in then_inputs]
    else_map = [read.index(position) for position in else_inputs]
    node = control.if_node(predicate, values, then_body, then_map, else_body, else_map, name=ctx.node_name)
    return list(node.outputs)


# ---------------------------------------------------------------- TF1: loop frames, conds, TensorArrays


def Exit(ctx: TFContext, *entering: Value | Opaque) -> Value | Opaque:
    """A TF1 loop (frames.py) as one Loop, converted at the first of its Exits (which get the
    values entering the loop as inputs); this Exit's loop variable after the loop."""
    frame = ctx.frame()
    key = f"frame {frame.name}"
    if key not in ctx.scope.memo:
        ctx.scope.memo[key] = _frame_loop(ctx, frame, list(entering))
    return ctx.scope.memo[key][frame.exits[ctx.node.name]]


def _frame_loop(ctx: TFContext, frame: Frame, entering: list[Value | Opaque]) -> list[Value | Opaque]:
    """The loop variables after the loop; the invariants are loop variables the body hands on."""
    nodes, count = ctx.scope.nodes, len(frame.enters)
    constants = frame.constants

    def run_body(values: Sequence[Value | Opaque]) -> list[Value | Opaque]:
        seeds = {switch: [None, value] for switch, value in zip(frame.switches, values)}
        seeds.update({enter: [value] for enter, value in zip(constants, values[count:])})
        return ctx.convert_subgraph(seeds, frame.body_results(nodes)) + list(values[count:])

    def run_cond(values: Sequence[Value | Opaque]) -> list[Value | Opaque]:
        seeds = {merge: [value, None] for merge, value in zip(frame.merges, values)}
        seeds.update({enter: [value] for enter, value in zip(constants, values[count:])})
        return ctx.convert_subgraph(seeds, [frame.predicate(nodes)])

    return _loop(frame.name, entering, run_body, run_cond, [None] * len(entering))[:count]


def Switch(ctx: TFContext, data: Value | Opaque, pred: Value) -> list[Value | Opaque]:
    """A TF1 cond's Switch outside a loop's own: both branches compute, their Merge selects."""
    ctx.branches()  # refuses Switch/Merge inside functions
    return [data, data]


def Merge(ctx: TFContext, *inputs: Value | Opaque, N: int | None = None) -> list[Value | Opaque]:
    """The end of a TF1 cond: the true branch's value where the predicate holds, else the false one's."""
    predicate_reference, true_input = ctx.branches().merged(ctx.node)
    predicate = _predicate(ctx.value(predicate_reference), "the cond's predicate")
    taken, other = inputs[true_input], inputs[1 - true_input]
    known = _folded(predicate)
    if known is not None:
        chosen = true_input if bool(known.reshape(-1)[0]) else 1 - true_input
        return [inputs[chosen], const(np.array(chosen, np.int32))]
    if not isinstance(taken, Value) or not isinstance(other, Value):
        raise Unsupported("a TF1 cond choosing between values that are not tensors")
    index = ew.Select(predicate, const(np.array(true_input, np.int32)), const(np.array(1 - true_input, np.int32)))
    return [ew.Select(predicate, taken, other), index]


def _flow(flow_in: Value | Opaque, op: str) -> TensorList:
    if not isinstance(flow_in, TensorList):
        raise Unsupported(f"{op}: the flow does not come from a TensorArray")
    return flow_in


def TensorArrayV3(
    ctx: TFContext,
    size: Value,
    *,
    dtype: int,
    element_shape: Shape | None = None,
    dynamic_size: bool = False,
    clear_after_read: bool = True,
    identical_element_shapes: bool = False,
    tensor_array_name: str = "",
) -> list[Opaque]:
    declared = element_shape if element_shape is not None else Shape.dynamic_rank()
    return [TensorArray(), TensorList(element_type(dtype), declared, size=as_i64(size))]


def TensorArrayReadV3(ctx: TFContext, handle: Opaque, index: Value, flow_in: Opaque, *, dtype: int) -> Value:
    return indexing.Gather(_elements(_flow(flow_in, "TensorArrayReadV3"), "reading an element"), as_i64(index), i64(0))


def TensorArrayWriteV3(ctx: TFContext, handle: Opaque, index: Value, value: Value, flow_in: Opaque) -> TensorList:
    return _set_item(_flow(flow_in, "TensorArrayWriteV3"), index, value)


def TensorArrayGatherV3(
    ctx: TFContext, handle: Opaque, indices: Value, flow_in: Opaque, *, dtype: int, element_shape: Shape | None = None
) -> Value:
    tensor_list = _flow(flow_in, "TensorArrayGatherV3")
    if tensor_list.stacked is None and element_shape is not None and element_shape.is_static and tensor_list.size is not None:
        tensor_list = TensorList(tensor_list.element_type, element_shape, size=tensor_list.size)
    stacked = _elements(tensor_list, "gathering elements")
    folded = _folded(indices)
    length = stacked.shape[0] if stacked.shape.rank else None
    if folded is not None and length is not None and np.array_equal(folded.reshape(-1), np.arange(length)):
        return stacked  # TensorArray.stack()
    return indexing.Gather(stacked, as_i64(indices), i64(0))


def TensorArrayScatterV3(ctx: TFContext, handle: Opaque, indices: Value, value: Value, flow_in: Opaque) -> TensorList:
    tensor_list = _flow(flow_in, "TensorArrayScatterV3")
    range_node = indices.producer
    if tensor_list.stacked is None and range_node.op.type == "Range":
        start, _, step = (_folded(v) for v in range_node.inputs)
        if start is not None and step is not None and int(start) == 0 and int(step) == 1:
            # TensorArray.unstack: TF requires as many indices as rows, so rows 0..k-1 are `value`.
            rows = value.shape[0] if value.shape.rank else None
            count = i64(rows) if rows is not None else as_i64(range_node.inputs[1])
            return tensor_list.with_stacked(_appended(tensor_list, value, count))
    rows = shape_ops.Unsqueeze(as_i64(indices), i64([-1]))
    first = indexing.Gather(value, i64(0), i64(0))
    return tensor_list.with_stacked(indexing.ScatterNDUpdate(_elements(tensor_list, "scattering", like=first), rows, value))


def TensorArraySizeV3(ctx: TFContext, handle: Opaque, flow_in: Opaque) -> Value:
    return TensorListLength(ctx, _flow(flow_in, "TensorArraySizeV3"))


HANDLERS: dict[str, Handler] = {
    "While": While,
    "StatelessWhile": While,
    "If": If,
    "StatelessIf": If,
    "TensorListFromTensor": TensorListFromTensor,
    "TensorListReserve": TensorListReserve,
    "EmptyTensorList": EmptyTensorList,
    "TensorListGetItem": TensorListGetItem,
    "TensorListGather": TensorListGather,
    "TensorListSetItem": TensorListSetItem,
    "TensorListPushBack": TensorListPushBack,
    "TensorListStack": TensorListStack,
    "TensorListLength": TensorListLength,
    "TensorListElementShape": TensorListElementShape,
    "Exit": Exit,
    "Switch": Switch,
    "Merge": Merge,
    "TensorArrayV3": TensorArrayV3,
    "TensorArrayReadV3": TensorArrayReadV3,
    "TensorArrayWriteV3": TensorArrayWriteV3,
    "TensorArrayGatherV3": TensorArrayGatherV3,
    "TensorArrayScatterV3": TensorArrayScatterV3,
    "TensorArraySizeV3": TensorArraySizeV3,
}
