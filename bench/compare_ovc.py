"""irforge vs OpenVINO's own converter, in the same run: time, peak memory, op count, IR size.

    python bench/compare_ovc.py            # prints a Markdown table; paste into docs/benchmarks.md
    python bench/compare_ovc.py --repeat 5

Each measurement runs in a fresh subprocess (so peak RSS is the conversion's own), `--repeat`
times; the table shows medians and irforge/OpenVINO ratios. Both write FP32 and FP16 IR.
"new process" includes importing the tool (what a CLI user waits for; irforge byte-compiled first,
as pip does); "warm" is a second
conversion in the same process (what a zoo run pays per model).
OpenVINO telemetry is switched off for the run (OPENVINO_TELEMETRY_DISABLE and `opt_in_out`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

MODELS = ["cnn", "depthwise_net", "transformer", "resnet", "mobilenet_v3", "bert", "bert_1m", "resnet_1m", "bert_12"]

WORKER = r"""
import json, sys, time
from pathlib import Path
tool, source, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])

def convert():
    if tool == "irforge":
        from converter import convert_model, save_model
        from converter.passes.manager import op_count
        graph = convert_model(source)
        save_model(graph, out / "FP32" / "m.xml")
        save_model(graph, out / "FP16" / "m.xml", compress_to_fp16=True)
        return op_count(graph)
    import openvino
    if source.endswith((".keras", ".h5")):  # OpenVINO takes Keras models as objects: Keras loads the file
        import keras
        model = openvino.convert_model(keras.saving.load_model(source, compile=False))
    else:
        model = openvino.convert_model(source)
    openvino.save_model(model, str(out / "FP32" / "m.xml"), compress_to_fp16=False)
    openvino.save_model(model, str(out / "FP16" / "m.xml"), compress_to_fp16=True)
    return sum(1 for op in model.get_ordered_ops() if op.get_type_name() not in ("Constant", "Parameter", "Result"))

started = time.perf_counter()
ops = convert()
cold = time.perf_counter() - started
# The peak of one conversion (VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent).
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
started = time.perf_counter()
convert()
warm = time.perf_counter() - started
print(json.dumps({"cold": cold, "warm": warm, "rss_mb": peak_kb / 1024, "ops": ops,
                  "fp32_bytes": (out / "FP32" / "m.bin").stat().st_size, "fp16_bytes": (out / "FP16" / "m.bin").stat().st_size}))
"""


def build(name: str):
    import models

    if name == "bert_1m":
        return models.bert(layers=3, d=256, heads=4, ffn=1024, vocab=2000)
    if name == "bert_12":
        return models.bert(layers=12, d=256, heads=4, ffn=1024, vocab=2000)
    if name == "resnet_1m":
        return models.resnet(width=128, blocks=3)
    return getattr(models, name)()


def run_once(tool: str, source: Path) -> dict:
    env = dict(os.environ, OPENVINO_TELEMETRY_DISABLE="1", PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run([sys.executable, "-c", WORKER, tool, str(source), out], capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_pair(source: Path, repeat: int) -> tuple[dict, dict]:
    """irforge and OpenVINO on the same file, alternating run by run (the machine's noise hits both alike)."""
    runs: dict[str, list[dict]] = {"irforge": [], "ovc": []}
    for _ in range(repeat):
        for tool in runs:
            runs[tool].append(run_once(tool, source))
    medians = {tool: {key: statistics.median(run[key] for run in found) for key in found[0]} for tool, found in runs.items()}
    return medians["irforge"], medians["ovc"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    subprocess.run(["opt_in_out", "--opt_out"], capture_output=True)
    # A pip install byte-compiles irforge; do the same so "new process" does not time the compiler
    # (this machine sets PYTHONDONTWRITEBYTECODE, which stops Python writing .pyc files itself).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "converter")], check=True)
    import onnx

    print("| model | params | ops irforge / ovc | new process s irforge / ovc (ratio) | warm s irforge / ovc (ratio) | peak RSS MB irforge / ovc (ratio) | FP32 bin irforge / ovc | FP16 bin irforge / ovc |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        for name in MODELS:
            model = build(name)
            source = Path(directory) / f"{name}.onnx"
            onnx.save(model, source)
            params = sum(int(__import__("numpy").prod(t.dims)) for t in model.graph.initializer)
            ours, theirs = measure_pair(source, args.repeat)
            print(
                f"| {name} | {params:,} | {ours['ops']:.0f} / {theirs['ops']:.0f} "
                f"| {ours['cold']:.3f} / {theirs['cold']:.3f} ({ours['cold'] / theirs['cold']:.2f}) "
                f"| {ours['warm']:.3f} / {theirs['warm']:.3f} ({ours['warm'] / theirs['warm']:.2f}) "
                f"| {ours['rss_mb']:.0f} / {theirs['rss_mb']:.0f} ({ours['rss_mb'] / theirs['rss_mb']:.2f}) "
                f"| {ours['fp32_bytes']:,.0f} / {theirs['fp32_bytes']:,.0f} | {ours['fp16_bytes']:,.0f} / {theirs['fp16_bytes']:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
