"""Start-up cost: `irforge --help` imports the CLI and nothing heavy (numpy, the graph core,
frameworks). Checked by the modules a fresh process ends up with, not by a time."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "numpy", "onnx", "onnxruntime", "openvino", "tensorflow", "keras", "ml_dtypes", "pandas", "prefect",
    "pydantic", "h5py", "yaml", "google.protobuf", "scipy", "dask", "pyarrow", "rich",
    "converter.api", "converter.ir", "converter.ops", "converter.passes", "converter.frontends",
    "converter.serialize", "converter.runtime", "converter.validate", "converter.config",
)

RUN = r"""
import gc, json, sys
sys.argv = ["irforge", *sys.argv[1:]]
from converter.cli import app
try:
    app()
except SystemExit:
    pass
print("thresholds", *gc.get_threshold())
print(json.dumps(sorted(sys.modules)))
"""


def _last_lines(*args: str) -> list[str]:
    """`irforge ARGS` as from the console: the collector's thresholds line and the modules' line."""
    result = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-2:]


def _modules(*args: str) -> set[str]:
    return set(json.loads(_last_lines(*args)[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_imports_nothing_heavy():
    modules = _modules("--help")
    assert "converter.cli" in modules and "typer" in modules
    assert _heavy(modules) == []


def test_command_help_imports_nothing_heavy():
    for command in ("convert", "validate", "zoo", "info"):
        assert _heavy(_modules(command, "--help")) == [], command


# What converting an ONNX model to FP32 and FP16 IR needs is protobuf, numpy and irforge: not the
# onnx package (its C++ extension and helpers import slower than the rest of a small conversion),
# not ml_dtypes (only models with bf16, 8-bit float or 4-bit tensors need it), no framework.
NOT_FOR_CONVERT = ("onnx", "onnxruntime", "openvino", "tensorflow", "ml_dtypes", "pandas", "prefect", "pydantic", "h5py", "scipy", "dask")


def test_converting_an_onnx_model_imports_neither_onnx_nor_ml_dtypes(tmp_path):
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4, 8, 8])],
        [weight],
    )
    model = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model)
    modules = _modules("convert", str(model), "-o", str(tmp_path / "out"))
    assert (tmp_path / "out" / "FP16" / "m.xml").is_file()
    assert "numpy" in modules and "converter.frontends.onnx.proto" in modules
    assert sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in NOT_FOR_CONVERT)) == []


def test_import_converter_is_light_and_the_api_loads_on_use():
    code = "import sys, converter; light = 'numpy' not in sys.modules; from converter import convert_model, save_model, read_model; print(light, callable(convert_model), 'converter.api' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "True", "True"]


LEAN = r"""
import json, sys
import typer.main
built = []
original = typer.main.get_command_from_info
def recording(command_info, **kwargs):
    built.append(command_info.name or command_info.callback.__name__)
    return original(command_info, **kwargs)
typer.main.get_command_from_info = recording
sys.argv = ["irforge", *sys.argv[1:]]
from converter.cli import app
try:
    app()
except SystemExit:
    pass
print(json.dumps(built))
"""


def test_a_command_run_from_the_console_builds_only_that_command():
    """`irforge convert ...` turns only convert's signature into Click options; its help and errors
    read as the whole app's (app(args=...), CliRunner and `irforge --help` build every command)."""
    full_app = "import sys; from converter.cli import app; app(args=sys.argv[1:], prog_name='irforge')"
    for args in (["convert", "--help"], ["info", "--help"], ["convert"]):
        lean = subprocess.run([sys.executable, "-c", LEAN, *args], capture_output=True, text=True, check=True)
        lines = lean.stdout.strip().splitlines()
        assert json.loads(lines[-1]) == [args[0]]
        full = subprocess.run([sys.executable, "-c", full_app, *args], capture_output=True, text=True)
        assert "\n".join(lines[:-1]).strip() == full.stdout.strip() and lean.stderr == full.stderr
    result = subprocess.run([sys.executable, "-c", LEAN, "--help"], capture_output=True, text=True, check=True)
    assert len(json.loads(result.stdout.strip().splitlines()[-1])) > 2



def test_only_a_console_conversion_spares_full_collections(tmp_path):
    """`irforge convert` from the console raises the cyclic collector's thresholds (the pipeline
    frees what it drops itself); `app([...])` in a process (tests, programs) leaves the defaults."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    defaults = subprocess.run([sys.executable, "-c", "import gc; print('thresholds', *gc.get_threshold())"], capture_output=True, text=True, check=True).stdout.strip()
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4, 6, 6])],
        [numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")],
    )
    model = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model)
    convert = ["convert", str(model), "-o", str(tmp_path / "out"), "--precision", "fp16"]
    assert _last_lines(*convert)[0] == "thresholds 2000 10 1000"
    assert (tmp_path / "out" / "FP16" / "m.xml").is_file()
    assert _last_lines("info", str(model))[0] == defaults
    in_process = "import gc, sys; from converter.cli import app\ntry:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\nprint('thresholds', *gc.get_threshold())"
    called = subprocess.run([sys.executable, "-c", in_process, *convert], capture_output=True, text=True, check=True)
    assert called.stdout.strip().splitlines()[-1] == defaults
