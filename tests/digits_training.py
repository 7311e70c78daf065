"""A small CNN trained in numpy on scikit-learn's bundled 8×8 handwritten digits.

Conv 1→8 3×3 + Relu + MaxPool 2×2 → Conv 8→16 3×3 + Relu + MaxPool 2×2 → flatten (64) → linear 64→10.
Everything is float32 and NCHW, the layout ONNX uses, so the trained arrays export unchanged.
Convolutions go through im2col (one matmul per layer); training is softmax cross-entropy, Adam,
mini-batches and one seeded generator, run on a single BLAS thread so the bytes never vary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

Params = dict[str, np.ndarray]

KERNEL = 3
PAD = 1


# ------------------------------------------------------------------ layers: forward and backward


def im2col(x: np.ndarray) -> np.ndarray:
    """[N, C, H, W] → [N·H·W, C·3·3]: the 3×3 neighbourhood (zero-padded by 1) of every pixel,
    ordered (C, kh, kw) like a Conv weight [O, C, kh, kw] flattened."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (PAD, PAD), (PAD, PAD)))
    windows = sliding_window_view(padded, (KERNEL, KERNEL), axis=(2, 3))  # [N, C, H, W, 3, 3]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c * KERNEL * KERNEL)


def col2im(cols: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The adjoint of `im2col`: adds each window's gradient back onto the pixels it was read from."""
    n, c, h, w = shape
    windows = cols.reshape(n, h, w, c, KERNEL, KERNEL).transpose(0, 3, 1, 2, 4, 5)
    padded = np.zeros((n, c, h + 2 * PAD, w + 2 * PAD), dtype=cols.dtype)
    for i in range(KERNEL):
        for j in range(KERNEL):
            padded[:, :, i : i + h, j : j + w] += windows[..., i, j]
    return padded[:, :, PAD : PAD + h, PAD : PAD + w]


def conv_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3×3 convolution, stride 1, pad 1. Returns the output [N, O, H, W] and the im2col columns for backward."""
    n, _, h, w = x.shape
    cols = im2col(x)
    out = cols @ weight.reshape(weight.shape[0], -1).T + bias
    return out.reshape(n, h, w, -1).transpose(0, 3, 1, 2), cols


def conv_backward(
    grad_out: np.ndarray, cols: np.ndarray, weight: np.ndarray, input_shape: tuple[int, ...] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of weight, bias and (unless `input_shape` is None, for the first layer) the input."""
    grad_flat = grad_out.transpose(0, 2, 3, 1).reshape(-1, weight.shape[0])
    grad_weight = (grad_flat.T @ cols).reshape(weight.shape)
    grad_bias = grad_flat.sum(axis=0)
    if input_shape is None:
        return grad_weight, grad_bias, None
    return grad_weight, grad_bias, col2im(grad_flat @ weight.reshape(weight.shape[0], -1), input_shape)


def maxpool_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2×2 max pooling, stride 2. Returns the output and, per window, the index (0–3) of its maximum."""
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    argmax = windows.argmax(axis=-1)
    return np.take_along_axis(windows, argmax[..., None], axis=-1)[..., 0], argmax


def maxpool_backward(grad_out: np.ndarray, argmax: np.ndarray) -> np.ndarray:
    """Routes each window's gradient to the one input that was its maximum (the first, on ties)."""
    n, c, h2, w2 = grad_out.shape
    windows = np.zeros((n, c, h2, w2, 4), dtype=grad_out.dtype)
    np.put_along_axis(windows, argmax[..., None], grad_out[..., None], axis=-1)
    return windows.reshape(n, c, h2, w2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, 2 * h2, 2 * w2)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean loss over the batch and its gradient with respect to the logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = float(-np.log(probs[rows, labels] + 1e-12).mean())
    probs[rows, labels] -= 1.0
    return loss, probs / len(labels)


# ------------------------------------------------------------------ the network


def init_params(rng: np.random.Generator) -> Params:
    """He-normal weights, zero biases."""

    def he(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))).astype(np.float32)

    return {
        "conv1_weight": he(8, 1, KERNEL, KERNEL),
        "conv1_bias": np.zeros(8, np.float32),
        "conv2_weight": he(16, 8, KERNEL, KERNEL),
        "conv2_bias": np.zeros(16, np.float32),
        "fc_weight": he(10, 64),  # [out, in]: Gemm with transB=1
        "fc_bias": np.zeros(10, np.float32),
    }


