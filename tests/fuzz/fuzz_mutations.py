"""Mutations: from a seed (fuzz_seeds.Seed) and a seeded random generator, one hostile case.

Byte mutations (any file of the seed): truncation, bit flips, interesting integers written over
bytes, chunk swaps, deletions and duplications; text files also get their numbers replaced.
Structure-aware mutations keep the container valid and make its contents hostile: a tensor that
claims 10^12 elements, negative or huge dims, offsets past the end, cycles, self-referencing
functions, deep nesting, wrong dtypes, duplicate names. Those that make a file invalid for sure
set `must_refuse`: converting it successfully is a bug too.
"""

from __future__ import annotations

import io
import json
import random
import re
import struct
import zipfile
from collections.abc import Callable

from fuzz_seeds import Seed, seeds
from fuzz_worker import Case

HUGE_DIMS = [1_000_000, 1_000_000]  # 10^12 elements
INTERESTING = [0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 10**12, 2**62, -(2**31)]
NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
TEXT_NUMBERS = [b"-1", b"0", b"1000000000000", b"-1000000000000", b"4294967296", b"99999999999999999999", b"1e308", b"nan", b"-0", b"3.5"]

Mutator = Callable[[random.Random, Seed], tuple[dict[str, bytes], str, bool]]
"""→ (the case's files, a name for the mutation, must_refuse)."""


# ---------------------------------------------------------------- bytes


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))] if data else data


def flip_bits(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(out))
        out[position] ^= 1 << rng.randrange(8)
    return bytes(out)


def write_integer(data: bytes, rng: random.Random) -> bytes:
    value = rng.choice(INTERESTING)
    width, code = rng.choice([(1, "B"), (2, "H"), (4, "I"), (8, "Q")])
    packed = struct.pack("<" + code, value & ((1 << (8 * width)) - 1))
    position = rng.randrange(max(1, len(data) - width))
    return data[:position] + packed + data[position + width :]


