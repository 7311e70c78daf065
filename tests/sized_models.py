"""ONNX models that run only for carefully chosen input sizes, and a small trained digits classifier.

A validator that feeds every dynamic dim a small default (2, say) cannot run these: each one's
graph constrains its sizes the way real exported models do. Skip connections (Add, Concat) need
H and W divisible by 32, reflect padding needs more samples than the pad, embedding Gathers need ids
below the vocabulary and sequences no longer than the position table. All are opset 17,
ir_version 8, with seeded weights (the same bytes on every build).
"""

from __future__ import annotations

import functools

import numpy as np
import onnx
from onnx import TensorProto, helper

import digits_training
import models
from models import OnnxBuilder

OPSET = 17


def _input(name: str, elem_type: int, dims: list[int | str]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, dims)


def _declare_outputs(model: onnx.ModelProto, shapes: dict[str, list[int | str]]) -> onnx.ModelProto:
    """Give the float outputs OnnxBuilder left shapeless their shapes, dim_params included."""
    for output in model.graph.output:
        if output.name in shapes:
            output.CopyFrom(helper.make_tensor_value_info(output.name, TensorProto.FLOAT, shapes[output.name]))
    return model


def _conv_bn_relu(b: OnnxBuilder, x: str, c_in: int, c_out: int, stride: int = 1) -> str:
    return b.op("Relu", [b.conv_bn(x, c_in, c_out, stride=stride)])


def _conv_bn_silu(b: OnnxBuilder, x: str, c_in: int, c_out: int, stride: int = 1) -> str:
    """SiLU the way exporters write it: x · Sigmoid(x)."""
    y = b.conv_bn(x, c_in, c_out, stride=stride)
    return b.op("Mul", [y, b.op("Sigmoid", [y])])


def _conv1x1(b: OnnxBuilder, x: str, c_in: int, c_out: int) -> str:
    return b.op("Conv", [x, b.weight(c_out, c_in, 1, 1), b.weight(c_out)], kernel_shape=[1, 1])