def forward(params: Params, images: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Logits [N, 10] for images [N, 1, 8, 8], and what backward needs."""
    conv1, cols1 = conv_forward(images, params["conv1_weight"], params["conv1_bias"])
    relu1 = np.maximum(conv1, 0)
    pool1, argmax1 = maxpool_forward(relu1)
    conv2, cols2 = conv_forward(pool1, params["conv2_weight"], params["conv2_bias"])
    relu2 = np.maximum(conv2, 0)
    pool2, argmax2 = maxpool_forward(relu2)
    flat = pool2.reshape(len(images), -1)  # C-order over [16, 2, 2], as ONNX Flatten
    logits = flat @ params["fc_weight"].T + params["fc_bias"]
    cache = {"cols1": cols1, "relu1": relu1, "argmax1": argmax1, "pool1": pool1,
             "cols2": cols2, "relu2": relu2, "argmax2": argmax2, "pool2": pool2, "flat": flat}
    return logits, cache


def backward(params: Params, grad_logits: np.ndarray, cache: dict[str, np.ndarray]) -> Params:
    """Gradients of the loss with respect to every parameter, given its gradient on the logits."""
    grads: Params = {"fc_weight": grad_logits.T @ cache["flat"], "fc_bias": grad_logits.sum(axis=0)}
    grad_pool2 = (grad_logits @ params["fc_weight"]).reshape(cache["pool2"].shape)
    grad_conv2 = maxpool_backward(grad_pool2, cache["argmax2"]) * (cache["relu2"] > 0)
    grads["conv2_weight"], grads["conv2_bias"], grad_pool1 = conv_backward(
        grad_conv2, cache["cols2"], params["conv2_weight"], cache["pool1"].shape
    )
    grad_conv1 = maxpool_backward(grad_pool1, cache["argmax1"]) * (cache["relu1"] > 0)
    grads["conv1_weight"], grads["conv1_bias"], _ = conv_backward(grad_conv1, cache["cols1"], params["conv1_weight"], None)
    return grads


def predict(params: Params, images: np.ndarray) -> np.ndarray:
    return forward(params, images)[0].argmax(axis=1)


# ------------------------------------------------------------------ training


class Adam:
    """Adam with bias correction; updates the parameter arrays in place."""

    def __init__(self, params: Params, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = {name: np.zeros_like(p) for name, p in params.items()}
        self.v = {name: np.zeros_like(p) for name, p in params.items()}
        self.steps = 0

    def step(self, params: Params, grads: Params) -> None:
        self.steps += 1
        correction1 = 1.0 - self.beta1**self.steps
        correction2 = 1.0 - self.beta2**self.steps
        for name, grad in grads.items():
            self.m[name] = self.beta1 * self.m[name] + (1.0 - self.beta1) * grad
            self.v[name] = self.beta2 * self.v[name] + (1.0 - self.beta2) * grad * grad
            update = self.lr * (self.m[name] / correction1) / (np.sqrt(self.v[name] / correction2) + self.eps)
            params[name] -= update.astype(np.float32)


@dataclass(frozen=True)
class TrainedDigitsCnn:
    params: Params
    test_images: np.ndarray  # float32 [n, 1, 8, 8], pixels / 16
    test_labels: np.ndarray  # int64 [n]
    test_accuracy: float  # of the numpy model on the held-out split
    train_seconds: float
    final_loss: float  # mean training loss of the last epoch


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train / held-out split of the 1797 digits, 80 / 20, stratified, always the same."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(images, labels, test_size=0.2, random_state=0, stratify=labels)
    return train_x, test_x, train_y, test_y


def train(epochs: int = 30, batch_size: int = 64, lr: float = 5e-3, seed: int = 0) -> TrainedDigitsCnn:
    """About 1.5 s on one core; held-out accuracy 97.2% for seed 0 (97.2–98.9% over seeds 0–5)."""
    train_x, test_x, train_y, test_y = digits_split()
    rng = np.random.default_rng(seed)
    params = init_params(rng)
    optimizer = Adam(params, lr)
    start = time.perf_counter()
    with threadpool_limits(limits=1):  # one BLAS thread: the same summation order on every run
        for _ in range(epochs):
            order = rng.permutation(len(train_x))
            losses = []
            for begin in range(0, len(order), batch_size):
                batch = order[begin : begin + batch_size]
                logits, cache = forward(params, train_x[batch])
                loss, grad_logits = softmax_cross_entropy(logits, train_y[batch])
                optimizer.step(params, backward(params, grad_logits, cache))
                losses.append(loss)
        accuracy = float((predict(params, test_x) == test_y).mean())
    seconds = time.perf_counter() - start
    return TrainedDigitsCnn(params, test_x, test_y, accuracy, seconds, float(np.mean(losses)))