def swap_chunks(data: bytes, rng: random.Random) -> bytes:
    size = rng.randint(1, max(1, min(64, len(data) // 4)))
    a, b = sorted(rng.randrange(max(1, len(data) - size)) for _ in range(2))
    if b < a + size:
        return flip_bits(data, rng)
    return data[:a] + data[b : b + size] + data[a + size : b] + data[a : a + size] + data[b + size :]


def delete_or_duplicate(data: bytes, rng: random.Random) -> bytes:
    start = rng.randrange(len(data))
    size = rng.randint(1, 128)
    if rng.random() < 0.5:
        return data[:start] + data[start + size :]
    return data[:start] + data[start : start + size] * rng.randint(2, 4) + data[start:]


def replace_number(data: bytes, rng: random.Random) -> bytes:
    matches = list(NUMBER.finditer(data))
    if not matches:
        return flip_bits(data, rng)
    out = data
    for match in sorted(rng.sample(matches, min(len(matches), rng.randint(1, 3))), key=lambda m: -m.start()):
        out = out[: match.start()] + rng.choice(TEXT_NUMBERS) + out[match.end() :]
    return out


BYTE_MUTATIONS = [truncate, flip_bits, write_integer, swap_chunks, delete_or_duplicate]
TEXT_SUFFIXES = (".xml", ".json", ".prototxt", ".pbtxt", ".yaml")


def _is_text(name: str, data: bytes) -> bool:
    return name.endswith(TEXT_SUFFIXES) or (b"\0" not in data[:256] and not data.startswith(b"\0B"))


def byte_mutation(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    files = dict(seed.files)
    name = rng.choice(sorted(files))
    data = files[name]
    choices = BYTE_MUTATIONS + ([replace_number] * 2 if _is_text(name, data) else [])
    mutation = rng.choice(choices)
    files[name] = mutation(data, rng) if data else data
    return files, f"{mutation.__name__}({name})", False


# ---------------------------------------------------------------- ONNX


def _onnx_model(seed: Seed):
    import onnx

    return onnx.ModelProto.FromString(seed.files[seed.entry])


def _onnx_files(seed: Seed, model) -> dict[str, bytes]:
    return {**seed.files, seed.entry: model.SerializeToString()}


def onnx_structure(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    import onnx
    from onnx import TensorProto, helper

    model = _onnx_model(seed)
    graph = model.graph
    kind = rng.choice(
        ["negative_dim", "huge_initializer", "huge_external", "external_past_end", "wrong_dtype", "self_loop", "duplicate_output",
         "fill_bomb", "self_function", "mutual_functions", "deep_nesting", "swap_op_types", "huge_attribute", "negative_input_dim"]
    )
    initializers = list(graph.initializer)
    if kind in ("negative_dim", "huge_initializer", "wrong_dtype", "huge_external", "external_past_end") and not initializers:
        kind = "self_loop"
    if kind == "negative_dim":
        tensor = rng.choice(initializers)
        dims = list(tensor.dims) or [1]
        dims[rng.randrange(len(dims))] = rng.choice([-1, -2, -(10**12)])
        del tensor.dims[:]
        tensor.dims.extend(dims)
        return _onnx_files(seed, model), kind, True
    if kind == "huge_initializer":
        tensor = rng.choice(initializers)
        del tensor.dims[:]
        tensor.dims.extend(rng.choice([HUGE_DIMS, [10**12], [2**32, 2**32], [2**62, 4]]))
        return _onnx_files(seed, model), kind, True
    if kind in ("huge_external", "external_past_end"):
        tensor = rng.choice(initializers)
        name = "weights.bin"
        if tensor.data_location == TensorProto.EXTERNAL:  # already external: point it elsewhere in its own file
            name = next(e.value for e in tensor.external_data if e.key == "location")
            raw = b""
        else:
            raw = tensor.raw_data or onnx.numpy_helper.to_array(tensor).tobytes()
        tensor.ClearField("raw_data")
        for field in ("float_data", "int32_data", "int64_data", "double_data"):
            tensor.ClearField(field)
        tensor.data_location = TensorProto.EXTERNAL
        if kind == "huge_external":
            del tensor.dims[:]
            tensor.dims.extend(HUGE_DIMS)
            entries = {"location": name, "offset": "0", "length": str(4 * 10**12)}
        else:
            size = len(seed.files.get(name, raw))
            entries = {"location": name, "offset": str(size + rng.randint(1, 10**6)), "length": str(max(len(raw), 4))}
        del tensor.external_data[:]
        for key, value in entries.items():
            tensor.external_data.add(key=key, value=value)
        return {**_onnx_files(seed, model), name: seed.files.get(name, raw)}, kind, True
    if kind == "wrong_dtype":
        tensor = rng.choice(initializers)
        tensor.data_type = rng.choice([0, 99, 1000, -3])
        return _onnx_files(seed, model), kind, True
    if kind == "self_loop" and graph.node:
        node = rng.choice(graph.node)
        if node.input and node.output:
            node.input[rng.randrange(len(node.input))] = node.output[0]
            return _onnx_files(seed, model), kind, True
    if kind == "duplicate_output" and len(graph.node) >= 2:
        first, second = rng.sample(range(len(graph.node)), 2)
        graph.node[second].output[0] = graph.node[first].output[0]
        return _onnx_files(seed, model), kind, True
    if kind == "self_function" or (kind == "mutual_functions" and not model.functions):
        return _onnx_files(seed, _self_calling_function(rng, mutual=False)), "self_function", True
    if kind == "mutual_functions":
        return _onnx_files(seed, _self_calling_function(rng, mutual=True)), kind, True
    if kind == "deep_nesting":
        return _onnx_files(seed, _nested_ifs(rng.choice([8, 40, 99, 101, 300, 2000]))), kind, False
    if kind == "swap_op_types" and len(graph.node) >= 2:
        a, b = rng.sample(range(len(graph.node)), 2)
        graph.node[a].op_type, graph.node[b].op_type = graph.node[b].op_type, graph.node[a].op_type
        return _onnx_files(seed, model), kind, False
    if kind == "huge_attribute":
        nodes = [n for n in graph.node if any(a.type == onnx.AttributeProto.INT or a.type == onnx.AttributeProto.INTS for a in n.attribute)]
        if nodes:
            attribute = rng.choice([a for a in rng.choice(nodes).attribute if a.type in (onnx.AttributeProto.INT, onnx.AttributeProto.INTS)])
            value = rng.choice([10**12, -(10**12), 2**62, -1, 0])
            if attribute.type == onnx.AttributeProto.INT:
                attribute.i = value
            elif attribute.ints:
                attribute.ints[rng.randrange(len(attribute.ints))] = value
            return _onnx_files(seed, model), kind, False
    if kind == "negative_input_dim" and graph.input:
        dims = graph.input[0].type.tensor_type.shape.dim
        if dims:
            dims[rng.randrange(len(dims))].dim_value = rng.choice([-1, -5, 10**12])
            return _onnx_files(seed, model), kind, False
    return _onnx_files(seed, _fill_bomb(rng, helper, TensorProto)), "fill_bomb", False


def _fill_bomb(rng: random.Random, helper, TensorProto):
    """A valid model whose constant subgraph materializes 10^12 elements (ConstantOfShape, Expand,
    Tile or Range): folding it must not allocate; the op may stay for the runtime."""
    import numpy as np

    op = rng.choice(["ConstantOfShape", "Expand", "Tile", "Range"])
    count = rng.choice([10**12, 10**9, 2**40])
    side = int(round(count**0.5))
    nodes = [helper.make_node("Constant", [], ["shape"], value=helper.make_tensor("s", TensorProto.INT64, [2], [side, side]))]
    if op == "ConstantOfShape":
        nodes.append(helper.make_node("ConstantOfShape", ["shape"], ["big"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.5])))
    elif op == "Expand":
        nodes.append(helper.make_node("Constant", [], ["one"], value=helper.make_tensor("o", TensorProto.FLOAT, [1, 1], [2.0])))
        nodes.append(helper.make_node("Expand", ["one", "shape"], ["big"]))
    elif op == "Tile":
        nodes.append(helper.make_node("Constant", [], ["one"], value=helper.make_tensor("o", TensorProto.FLOAT, [1, 1], [2.0])))
        nodes.append(helper.make_node("Tile", ["one", "shape"], ["big"]))
    else:
        nodes.append(helper.make_node("Constant", [], ["start"], value=helper.make_tensor("a", TensorProto.FLOAT, [], [0.0])))
        nodes.append(helper.make_node("Constant", [], ["limit"], value=helper.make_tensor("b", TensorProto.FLOAT, [], [float(count)])))
        nodes.append(helper.make_node("Constant", [], ["delta"], value=helper.make_tensor("c", TensorProto.FLOAT, [], [1.0])))
        nodes.append(helper.make_node("Range", ["start", "limit", "delta"], ["big"]))
    nodes.append(helper.make_node("ReduceSum", ["big"], ["total"], keepdims=0))
    nodes.append(helper.make_node("Add", ["input", "total"], ["output"]))
    graph = helper.make_graph(
        nodes, "fill_bomb", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])], [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4])]
    )
    del np
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _self_calling_function(rng: random.Random, mutual: bool):
    from onnx import TensorProto, helper

    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)]
    if mutual:
        functions = [
            helper.make_function("local", "Ping", ["x"], ["y"], [helper.make_node("Pong", ["x"], ["y"], domain="local")], opsets),
            helper.make_function("local", "Pong", ["x"], ["y"], [helper.make_node("Ping", ["x"], ["y"], domain="local")], opsets),
        ]
        entry = "Ping"
    else:
        body = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Loopy", ["r"], ["y"], domain="local")]
        functions = [helper.make_function("local", "Loopy", ["x"], ["y"], body, opsets)]
        entry = "Loopy"
    graph = helper.make_graph(
        [helper.make_node(entry, ["input"], ["output"], domain="local")],
        "recursive",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4])],
    )
    return helper.make_model(graph, opset_imports=opsets, functions=functions, ir_version=8)