def _upsample2x(b: OnnxBuilder, x: str) -> str:
    """Nearest ×2 as PyTorch exports F.interpolate(scale_factor=2): Resize with `scales`, no `sizes`,
    so the output is twice the input whatever the skip connection it meets next."""
    scales = b.init(np.array([1.0, 1.0, 2.0, 2.0], np.float32), "scales")
    return b.op("Resize", [x, "", scales], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")


def _dim(b: OnnxBuilder, tensor: str, axis: int) -> str:
    """Shape(tensor)[axis] as a 1-element int64 tensor, ready for Concat."""
    return b.op("Unsqueeze", [b.op("Gather", [b.op("Shape", [tensor]), b.scalar(axis, np.int64)], axis=0), b.ints(0)])


# ------------------------------------------------------------------ FPN / UNet


def fpn_unet(width: int = 8) -> onnx.ModelProto:
    """Segmentation net whose skip Adds need H and W divisible by 32.

    A stride-1 stem and five stride-2 Conv+BatchNormalization+Relu stages (total stride 32), then a
    decoder that upsamples ×2 (Resize nearest, `scales`) and Adds a 1×1 lateral of the encoder
    feature at each level, down to stride 1, and a 1×1 conv head: "mask" [1, 1, height, width].

    A stride-2 conv rounds up (100 → 50 → 25 → 13 → 7 → 4), so upsampling 4 gives 8 where the
    skip has 7 and the Add fails. At 2 every stride-2 feature is 1×1 and the Adds broadcast; the
    last Add, against the stride-1 stem (2×2) with the decoder at 32×32, is the one that fails.
    (A 1×1 image broadcasts through every Add and yields a 32×32 mask.)
    """
    b = OnnxBuilder(11)
    channels = [width, width, 2 * width, 2 * width, 4 * width, 4 * width]
    features = [_conv_bn_relu(b, "image", 3, channels[0])]
    for c_in, c_out in zip(channels, channels[1:]):
        features.append(_conv_bn_relu(b, features[-1], c_in, c_out, stride=2))
    decoder_channels = 2 * width
    x = _conv1x1(b, features[-1], channels[-1], decoder_channels)
    for skip, c_skip in reversed(list(zip(features[:-1], channels[:-1]))):
        x = b.op("Relu", [b.op("Add", [_upsample2x(b, x), _conv1x1(b, skip, c_skip, decoder_channels)])])
    mask = _conv1x1(b, x, decoder_channels, 1)
    model = b.model([_input("image", TensorProto.FLOAT, [1, 3, "height", "width"])], [(mask, "mask")], opset=OPSET)
    return _declare_outputs(model, {"mask": [1, 1, "height", "width"]})


# ------------------------------------------------------------------ YOLO-style detector


def _flatten_cells(b: OnnxBuilder, head: str, channels: int) -> str:
    """[batch, no, h, w] → [batch, no, h·w], the target shape read from the tensor at run time
    (Shape→Gather→Mul→Concat), as exporters write `x.view(b, no, h * w)`."""
    cells = b.op("Mul", [_dim(b, head, 2), _dim(b, head, 3)])
    shape = b.op("Concat", [_dim(b, head, 0), b.ints(channels), cells], axis=0)
    return b.op("Reshape", [head, shape])


def yolo_head(num_classes: int = 4, width: int = 16) -> onnx.ModelProto:
    """Detector whose image sides must be multiples of 32.

    A SiLU backbone of stride-2 convs gives feature maps at strides 8, 16 and 32; a top-down FPN
    upsamples each coarser map ×2 (Resize nearest, `scales`), Concats it with the finer backbone map
    and fuses them with a 1×1 conv, then Adds a 1×1 lateral of the backbone map. Each branch's 1×1
    conv predicts 4 box + 1 objectness + `num_classes` channels, is reshaped to [batch, no, h·w]
    with a shape computed at run time, the branches are concatenated on the cell axis, Sigmoid,
    and transposed: "output0" [1, anchors, no].

    Where a stride-2 conv rounds up (100: the stride-16 map is 7×7, the upsampled stride-32 map
    8×8) the merge mismatches, and the Concat, coming first, raises. The Concat is also what makes
    a 2×2 image fail: its maps are all 1×1 from stride 2 on, and an Add alone would broadcast the
    1×1 map against the 2×2 upsampled one and run.
    """
    b = OnnxBuilder(12)
    outputs_per_cell = 4 + 1 + num_classes
    x = _conv_bn_silu(b, "images", 3, width // 2, stride=2)
    x = _conv_bn_silu(b, x, width // 2, width, stride=2)
    backbone_channels = [width, 2 * width, 4 * width]
    features = []
    c_in = width
    for c_out in backbone_channels:
        x = _conv_bn_silu(b, x, c_in, c_out, stride=2)
        features.append(x)
        c_in = c_out

    fpn_channels = width
    merged = [_conv1x1(b, features[-1], backbone_channels[-1], fpn_channels)]
    for feature, channels in zip(reversed(features[:-1]), reversed(backbone_channels[:-1])):
        stacked = b.op("Concat", [_upsample2x(b, merged[0]), feature], axis=1)
        fused = _conv1x1(b, stacked, fpn_channels + channels, fpn_channels)
        merged.insert(0, b.op("Add", [fused, _conv1x1(b, feature, channels, fpn_channels)]))

    branches = []
    for feature in merged:
        head = _conv1x1(b, _conv_bn_silu(b, feature, fpn_channels, fpn_channels), fpn_channels, outputs_per_cell)
        branches.append(_flatten_cells(b, head, outputs_per_cell))
    predictions = b.op("Sigmoid", [b.op("Concat", branches, axis=2)])
    output = b.op("Transpose", [predictions], perm=[0, 2, 1])
    model = b.model([_input("images", TensorProto.FLOAT, [1, 3, "height", "width"])], [(output, "output0")], opset=OPSET)
    return _declare_outputs(model, {"output0": [1, "anchors", outputs_per_cell]})


# ------------------------------------------------------------------ 1-D audio with reflect padding


REFLECT_PAD = 32


def reflect_pad_1d(classes: int = 8) -> onnx.ModelProto:
    """Audio classifier that needs more than 32 samples: reflect padding cannot mirror more
    samples than there are.

    Pad mode="reflect" of 32 on both ends of the time axis (pads an int64 initializer, as PyTorch
    exports F.pad(mode="reflect")), Conv1d kernel 64 stride 16 + Relu, Conv1d kernel 3 + Relu,
    GlobalAveragePool, Flatten, Gemm: "logits" [1, classes].
    """
    b = OnnxBuilder(13)
    pads = b.ints(0, 0, REFLECT_PAD, 0, 0, REFLECT_PAD)  # begins of (N, C, T), then ends
    x = b.op("Pad", ["audio", pads], mode="reflect")
    x = b.op("Conv", [x, b.weight(16, 1, 64), b.weight(16)], kernel_shape=[64], strides=[16])
    x = b.op("Relu", [x])
    x = b.op("Conv", [x, b.weight(32, 16, 3), b.weight(32)], kernel_shape=[3], pads=[1, 1])
    x = b.op("Flatten", [b.op("GlobalAveragePool", [b.op("Relu", [x])])], axis=1)
    logits = b.op("Gemm", [x, b.weight(classes, 32), b.weight(classes)], transB=1)
    model = b.model([_input("audio", TensorProto.FLOAT, [1, 1, "samples"])], [(logits, "logits")], opset=OPSET)
    return _declare_outputs(model, {"logits": [1, classes]})


# ------------------------------------------------------------------ BERT-style encoder with int64 ids


TRANSFORMER_VOCAB = 1000
TRANSFORMER_MAX_LEN = 128
TRANSFORMER_TYPE_VOCAB = 2


def transformer_int64_ids(layers: int = 2, d: int = 32, heads: int = 4, ffn: int = 64) -> onnx.ModelProto:
    """BERT-style encoder whose int64 inputs must be valid ids, not arbitrary integers.

    Word embeddings Gather "input_ids" from 1000 rows, position embeddings Gather Range(0, sequence)
    from 128 rows, token-type embeddings Gather "token_type_ids" from 2 rows; so ids ≥ 1000, type
    ids ≥ 2 and sequences longer than 128 index out of range, which onnxruntime's Gather rejects.
    (Its extended optimizations rewrite Range→Gather into a Slice, which clamps: a sequence of 129
    then fails one node later, at the Add of 129 word and 128 position embeddings. Negative ids
    are valid ONNX indices and count from the end: -1 reads row 999.)
    The additive attention mask comes from the int64 "attention_mask". Two encoder layers
    (models._encoder_layer), "last_hidden_state" [batch, sequence, d], and "pooler_output"
    [batch, d]: token 0 through Gemm and Tanh.
    """
    b = OnnxBuilder(14)
    words = b.op("Gather", [b.weight(TRANSFORMER_VOCAB, d), "input_ids"], axis=0)
    seq_len = b.op("Gather", [b.op("Shape", ["input_ids"]), b.scalar(1, np.int64)], axis=0)
    positions = b.op("Range", [b.scalar(0, np.int64), seq_len, b.scalar(1, np.int64)])
    position_embeddings = b.op("Gather", [b.weight(TRANSFORMER_MAX_LEN, d), positions], axis=0)
    token_types = b.op("Gather", [b.weight(TRANSFORMER_TYPE_VOCAB, d), "token_type_ids"], axis=0)
    x = b.layer_norm(b.op("Add", [b.op("Add", [words, position_embeddings]), token_types]), d)

    keep = b.op("Cast", [b.op("Unsqueeze", ["attention_mask", b.ints(1, 2)])], to=TensorProto.FLOAT)
    additive_mask = b.op("Mul", [b.op("Sub", [b.scalar(1.0), keep]), b.scalar(-10000.0)])
    for _ in range(layers):
        x = models._encoder_layer(b, x, additive_mask, d, heads, ffn)

    first_token = b.op("Gather", [x, b.scalar(0, np.int64)], axis=1)
    pooled = b.op("Tanh", [b.op("Gemm", [first_token, b.weight(d, d), b.weight(d)], transB=1)])
    ids = ["batch", "sequence"]
    model = b.model(
        [
            _input("input_ids", TensorProto.INT64, ids),
            _input("attention_mask", TensorProto.INT64, ids),
            _input("token_type_ids", TensorProto.INT64, ids),
        ],
        [(x, "last_hidden_state"), (pooled, "pooler_output")],
        opset=OPSET,
    )
    return _declare_outputs(model, {"last_hidden_state": ["batch", "sequence", d], "pooler_output": ["batch", d]})


def transformer_inputs(batch: int = 2, sequence: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Valid feeds: ids below the vocabulary, the last two tokens of row 0 masked, types 0 then 1."""
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, sequence), np.int64)
    mask[0, -2:] = 0
    token_types = np.zeros((batch, sequence), np.int64)
    token_types[:, sequence // 2 :] = 1
    return {
        "input_ids": rng.integers(0, TRANSFORMER_VOCAB, (batch, sequence)).astype(np.int64),
        "attention_mask": mask,
        "token_type_ids": token_types,
    }


# ------------------------------------------------------------------ trained digits CNN


@functools.lru_cache(maxsize=1)
def trained_digits_cnn() -> digits_training.TrainedDigitsCnn:
    """Trained once per process (about 1.5 s); `trained_digits_cnn.cache_clear()` retrains."""
    return digits_training.train()


def digits_cnn() -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """The numpy-trained digits CNN (see digits_training) as ONNX, and its held-out data.

    "image" float32 [batch, 1, 8, 8] → Conv 3×3 + Relu + MaxPool 2×2 → Conv 3×3 + Relu + MaxPool
    2×2 → Flatten → Gemm: "logits" [batch, 10]. The dict is what a validator saves as an .npz:
    {"image": float32 [n, 1, 8, 8], "labels": int64 [n]}. Both are fresh copies on every call.
    """
    trained = trained_digits_cnn()
    params = trained.params
    b = OnnxBuilder()

    def conv_relu_pool(x: str, layer: str) -> str:
        conv = b.op("Conv", [x, b.init(params[f"{layer}_weight"]), b.init(params[f"{layer}_bias"])],
                    kernel_shape=[3, 3], pads=[1, 1, 1, 1])
        return b.op("MaxPool", [b.op("Relu", [conv])], kernel_shape=[2, 2], strides=[2, 2])

    x = conv_relu_pool(conv_relu_pool("image", "conv1"), "conv2")
    flat = b.op("Flatten", [x], axis=1)
    logits = b.op("Gemm", [flat, b.init(params["fc_weight"]), b.init(params["fc_bias"])], transB=1)
    model = b.model([_input("image", TensorProto.FLOAT, ["batch", 1, 8, 8])], [(logits, "logits")], opset=OPSET)
    data = {"image": trained.test_images.copy(), "labels": trained.test_labels.copy()}
    return _declare_outputs(model, {"logits": ["batch", 10]}), data
