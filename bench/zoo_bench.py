"""The zoo pipeline at scale: `irforge zoo` over a generated zoo of mixed models, cold and cached,
against a plain loop that converts each model with OpenVINO's `ovc` in its own process.

    python bench/zoo_bench.py                 # 24 models; prints a Markdown table for docs/benchmarks.md
    python bench/zoo_bench.py --models 40

irforge converts every model to FP32 + FP16 IR and validates each IR on both backends
(onnxruntime and OpenVINO) against the source model; the `ovc` loop only converts (FP32, then
FP16: `ovc --compress_to_fp16`), one process per model and precision, as a shell loop would.
irforge runs twice against a Prefect server started for the run (`irforge server start`), so the
timings leave out the temporary server Prefect would otherwise start (10-25 s, measured too).
OpenVINO telemetry is off for the run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def build_zoo(folder: Path, count: int) -> list[Path]:
    """`count` models of mixed size and kind, named by builder and variant, seeded."""
    import onnx

    import models
    import sized_models

    builders = [
        ("cnn", lambda i: models.cnn(batch="N")),
        ("resnet", lambda i: models.resnet(width=8 + 8 * (i % 3), blocks=1 + i % 3)),
        ("mobilenet_v3", lambda i: models.mobilenet_v3()),
        ("bert", lambda i: models.bert(layers=1 + i % 3, d=64, heads=4, ffn=128, vocab=300)),
        ("transformer", lambda i: models.transformer(layers=1 + i % 2)),
        ("lstm", lambda i: models.recurrent("LSTM" if i % 2 else "GRU")),
        ("yolo_head", lambda i: sized_models.yolo_head()),
        ("fpn_unet", lambda i: sized_models.fpn_unet()),
        ("audio_1d", lambda i: sized_models.reflect_pad_1d()),
    ]
    paths = []
    for index in range(count):
        name, build = builders[index % len(builders)]
        path = folder / name / f"{name}_{index:02d}.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(build(index), path)
        paths.append(path)
    return paths


def timed(command: list[str], environment: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    return time.perf_counter() - started, result


def ovc_loop(paths: list[Path], out: Path, environment: dict[str, str]) -> float:
    started = time.perf_counter()
    for path in paths:
        for precision, compress in (("FP32", "False"), ("FP16", "True")):
            target = out / precision / f"{path.stem}.xml"
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["ovc", str(path), "--output_model", str(target), f"--compress_to_fp16={compress}"],
                check=True, capture_output=True, env=environment,
            )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=24)
    parser.add_argument("--port", type=int, default=4277)
    arguments = parser.parse_args()
    subprocess.run(["opt_in_out", "--opt_out"], capture_output=True)
    work = Path(tempfile.mkdtemp(prefix="irforge-zoo-bench-"))
    home = work / "prefect-home"
    environment = {**os.environ, "OPENVINO_TELEMETRY_DISABLE": "1", "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    environment.pop("PREFECT_API_URL", None)
    irforge = [sys.executable, "-m", "converter.cli"]
    try:
        paths = build_zoo(work / "zoo", arguments.models)
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        temporary, result = timed([*irforge, "zoo", str(work / "zoo"), "-o", str(work / "out-temporary")], environment)
        assert result.returncode == 0, result.stdout + result.stderr
        started = subprocess.run([*irforge, "server", "start", "--port", str(arguments.port)], env=environment, capture_output=True, text=True)
        assert started.returncode == 0, started.stdout + started.stderr
        with_server = {**environment, "PREFECT_API_URL": f"http://127.0.0.1:{arguments.port}/api"}
        cold, result = timed([*irforge, "zoo", str(work / "zoo"), "-o", str(work / "out")], with_server)
        assert result.returncode == 0, result.stdout + result.stderr
        cached, result = timed([*irforge, "zoo", str(work / "zoo"), "-o", str(work / "out")], with_server)
        assert result.returncode == 0 and f"{len(paths)} unchanged (cached)" in result.stdout, result.stdout
        example, result = timed([*irforge, "zoo", str(ROOT / "examples" / "zoo"), "-o", str(work / "examples")], with_server)
        example_cached, result = timed([*irforge, "zoo", str(ROOT / "examples" / "zoo"), "-o", str(work / "examples")], with_server)
        ovc = ovc_loop(paths, work / "ovc", environment)
    finally:
        subprocess.run([*irforge, "server", "stop"], env=environment, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    n = len(paths)
    print(f"{n} models ({megabytes:.1f} MB of ONNX), {os.cpu_count()} cores\n")
    print("| run | wall s | models / min | vs the ovc loop |")
    print("|---|---|---|---|")
    for label, seconds in (
        ("irforge zoo, cold (convert FP32+FP16, validate on 2 backends), Prefect server running", cold),
        ("irforge zoo, cached re-run, Prefect server running", cached),
        ("irforge zoo, cold, Prefect's temporary server (no server running)", temporary),
        ("ovc loop: one process per model and precision (convert only)", ovc),
    ):
        print(f"| {label} | {seconds:.1f} | {60 * n / seconds:.0f} | {seconds / ovc:.2f} |")
    print(f"\nexample zoo (examples/zoo, 10 models) with a server running: cold {example:.1f} s, cached re-run {example_cached:.1f} s")


if __name__ == "__main__":
    main()