def _nested_ifs(depth: int):
    from onnx import TensorProto, helper

    def branch(level: int):
        if level == 0:
            return helper.make_graph([helper.make_node("Identity", ["input"], ["y0"])], "leaf", [], [helper.make_tensor_value_info("y0", TensorProto.FLOAT, [1, 4])])
        inner = helper.make_node("If", ["cond"], [f"y{level}"], then_branch=branch(level - 1), else_branch=branch(level - 1) if level < 3 else branch(0))
        return helper.make_graph([inner], f"level{level}", [], [helper.make_tensor_value_info(f"y{level}", TensorProto.FLOAT, [1, 4])])

    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4]), helper.make_tensor_value_info("cond", TensorProto.BOOL, [])]
    if depth < 12:
        top = branch(depth - 1)
        graph = helper.make_graph(list(top.node), "nested", inputs, list(top.output))
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    shell = helper.make_model(helper.make_graph([], "nested", inputs, []), opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    graph_bytes = _deep_chain(depth).data + b"".join(_varint(11 << 3 | 2) + _varint(len(i.SerializeToString())) + i.SerializeToString() for i in inputs)
    shell.ClearField("graph")
    return _RawModel(shell.SerializeToString() + _varint(7 << 3 | 2) + _varint(len(graph_bytes)) + graph_bytes)


class _RawModel:
    def __init__(self, data: bytes):
        self.data = data

    def SerializeToString(self) -> bytes:  # noqa: N802 - the protobuf name _onnx_files calls
        return self.data


def _deep_chain(depth: int):
    """If nested `depth` deep through the then-branches (else-branches a leaf), written as raw
    protobuf bytes: the Python protobuf runtime refuses to build messages this deep."""
    import onnx
    from onnx import TensorProto, helper

    def field(number: int, payload: bytes) -> bytes:
        return _varint(number << 3 | 2) + _varint(len(payload)) + payload

    def output(name: str) -> bytes:
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 4]).SerializeToString()

    leaf = helper.make_graph([helper.make_node("Identity", ["input"], ["y0"])], "leaf", [], [helper.make_tensor_value_info("y0", TensorProto.FLOAT, [1, 4])]).SerializeToString()
    current = leaf
    for level in range(1, depth):
        then_attribute = field(1, b"then_branch") + _varint(20 << 3) + _varint(onnx.AttributeProto.GRAPH) + field(6, current)
        else_attribute = field(1, b"else_branch") + _varint(20 << 3) + _varint(onnx.AttributeProto.GRAPH) + field(6, leaf)
        node = field(1, b"cond") + field(2, f"y{level}".encode()) + field(4, b"If") + field(5, then_attribute) + field(5, else_attribute)
        current = field(1, node) + field(2, f"level{level}".encode()) + field(12, output(f"y{level}"))
    return _RawGraph(current)


class _RawGraph:
    """A graph kept as bytes; `_nested_ifs` splices it into a model without parsing it."""

    def __init__(self, data: bytes):
        self.data = data


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


# ---------------------------------------------------------------- OpenVINO IR


