"""A small TDNN-F acoustic-model-shaped network trained in numpy on real data, written as Kaldi nnet3.

No Kaldi model ships in a PyPI package we could find, so the tests train one: scikit-learn's
handwritten digits, each 8×8 image read as an utterance of 8 frames of 8 features, every frame
labelled with its digit (a frame classifier, as an acoustic model labels frames with pdfs).

    tdnn1.affine   Append(Offset(input, -1), input, Offset(input, 1)) → 32, relu, batchnorm
    tdnnf2.linear  TdnnComponent, time offsets -1, 0, no bias → 16 (the factorized bottleneck)
    tdnnf2.affine  TdnnComponent, time offsets 0, 1 → 32, relu, batchnorm, dropout
    tdnnf2.noop    Sum(Scale(0.66, tdnn1.batchnorm), tdnnf2.dropout)   (the TDNN-F bypass)
    output.affine  → 10, log-softmax

Left and right context 2: 8 frames give 4 output frames. Training is softmax cross-entropy on
every output frame with Adam; batch norms use statistics of the whole training set, recomputed
each epoch and held fixed within it (what test mode then uses). Seeded, one BLAS thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from kaldi_reference import Affine, Append, BatchNorm, Nnet3Model, Nonlinear, Offset, Scale, Sum, Tdnn, general_dropout, noop

HIDDEN, BOTTLENECK, CLASSES, FEATURES = 32, 16, 10, 8
BYPASS = 0.66
EPSILON = 1e-3


@dataclass
class Trained:
    model: Nnet3Model
    train_accuracy: float
    heldout_images: np.ndarray  # [N, 8, 8] float32, frames × features
    heldout_labels: np.ndarray


def load_frames() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)  # [1797, 8, 8]: 8 frames of 8 features
    return train_test_split(images, digits.target, test_size=0.2, random_state=0, stratify=digits.target)


def splice(x: np.ndarray, offsets: tuple[int, ...]) -> np.ndarray:
    """[N, T, D] → [N, T - span, D·k]: frame t holds x(t + o) for each offset (valid frames only)."""
    low, high = min(offsets), max(offsets)
    frames = x.shape[1] - (high - low)
    return np.concatenate([x[:, o - low : o - low + frames] for o in offsets], axis=2)


def unsplice(grad: np.ndarray, offsets: tuple[int, ...], frames: int, dim: int) -> np.ndarray:
    low, high = min(offsets), max(offsets)
    out = np.zeros((grad.shape[0], frames, dim), dtype=grad.dtype)
    for k, o in enumerate(offsets):
        out[:, o - low : o - low + grad.shape[1]] += grad[:, :, k * dim : (k + 1) * dim]
    return out


def train(epochs: int = 30, seed: int = 0) -> Trained:
    x_train, x_test, y_train, y_test = load_frames()
    rng = np.random.default_rng(seed)

    def init(fan_out: int, fan_in: int) -> np.ndarray:
        return (rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    p = {
        "w1": init(HIDDEN, 3 * FEATURES), "b1": np.zeros(HIDDEN, np.float32),
        "wl": init(BOTTLENECK, 2 * HIDDEN),
        "wa": init(HIDDEN, 2 * BOTTLENECK), "ba": np.zeros(HIDDEN, np.float32),
        "wo": init(CLASSES, HIDDEN), "bo": np.zeros(CLASSES, np.float32),
    }  # fmt: skip
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in p.items()}
    stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def forward(x: np.ndarray, fixed: dict[str, tuple[np.ndarray, np.ndarray]] | None):
        s1 = splice(x, (-1, 0, 1))
        a1 = s1 @ p["w1"].T + p["b1"]
        h1 = np.maximum(a1, 0)
        m1, v1 = fixed["bn1"] if fixed else (h1.mean((0, 1)), h1.var((0, 1)))
        z1 = (h1 - m1) / np.sqrt(v1 + EPSILON)
        s2 = splice(z1, (-1, 0))
        lin = s2 @ p["wl"].T
        s3 = splice(lin, (0, 1))
        a2 = s3 @ p["wa"].T + p["ba"]
        h2 = np.maximum(a2, 0)
        m2, v2 = fixed["bn2"] if fixed else (h2.mean((0, 1)), h2.var((0, 1)))
        z2 = (h2 - m2) / np.sqrt(v2 + EPSILON)
        bypass = BYPASS * z1[:, 1:-1] + z2  # z1 covers frames 1 … 6, z2 frames 2 … 5
        logits = bypass @ p["wo"].T + p["bo"]
        cache = locals()
        return logits, cache, {"bn1": (m1, v1), "bn2": (m2, v2)}

    def backward(grad_logits: np.ndarray, c: dict) -> dict[str, np.ndarray]:
        g: dict[str, np.ndarray] = {}
        g["wo"] = np.einsum("ntk,ntd->kd", grad_logits, c["bypass"])
        g["bo"] = grad_logits.sum((0, 1))
        g_bypass = grad_logits @ p["wo"]
        g_z1 = np.zeros_like(c["z1"])
        g_z1[:, 1:-1] += BYPASS * g_bypass
        g_h2 = g_bypass / np.sqrt(c["v2"] + EPSILON)
        g_a2 = g_h2 * (c["a2"] > 0)
        g["wa"] = np.einsum("ntk,ntd->kd", g_a2, c["s3"])
        g["ba"] = g_a2.sum((0, 1))
        g_lin = unsplice(g_a2 @ p["wa"], (0, 1), c["lin"].shape[1], BOTTLENECK)
        g["wl"] = np.einsum("ntk,ntd->kd", g_lin, c["s2"])
        g_z1 += unsplice(g_lin @ p["wl"], (-1, 0), c["z1"].shape[1], HIDDEN)
        g_a1 = g_z1 / np.sqrt(c["v1"] + EPSILON) * (c["a1"] > 0)
        g["w1"] = np.einsum("ntk,ntd->kd", g_a1, c["s1"])
        g["b1"] = g_a1.sum((0, 1))
        return g

    def log_softmax(z: np.ndarray) -> np.ndarray:
        z = z - z.max(-1, keepdims=True)
        return z - np.log(np.exp(z).sum(-1, keepdims=True))

    with threadpool_limits(1):
        step, rate = 0, 0.01
        for _ in range(epochs):
            _, _, stats = forward(x_train, None)  # this epoch's batch-norm statistics
            order = rng.permutation(len(x_train))
            for start in range(0, len(order), 64):
                batch = order[start : start + 64]
                logits, cache, _ = forward(x_train[batch], stats)
                probs = np.exp(log_softmax(logits))
                probs -= np.eye(CLASSES, dtype=np.float32)[y_train[batch]][:, None, :]  # dL/dlogits at every frame
                grads = backward(probs / (len(batch) * logits.shape[1]), cache)
                step += 1
                for k, grad in grads.items():
                    m, v = moments[k]
                    m[:] = 0.9 * m + 0.1 * grad
                    v[:] = 0.999 * v + 0.001 * grad**2
                    p[k] -= (rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)).astype(np.float32)
        _, _, stats = forward(x_train, None)
        logits, _, _ = forward(x_train, stats)
    accuracy = float((log_softmax(logits).mean(1).argmax(-1) == y_train).mean())
    return Trained(to_nnet3(p, stats), accuracy, x_test, y_test)


def to_nnet3(p: dict[str, np.ndarray], stats: dict[str, tuple[np.ndarray, np.ndarray]]) -> Nnet3Model:
    """The trained network as nnet3 components and config nodes."""
    model = Nnet3Model({"input": FEATURES})
    model.component("tdnn1.affine", Affine(p["w1"], p["b1"], "NaturalGradientAffineComponent"), Append(Offset("input", -1), "input", Offset("input", 1)))
    model.component("tdnn1.relu", Nonlinear("RectifiedLinearComponent", HIDDEN), "tdnn1.affine")
    model.component("tdnn1.batchnorm", BatchNorm(*stats["bn1"], epsilon=EPSILON), "tdnn1.relu")
    model.component("tdnnf2.linear", Tdnn((-1, 0), p["wl"], np.zeros(0, np.float32)), "tdnn1.batchnorm")
    model.component("tdnnf2.affine", Tdnn((0, 1), p["wa"], p["ba"]), "tdnnf2.linear")
    model.component("tdnnf2.relu", Nonlinear("RectifiedLinearComponent", HIDDEN), "tdnnf2.affine")
    model.component("tdnnf2.batchnorm", BatchNorm(*stats["bn2"], epsilon=EPSILON), "tdnnf2.relu")
    model.component("tdnnf2.dropout", general_dropout(HIDDEN), "tdnnf2.batchnorm")
    model.component("tdnnf2.noop", noop(HIDDEN), Sum(Scale(BYPASS, "tdnn1.batchnorm"), "tdnnf2.dropout"))
    model.component("output.affine", Affine(p["wo"], p["bo"], "NaturalGradientAffineComponent"), "tdnnf2.noop")
    model.component("output.log-softmax", Nonlinear("LogSoftmaxComponent", CLASSES), "output.affine")
    model.output("output", "output.log-softmax")
    return model
