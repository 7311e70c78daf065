"""Writing MXNet checkpoints in the tests, without mxnet: a symbol builder for `-symbol.json` and a
writer of the NDArray list format for `-NNNN.params` (V2 arrays as MXNet 1.x saves them; V1, V3
and pre-V1 legacy arrays on request), then conversion with irforge and a run of the IR reloaded
from disk in OpenVINO."""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")

from converter.api import optimize, save_model  # noqa: E402
from converter.frontends.mxnet import convert_mxnet  # noqa: E402
from converter.validate.runners import IrRunner  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5
TYPE_FLAGS = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.float16): 2, np.dtype(np.uint8): 3,
              np.dtype(np.int32): 4, np.dtype(np.int8): 5, np.dtype(np.int64): 6}  # fmt: skip
Entry = tuple[int, int]


def _attr_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join("None" if v is None else str(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return "None" if value is None else str(value)


class SymbolBuilder:
    """Nodes in topological order, as MXNet writes them. `op` returns the node's output entries."""

    def __init__(self) -> None:
        self.nodes: list[dict] = []
        self.args: set[int] = set()

    def var(self, name: str, shape: Sequence[int] | None = None, dtype: int | None = None) -> Entry:
        attrs = {}
        if shape is not None:
            attrs["__shape__"] = _attr_text(tuple(shape))
        if dtype is not None:
            attrs["__dtype__"] = str(dtype)
        node: dict = {"op": "null", "name": name, "inputs": []}
        if attrs:
            node["attrs"] = attrs
        self.nodes.append(node)
        self.args.add(len(self.nodes) - 1)
        return (len(self.nodes) - 1, 0)

    def op(self, op: str, name: str, *inputs: Entry, attr_key: str = "attrs", **attrs: object) -> Entry:
        node: dict = {"op": op, "name": name, "inputs": [[i, o, 0] for i, o in inputs]}
        if attrs:
            node[attr_key] = {k: _attr_text(v) for k, v in attrs.items()}
        self.nodes.append(node)
        return (len(self.nodes) - 1, 0)

    def json(self, heads: Sequence[Entry]) -> str:
        rows, total = [0], 0
        for node in self.nodes:
            total += 1
            rows.append(total)
        return json.dumps(
            {
                "nodes": self.nodes,
                "arg_nodes": sorted(self.args),
                "node_row_ptr": rows,
                "heads": [[i, o, 0] for i, o in heads],
                "attrs": {"mxnet_version": ["int", 10901]},
            },
            indent=2,
        )


def params_bytes(args: Mapping[str, np.ndarray], aux: Mapping[str, np.ndarray] | None = None, version: str = "v2", names: bool = True) -> bytes:
    """An NDArray list: `arg:` then `aux:` arrays. version: v2 (MXNet 1.x), v3 (NumPy shapes), v1, legacy."""
    entries = [(f"arg:{k}", v) for k, v in args.items()] + [(f"aux:{k}", v) for k, v in (aux or {}).items()]
    out = [struct.pack("<QQQ", 0x112, 0, len(entries))]
    for _, array in entries:
        out.append(_array_bytes(np.ascontiguousarray(array), version))
    out.append(struct.pack("<Q", len(entries) if names else 0))
    if names:
        for name, _ in entries:
            encoded = name.encode()
            out.append(struct.pack("<Q", len(encoded)) + encoded)
    return b"".join(out)


def _array_bytes(array: np.ndarray, version: str) -> bytes:
    flag = TYPE_FLAGS[array.dtype]
    if version in ("v2", "v3"):
        head = struct.pack("<Ii", 0xF993FAC9 if version == "v2" else 0xF993FACA, 0)
        shape = struct.pack("<i", array.ndim) + struct.pack(f"<{array.ndim}q", *array.shape)
    elif version == "v1":
        head = struct.pack("<I", 0xF993FAC8)
        shape = struct.pack("<i", array.ndim) + struct.pack(f"<{array.ndim}q", *array.shape)
    else:  # before V1: the magic is the rank, dims are uint32
        head = b""
        shape = struct.pack("<I", array.ndim) + struct.pack(f"<{array.ndim}I", *array.shape)
    context = struct.pack("<ii", 1, 0)
    return head + shape + context + struct.pack("<i", flag) + array.astype(array.dtype.newbyteorder("<")).tobytes()


def write_checkpoint(
    folder: Path,
    prefix: str,
    symbol: SymbolBuilder,
    heads: Sequence[Entry],
    args: Mapping[str, np.ndarray],
    aux: Mapping[str, np.ndarray] | None = None,
    epoch: int = 0,
    version: str = "v2",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{prefix}-symbol.json"
    path.write_text(symbol.json(heads))
    (folder / f"{prefix}-{epoch:04d}.params").write_bytes(params_bytes(args, aux, version))
    return path


def run_converted(symbol_path: Path, feeds: Mapping[str, np.ndarray], tmp_path: Path, passes: bool = True) -> list[np.ndarray]:
    """Convert (with the default passes, or none), write the IR, reload it in OpenVINO, run it."""
    graph = convert_mxnet(symbol_path)
    if passes:
        graph, _ = optimize(graph)
    xml = tmp_path / "ir" / f"{symbol_path.name}.xml"
    save_model(graph, xml)
    runner = IrRunner(xml, "openvino")
    return [np.asarray(x) for x in runner.run(dict(feeds))]


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> None:
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol)


# ------------------------------------------------------------------ optional: real MXNet as a second oracle

MXNET_SCRIPT = """
import sys, numpy as np, mxnet as mx
prefix, epoch, feeds_path, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sym, args, aux = mx.model.load_checkpoint(prefix, epoch)
feeds = dict(np.load(feeds_path))
ex = sym.simple_bind(mx.cpu(), grad_req="null", **{k: v.shape for k, v in feeds.items()},
                     type_dict={k: v.dtype for k, v in feeds.items()})
for name, array in list(args.items()) + list(aux.items()):
    target = ex.arg_dict.get(name, ex.aux_dict.get(name))
    if target is not None:
        target[:] = array
for name, array in feeds.items():
    ex.arg_dict[name][:] = array
outputs = ex.forward(is_train=False)
np.savez(out_path, *[o.asnumpy() for o in outputs])
"""


def mxnet_python() -> str | None:
    """An interpreter with mxnet installed (IRFORGE_MXNET_PYTHON), for a cross-check against real MXNet;
    mxnet 1.9 needs NumPy < 1.24, so it cannot live beside irforge: a separate virtualenv."""
    return os.environ.get("IRFORGE_MXNET_PYTHON") or None


def mxnet_outputs(symbol_path: Path, feeds: Mapping[str, np.ndarray], epoch: int = 0) -> list[np.ndarray] | None:
    """The checkpoint run by real MXNet, or None when no MXNet interpreter is configured."""
    import subprocess
    import tempfile

    python = mxnet_python()
    if python is None:
        return None
    prefix = str(symbol_path)[: -len("-symbol.json")]
    with tempfile.TemporaryDirectory() as folder:
        np.savez(Path(folder) / "feeds.npz", **feeds)
        done = subprocess.run([python, "-c", MXNET_SCRIPT, prefix, str(epoch), f"{folder}/feeds.npz", f"{folder}/out.npz"],
                              capture_output=True, text=True, timeout=120, env={**os.environ, "MXNET_MKLDNN_ENABLED": "0"})  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"MXNet failed: {done.stderr.strip().splitlines()[-1]}")
        with np.load(Path(folder) / "out.npz") as data:
            return [data[f"arr_{i}"] for i in range(len(data.files))]