def ir_structure(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    xml_name = seed.entry
    xml = seed.files[xml_name].decode()
    weights_name = next(n for n in seed.files if n.endswith(".bin"))
    size = len(seed.files[weights_name])
    kind = rng.choice(["offset_past_end", "huge_size", "huge_shape", "negative_shape", "bad_type", "cycle", "duplicate_id", "deep_nesting", "entity_bomb"])
    consts = list(re.finditer(r'<data element_type="[^"]*" shape="[^"]*" offset="\d+" size="\d+"', xml))
    must_refuse = True
    if kind in ("offset_past_end", "huge_size", "huge_shape", "negative_shape", "bad_type") and consts:
        match = rng.choice(consts)
        text = match.group(0)
        if kind == "offset_past_end":
            text = re.sub(r'offset="\d+"', f'offset="{size + rng.randint(0, 10**12)}"', text)
        elif kind == "huge_size":
            text = re.sub(r'size="\d+"', f'size="{rng.choice([4 * 10**12, 2**63 - 1, size + 4])}"', text)
        elif kind == "huge_shape":
            text = re.sub(r'shape="[^"]*"', 'shape="1000000,1000000"', text)
        elif kind == "negative_shape":
            text = re.sub(r'shape="[^"]*"', f'shape="{rng.choice(["-1", "-4,2", "3,-1000000000000"])}"', text)
        else:
            text = re.sub(r'element_type="[^"]*"', f'element_type="{rng.choice(["f99", "", "string", "undefined"])}"', text)
        xml = xml[: match.start()] + text + xml[match.end() :]
    elif kind == "cycle":
        edges = list(re.finditer(r'<edge from-layer="(\d+)" from-port="(\d+)" to-layer="(\d+)" to-port="(\d+)"', xml))
        match = rng.choice(edges)
        later = rng.choice(edges[edges.index(match):])
        text = f'<edge from-layer="{later.group(3)}" from-port="{match.group(2)}" to-layer="{match.group(1)}" to-port="{match.group(4)}"'
        xml = xml[: match.start()] + text + xml[match.end() :]
    elif kind == "duplicate_id":
        ids = re.findall(r'<layer id="(\d+)"', xml)
        a, b = rng.sample(ids, 2)
        xml = xml.replace(f'<layer id="{b}"', f'<layer id="{a}"', 1)
    elif kind == "deep_nesting":
        depth = rng.choice([100, 1000, 10000, 100000])
        xml = xml.replace("</net>", "<rt_info>" + "<a>" * depth + "</a>" * depth + "</rt_info></net>", 1)
        must_refuse = False
    else:
        bomb = '<?xml version="1.0"?>\n<!DOCTYPE net [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
        xml = bomb + re.sub(r"^<\?xml[^>]*\?>\s*", "", xml).replace('name="', 'name="&c;', 1)
    return {**seed.files, xml_name: xml.encode()}, f"ir_{kind}", must_refuse


# ---------------------------------------------------------------- TensorFlow GraphDef / SavedModel


def _hostile_tensor_proto(rng: random.Random, tensor) -> tuple[str, bool]:
    from converter.frontends.tensorflow.protos import message_class

    kind = rng.choice(["huge_content", "negative_dim", "fill_huge", "bad_dtype", "unknown_rank_content"])
    shape = message_class("TensorShapeProto")()
    if kind == "negative_dim":
        shape.dim.add(size=-3)
        shape.dim.add(size=2)
    elif kind == "unknown_rank_content":
        shape.unknown_rank = True
    else:
        for d in rng.choice([HUGE_DIMS, [2**32, 2**32], [10**12]]):
            shape.dim.add(size=d)
    tensor.tensor_shape.CopyFrom(shape)
    if kind == "fill_huge":  # one value for all elements: TF's fill form, allowed by the file but not by the limit
        tensor.ClearField("tensor_content")
        tensor.dtype = 1
        del tensor.float_val[:]
        tensor.float_val.append(1.0)
    elif kind == "bad_dtype":
        tensor.dtype = rng.choice([0, 99, 1000])
    return f"tensor_{kind}", True


def graphdef_structure(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    from google.protobuf import text_format

    from converter.frontends.tensorflow.protos import message_class

    text = seed.entry.endswith(".pbtxt")
    graph = message_class("GraphDef")()
    if text:
        text_format.Parse(seed.files[seed.entry].decode(), graph)
    else:
        graph.ParseFromString(seed.files[seed.entry])
    nodes = list(graph.node)
    kind = rng.choice(["tensor", "tensor", "self_loop", "cycle", "duplicate_name", "unknown_input", "swap_ops", "huge_attr"])
    must_refuse = True
    consts = [n for n in nodes if n.op == "Const"]
    if kind == "tensor" and consts:
        kind, must_refuse = _hostile_tensor_proto(rng, rng.choice(consts).attr["value"].tensor)
    elif kind == "self_loop":
        node = rng.choice([n for n in nodes if n.input] or nodes)
        if node.input:
            node.input[0] = node.name
        else:
            node.input.append(node.name)
    elif kind == "cycle":
        with_inputs = [n for n in nodes if n.input]
        a = rng.choice(with_inputs)
        b = next((n for n in nodes if a.name in n.input), None)
        if b is None:
            a.input[0] = a.name
        else:
            a.input[0] = b.name
            # a cycle away from the outputs irforge picks is dead code it never reads: converting is fine
            must_refuse = False
    elif kind == "duplicate_name":
        a, b = rng.sample(nodes, 2)
        b.name = a.name
    elif kind == "unknown_input":
        node = rng.choice([n for n in nodes if n.input])
        node.input[0] = rng.choice(["missing", "^missing", "x:99", ":", ""])
    elif kind == "swap_ops":
        a, b = rng.sample(nodes, 2)
        a.op, b.op = b.op, a.op
        must_refuse = False
    else:
        node = rng.choice(nodes)
        for attribute in node.attr.values():
            if attribute.HasField("i"):
                attribute.i = rng.choice([10**12, -1, 2**62])
        must_refuse = False
    data = text_format.MessageToString(graph).encode() if text else graph.SerializeToString()
    return {**seed.files, seed.entry: data}, f"graphdef_{kind}", must_refuse


def savedmodel_structure(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    from converter.frontends.tensorflow.bundle import table_entries
    from converter.frontends.tensorflow.protos import BundleEntryProto

    index_name = "variables/variables.index"
    entries = list(table_entries(seed.files[index_name]))
    keyed = [i for i, (key, _) in enumerate(entries) if key and not key.startswith(b"_CHECKPOINTABLE")]
    position = rng.choice(keyed)
    key, value = entries[position]
    entry = BundleEntryProto.FromString(value)
    kind = rng.choice(["huge_shape", "overflowing_shape", "negative_dim", "offset_past_end", "size_mismatch", "bad_dtype", "bad_shard"])
    if kind in ("huge_shape", "overflowing_shape", "negative_dim"):
        del entry.shape.dim[:]
        dims = {"huge_shape": HUGE_DIMS, "overflowing_shape": [2**32, 2**32], "negative_dim": [-2, 3]}[kind]
        for d in dims:
            entry.shape.dim.add(size=d)
        if kind == "overflowing_shape":
            entry.size = 0
    elif kind == "offset_past_end":
        entry.offset = len(seed.files["variables/variables.data-00000-of-00001"]) + rng.randint(1, 10**9)
    elif kind == "size_mismatch":
        entry.size = rng.choice([entry.size + 4, 4 * 10**12])
    elif kind == "bad_dtype":
        entry.dtype = rng.choice([0, 99])
    else:
        entry.shard_id = rng.choice([1, -1, 2**30])
    entries[position] = (key, entry.SerializeToString())
    return {**seed.files, index_name: write_table(entries)}, f"bundle_{kind}", True


def write_table(entries: list[tuple[bytes, bytes]]) -> bytes:
    """An uncompressed LevelDB table (one data block, its index, an empty metaindex), as TF writes a bundle index."""
    from converter.frontends.tensorflow.bundle import TABLE_MAGIC, masked_crc32c

    def varint(value: int) -> bytes:
        out = bytearray()
        while True:
            byte, value = value & 0x7F, value >> 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                return bytes(out)

    def block(items: list[tuple[bytes, bytes]]) -> bytes:
        body = b"".join(varint(0) + varint(len(k)) + varint(len(v)) + k + v for k, v in items)
        return body + struct.pack("<I", 0) + struct.pack("<I", 1)

    out = bytearray()

    def append(contents: bytes) -> bytes:
        handle = varint(len(out)) + varint(len(contents))
        out.extend(contents + b"\0" + struct.pack("<I", masked_crc32c(contents + b"\0")))
        return handle

    data_handle = append(block(entries))
    meta_handle = append(block([]))
    index_handle = append(block([(entries[-1][0] + b"\xff", data_handle)]))
    footer = meta_handle + index_handle
    footer += b"\0" * (40 - len(footer)) + struct.pack("<Q", TABLE_MAGIC)
    return bytes(out + footer)


# ---------------------------------------------------------------- Keras


def _hostile_h5(rng: random.Random, data: bytes, weights_root: str) -> tuple[bytes, str, bool]:
    """The HDF5 file with one weight dataset replaced: 10^12 elements (HDF5 stores a fill value,
    the file stays small), wrong dtype, wrong rank, or an external link / external storage."""
    import h5py
    import numpy as np

    buffer = io.BytesIO(data)
    with h5py.File(buffer, "r+") as file:
        datasets: list[str] = []
        file[weights_root].visititems(lambda name, obj: datasets.append(f"{weights_root}/{name}") if isinstance(obj, h5py.Dataset) else None)
        target = rng.choice(datasets)
        kind = rng.choice(["huge", "huge", "wrong_dtype", "wrong_rank", "external_link", "external_storage", "soft_link_loop"])
        parent, leaf = target.rsplit("/", 1)
        del file[target]
        if kind == "huge":
            file[parent].create_dataset(leaf, shape=tuple(HUGE_DIMS), dtype="f4", chunks=(1, 1024))
        elif kind == "wrong_dtype":
            file[parent].create_dataset(leaf, data=np.array([b"text", b"more"]))
        elif kind == "wrong_rank":
            file[parent].create_dataset(leaf, data=np.zeros((2, 3, 4, 5, 6), np.float32))
        elif kind == "external_link":
            file[parent][leaf] = h5py.ExternalLink("/etc/hostname", "/data")
        elif kind == "external_storage":
            file[parent].create_dataset(leaf, shape=(16,), dtype="f4", external=[("../../outside.bin", 0, 64)])
        else:
            file[parent][leaf] = h5py.SoftLink(target)
    return buffer.getvalue(), f"h5_{kind}", True


def _json_mutation(rng: random.Random, config: dict) -> tuple[dict, str, bool]:
    """Numbers in a Keras config replaced with hostile ones, or layers made to read themselves."""
    text = json.dumps(config)
    kind = rng.choice(["numbers", "numbers", "self_inbound", "duplicate_name", "deep"])
    if kind == "numbers":
        return json.loads(replace_number(text.encode(), rng).replace(b"nan", b"NaN")), "keras_numbers", False
    layers = config.get("config", {}).get("layers", [])
    if kind == "deep" or len(layers) < 2:
        depth = rng.choice([50, 500, 5000])
        nested = '{"class_name": "Sequential", "config": {"layers": [' * depth + "{}" + "]}}" * depth
        return _Text('{"class_name": "Functional", "config": {"layers": [' + nested + '], "input_layers": [], "output_layers": []}}'), "keras_deep", True
    a, b = rng.sample(range(len(layers)), 2)
    if kind == "duplicate_name":
        layers[b]["config"]["name"] = layers[a]["config"]["name"]
        if "name" in layers[b]:
            layers[b]["name"] = layers[a].get("name")
        return config, "keras_duplicate_name", True
    name = layers[b].get("name") or layers[b]["config"].get("name")
    text = json.dumps(layers[b].get("inbound_nodes", []))
    layers[b]["inbound_nodes"] = json.loads(re.sub(r'"[^"]+"', lambda m: f'"{name}"' if m.group(0) not in ('"args"', '"kwargs"', '"keras_history"', '"class_name"', '"config"', '"__keras_tensor__"', '"KerasTensor"', '"shape"', '"dtype"') else m.group(0), text, count=1)) if text != "[]" else [[[name, 0, 0, {}]]]
    return config, "keras_self_inbound", False


class _Text(str):
    """A JSON document already written (too deep for json.dumps)."""


def _dumps(config) -> str:
    return str(config) if isinstance(config, _Text) else json.dumps(config)


def keras_structure(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    archive = zipfile.ZipFile(io.BytesIO(seed.files[seed.entry]))
    members = {name: archive.read(name) for name in archive.namelist()}
    kind = rng.choice(["config", "weights", "weights", "zip_slip"])
    must_refuse = True
    if kind == "config":
        config, name, must_refuse = _json_mutation(rng, json.loads(members["config.json"]))
        members["config.json"] = _dumps(config).encode()
    elif kind == "weights":
        members["model.weights.h5"], name, must_refuse = _hostile_h5(rng, members["model.weights.h5"], "/")
    else:
        name = "keras_zip_slip"
        members[rng.choice(["../escaped.txt", "/tmp/irforge-fuzz-absolute.txt", "a/../../escaped.txt"])] = b"escaped"
        must_refuse = False  # refusing is fine, so is ignoring an entry never read; writing it anywhere is not
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as writer:
        for member, data in members.items():
            writer.writestr(member, data)
    return {**seed.files, seed.entry: out.getvalue()}, name, must_refuse


def h5_structure(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    import h5py

    data = seed.files[seed.entry]
    if rng.random() < 0.4:
        buffer = io.BytesIO(data)
        with h5py.File(buffer, "r+") as file:
            config, name, must_refuse = _json_mutation(rng, json.loads(file.attrs["model_config"]))
            file.attrs["model_config"] = _dumps(config)
        return {**seed.files, seed.entry: buffer.getvalue()}, name, must_refuse
    mutated, name, must_refuse = _hostile_h5(rng, data, "model_weights")
    return {**seed.files, seed.entry: mutated}, name, must_refuse


# ---------------------------------------------------------------- TFLite


def tflite_structure(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(seed.files[seed.entry]), 0)
    graph = model.subgraphs[0]
    constants = [t for t in graph.tensors if t.buffer and model.buffers[t.buffer].data is not None and len(model.buffers[t.buffer].data)]
    kind = rng.choice(["huge_shape", "negative_shape", "buffer_past_end", "bad_buffer_index", "bad_tensor_index", "self_loop", "bad_opcode", "bad_type", "extern_buffer_huge"])
    must_refuse = True
    if kind in ("huge_shape", "negative_shape", "bad_type") and constants:
        tensor = rng.choice(constants)
        if kind == "huge_shape":
            tensor.shape = rng.choice([HUGE_DIMS, [2**31 - 1, 2**31 - 1], [10**9, 1000]])
        elif kind == "negative_shape":
            tensor.shape = [-3, 4]
        else:
            tensor.type = rng.choice([99, 127])
    elif kind in ("buffer_past_end", "extern_buffer_huge") and constants:
        tensor = rng.choice(constants)
        buffer = model.buffers[tensor.buffer]
        buffer.data = None
        buffer.offset = rng.choice([10**9, 2**40]) if kind == "buffer_past_end" else 1
        buffer.size = 4 * 10**12 if kind == "extern_buffer_huge" else 64
        if kind == "extern_buffer_huge":
            tensor.shape = HUGE_DIMS
    elif kind == "bad_buffer_index":
        rng.choice(graph.tensors).buffer = rng.choice([len(model.buffers), 10**6, 2**31 - 1])
    elif kind == "bad_tensor_index":
        operator = rng.choice(graph.operators)
        operator.inputs[0] = rng.choice([len(graph.tensors), 10**6, -5])
    elif kind == "self_loop":
        operator = rng.choice(graph.operators)
        operator.inputs[0] = operator.outputs[0]
    elif kind == "bad_opcode":
        rng.choice(graph.operators).opcodeIndex = rng.choice([len(model.operatorCodes), 10**6])
    else:
        rng.choice(graph.tensors).shape = [rng.choice([-1, 10**9])]
        must_refuse = False
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return {**seed.files, seed.entry: bytes(builder.Output())}, f"tflite_{kind}", must_refuse


# ---------------------------------------------------------------- Caffe


def caffe_structure(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    from converter.frontends.caffe.protos import NetParameter

    weights_name = next(n for n in seed.files if n.endswith(".caffemodel"))
    net_name = next(n for n in seed.files if n.endswith(".prototxt"))
    kind = rng.choice(["huge_blob", "negative_blob", "legacy_huge", "data_mismatch", "prototxt_refs", "self_bottom", "duplicate_top"])
    files = dict(seed.files)
    if kind in ("huge_blob", "negative_blob", "legacy_huge", "data_mismatch"):
        net = NetParameter.FromString(seed.files[weights_name])
        blobs = [blob for layer in (*net.layer, *net.layers) for blob in layer.blobs]
        blob = rng.choice(blobs)
        if kind == "legacy_huge":
            blob.ClearField("shape")
            blob.num, blob.channels, blob.height, blob.width = 1000, 1000, 1000, 1000
        elif kind == "data_mismatch":
            del blob.data[len(blob.data) // 2 :]
        else:
            del blob.shape.dim[:]
            blob.shape.dim.extend(HUGE_DIMS if kind == "huge_blob" else [-4, 3])
        files[weights_name] = net.SerializeToString()
        return files, f"caffe_{kind}", True
    text = seed.files[net_name].decode()
    if kind == "prototxt_refs":
        ref = rng.choice(['source: "/etc/passwd"', 'mean_file: "../../outside.binaryproto"', 'source: "../outside_list.txt"'])
        param = rng.choice(["data_param", "image_data_param", "hdf5_data_param", "transform_param"])
        text = f'layer {{ name: "reader" type: "Data" top: "unused" {param} {{ {ref} }} }}\n' + text
        files[net_name] = text.encode()
        return files, "caffe_file_reference", False
    tops = re.findall(r'top: "([^"]+)"', text)
    bottoms = list(re.finditer(r'bottom: "([^"]+)"', text))
    if kind == "self_bottom" and bottoms:
        match = rng.choice(bottoms)
        later = tops[-1]
        text = text[: match.start()] + f'bottom: "{later}"' + text[match.end() :]
        files[net_name] = text.encode()
        return files, "caffe_reads_later_top", False
    names = list(re.finditer(r'name: "([^"]+)"', text))
    if len(names) >= 3:
        a, b = rng.sample(names[1:], 2)
        text = text[: b.start()] + f'name: "{a.group(1)}"' + text[b.end() :]
    files[net_name] = text.encode()
    return files, "caffe_duplicate_name", False


# ---------------------------------------------------------------- MXNet


def mxnet_structure(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    symbol_name = next(n for n in seed.files if n.endswith("-symbol.json"))
    params_name = next(n for n in seed.files if n.endswith(".params"))
    files = dict(seed.files)
    kind = rng.choice(["params_huge", "params_negative", "params_ndim", "params_dtype", "params_count", "self_input", "forward_input", "bad_head", "huge_attr", "deep_json"])
    if kind.startswith("params"):
        files[params_name] = _hostile_params(rng, kind, seed.files[params_name])
        return files, f"mxnet_{kind}", True
    symbol = json.loads(seed.files[symbol_name])
    nodes = symbol["nodes"]
    must_refuse = True
    if kind == "self_input":
        index = rng.choice([i for i, n in enumerate(nodes) if n["inputs"]])
        nodes[index]["inputs"][0][0] = index
    elif kind == "forward_input":
        index = rng.choice([i for i, n in enumerate(nodes) if n["inputs"]])
        nodes[index]["inputs"][0][0] = rng.choice([len(nodes) - 1, len(nodes), 10**9, -1])
    elif kind == "bad_head":
        symbol["heads"][0][0] = rng.choice([len(nodes), -1, 10**12])
    elif kind == "huge_attr":
        ops = [n for n in nodes if n.get("attrs")]
        node = rng.choice(ops)
        key = rng.choice(sorted(node["attrs"]))
        node["attrs"][key] = rng.choice(["1000000000000", "(1000000, 1000000)", "-1", "(", "1e400"])
        must_refuse = False
    else:
        depth = rng.choice([100, 1000, 100000])
        symbol["heads"] = "DEEP"
        files[symbol_name] = json.dumps(symbol).replace('"DEEP"', "[" * depth + "0" + "]" * depth).encode()
        return files, f"mxnet_{kind}", True
    files[symbol_name] = json.dumps(symbol).encode()
    return files, f"mxnet_{kind}", must_refuse


def _hostile_params(rng: random.Random, kind: str, original: bytes) -> bytes:
    """An NDArray list holding one array whose header lies (MXNet 1.x V2 layout)."""
    header = struct.pack("<QQQ", 0x112, 0, 1)
    if kind == "params_huge":
        shape = struct.pack("<i", 2) + struct.pack("<2q", *HUGE_DIMS)
    elif kind == "params_negative":
        shape = struct.pack("<i", 2) + struct.pack("<2q", -4, 3)
    elif kind == "params_ndim":
        shape = struct.pack("<i", rng.choice([-1, 2**31 - 1, 10**6]))
    else:
        shape = struct.pack("<i", 1) + struct.pack("<q", 4)
    flag = 99 if kind == "params_dtype" else 0
    array = struct.pack("<Ii", 0xF993FAC9, 0) + shape + struct.pack("<ii", 1, 0) + struct.pack("<i", flag) + b"\0" * 16
    count = 10**12 if kind == "params_count" else 1
    name = b"arg:conv0_weight"
    return header[:16] + struct.pack("<Q", count) + array + struct.pack("<Q", 1) + struct.pack("<Q", len(name)) + name


# ---------------------------------------------------------------- Kaldi


def kaldi_structure(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    name = seed.entry
    data = seed.files[name]
    kind = rng.choice(["matrix_huge", "matrix_negative", "vector_huge", "dim_huge", "deep_descriptor"])
    if data.startswith(b"\0B"):
        markers = {"matrix_huge": b"FM ", "matrix_negative": b"FM ", "vector_huge": b"FV ", "dim_huge": b"<InputDim> ", "deep_descriptor": b"FM "}
        positions = [m.end() for m in re.finditer(re.escape(markers[kind]), data)]
        if positions:
            at = rng.choice(positions)
            value = {"matrix_negative": -5, "dim_huge": 10**9}.get(kind, 1_000_000)
            out = data[:at] + b"\x04" + struct.pack("<i", value) + data[at + 5 :]
            if kind == "matrix_huge":
                out = out[: at + 5] + b"\x04" + struct.pack("<i", 1_000_000) + out[at + 10 :]
            return {**seed.files, name: out}, f"kaldi_binary_{kind}", kind != "dim_huge"
        return {**seed.files, name: replace_number(data, rng)}, "kaldi_numbers", False
    text = data.decode("latin-1")
    if kind == "deep_descriptor" and "input=" in text:
        depth = rng.choice([50, 500, 20000])
        text = re.sub(r"input=(\S+)", lambda m: "input=" + "Sum(" * depth + m.group(1) + ", Const(0, 5))" * depth, text, count=1)
        return {**seed.files, name: text.encode("latin-1")}, "kaldi_deep_descriptor", False
    dims = list(re.finditer(r"(<InputDim>|<OutputDim>|dim=|input-dim=|output-dim=) ?(\d+)", text))
    if dims:
        match = rng.choice(dims)
        value = rng.choice(["1000000000000", "-7", "2147483648", "0"])
        text = text[: match.start(2)] + value + text[match.end(2) :]
        return {**seed.files, name: text.encode("latin-1")}, "kaldi_text_dim", False
    return {**seed.files, name: replace_number(data, rng)}, "kaldi_numbers", False


# ---------------------------------------------------------------- manifests and pipeline configs


def yaml_structure(rng: random.Random, seed: Seed) -> tuple[dict[str, bytes], str, bool]:
    name = seed.entry
    kind = rng.choice(["aliases", "deep_flow", "deep_block", "wrong_types", "huge_numbers", "tags"])
    if kind == "aliases":
        lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
        for level in range(1, 9):
            lines.append(f"{chr(97 + level)}: &{chr(97 + level)} [" + ",".join([f"*{chr(96 + level)}"] * 9) + "]")
        key = "passes" if "pipeline" in name else "inputs"
        text = "\n".join(lines) + f"\n{key}: *i\n"
    elif kind == "deep_flow":
        depth = rng.choice([100, 1000, 10000])
        text = "inputs: " + "[" * depth + "1" + "]" * depth + "\n"
    elif kind == "deep_block":
        depth = rng.choice([100, 1000])
        text = "tolerances:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(depth)) + " " * (depth + 1) + "1\n"
    elif kind == "wrong_types":
        key = rng.choice(["inputs", "data", "metric", "samples", "batch_size", "tolerances", "frontend", "calibration", "passes", "precisions"])
        value = rng.choice(["[1, 2]", "{a: b}", "3", "-1", "null", '"text"', "[[1], {x: 2}]", "{fp32: 5}", "{fp32: {rtol: x, atol: 1}}", "true"])
        text = f"{key}: {value}\n"
    elif kind == "huge_numbers":
        text = rng.choice(["inputs: {x: [1000000000000, 1000000000000]}\n", "batch_size: 100000000000000000000\n", "samples: 1e400\n", "tolerances: {fp32: {rtol: 1e999, atol: -1}}\n"])
    else:
        text = rng.choice(["inputs: !!python/object:os.system {}\n", "data: !!binary AAAA\n", "metric: !custom x\n", "passes: !!set {a, b}\n"])
    return {**seed.files, name: text.encode()}, f"yaml_{kind}", False


STRUCTURE: dict[str, Mutator] = {
    "onnx": onnx_structure,
    "ir": ir_structure,
    "savedmodel": savedmodel_structure,
    "graphdef": graphdef_structure,
    "keras": keras_structure,
    "h5": h5_structure,
    "tflite": tflite_structure,
    "caffe": caffe_structure,
    "mxnet": mxnet_structure,
    "kaldi": kaldi_structure,
    "manifest": yaml_structure,
    "config": yaml_structure,
}
STRUCTURE_SHARE = 0.35  # of the cases: structure-aware; the rest byte mutations


def cases(fmt: str, count: int, seed: int = 0):
    """`count` cases of `fmt`, the same for the same (fmt, count, seed)."""
    rng = random.Random(f"{fmt}:{seed}")
    pool = seeds(fmt)
    for _ in range(count):
        base = rng.choice(pool)
        if rng.random() < STRUCTURE_SHARE:
            files, name, must_refuse = STRUCTURE[fmt](rng, base)
        else:
            files, name, must_refuse = byte_mutation(rng, base)
        yield Case(fmt, files, base.entry, f"{base.name}: {name}", must_refuse)
